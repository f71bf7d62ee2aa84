from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from adplatform.api.tenancy import ApiAccess
from adplatform.api.views import ScopedReadOnlyViewSet
from adplatform.models import Organization
from campaigns import selectors
from campaigns.api.filters import (
    AdAccountFilter,
    AdFilter,
    AdGroupFilter,
    CampaignChangeFilter,
    CampaignFilter,
    ConnectionFilter,
    SyncRunFilter,
)
from campaigns.api.serializers import (
    AdAccountSerializer,
    AdGroupSerializer,
    AdSerializer,
    CampaignChangeSerializer,
    CampaignCreateSerializer,
    CampaignSerializer,
    CampaignUpdateSerializer,
    ConnectionSerializer,
    SyncRequestSerializer,
    SyncRunSerializer,
    campaign_rows,
)
from campaigns.models import (
    Ad,
    AdAccount,
    AdGroup,
    Campaign,
    CampaignChange,
    ChangeKind,
    ChangeStatus,
    DeliveryStatus,
    SyncRun,
)
from campaigns.services import changes as change_services
from campaigns.services.changes import Actor, CampaignChangeError
from campaigns.tasks import sync_connection_task
from integrations.models import Connection


class AdAccountViewSet(ScopedReadOnlyViewSet):
    """Ad accounts connected to the organization, one per platform account."""

    queryset = AdAccount.objects.all()
    serializer_class = AdAccountSerializer
    filterset_class = AdAccountFilter
    ordering_fields = ["id", "name", "platform", "created_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[AdAccount]:
        return selectors.list_ad_accounts(organization)


def actor_for(access: ApiAccess) -> Actor:
    if access.api_key is not None:
        return Actor.for_api_key(access.api_key)
    assert access.membership is not None
    return Actor.for_user(access.membership.user)


class ChangeFailed(APIException):
    status_code: int = status.HTTP_400_BAD_REQUEST
    default_code = "platform_rejected"


# How a change the platform did not apply is answered.
CHANGE_FAILURE_STATUS = {
    "platform_rejected": status.HTTP_400_BAD_REQUEST,
    "platform_unavailable": status.HTTP_503_SERVICE_UNAVAILABLE,
    "platform_error": status.HTTP_502_BAD_GATEWAY,
    "needs_reauth": status.HTTP_409_CONFLICT,
    "no_connection": status.HTTP_409_CONFLICT,
    "conflict": status.HTTP_409_CONFLICT,
}


def _raise_if_not_applied(change: CampaignChange) -> None:
    if change.status in (ChangeStatus.APPLIED, ChangeStatus.DRY_RUN):
        return
    error = ChangeFailed(detail=change.error or "The platform did not apply the change.")
    error.status_code = CHANGE_FAILURE_STATUS.get(change.error_code, status.HTTP_400_BAD_REQUEST)
    error.default_code = change.error_code or "platform_rejected"
    error.detail.code = error.default_code  # type: ignore[union-attr]
    raise error


class CampaignViewSet(
    mixins.CreateModelMixin,
    mixins.UpdateModelMixin,
    mixins.DestroyModelMixin,
    ScopedReadOnlyViewSet,
):
    """Campaigns across every platform, in one shape.

    PATCH (status, daily_budget, lifetime_budget, bid_amount), POST and DELETE (archive)
    go to the ad platform first; the stored campaign is then updated from its answer and
    each change is logged (see /changes/). An `Idempotency-Key` header makes a retried
    request apply once.
    """

    queryset = Campaign.objects.all()
    serializer_class = CampaignSerializer
    filterset_class = CampaignFilter
    ordering_fields = ["id", "name", "status", "daily_budget", "created_at", "updated_at"]
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Campaign]:
        return selectors.list_campaigns(organization)

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        # Plain rows rather than model instances: a page reads only what it shows.
        page = self.paginate_queryset(campaign_rows(self.filter_queryset(self.get_queryset())))
        assert page is not None  # every list is paginated
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def _idempotency_key(self, suffix: str) -> str | None:
        key = self.request.headers.get("Idempotency-Key", "").strip()
        if len(key) > 200:
            raise ValidationError({"Idempotency-Key": ["At most 200 characters."]})
        return f"{key}:{suffix}" if key else None

    def _apply(self, fn: Any, **kwargs: Any) -> CampaignChange:
        try:
            change: CampaignChange = fn(actor=actor_for(self.access), **kwargs)
        except CampaignChangeError as exc:
            raise ValidationError(exc.errors) from exc
        _raise_if_not_applied(change)
        return change

    @extend_schema(request=CampaignUpdateSerializer, responses=CampaignSerializer)
    def partial_update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        campaign = self.get_object()
        data = CampaignUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = data.validated_data
        reason = values.get("reason", "")
        steps: list[tuple[Any, str, dict[str, Any]]] = []
        if "status" in values:
            verb = (
                change_services.pause_campaign
                if values["status"] == DeliveryStatus.PAUSED
                else change_services.activate_campaign
            )
            steps.append((verb, "status", {}))
        if "daily_budget" in values:
            steps.append((change_services.set_daily_budget, "daily_budget", {"amount": values["daily_budget"]}))  # fmt: skip
        if "lifetime_budget" in values:
            steps.append((change_services.set_lifetime_budget, "lifetime_budget", {"amount": values["lifetime_budget"]}))  # fmt: skip
        if "bid_amount" in values:
            steps.append((change_services.set_bid, "bid_amount", {"amount": values["bid_amount"]}))
        # Validate every requested change before the first goes out.
        errors: dict[str, list[str]] = {}
        for _verb, field, params in steps:
            kind = {
                "status": ChangeKind.PAUSE,
                "daily_budget": ChangeKind.DAILY_BUDGET,
                "lifetime_budget": ChangeKind.LIFETIME_BUDGET,
                "bid_amount": ChangeKind.BID,
            }[field]
            try:
                change_services.validate_change(
                    campaign=campaign, kind=kind, params={field: params.get("amount")}
                )
            except CampaignChangeError as exc:
                for key, messages in exc.errors.items():
                    errors.setdefault(key, []).extend(messages)
        if errors:
            raise ValidationError(errors)
        for verb, field, params in steps:
            self._apply(
                verb,
                campaign=campaign,
                reason=reason,
                idempotency_key=self._idempotency_key(field),
                **params,
            )
            campaign.refresh_from_db()
        return Response(CampaignSerializer(campaign).data)

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self.partial_update(request, *args, **kwargs)

    @extend_schema(request=CampaignCreateSerializer, responses={201: CampaignSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = CampaignCreateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        values = dict(data.validated_data)
        account = (
            selectors.list_ad_accounts(self.organization)
            .filter(pk=values.pop("ad_account"))
            .first()
        )
        if account is None:
            raise ValidationError({"ad_account": ["No such ad account in this organization."]})
        change = self._apply(
            change_services.create_campaign,
            ad_account=account,
            idempotency_key=self._idempotency_key("create"),
            **values,
        )
        assert change.campaign is not None
        campaign = selectors.get_campaign(self.organization, campaign_id=change.campaign.pk)
        return Response(CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        responses=CampaignSerializer, description="Archive the campaign on the platform."
    )
    def destroy(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        campaign = self.get_object()
        if campaign.status != DeliveryStatus.ARCHIVED:
            self._apply(
                change_services.archive_campaign,
                campaign=campaign,
                idempotency_key=self._idempotency_key("archive"),
            )
            campaign.refresh_from_db()
        return Response(CampaignSerializer(campaign).data)


class AdGroupViewSet(ScopedReadOnlyViewSet):
    """Ad sets / ad groups: the level below a campaign, with its targeting."""

    queryset = AdGroup.objects.all()
    serializer_class = AdGroupSerializer
    filterset_class = AdGroupFilter
    ordering_fields = ["id", "name", "status", "created_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[AdGroup]:
        return selectors.list_ad_groups(organization)


class AdViewSet(ScopedReadOnlyViewSet):
    """Ads with their creative."""

    queryset = Ad.objects.all()
    serializer_class = AdSerializer
    filterset_class = AdFilter
    ordering_fields = ["id", "name", "status", "created_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Ad]:
        return selectors.list_ads(organization)


class CampaignChangeViewSet(ScopedReadOnlyViewSet):
    """The log of changes made to live campaigns, by anyone: `?campaign=ID` for one campaign."""

    queryset = CampaignChange.objects.all()
    serializer_class = CampaignChangeSerializer
    filterset_class = CampaignChangeFilter
    ordering_fields = ["id", "requested_at"]
    ordering = ["-requested_at", "-id"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[CampaignChange]:
        return selectors.list_campaign_changes(organization)


class ConnectionViewSet(ScopedReadOnlyViewSet):
    """Platform connections with their health. Credentials are never part of a response."""

    queryset = Connection.objects.all()
    serializer_class = ConnectionSerializer
    filterset_class = ConnectionFilter
    ordering_fields = ["id", "platform", "created_at", "last_synced_at"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Connection]:
        return selectors.list_connections(organization)

    @extend_schema(request=SyncRequestSerializer, responses={202: None})
    @action(detail=True, methods=["post"])
    def sync(self, request: Request, pk: str | None = None) -> Response:
        """Queue a sync of this connection now (structure and metrics by default)."""
        connection = self.get_object()
        data = SyncRequestSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        since = data.validated_data.get("since")
        kind = data.validated_data["kind"]
        requested_by = actor_for(self.access).label
        transaction.on_commit(
            lambda: sync_connection_task.delay(
                connection.pk,
                kind=kind,
                since=since.isoformat() if since else None,
                trigger="api",
                requested_by=requested_by,
            )
        )
        return Response(
            {"detail": "Sync queued.", "connection": connection.pk, "kind": kind},
            status=status.HTTP_202_ACCEPTED,
        )


class SyncRunViewSet(ScopedReadOnlyViewSet):
    """Sync runs: when, how many rows, and the error if one failed."""

    queryset = SyncRun.objects.all()
    serializer_class = SyncRunSerializer
    filterset_class = SyncRunFilter
    ordering_fields = ["id", "started_at"]
    ordering = ["-started_at", "-id"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[SyncRun]:
        return selectors.list_sync_runs(organization)
