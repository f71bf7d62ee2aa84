"""Reads of notifications; organization first, always."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from adplatform.models import Organization
from notifications.models import (
    Delivery,
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationState,
    NotificationTemplate,
    PushSubscription,
    WebhookEndpoint,
)

if TYPE_CHECKING:
    from django.contrib.auth.models import User


def _live(queryset: QuerySet[Notification]) -> QuerySet[Notification]:
    now = timezone.now()
    return queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))


def list_notifications_for_user(
    organization: Organization,
    *,
    user: User,
    type: str | None = None,
    priority: str | None = None,
    is_read: bool | None = None,
    include_dismissed: bool = False,
) -> QuerySet[Notification]:
    """What `user` sees in `organization`: addressed to everyone or to them, not expired.

    Annotated with `is_read` for that user.
    """
    states = NotificationState.objects.filter(notification=OuterRef("pk"), user=user)
    queryset = _live(
        Notification.objects.filter(organization=organization).filter(
            Q(recipient__isnull=True) | Q(recipient=user)
        )
    ).annotate(is_read=Exists(states.filter(read_at__isnull=False)))
    if not include_dismissed:
        queryset = queryset.exclude(Exists(states.filter(dismissed_at__isnull=False)))
    if type:
        queryset = queryset.filter(type=type)
    if priority:
        queryset = queryset.filter(priority=priority)
    if is_read is not None:
        queryset = queryset.filter(is_read=is_read)
    return queryset.order_by("-id")


def list_notifications_for_organization(organization: Organization) -> QuerySet[Notification]:
    """What an API key (the organization, not a person) sees: notifications for everyone."""
    return _live(
        Notification.objects.filter(organization=organization, recipient__isnull=True)
    ).order_by("-id")


def get_notification_for_user(
    organization: Organization, *, user: User, notification_id: int
) -> Notification:
    """Raises Notification.DoesNotExist for another tenant's or another user's notification."""
    return list_notifications_for_user(organization, user=user, include_dismissed=True).get(
        pk=notification_id
    )


def count_unread(organization: Organization, *, user: User) -> int:
    return list_notifications_for_user(organization, user=user, is_read=False).count()


def list_missed_notifications(
    *,
    user_id: int | None,
    organization_ids: Iterable[int],
    after_id: int,
    limit: int,
) -> list[Notification]:
    """Notifications a reconnecting client has not seen (id above its last one), oldest first.

    With `user_id` None (an API key) only notifications for everyone are included.
    """
    audience = Q(recipient__isnull=True)
    if user_id is not None:
        audience |= Q(recipient_id=user_id)
    queryset = _live(
        Notification.objects.filter(organization_id__in=list(organization_ids), pk__gt=after_id)
    ).filter(audience)
    return list(queryset.select_related("organization").order_by("pk")[:limit])


def get_settings(organization: Organization, *, user: User) -> NotificationSettings:
    """The member's settings, or unsaved defaults."""
    found = NotificationSettings.objects.filter(organization=organization, user=user).first()
    return found or NotificationSettings(organization=organization, user=user)


def list_preferences(
    organization: Organization, *, user: User
) -> dict[str, NotificationPreference]:
    return {
        p.type: p
        for p in NotificationPreference.objects.filter(organization=organization, user=user)
    }


def get_template_override(organization: Organization, *, type: str) -> NotificationTemplate | None:
    return NotificationTemplate.objects.filter(organization=organization, type=type).first()


# (organization id, type) -> (fetched at, override); per process, see get_template_override_cached.
_template_cache: dict[tuple[int, str], tuple[float, NotificationTemplate | None]] = {}


def get_template_override_cached(
    organization: Organization, *, type: str
) -> NotificationTemplate | None:
    """get_template_override, remembered for NOTIFICATIONS_TEMPLATE_CACHE_SECONDS.

    notify() is hot and overrides are rare and rarely edited: an edit shows at once in the
    process that saved it (the admin clears this cache) and within the TTL elsewhere.
    """
    ttl = settings.NOTIFICATIONS_TEMPLATE_CACHE_SECONDS
    key = (organization.pk, type)
    cached = _template_cache.get(key)
    now = time.monotonic()
    if cached is not None and now - cached[0] < ttl:
        return cached[1]
    override = get_template_override(organization, type=type)
    if ttl > 0:
        if len(_template_cache) > 10_000:
            _template_cache.clear()
        _template_cache[key] = (now, override)
    return override


def clear_template_cache() -> None:
    _template_cache.clear()


def list_webhook_endpoints(organization: Organization) -> QuerySet[WebhookEndpoint]:
    return WebhookEndpoint.objects.filter(organization=organization)


def list_deliveries(organization: Organization) -> QuerySet[Delivery]:
    return Delivery.objects.filter(organization=organization)


def list_push_subscriptions(*, user: User) -> QuerySet[PushSubscription]:
    return PushSubscription.objects.filter(user=user)
