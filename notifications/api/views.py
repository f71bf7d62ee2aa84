"""Partner and browser API for notifications: /api/v1/notifications/..."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import django_filters
from django.db.models import BooleanField, QuerySet, Value
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adplatform.api.permissions import IsOrganizationAdmin, IsOrganizationMember
from adplatform.api.views import OrganizationScopedMixin
from adplatform.models import Organization
from notifications import selectors, services
from notifications.api.serializers import (
    DeliverySerializer,
    NotificationCreateSerializer,
    NotificationSerializer,
    PreferencesSerializer,
    WebhookEndpointSerializer,
)
from notifications.models import Notification, WebhookEndpoint
from notifications.registry import Priority, all_types, type_choices

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class NotificationFilter(django_filters.FilterSet):
    type = django_filters.ChoiceFilter(choices=type_choices)
    priority = django_filters.ChoiceFilter(choices=Priority.choices)
    is_read = django_filters.BooleanFilter()

    class Meta:
        model = Notification
        fields = ["type", "priority"]


def _user_of(view: OrganizationScopedMixin) -> User:
    """Read state and preferences belong to a person, so API keys cannot use them."""
    access = view.access
    if access.membership is None:
        raise PermissionDenied("This acts for a signed-in user; an API key has no read state.")
    return access.membership.user


class NotificationViewSet(
    OrganizationScopedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    """Notifications of the caller's organization, newest first.

    A signed-in user sees those for everyone and those addressed to them, with `is_read`;
    an API key sees those for everyone. `POST` lets a partner system raise a
    `system_update` or `user_activity` for its organization.
    """

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilter
    ordering_fields = ["id"]
    ordering = ["-id"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Notification]:
        if self.access.membership is not None:
            queryset = selectors.list_notifications_for_user(
                organization, user=self.access.membership.user
            )
        else:
            queryset = selectors.list_notifications_for_organization(organization).annotate(
                is_read=Value(False, output_field=BooleanField())
            )
        return queryset.select_related("organization")

    @extend_schema(request=NotificationCreateSerializer, responses={201: NotificationSerializer})
    def create(self, request: Request) -> Response:
        serializer = NotificationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        [notification] = services.notify(
            self.organization,
            values["type"],
            values["data"],
            priority=values.get("priority"),
            expires_at=values.get("expires_at"),
            source=self.access.actor_label,
        )
        notification = self.get_scoped_queryset(self.organization).get(pk=notification.pk)
        return Response(NotificationSerializer(notification).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def read(self, request: Request, pk: str | None = None) -> Response:
        user = _user_of(self)
        services.mark_read(self.organization, user=user, notification=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={204: None})
    @action(detail=True, methods=["post"])
    def dismiss(self, request: Request, pk: str | None = None) -> Response:
        user = _user_of(self)
        services.dismiss(self.organization, user=user, notification=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(request=None, responses={200: dict})
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request: Request) -> Response:
        user = _user_of(self)
        changed = services.mark_all_read(self.organization, user=user)
        return Response({"marked_read": changed})

    def get_permissions(self) -> list[Any]:
        # Marking read is not a change to shared data: viewers may do it too.
        if self.action in {"read", "dismiss", "read_all"}:
            return [_AnyMember()]
        return list(super().get_permissions())


class _AnyMember(IsOrganizationMember):
    def has_permission(self, request: Request, view: Any) -> bool:
        from adplatform.api.tenancy import resolve_api_access

        return resolve_api_access(request) is not None


class NotificationPreferencesApi(OrganizationScopedMixin, APIView):
    """The signed-in user's delivery preferences in the current organization."""

    permission_classes = [_AnyMember]
    queryset = Notification.objects.none()

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[Any]:
        return Notification.objects.none()

    def _payload(self, user: User) -> dict[str, Any]:
        row = selectors.get_settings(self.organization, user=user)
        saved = selectors.list_preferences(self.organization, user=user)
        return {
            "time_zone": row.time_zone,
            "quiet_hours_start": row.quiet_hours_start,
            "quiet_hours_end": row.quiet_hours_end,
            "email_digest": row.email_digest,
            "types": [
                {
                    "type": t.key,
                    "email": saved[t.key].email if t.key in saved else True,
                    "web_push": saved[t.key].web_push if t.key in saved else True,
                    "min_priority": saved[t.key].min_priority
                    if t.key in saved
                    else Priority.MEDIUM,
                }
                for t in all_types()
            ],
        }

    @extend_schema(responses=PreferencesSerializer)
    def get(self, request: Request) -> Response:
        user = _user_of(self)
        return Response(PreferencesSerializer(self._payload(user)).data)

    @extend_schema(request=PreferencesSerializer, responses=PreferencesSerializer)
    def put(self, request: Request) -> Response:
        user = _user_of(self)
        serializer = PreferencesSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = serializer.validated_data
        services.update_settings(
            self.organization,
            user=user,
            time_zone=values["time_zone"],
            quiet_hours_start=values.get("quiet_hours_start"),
            quiet_hours_end=values.get("quiet_hours_end"),
            email_digest=values["email_digest"],
        )
        for item in values.get("types", []):
            services.set_preference(self.organization, user=user, **item)
        return Response(PreferencesSerializer(self._payload(user)).data)


class WebhookEndpointViewSet(OrganizationScopedMixin, viewsets.ModelViewSet):
    """Outgoing webhooks of the organization (owners and admins). `POST .../test/` sends a sample."""

    queryset = WebhookEndpoint.objects.all()
    serializer_class = WebhookEndpointSerializer
    permission_classes = [IsOrganizationAdmin]
    ordering_fields = ["id", "name"]
    ordering = ["id"]

    def get_scoped_queryset(self, organization: Organization) -> QuerySet[WebhookEndpoint]:
        return selectors.list_webhook_endpoints(organization)

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        values = dict(serializer.validated_data)
        secret = values.pop("secret", "") or services.generate_webhook_secret()
        values.pop("is_active", None)
        endpoint = services.create_webhook_endpoint(self.organization, secret=secret, **values)
        data = dict(self.get_serializer(endpoint).data)
        # The only time the secret is shown: the receiver needs it to verify signatures.
        data["secret"] = secret
        return Response(data, status=status.HTTP_201_CREATED)

    def perform_update(self, serializer: Any) -> None:
        services.update_webhook_endpoint(serializer.instance, **serializer.validated_data)

    @extend_schema(request=None, responses=DeliverySerializer)
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str | None = None) -> Response:
        delivery = services.send_test_webhook(self.get_object())
        return Response(DeliverySerializer(delivery).data)

    @extend_schema(responses=DeliverySerializer(many=True))
    @action(detail=True, methods=["get"])
    def deliveries(self, request: Request, pk: str | None = None) -> Response:
        endpoint = self.get_object()
        page = self.paginate_queryset(
            selectors.list_deliveries(self.organization).filter(webhook=endpoint)
        )
        return self.get_paginated_response(DeliverySerializer(page, many=True).data)
