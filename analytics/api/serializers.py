"""API shapes of analytics. Metric responses are built by `analytics.presenters`; the
serializers here describe them for the OpenAPI schema and serialize insights."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers

from analytics.models import Insight, ScheduledReport

_MONEY_HELP = "Decimal string in the organization's currency, to its minor unit."
_RATIO_HELP = "Null when the denominator is zero."


class MetricValuesSerializer(serializers.Serializer[Any]):
    impressions = serializers.IntegerField()
    clicks = serializers.IntegerField()
    spend = serializers.CharField(help_text=_MONEY_HELP)
    conversions = serializers.FloatField()
    revenue = serializers.CharField(help_text=_MONEY_HELP + " Conversion value.")
    reach = serializers.IntegerField(
        allow_null=True, help_text="Sum of reported daily reach (not de-duplicated)."
    )
    ctr = serializers.FloatField(allow_null=True, help_text="clicks / impressions. " + _RATIO_HELP)
    cpc = serializers.CharField(allow_null=True, help_text="spend / clicks. " + _RATIO_HELP)
    cpm = serializers.CharField(
        allow_null=True, help_text="spend / impressions x 1000. " + _RATIO_HELP
    )
    cvr = serializers.FloatField(allow_null=True, help_text="conversions / clicks. " + _RATIO_HELP)
    cpa = serializers.CharField(allow_null=True, help_text="spend / conversions. " + _RATIO_HELP)
    roas = serializers.FloatField(allow_null=True, help_text="revenue / spend. " + _RATIO_HELP)


class ChangeSerializer(serializers.Serializer[Any]):
    absolute = serializers.JSONField(allow_null=True)
    percent = serializers.FloatField(allow_null=True)


class DimensionValueSerializer(serializers.Serializer[Any]):
    value = serializers.JSONField(help_text="An id, a date (YYYY-MM-DD) or a segment value.")
    label = serializers.CharField()  # type: ignore[assignment]  # a field named like Field.label


class MetricRowSerializer(serializers.Serializer[Any]):
    dimensions = serializers.DictField(child=DimensionValueSerializer())
    metrics = MetricValuesSerializer()
    previous = MetricValuesSerializer(required=False, allow_null=True)
    change = serializers.DictField(child=ChangeSerializer(), required=False)


class MetricReportSerializer(serializers.Serializer[Any]):
    currency = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()
    previous_start = serializers.DateField(allow_null=True)
    previous_end = serializers.DateField(allow_null=True)
    group_by = serializers.ListField(child=serializers.CharField())
    source = serializers.CharField(  # type: ignore[assignment]  # a field named like Field.source
        help_text="The table that answered (for diagnosis)."
    )
    rows = MetricRowSerializer(many=True)
    has_more = serializers.BooleanField()
    warnings = serializers.ListField(child=serializers.CharField())


class ForecastPointSerializer(serializers.Serializer[Any]):
    date = serializers.DateField()
    mean = serializers.FloatField()
    lower = serializers.FloatField()
    upper = serializers.FloatField()


class ForecastSerializer(serializers.Serializer[Any]):
    metric = serializers.CharField()
    currency = serializers.CharField()
    history_start = serializers.DateField()
    history_end = serializers.DateField()
    horizon = serializers.IntegerField()
    level = serializers.FloatField()
    model = serializers.CharField()
    total = serializers.DictField(child=serializers.FloatField())
    points = ForecastPointSerializer(many=True)


class InsightSerializer(serializers.ModelSerializer[Insight]):
    campaign_name = serializers.CharField(source="campaign.name", read_only=True, default=None)
    chart_url = serializers.CharField(read_only=True)
    confidence = serializers.FloatField(read_only=True)

    class Meta:
        model = Insight
        fields = [
            "id", "kind", "severity", "metric", "title", "summary", "confidence", "evidence",
            "campaign", "campaign_name", "period_start", "period_end", "chart_url",
            "is_dismissed", "created_at", "updated_at",
        ]  # fmt: skip
        read_only_fields = fields


class InsightRunSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    status = serializers.CharField()
    as_of = serializers.DateField()
    insights_created = serializers.IntegerField()
    insights_updated = serializers.IntegerField()


class ScheduledReportSerializer(serializers.ModelSerializer[ScheduledReport]):
    recipients = serializers.ListField(child=serializers.EmailField(), min_length=1, max_length=50)

    class Meta:
        model = ScheduledReport
        fields = [
            "id", "name", "frequency", "format", "recipients", "is_active", "next_run_at",
            "last_sent_at", "created_at",
        ]  # fmt: skip
        read_only_fields = ["id", "next_run_at", "last_sent_at", "created_at", "is_active"]
