"""Analytics API: metrics, insights, forecasts and exports, all scoped to the caller's
organization and answered by the same selectors the dashboard uses."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponseBase
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adplatform.api.views import OrganizationScopedMixin, ScopedReadOnlyViewSet
from adplatform.models import Organization
from analytics import selectors
from analytics.api.serializers import (
    ForecastSerializer,
    InsightRunSerializer,
    InsightSerializer,
    MetricReportSerializer,
    ScheduledReportSerializer,
)
from analytics.metrics import ALL_METRICS, Dimension, MetricQuery
from analytics.models import Insight, InsightKind, ScheduledReport, Severity
from analytics.params import (
    PRESETS,
    ParamError,
    organization_today,
    parse_bool,
    parse_filters,
    parse_metric_query,
)
from analytics.presenters import report_json
from analytics.services.exports import EXPORT_FORMATS, MAX_EXPORT_ROWS, export_response
from analytics.services.forecasts import FORECAST_METRICS, ForecastUnavailable, forecast_metric
from analytics.services.reports import schedule_report
from analytics.tasks import compute_insights_task
from campaigns.models import Platform

DIMENSIONS = ", ".join(d.value for d in Dimension)
PERIOD_PARAMETERS = [
    OpenApiParameter("start", OpenApiTypes.DATE, description="First day (YYYY-MM-DD)."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Last day, inclusive."),
    OpenApiParameter(
        "preset",
        str,
        enum=[p for p in PRESETS if p != "custom"],
        description="Instead of start/end: a rolling period ending yesterday (7d, 30d, 90d) "
        "or month to date, in the organization's time zone. Default 30d.",
    ),
]
FILTER_PARAMETERS = [
    OpenApiParameter(
        "platform", str, description=f"Comma-separated: {', '.join(Platform.values)}."
    ),
    *(
        OpenApiParameter(name, str, description="Comma-separated ids.")
        for name in ("ad_account", "campaign", "ad_group", "ad", "creative")
    ),
    *(
        OpenApiParameter(
            name,
            str,
            description="Comma-separated segment values (one audience dimension at a time).",
        )
        for name in ("age", "gender", "placement", "device", "country")
    ),
]
QUERY_PARAMETERS = [
    *PERIOD_PARAMETERS,
    OpenApiParameter(
        "group_by",
        str,
        description=f"One or more dimensions, comma-separated: {DIMENSIONS}. "
        "Audience dimensions (age, gender, placement, device, country) combine with time, "
        "platform, ad_account and campaign, one at a time.",
    ),
    *FILTER_PARAMETERS,
    OpenApiParameter(
        "compare",
        bool,
        description="Add the previous period of equal length, with absolute and % change.",
    ),
    OpenApiParameter(
        "order_by",
        str,
        description=f"A metric ({', '.join(ALL_METRICS)}) or a grouped dimension; "
        "prefix - for descending. Default: time ascending, else -spend.",
    ),
    OpenApiParameter("limit", int, description="Rows per response, up to 10000 (default 1000)."),
    OpenApiParameter("offset", int, description="Rows to skip."),
]


def _parse(
    request: Request, organization: Organization, *, default_limit: int | None = 1000
) -> MetricQuery:
    try:
        query, _preset = parse_metric_query(
            request.query_params,
            today=organization_today(organization),
            default_limit=default_limit,
        )
    except ParamError as exc:
        raise ValidationError(exc.errors) from exc
    return query


def _report(organization: Organization, query: MetricQuery) -> selectors.MetricReport:
    try:
        return selectors.get_metric_report(organization, query)
    except selectors.InvalidMetricQuery as exc:
        raise ValidationError({exc.field: [exc.message]}) from exc


class MetricsApi(OrganizationScopedMixin, APIView):
    """Totals and breakdowns of the organization's ad metrics."""

    @extend_schema(
        operation_id="analytics_metrics",
        summary="Metrics: totals or breakdowns over a period",
        description=(
            "Sums impressions, clicks, spend, conversions, revenue (conversion value) and "
            "reach, and derives CTR, CPC, CPM, CVR, CPA and ROAS from the sums. Ratios with "
            "a zero denominator are null. Money is in the organization's currency. Without "
            "group_by the response has one row: the totals."
        ),
        parameters=QUERY_PARAMETERS,
        responses={
            200: MetricReportSerializer,
            400: OpenApiResponse(description="Bad parameter; the message lists valid values."),
        },
        examples=[
            OpenApiExample(
                "Spend by platform, with comparison",
                response_only=True,
                value={
                    "currency": "USD",
                    "start": "2026-01-01",
                    "end": "2026-01-30",
                    "previous_start": "2025-12-02",
                    "previous_end": "2025-12-31",
                    "group_by": ["platform"],
                    "source": "account_day",
                    "rows": [
                        {
                            "dimensions": {"platform": {"value": "meta", "label": "Meta"}},
                            "metrics": {
                                "impressions": 120000,
                                "clicks": 2400,
                                "spend": "1800.00",
                                "conversions": 96.0,
                                "revenue": "5400.00",
                                "reach": None,
                                "ctr": 0.02,
                                "cpc": "0.75",
                                "cpm": "15.00",
                                "cvr": 0.04,
                                "cpa": "18.75",
                                "roas": 3.0,
                            },
                            "change": {"spend": {"absolute": "200.00", "percent": 12.5}},
                        }
                    ],
                    "has_more": False,
                    "warnings": [],
                },
            ),
            OpenApiExample(
                "Unknown dimension",
                response_only=True,
                status_codes=["400"],
                value={
                    "detail": f"Unknown dimension 'country_code'; valid values are: {DIMENSIONS}.",
                    "code": "invalid",
                    "errors": {
                        "group_by": [
                            f"Unknown dimension 'country_code'; valid values are: {DIMENSIONS}."
                        ]
                    },
                },
            ),
        ],
    )
    def get(self, request: Request) -> Response:
        organization = self.organization
        report = _report(organization, _parse(request, organization))
        return Response(report_json(report))


