"""Writes of notifications. `notify` is the one entry point every app calls.

    from notifications.services import notify
    notify(organization, "integration_error", {"platform": "Meta", "connection_id": 7, ...},
           priority="high")

It stores the notification and, once the caller's transaction commits, publishes it live
and queues one task per outbound delivery (email, web push, webhook) that the recipients'
preferences allow. Callers never talk to a channel directly.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from adplatform.fields import reveal
from adplatform.models import Membership, Organization
from notifications import selectors
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationState,
    PushSubscription,
    VapidKey,
    WebhookEndpoint,
    WebhookFormat,
)
from notifications.realtime import (
    LiveEvent,
    organization_group,
    publish,
    publish_coalesced_on_commit,
    user_group,
)
from notifications.registry import PRIORITY_RANK, Priority, get_type, priority_at_least
from notifications.rendering import render_notification, templates_for

logger = logging.getLogger(__name__)

UserModel = get_user_model()

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class NotificationError(ValueError):
    """Bad input to a notifications service (unknown type, foreign recipient, ...)."""


# --- notify ---------------------------------------------------------------------------


def notify(
    organization: Organization,
    type: str,
    data: dict[str, Any],
    *,
    priority: str | None = None,
    recipients: Iterable[User] | None = None,
    subject: str | None = None,
    expires_at: dt.datetime | None = None,
    source: str = "",
) -> list[Notification]:
    """Record a notification for `organization` and deliver it through the allowed channels.

    `recipients` None addresses every member (one row); a list of members makes one row
    each. `data` is the template context and is stored as JSON. `subject` overrides the
    type's subject keys: the same type and subject within the de-duplication window bump
    `count` on the existing row instead of adding one. Delivery happens on commit of the
    caller's transaction. Returns the stored (new or updated) notifications.
    """
    notification_type = get_type(type)
    priority = priority or notification_type.default_priority
    if priority not in PRIORITY_RANK:
        raise NotificationError(f"Unknown priority {priority!r}.")
    # Round-trip through JSON so Decimals, dates and UUIDs are stored the way callers will read them.
    clean_data: dict[str, Any] = json.loads(json.dumps(data, cls=DjangoJSONEncoder))
    subject_key = subject if subject is not None else notification_type.subject_for(clean_data)
    now = timezone.now()
    if expires_at is None and settings.NOTIFICATIONS_DEFAULT_EXPIRY_DAYS:
        expires_at = now + dt.timedelta(days=settings.NOTIFICATIONS_DEFAULT_EXPIRY_DAYS)
    if expires_at is not None and expires_at <= now:
        raise NotificationError("expires_at is in the past; the notification would never show.")

    targets: list[User | None]
    if recipients is None:
        targets = [None]
    else:
        targets = list(recipients)
        member_ids = set(
            Membership.objects.filter(
                organization=organization, user_id__in=[u.pk for u in targets if u is not None]
            ).values_list("user_id", flat=True)
        )
        if any(u is None or u.pk not in member_ids for u in targets):
            raise NotificationError("Every recipient must be a member of the organization.")

    rendered = render_notification(
        templates_for(notification_type, selectors.get_template_override(organization, type=type)),
        clean_data,
    )
    results = []
    with transaction.atomic():
        for recipient in targets:
            existing = _find_duplicate(organization, type, subject_key, recipient, now)
            if existing is not None:
                results.append(_bump(existing, clean_data, rendered, priority, now))
                continue
            notification = Notification.objects.create(
                organization=organization,
                recipient=recipient,
                type=type,
                priority=priority,
                title=rendered.title,
                body=rendered.body,
                body_html=rendered.body_html,
                action_url=rendered.action_url,
                data=clean_data,
                subject=subject_key[:300],
                source=source[:100],
                last_occurred_at=now,
                expires_at=expires_at,
            )
            deliveries = _plan_deliveries(notification)
            transaction.on_commit(
                _after_commit(notification, [d.pk for d in deliveries], "notification.created")
            )
            results.append(notification)
    return results


def _find_duplicate(
    organization: Organization,
    type: str,
    subject: str,
    recipient: User | None,
    now: dt.datetime,
) -> Notification | None:
    window = settings.NOTIFICATIONS_DEDUP_WINDOW_SECONDS
    if not subject or window <= 0:
        return None
    queryset = Notification.objects.select_for_update().filter(
        organization=organization,
        type=type,
        subject=subject[:300],
        last_occurred_at__gte=now - dt.timedelta(seconds=window),
    )
    queryset = (
        queryset.filter(recipient__isnull=True)
        if recipient is None
        else queryset.filter(recipient=recipient)
    )
    return (
        queryset.filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now)).order_by("-pk").first()
    )


def _bump(
    notification: Notification,
    data: dict[str, Any],
    rendered: Any,
    priority: str,
    now: dt.datetime,
) -> Notification:
    """A repeat of the same event: count it, refresh the text, escalate the priority."""
    escalated = PRIORITY_RANK[priority] > PRIORITY_RANK[notification.priority]
    Notification.objects.filter(pk=notification.pk).update(count=F("count") + 1)
    notification.refresh_from_db(fields=["count"])
    notification.data = data
    notification.title = rendered.title
    notification.body = rendered.body
    notification.body_html = rendered.body_html
    notification.action_url = rendered.action_url
    notification.last_occurred_at = now
    if escalated:
        notification.priority = priority
    notification.save(
        update_fields=[
            "data",
            "title",
            "body",
            "body_html",
            "action_url",
            "last_occurred_at",
            "priority",
        ]
    )
    # Only an escalation reaches email, push and webhooks again; plain repeats stay in-app.
    deliveries = _plan_deliveries(notification) if escalated else []
    transaction.on_commit(
        _after_commit(notification, [d.pk for d in deliveries], "notification.updated")
    )
    return notification


def _after_commit(notification: Notification, delivery_ids: list[int], event_type: str) -> Any:
    # Recorded inside the caller's transaction as sent; corrected below in the rare case
    # the layer is down (saves a second commit per notification on the hot path).
    live = Delivery.objects.create(
        organization_id=notification.organization_id,
        notification=notification,
        channel=Channel.WEBSOCKET,
        status=DeliveryStatus.SENT,
        attempts=1,
        sent_at=timezone.now(),
    )

    def run() -> None:
        from notifications.tasks import deliver_notification_task

        group = (
            organization_group(notification.organization_id)
            if notification.recipient_id is None
            else user_group(notification.recipient_id)
        )
        event = LiveEvent(type=event_type, id=notification.pk, data=serialize_live(notification))
        if not publish(group, event):
            Delivery.objects.filter(pk=live.pk).update(
                status=DeliveryStatus.FAILED,
                sent_at=None,
                error="Channel layer unavailable; clients replay from the database.",
            )
        for delivery_id in delivery_ids:
            deliver_notification_task.delay(delivery_id)

    return run


def serialize_live(notification: Notification) -> dict[str, Any]:
    """The `data` of a live event; the same fields the API lists."""
    organization = notification.organization
    return {
        "id": notification.pk,
        "organization": {
            "id": organization.pk,
            "slug": organization.slug,
            "name": organization.name,
        },
        "type": notification.type,
        "priority": notification.priority,
        "title": notification.title,
        "body": notification.body,
        "action_url": notification.action_url,
        "data": notification.data,
        "count": notification.count,
        "created_at": notification.created_at.isoformat(),
        "last_occurred_at": notification.last_occurred_at.isoformat(),
        "expires_at": notification.expires_at.isoformat() if notification.expires_at else None,
    }


def _in_quiet_hours(member_settings: NotificationSettings, now: dt.datetime) -> bool:
    start, end = member_settings.quiet_hours_start, member_settings.quiet_hours_end
    if start is None or end is None or start == end:
        return False
    local = now.astimezone(zoneinfo.ZoneInfo(member_settings.time_zone)).time()
    if start < end:
        return start <= local < end
    # Over midnight, e.g. 22:00-07:00.
    return local >= start or local < end


def _plan_deliveries(notification: Notification) -> list[Delivery]:
    """One Delivery per (channel, target) that preferences allow; pending ones get a task."""
    now = timezone.now()
    organization = notification.organization
    urgent = notification.priority == Priority.URGENT
    if notification.recipient_id is not None:
        user_ids = [notification.recipient_id]
    else:
        user_ids = list(
            Membership.objects.filter(organization=organization).values_list("user_id", flat=True)
        )
    emails = dict(
        UserModel._default_manager.filter(pk__in=user_ids, is_active=True).values_list(
            "pk", "email"
        )
    )
    preferences = {
        p.user_id: p
        for p in NotificationPreference.objects.filter(
            organization=organization, user_id__in=user_ids, type=notification.type
        )
    }
    member_settings = {
        s.user_id: s
        for s in NotificationSettings.objects.filter(
            organization=organization, user_id__in=user_ids
        )
    }
    subscriptions: dict[int, list[PushSubscription]] = {}
    for subscription in PushSubscription.objects.filter(user_id__in=user_ids):
        subscriptions.setdefault(subscription.user_id, []).append(subscription)

    planned: list[Delivery] = []
    for user_id, email_address in emails.items():
        preference = preferences.get(user_id) or NotificationPreference(type=notification.type)
        if not priority_at_least(notification.priority, preference.min_priority):
            continue
        settings_row = member_settings.get(user_id) or NotificationSettings()
        quiet = not urgent and _in_quiet_hours(settings_row, now)
        if preference.email and email_address:
            if notification.priority == Priority.LOW and settings_row.email_digest:
                status = DeliveryStatus.DIGEST
            else:
                status = DeliveryStatus.SUPPRESSED if quiet else DeliveryStatus.PENDING
            planned.append(_delivery(notification, Channel.EMAIL, status, user_id=user_id))
        if preference.web_push:
            for subscription in subscriptions.get(user_id, []):
                status = DeliveryStatus.SUPPRESSED if quiet else DeliveryStatus.PENDING
                planned.append(
                    _delivery(
                        notification,
                        Channel.WEB_PUSH,
                        status,
                        user_id=user_id,
                        push_subscription=subscription,
                    )
                )
    for endpoint in selectors.list_webhook_endpoints(organization).filter(is_active=True):
        if endpoint.types and notification.type not in endpoint.types:
            continue
        if not priority_at_least(notification.priority, endpoint.min_priority):
            continue
        planned.append(
            _delivery(notification, Channel.WEBHOOK, DeliveryStatus.PENDING, webhook=endpoint)
        )
    created = Delivery.objects.bulk_create(planned)
    return [d for d in created if d.status == DeliveryStatus.PENDING]


def _delivery(notification: Notification, channel: str, status: str, **targets: Any) -> Delivery:
    return Delivery(
        organization_id=notification.organization_id,
        notification=notification,
        channel=channel,
        status=status,
        error="Quiet hours" if status == DeliveryStatus.SUPPRESSED else "",
        **targets,
    )


def broadcast(
    organization: Organization, event: str, data: dict[str, Any], *, coalesce_key: str
) -> None:
    """A live-only signal (no stored notification), e.g. "metrics.updated" after a sync.

    Published on commit, once per `coalesce_key` per transaction, so a sync writing many
    rows sends one event per account. Clients treat it as "refetch", so losing one is safe.
    """
    publish_coalesced_on_commit(
        organization_group(organization.pk),
        LiveEvent(
            type=event, id=coalesce_key, data=json.loads(json.dumps(data, cls=DjangoJSONEncoder))
        ),
        coalesce_key=coalesce_key,
    )


# --- read state -------------------------------------------------------------------------


def _publish_read_state(organization: Organization, user: User, ids: Sequence[int]) -> None:
    unread = selectors.count_unread(organization, user=user)
    event = LiveEvent(
        type="notifications.read",
        id=ids[-1] if ids else 0,
        data={"organization_id": organization.pk, "ids": list(ids), "unread_count": unread},
    )
    transaction.on_commit(lambda: publish(user_group(user.pk), event))


@transaction.atomic
def mark_read(organization: Organization, *, user: User, notification: Notification) -> None:
    """Mark one notification read for `user` (the caller already checked it is visible)."""
    state, _ = NotificationState.objects.get_or_create(
        organization=organization, notification=notification, user=user
    )
    if state.read_at is None:
        state.read_at = timezone.now()
        state.save(update_fields=["read_at"])
    _publish_read_state(organization, user, [notification.pk])


@transaction.atomic
def mark_all_read(organization: Organization, *, user: User) -> int:
    """Mark every visible unread notification read; returns how many changed."""
    now = timezone.now()
    ids = list(
        selectors.list_notifications_for_user(organization, user=user, is_read=False).values_list(
            "pk", flat=True
        )
    )
    NotificationState.objects.bulk_create(
        [NotificationState(organization=organization, notification_id=pk, user=user) for pk in ids],
        ignore_conflicts=True,
    )
    NotificationState.objects.filter(
        organization=organization, user=user, notification_id__in=ids, read_at__isnull=True
    ).update(read_at=now)
    _publish_read_state(organization, user, ids)
    return len(ids)


@transaction.atomic
def dismiss(organization: Organization, *, user: User, notification: Notification) -> None:
    """Hide a notification from `user`'s centre (and count it read)."""
    now = timezone.now()
    state, _ = NotificationState.objects.get_or_create(
        organization=organization, notification=notification, user=user
    )
    state.dismissed_at = state.dismissed_at or now
    state.read_at = state.read_at or now
    state.save(update_fields=["dismissed_at", "read_at"])
    _publish_read_state(organization, user, [notification.pk])


