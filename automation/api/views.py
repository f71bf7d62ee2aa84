from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response

from adplatform.api.schema import ErrorSerializer
from adplatform.api.views import ScopedReadOnlyViewSet
from adplatform.models import Organization
from automation import selectors
from automation.api.serializers import (
    ConflictSerializer,
    FiringSerializer,
    PreviewQuerySerializer,
    RuleActionSerializer,
    RuleActionWithUndoSerializer,
    RuleExecutionSerializer,
    RuleExportQuerySerializer,
    RuleFileSerializer,
    RuleFileUploadSerializer,
    RuleImportQuerySerializer,
    RuleImportResultSerializer,
    RulePerformanceSerializer,
    RuleSerializer,
    RuleTemplateSerializer,
)
from automation.api.yaml_io import (
    YAML_MEDIA_TYPE,
    RuleFileNegotiation,
    YAMLParser,
    YAMLRenderer,
    YAMLTextParser,
)
from automation.conflicts import rule_conflicts
from automation.gallery import RULE_TEMPLATES
from automation.models import AutomationRule, ExecutionTrigger, RuleAction, RuleExecution
from automation.performance import rule_performance
from automation.rules_io import load_rule_file, parse_rule_file, rule_file
from automation.schema import RuleDefinitionError
from automation.services import (
    ApprovalError,
    approve_rule_action,
    backtest_rule,
    create_rule,
    delete_rule,
    reject_rule_action,
    rule_definition,
    set_rule_enabled,
    update_rule,
)
from automation.services.imports import import_rules
from automation.services.undo import UndoError, undo_rule_action
from automation.tasks import evaluate_rule_task
from campaigns.api.serializers import CampaignChangeSerializer
from campaigns.api.views import actor_for
from campaigns.models import ChangeStatus

MAX_RULE_FILE_BYTES = 1_000_000


def _user(request: Request) -> Any:
    return request.user if request.user.is_authenticated else None


class RuleViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedReadOnlyViewSet,
):
    """Automation rules. Invalid definitions are a 400 with errors keyed by path."""

    queryset = AutomationRule.objects.all()
    serializer_class = RuleSerializer
    ordering_fields = ["id", "name", "created_at", "last_run_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[AutomationRule]:
        return selectors.list_rules(organization)

    def perform_create(self, serializer: RuleSerializer) -> None:  # type: ignore[override]
        try:
            serializer.instance = create_rule(
                self.organization, user=_user(self.request), values=dict(serializer.validated_data)
            )
        except RuleDefinitionError as exc:
            raise ValidationError(exc.errors) from exc

    def perform_update(self, serializer: RuleSerializer) -> None:  # type: ignore[override]
        try:
            serializer.instance = update_rule(
                self.organization, rule=self.get_object(), user=_user(self.request),
                values=dict(serializer.validated_data),
            )  # fmt: skip
        except RuleDefinitionError as exc:
            raise ValidationError(exc.errors) from exc

    def perform_destroy(self, instance: AutomationRule) -> None:
        delete_rule(self.organization, rule=instance, user=_user(self.request))

    @extend_schema(request=None, responses=RuleSerializer)
    @action(detail=True, methods=["post"])
    def enable(self, request: Request, pk: str | None = None) -> Response:
        rule = set_rule_enabled(
            self.organization, rule=self.get_object(), user=_user(request), is_enabled=True
        )
        return Response(RuleSerializer(rule).data)

    @extend_schema(request=None, responses=RuleSerializer)
    @action(detail=True, methods=["post"])
    def disable(self, request: Request, pk: str | None = None) -> Response:
        rule = set_rule_enabled(
            self.organization, rule=self.get_object(), user=_user(request), is_enabled=False
        )
        return Response(RuleSerializer(rule).data)

    @extend_schema(parameters=[PreviewQuerySerializer], responses=FiringSerializer(many=True))
    @action(detail=True, methods=["get"])
    def preview(self, request: Request, pk: str | None = None) -> Response:
        """Backtest: what the rule would have done on each of the last `days` days."""
        rule = self.get_object()
        query = PreviewQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        result = backtest_rule(
            self.organization, definition=rule_definition(rule),
            days=query.validated_data["days"], as_known=query.validated_data["as_known"],
        )  # fmt: skip
        return Response(
            {
                "start": result.start,
                "end": result.end,
                "targets": result.targets,
                "actions": len(result.applied),
                "spend_affected": str(result.spend_affected),
                "firings": FiringSerializer(result.firings, many=True).data,
                # Rules with late-data conditions: how settled each account's last days are.
                "settledness": result.settledness,
            }
        )

    @extend_schema(request=None, responses={202: None})
    @action(detail=True, methods=["post"])
    def run(self, request: Request, pk: str | None = None) -> Response:
        """Run the rule now (queued); its execution appears under /executions/."""
        rule = self.get_object()
        evaluate_rule_task.delay(rule.pk, ExecutionTrigger.MANUAL.value)
        return Response({"queued": True, "rule": rule.pk}, status=status.HTTP_202_ACCEPTED)

    @extend_schema(responses=ConflictSerializer(many=True))
    @action(detail=True, methods=["get"])
    def conflicts(self, request: Request, pk: str | None = None) -> Response:
        """Enabled rules that can act on this rule's campaigns in the same hours in the
        opposite direction (scale vs pause, raise vs lower, pause vs activate). A plain
        array, checked whether or not this rule is enabled."""
        found = rule_conflicts(self.organization, self.get_object())
        return Response(ConflictSerializer([vars(c) for c in found], many=True).data)

    @extend_schema(responses=RulePerformanceSerializer)
    @action(detail=True, methods=["get"])
    def performance(self, request: Request, pk: str | None = None) -> Response:
        """Times fired, success rate, spend affected, and CPA/ROAS before vs after."""
        found = rule_performance(self.organization, self.get_object())
        return Response(RulePerformanceSerializer(found).data)

    @extend_schema(responses=RuleExecutionSerializer(many=True))
    @action(detail=True, methods=["get"])
    def executions(self, request: Request, pk: str | None = None) -> Response:
        rule = self.get_object()
        page = self.paginate_queryset(selectors.list_executions(self.organization, rule_id=rule.pk))
        return self.get_paginated_response(RuleExecutionSerializer(page, many=True).data)

    @extend_schema(
        parameters=[
            RuleExportQuerySerializer,
            OpenApiParameter("format", str, enum=["json", "yaml"], description="Default: json."),
        ],
        responses={
            (200, "application/json"): RuleFileSerializer,
            (200, YAML_MEDIA_TYPE): RuleFileSerializer,
            400: OpenApiResponse(
                ErrorSerializer, description="Bad or unknown rule ids, or an unknown format."
            ),
        },
    )
    @action(
        detail=False, methods=["get"], renderer_classes=[JSONRenderer, YAMLRenderer],
        content_negotiation_class=RuleFileNegotiation,
    )  # fmt: skip
    def export(self, request: Request) -> Response:
        """The organization's rules (or the `ids` given) as a rule file to keep in git."""
        query = RuleExportQuerySerializer(data=request.query_params)
        if not query.is_valid():
            self._errors_as_json(request)
            raise ValidationError(query.errors)
        rules = selectors.list_rules(self.organization)
        ids = query.validated_data.get("ids")
        if ids is not None:
            rules = rules.filter(pk__in=ids)
            if len(rules) != len(ids):
                self._errors_as_json(request)
                raise ValidationError({"ids": ["Unknown rule id(s) for this organization."]})
        extension = "yaml" if request.accepted_renderer.format == "yaml" else "json"
        return Response(
            rule_file(rules),
            headers={"Content-Disposition": f'attachment; filename="rules.{extension}"'},
        )

    @staticmethod
    def _errors_as_json(request: Request) -> None:
        # Errors keep the API's one JSON error shape whatever format was asked for.
        request.accepted_renderer = JSONRenderer()
        request.accepted_media_type = "application/json"

    @extend_schema(
        parameters=[RuleImportQuerySerializer],
        request={
            "application/json": RuleFileSerializer,
            YAML_MEDIA_TYPE: RuleFileSerializer,
            "multipart/form-data": RuleFileUploadSerializer,
        },
        responses=RuleImportResultSerializer,
    )
    @action(
        detail=False, methods=["post"], url_path="import", url_name="import",
        parser_classes=[JSONParser, YAMLParser, YAMLTextParser, MultiPartParser],
    )  # fmt: skip
    def import_file(self, request: Request) -> Response:
        """Create or update rules from a rule file (YAML or JSON body, or a `file` upload),
        matched by name. All or nothing; `dry_run` reports without writing. Errors are
        keyed by document path (`rules.0.conditions.items.0.metric`)."""
        query = RuleImportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        dry_run = query.validated_data["dry_run"]
        try:
            if request.content_type.startswith("multipart/"):
                upload = RuleFileUploadSerializer(data=request.data)
                upload.is_valid(raise_exception=True)
                file = upload.validated_data["file"]
                if file.size > MAX_RULE_FILE_BYTES:
                    raise ValidationError({"file": ["A rule file is at most 1 MB."]})
                document = load_rule_file(file.read())
                dry_run = dry_run or upload.validated_data["dry_run"]
            else:
                document = parse_rule_file(request.data)
            result = import_rules(
                self.organization, user=_user(request), document=document, dry_run=dry_run
            )
        except RuleDefinitionError as exc:
            raise ValidationError(exc.errors) from exc
        return Response(
            {
                "dry_run": result.dry_run,
                "created": result.count("created"),
                "updated": result.count("updated"),
                "unchanged": result.count("unchanged"),
                "rules": [vars(rule) for rule in result.rules],
            }
        )


class RuleExecutionViewSet(ScopedReadOnlyViewSet):
    """Every execution of the organization's rules, newest first."""

    queryset = RuleExecution.objects.all()
    serializer_class = RuleExecutionSerializer
    ordering_fields = ["id", "started_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[RuleExecution]:
        return selectors.list_executions(organization)


class ApprovalViewSet(ScopedReadOnlyViewSet):
    """Proposals of rules in approval mode; approving re-checks the rule, then applies."""

    queryset = RuleAction.objects.all()
    serializer_class = RuleActionSerializer
    ordering_fields = ["id", "created_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[RuleAction]:
        return selectors.list_pending_approvals(organization)

    def _decide(self, request: Request, approve: bool) -> Response:
        proposal = self.get_object()
        try:
            if approve:
                decided = approve_rule_action(
                    self.organization, action_id=proposal.pk, user=_user(request)
                )
            else:
                decided = reject_rule_action(
                    self.organization, action_id=proposal.pk, user=_user(request)
                )
        except ApprovalError as exc:
            raise ValidationError({"status": [str(exc)]}) from exc
        return Response(RuleActionSerializer(decided).data)

    @extend_schema(request=None, responses=RuleActionSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, approve=True)

    @extend_schema(request=None, responses=RuleActionSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request: Request, pk: str | None = None) -> Response:
        return self._decide(request, approve=False)


class RuleActionViewSet(ScopedReadOnlyViewSet):
    """What rules did, per campaign and step, newest first; applied status, budget and bid
    changes can be undone."""

    queryset = RuleAction.objects.all()
    serializer_class = RuleActionWithUndoSerializer
    ordering_fields = ["id", "created_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[RuleAction]:
        return selectors.list_rule_actions(organization)

    @extend_schema(request=None, responses=CampaignChangeSerializer)
    @action(detail=True, methods=["post"])
    def undo(self, request: Request, pk: str | None = None) -> Response:
        """Revert the applied change (compare-and-set on the value the rule left, the
        rule's guardrails apply). 409 if the campaign changed since or it was undone."""
        target = self.get_object()
        try:
            change = undo_rule_action(
                self.organization, action_id=target.pk, actor=actor_for(self.access),
                user=_user(request),
            )  # fmt: skip
        except UndoError as exc:
            if exc.conflict:
                return Response(
                    {"detail": str(exc), "code": "conflict", "errors": exc.errors},
                    status=status.HTTP_409_CONFLICT,
                )
            raise ValidationError(exc.errors) from exc
        if change.status != ChangeStatus.APPLIED:
            return Response(
                {"detail": change.error or "The platform did not apply the undo.",
                 "code": change.error_code or "conflict", "errors": {}},
                status=status.HTTP_409_CONFLICT,
            )  # fmt: skip
        return Response(CampaignChangeSerializer(change).data)


class RuleTemplateViewSet(viewsets.ViewSet):
    """The rule gallery: definitions to start a rule from (POST one to /rules/)."""

    lookup_value_regex = r"[a-z0-9-]+"

    @extend_schema(operation_id="rule_templates_list", responses=RuleTemplateSerializer(many=True))
    def list(self, request: Request) -> Response:
        # A short fixed list: a plain array, not paginated.
        return Response(RuleTemplateSerializer(RULE_TEMPLATES, many=True).data)

    @extend_schema(responses=RuleTemplateSerializer)
    def retrieve(self, request: Request, pk: str | None = None) -> Response:
        for template in RULE_TEMPLATES:
            if template["slug"] == pk:
                return Response(RuleTemplateSerializer(template).data)
        raise NotFound()
