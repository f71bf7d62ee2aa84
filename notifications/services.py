"""Writes of notifications. `notify` is the one entry point every app calls.

    from notifications.services import notify
    notify(organization, "integration_error", {"platform": "Meta", "connection_id": 7, ...},
           priority="high")

It stores the notification and, once the caller's transaction commits, publishes it live
and queues one task per outbound delivery (email, web push, webhook) that the recipients'
preferences allow. Callers never talk to a channel directly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import secrets
import zoneinfo
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Exists, OuterRef, Q
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
    publish_many,
    user_group,
)
from notifications.registry import PRIORITY_RANK, Priority, get_type, priority_at_least
from notifications.rendering import render_notification, templates_for

logger = logging.getLogger(__name__)

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
        templates_for(
            notification_type, selectors.get_template_override_cached(organization, type=type)
        ),
        clean_data,
    )
    results: list[Notification] = []
    events: list[tuple[Notification, str]] = []
    dedup = bool(subject_key) and settings.NOTIFICATIONS_DEDUP_WINDOW_SECONDS > 0
    # One row and nothing to look up: the INSERT is atomic on its own, and a transaction
    # (or a savepoint inside the caller's) would add two round trips to the hot path.
    atomic = transaction.atomic() if dedup or len(targets) > 1 else contextlib.nullcontext()
    with atomic:
        new: list[Notification] = []
        for recipient in targets:
            existing = _find_duplicate(organization, type, subject_key, recipient, now)
            if existing is not None:
                escalated = _bump(existing, clean_data, rendered, priority, now)
                events.append((existing, "notification.updated"))
                if escalated:
                    new.append(existing)
                results.append(existing)
                continue
            notification = Notification(
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
            results.append(notification)
            events.append((notification, "notification.created"))
        # One INSERT for all new rows; outbound deliveries are planned by a task after
        # commit, so the caller's transaction holds no member, preference or delivery work.
        fresh = [n for n in results if n.pk is None]
        if len(fresh) == 1:
            fresh[0].save(force_insert=True)  # bulk_create would wrap it in BEGIN/COMMIT
        else:
            Notification.objects.bulk_create(fresh)
        new.extend(n for n, kind in events if kind == "notification.created")
        transaction.on_commit(_after_commit(organization, events, [n.pk for n in new]))
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
) -> bool:
    """A repeat of the same event: count it, refresh the text, escalate the priority.

    Returns whether the priority went up (only then do email, push and webhooks go again).
    """
    escalated = PRIORITY_RANK[priority] > PRIORITY_RANK[notification.priority]
    notification.data = data
    notification.title = rendered.title
    notification.body = rendered.body
    notification.body_html = rendered.body_html
    notification.action_url = rendered.action_url
    notification.last_occurred_at = now
    if escalated:
        notification.priority = priority
    # One UPDATE; the row is locked (select_for_update), so count + 1 cannot race.
    notification.count += 1
    notification.save(
        update_fields=[
            "count",
            "data",
            "title",
            "body",
            "body_html",
            "action_url",
            "last_occurred_at",
            "priority",
        ]
    )
    return escalated


def _after_commit(
    organization: Organization, events: list[tuple[Notification, str]], plan_ids: list[int]
) -> Any:
    def run() -> None:
        from notifications.tasks import plan_deliveries_task

        live = [
            (
                organization_group(organization.pk)
                if notification.recipient_id is None
                else user_group(notification.recipient_id),
                LiveEvent(
                    type=kind,
                    id=notification.pk,
                    data=serialize_live(notification, organization=organization),
                ),
            )
            for notification, kind in events
        ]
        if not publish_many(live):
            # Live delivery is not recorded when it works (the layer is at-most-once, and a
            # row per event would double the writes); an outage is, for the admin's log.
            Delivery.objects.bulk_create(
                [
                    Delivery(
                        organization_id=organization.pk,
                        notification=notification,
                        channel=Channel.WEBSOCKET,
                        status=DeliveryStatus.FAILED,
                        attempts=1,
                        error="Channel layer unavailable; clients replay from the database.",
                    )
                    for notification, _ in events
                ]
            )
        for notification_id in plan_ids:
            plan_deliveries_task.delay(notification_id)

    return run


def serialize_live(
    notification: Notification, *, organization: Organization | None = None
) -> dict[str, Any]:
    """The `data` of a live event; the same fields the API lists."""
    organization = organization or notification.organization
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


def quiet_hours_end(member_settings: NotificationSettings, now: dt.datetime) -> dt.datetime | None:
    """When the member's quiet hours in force at `now` end (aware), or None outside them."""
    start, end = member_settings.quiet_hours_start, member_settings.quiet_hours_end
    if start is None or end is None or start == end:
        return None
    zone = zoneinfo.ZoneInfo(member_settings.time_zone)
    local = now.astimezone(zone)
    time_of_day, end_date = local.time(), local.date()
    if start < end:
        if not start <= time_of_day < end:
            return None
    elif time_of_day >= start:
        # Over midnight, e.g. 22:00-07:00, and it is 23:30: they end tomorrow morning.
        end_date += dt.timedelta(days=1)
    elif time_of_day >= end:
        return None
    return dt.datetime.combine(end_date, end, tzinfo=zone)


