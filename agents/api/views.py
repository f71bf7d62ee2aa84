"""Agent runs and recommendations over the API, scoped to the caller's organization."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from adplatform.api.views import ScopedReadOnlyViewSet
from adplatform.models import Organization
from agents.limits import PLATFORM_TEXT_LIMITS
from agents.models import AgentRun, AgentTask, Recommendation
from agents.recommendations import (
    RecommendationError,
    apply_recommendation,
    dismiss_recommendation,
    rule_from_recommendation,
)
from agents.runs import start_run
from automation.api.serializers import RuleSerializer
from automation.schema import RuleDefinitionError
from campaigns.models import Campaign


class AgentRunSerializer(serializers.ModelSerializer):
    class Meta:
        model = AgentRun
        fields = [
            "id", "task", "params", "agents", "provider", "model", "status", "progress",
            "output", "error", "prompt_tokens", "completion_tokens", "cost_estimate",
            "created_at", "started_at", "finished_at",
        ]  # fmt: skip
        read_only_fields = fields


class StartRunSerializer(serializers.Serializer):
    task = serializers.ChoiceField(choices=AgentTask.choices)
    as_of = serializers.DateField(required=False)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, min_value=0, required=False)
    platform = serializers.ChoiceField(choices=sorted(PLATFORM_TEXT_LIMITS), required=False)
    campaign = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=2**63 - 1,
        help_text="creative_variants: ground in this campaign's ads.",
    )
    count = serializers.IntegerField(required=False, min_value=1, max_value=10)


class RecommendationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Recommendation
        fields = [
            "id", "run", "agent", "campaign", "action", "params", "title", "rationale",
            "expected_impact", "confidence", "evidence", "status", "change", "error",
            "created_at", "decided_at",
        ]  # fmt: skip
        read_only_fields = fields


class AgentRunViewSet(mixins.CreateModelMixin, ScopedReadOnlyViewSet):
    """Agent runs: POST a task (account_review, budget_plan, creative_variants, forecast)."""

    queryset = AgentRun.objects.all()
    serializer_class = AgentRunSerializer

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[AgentRun]:
        return AgentRun.objects.filter(organization=organization)

    @extend_schema(request=StartRunSerializer, responses={202: AgentRunSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = StartRunSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        task = values.pop("task")
        campaign = values.get("campaign")
        if (
            campaign is not None
            and not Campaign.objects.filter(organization=self.organization, pk=campaign).exists()
        ):
            raise ValidationError({"campaign": ["No such campaign."]})
        params = {k: (v.isoformat() if hasattr(v, "isoformat") else str(v))
                  for k, v in values.items()}  # fmt: skip
        run = start_run(
            organization=self.organization,
            task=task,
            params=params,
            user=self.access.membership.user if self.access.membership else None,
        )
        return Response(AgentRunSerializer(run).data, status=status.HTTP_202_ACCEPTED)


class RecommendationViewSet(ScopedReadOnlyViewSet):
    """Recommendations from agent runs; apply or dismiss the pending ones."""

    queryset = Recommendation.objects.all()
    serializer_class = RecommendationSerializer
    filterset_fields = ["status", "agent", "campaign", "run"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Recommendation]:
        return Recommendation.objects.filter(organization=organization)

    def _decide(self, fn: Any) -> Response:
        recommendation = self.get_object()
        try:
            recommendation = fn(recommendation=recommendation)
        except RecommendationError as exc:
            raise ValidationError({"status": [str(exc)]}) from exc
        return Response(RecommendationSerializer(recommendation).data)

    @extend_schema(request=None, responses=RecommendationSerializer)
    @action(detail=True, methods=["post"])
    def apply(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(apply_recommendation)

    @extend_schema(request=None, responses=RecommendationSerializer)
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(dismiss_recommendation)

    @extend_schema(request=None, responses={201: RuleSerializer})
    @action(detail=True, methods=["post"])
    def rule(self, request: Request, pk: str | None = None) -> Response:
        """A disabled dry-run rule that applies this kind of recommendation from now on."""
        recommendation = self.get_object()
        user = request.user if request.user.is_authenticated else None
        try:
            created = rule_from_recommendation(recommendation=recommendation, user=user)
        except RuleDefinitionError as exc:
            raise ValidationError(exc.errors) from exc
        return Response(RuleSerializer(created).data, status=status.HTTP_201_CREATED)