# --- preferences ---------------------------------------------------------------------------


def update_settings(
    organization: Organization,
    *,
    user: User,
    time_zone: str,
    quiet_hours_start: dt.time | None,
    quiet_hours_end: dt.time | None,
    email_digest: bool,
) -> NotificationSettings:
    if (quiet_hours_start is None) != (quiet_hours_end is None):
        raise NotificationError("Quiet hours need both a start and an end.")
    row, _ = NotificationSettings.objects.get_or_create(organization=organization, user=user)
    row.time_zone = time_zone
    row.quiet_hours_start = quiet_hours_start
    row.quiet_hours_end = quiet_hours_end
    row.email_digest = email_digest
    row.full_clean()
    row.save()
    return row


def set_preference(
    organization: Organization,
    *,
    user: User,
    type: str,
    email: bool,
    web_push: bool,
    min_priority: str,
) -> NotificationPreference:
    get_type(type)
    if min_priority not in PRIORITY_RANK:
        raise NotificationError(f"Unknown priority {min_priority!r}.")
    preference, _ = NotificationPreference.objects.update_or_create(
        organization=organization,
        user=user,
        type=type,
        defaults={"email": email, "web_push": web_push, "min_priority": min_priority},
    )
    return preference


# --- webhooks ---------------------------------------------------------------------------------