def plan_deliveries(notification_id: int) -> list[int]:
    """One Delivery per (channel, target) that preferences allow; returns the pending ids.

    Runs in a task after notify() commits. Claims the notification's current priority with
    a conditional UPDATE, so a repeated task plans nothing twice, while an escalation
    (a higher priority) plans again. Email and push during a member's quiet hours are held
    until they end (urgent goes at once); low priority waits for the digest when wanted.
    """
    notification = (
        Notification.objects.select_related("organization").filter(pk=notification_id).first()
    )
    now = timezone.now()
    if notification is None or notification.is_expired(now):
        return []
    organization = notification.organization
    urgent = notification.priority == Priority.URGENT
    # Only members something can reach: an email address or a browser subscribed to push.
    members = Membership.objects.filter(organization=organization, user__is_active=True).filter(
        ~Q(user__email="") | Exists(PushSubscription.objects.filter(user_id=OuterRef("user_id")))
    )
    if notification.recipient_id is not None:
        members = members.filter(user_id=notification.recipient_id)
    emails: dict[int, str] = dict(members.values_list("user_id", "user__email"))
    preferences: dict[int, NotificationPreference] = {}
    member_settings: dict[int, NotificationSettings] = {}
    subscriptions: dict[int, list[PushSubscription]] = {}
    if emails:
        preferences = {
            p.user_id: p
            for p in NotificationPreference.objects.filter(
                organization=organization, user_id__in=emails, type=notification.type
            )
        }
        member_settings = {
            s.user_id: s
            for s in NotificationSettings.objects.filter(
                organization=organization, user_id__in=emails
            )
        }
        for subscription in PushSubscription.objects.filter(user_id__in=emails):
            subscriptions.setdefault(subscription.user_id, []).append(subscription)

    planned: list[Delivery] = []
    default_preference = NotificationPreference(type=notification.type)
    default_settings = NotificationSettings()
    for user_id, email_address in emails.items():
        preference = preferences.get(user_id, default_preference)
        if not priority_at_least(notification.priority, preference.min_priority):
            continue
        settings_row = member_settings.get(user_id, default_settings)
        hold_until = None if urgent else quiet_hours_end(settings_row, now)
        status = DeliveryStatus.HELD if hold_until else DeliveryStatus.PENDING
        if preference.email and email_address:
            digest = notification.priority == Priority.LOW and settings_row.email_digest
            planned.append(
                _delivery(
                    notification,
                    Channel.EMAIL,
                    DeliveryStatus.DIGEST if digest else status,
                    None if digest else hold_until,
                    user_id=user_id,
                )
            )
        if preference.web_push:
            planned.extend(
                _delivery(
                    notification,
                    Channel.WEB_PUSH,
                    status,
                    hold_until,
                    user_id=user_id,
                    push_subscription=subscription,
                )
                for subscription in subscriptions.get(user_id, [])
            )
    for endpoint in selectors.list_webhook_endpoints(organization).filter(is_active=True):
        if endpoint.types and notification.type not in endpoint.types:
            continue
        if not priority_at_least(notification.priority, endpoint.min_priority):
            continue
        planned.append(
            _delivery(notification, Channel.WEBHOOK, DeliveryStatus.PENDING, None, webhook=endpoint)
        )
    if not planned:
        return []  # nothing written, so nothing to claim
    rank = PRIORITY_RANK[notification.priority] + 1
    with transaction.atomic():
        claimed = Notification.objects.filter(
            pk=notification.pk, planned_priority_rank__lt=rank
        ).update(planned_priority_rank=rank)
        created = Delivery.objects.bulk_create(planned) if claimed else []
    return [d.pk for d in created if d.status == DeliveryStatus.PENDING]


def _delivery(
    notification: Notification,
    channel: str,
    status: str,
    hold_until: dt.datetime | None,
    **targets: Any,
) -> Delivery:
    return Delivery(
        organization_id=notification.organization_id,
        notification=notification,
        channel=channel,
        status=status,
        hold_until=hold_until,
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