class ForecastApi(OrganizationScopedMixin, APIView):
    """Forecast of one metric for the next days, with prediction intervals."""

    @extend_schema(
        operation_id="analytics_forecast",
        summary="Forecast a metric with prediction intervals",
        description="Exponential smoothing with a weekly season, fitted on up to 91 days "
        "ending yesterday (or `end`). Same filters as the metrics endpoint.",
        parameters=[
            OpenApiParameter(
                "metric", str, enum=list(FORECAST_METRICS), description="Default spend."
            ),
            OpenApiParameter("horizon", int, description="Days ahead, 1-90 (default 30)."),
            OpenApiParameter(
                "level", float, description="Interval coverage, 0.5-0.99 (default 0.8)."
            ),
            OpenApiParameter("end", OpenApiTypes.DATE, description="Last day of history."),
            *FILTER_PARAMETERS,
        ],
        responses={200: ForecastSerializer, 400: OpenApiResponse(description="Bad parameter.")},
        examples=[
            OpenApiExample(
                "Spend, next 7 days",
                response_only=True,
                value={
                    "metric": "spend",
                    "currency": "USD",
                    "history_start": "2025-10-02",
                    "history_end": "2025-12-31",
                    "horizon": 7,
                    "level": 0.8,
                    "model": "ETS(A,N,A)",
                    "total": {"mean": 7000.0, "lower": 6400.0, "upper": 7600.0},
                    "points": [
                        {"date": "2026-01-01", "mean": 1000.0, "lower": 880.0, "upper": 1120.0}
                    ],
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        organization = self.organization
        params = request.query_params
        errors: dict[str, list[str]] = {}
        metric = params.get("metric") or "spend"
        if metric not in FORECAST_METRICS:
            errors["metric"] = [
                f"Unknown metric {metric!r}; valid values are: {', '.join(FORECAST_METRICS)}."
            ]
        horizon = _number(params.get("horizon"), 30, int, 1, 90, "horizon", errors)
        level = _number(params.get("level"), 0.8, float, 0.5, 0.99, "level", errors)
        as_of = organization_today(organization) - dt.timedelta(days=1)
        if params.get("end"):
            try:
                as_of = dt.date.fromisoformat(params["end"])
            except ValueError:
                errors["end"] = ["end must be a date as YYYY-MM-DD."]
        filters = parse_filters(params, errors)
        if errors:
            raise ValidationError(errors)
        try:
            result = forecast_metric(
                organization, metric=metric, as_of=as_of, horizon=int(horizon),
                level=float(level), filters=filters,
            )  # fmt: skip
        except (ForecastUnavailable, selectors.InvalidMetricQuery) as exc:
            raise ValidationError({"metric": [str(exc)]}) from exc
        f = result.forecast
        return Response(
            {
                "metric": metric,
                "currency": result.currency,
                "history_start": result.history.start,
                "history_end": result.history.end,
                "horizon": horizon,
                "level": f.level,
                "model": f.model,
                "total": {
                    "mean": round(f.total_mean, 2),
                    "lower": round(f.total_lower, 2),
                    "upper": round(f.total_upper, 2),
                },
                "points": [
                    {"date": d, "mean": round(m, 2), "lower": round(lo, 2), "upper": round(hi, 2)}
                    for d, m, lo, hi in zip(result.dates, f.mean, f.lower, f.upper, strict=True)
                ],
            }
        )


def _number(
    raw: str | None, default: float, kind: type, low: float, high: float, name: str,
    errors: dict[str, list[str]],
) -> Any:  # fmt: skip
    if raw in (None, ""):
        return default
    try:
        value = kind(raw)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        errors[name] = [f"{name} must be a number from {low} to {high}."]
        return default
    return value


class ExportApi(OrganizationScopedMixin, APIView):
    """Any breakdown as a CSV (streamed) or XLSX file."""

    @extend_schema(
        operation_id="analytics_export",
        summary="Export a breakdown as CSV or XLSX",
        description=f"Same parameters as the metrics endpoint; up to {MAX_EXPORT_ROWS:,} rows. "
        "CSV is streamed as it is written.",
        parameters=[
            OpenApiParameter(
                "file_format", str, enum=list(EXPORT_FORMATS), description="Default csv."
            ),
            *QUERY_PARAMETERS,
        ],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="Bad parameter."),
        },
    )
    def get(self, request: Request) -> HttpResponseBase:
        organization = self.organization
        file_format = request.query_params.get("file_format") or "csv"
        if file_format not in EXPORT_FORMATS:
            raise ValidationError(
                {"file_format": [f"Unknown format {file_format!r}; valid values are: csv, xlsx."]}
            )
        query = _parse(request, organization, default_limit=MAX_EXPORT_ROWS)
        report = _report(organization, query)
        return export_response(report, file_format=file_format)


class InsightViewSet(ScopedReadOnlyViewSet):
    """Insights found in the organization's metrics, newest first."""

    queryset = Insight.objects.all()
    serializer_class = InsightSerializer
    ordering_fields = ["id", "created_at", "confidence", "severity_rank"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Insight]:
        params = self.request.query_params
        errors: dict[str, list[str]] = {}
        kinds = [k for k in (params.get("kind") or "").split(",") if k]
        severities = [s for s in (params.get("severity") or "").split(",") if s]
        if any(k not in InsightKind.values for k in kinds):
            errors["kind"] = [f"Valid values are: {', '.join(InsightKind.values)}."]
        if any(s not in Severity.values for s in severities):
            errors["severity"] = [f"Valid values are: {', '.join(Severity.values)}."]
        campaign = params.get("campaign") or ""
        if campaign and not campaign.isdigit():
            errors["campaign"] = ["campaign is a numeric id."]
        include_dismissed = parse_bool(params, "include_dismissed", errors)
        if errors:
            raise ValidationError(errors)
        return selectors.list_insights(
            organization,
            kinds=kinds,
            severities=severities,
            campaign_id=int(campaign) if campaign else None,
            include_dismissed=include_dismissed,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "kind", str, description=f"Comma-separated: {', '.join(InsightKind.values)}."
            ),
            OpenApiParameter(
                "severity", str, description=f"Comma-separated: {', '.join(Severity.values)}."
            ),
            OpenApiParameter("campaign", int),
            OpenApiParameter("include_dismissed", bool),
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().list(request, *args, **kwargs)

    @extend_schema(
        request=None,
        responses={202: InsightRunSerializer},
        summary="Recompute insights now",
        description="Queues the computation (runs inline in the embedded profile).",
    )
    @action(detail=False, methods=["post"])
    def compute(self, request: Request) -> Response:
        organization = self.organization
        compute_insights_task.delay(organization.pk, trigger="api")
        run = selectors.latest_insight_run(organization)
        body = (
            {
                "id": run.pk,
                "status": run.status,
                "as_of": run.as_of,
                "insights_created": run.insights_created,
                "insights_updated": run.insights_updated,
            }
            if run
            else {"status": "queued"}
        )
        return Response(body, status=status.HTTP_202_ACCEPTED)


class ScheduledReportViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.CreateModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Client reports emailed weekly (Mondays) or monthly (on the 1st), 07:00 local time."""

    queryset = ScheduledReport.objects.all()
    serializer_class = ScheduledReportSerializer
    ordering_fields = ["id", "name", "next_run_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[ScheduledReport]:
        return selectors.list_scheduled_reports(organization)

    def perform_create(self, serializer: ScheduledReportSerializer) -> None:  # type: ignore[override]
        data = serializer.validated_data
        serializer.instance = schedule_report(
            organization=self.organization,
            name=data["name"],
            frequency=data["frequency"],
            recipients=list(data["recipients"]),
            file_format=data.get("format", "pdf"),
        )