def url_hint(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/…" if parts.netloc else ""


def create_webhook_endpoint(
    organization: Organization,
    *,
    name: str,
    url: str,
    secret: str = "",
    format: str = WebhookFormat.JSON,
    types: Sequence[str] = (),
    min_priority: str = Priority.LOW,
) -> WebhookEndpoint:
    for type_key in types:
        get_type(type_key)
    return WebhookEndpoint.objects.create(
        organization=organization,
        name=name,
        url=url,
        url_hint=url_hint(url),
        secret=secret,
        format=format,
        types=list(types),
        min_priority=min_priority,
    )


def update_webhook_endpoint(endpoint: WebhookEndpoint, **changes: Any) -> WebhookEndpoint:
    for type_key in changes.get("types") or ():
        get_type(type_key)
    for field_name, value in changes.items():
        setattr(endpoint, field_name, value)
    if "url" in changes:
        endpoint.url_hint = url_hint(changes["url"])
    endpoint.save()
    return endpoint


def generate_webhook_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def send_test_webhook(endpoint: WebhookEndpoint) -> Delivery:
    """Send a sample payload now (no retries) and return the recorded delivery."""
    from notifications.delivery import deliver

    delivery = Delivery.objects.create(
        organization_id=endpoint.organization_id, channel=Channel.WEBHOOK, webhook=endpoint
    )
    deliver(delivery_id=delivery.pk, final_attempt=True)
    delivery.refresh_from_db()
    return delivery


# --- web push subscriptions -------------------------------------------------------------------


def save_push_subscription(
    *, user: User, endpoint: str, p256dh: str, auth: str, user_agent: str = ""
) -> PushSubscription:
    """Store (or move to this user) a browser's subscription; the endpoint is its identity."""
    subscription, _ = PushSubscription.objects.update_or_create(
        endpoint=endpoint,
        defaults={"user": user, "p256dh": p256dh, "auth": auth, "user_agent": user_agent[:300]},
    )
    return subscription


def delete_push_subscription(*, user: User, endpoint: str) -> int:
    deleted, _ = PushSubscription.objects.filter(user=user, endpoint=endpoint).delete()
    return deleted


def get_vapid_keys() -> tuple[str, str]:
    """(public, private) VAPID keys: from settings, else made once and stored encrypted."""
    from notifications.channels.webpush import generate_vapid_key_pair

    if settings.NOTIFICATIONS_VAPID_PRIVATE_KEY and settings.NOTIFICATIONS_VAPID_PUBLIC_KEY:
        return settings.NOTIFICATIONS_VAPID_PUBLIC_KEY, settings.NOTIFICATIONS_VAPID_PRIVATE_KEY
    row = VapidKey.objects.order_by("pk").first()
    if row is None:
        with transaction.atomic():
            row = VapidKey.objects.select_for_update().order_by("pk").first()
            if row is None:
                pair = generate_vapid_key_pair()
                row = VapidKey.objects.create(
                    public_key=pair.public_key, private_key=pair.private_key
                )
    return row.public_key, reveal(row.private_key)


# --- housekeeping ----------------------------------------------------------------------------


def delete_expired_notifications(*, batch_size: int = 1000) -> int:
    """Delete notifications past `expires_at` (their deliveries and states go with them)."""
    now = timezone.now()
    total = 0
    while True:
        ids = list(
            Notification.objects.filter(expires_at__lte=now).values_list("pk", flat=True)[
                :batch_size
            ]
        )
        if not ids:
            return total
        Notification.objects.filter(pk__in=ids).delete()
        total += len(ids)
