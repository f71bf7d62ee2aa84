"""Carry one planned Delivery through its channel and record the outcome.

Called by `deliver_notification_task`; only this module talks to the transports.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from django.conf import settings
from django.db.models import F
from django.template.loader import render_to_string
from django.utils import timezone

from adplatform.fields import reveal
from adplatform.metrics import NOTIFICATION_DELIVERY_SECONDS, NOTIFICATION_FAILURES
from notifications.channels import (
    DeliveryError,
    PermanentDeliveryError,
    RetryableDeliveryError,
    SubscriptionGone,
)
from notifications.channels.email import send_email
from notifications.channels.webhook import check_destination, post_webhook
from notifications.channels.webpush import PushTarget, send_web_push
from notifications.models import (
    Channel,
    Delivery,
    DeliveryStatus,
    Notification,
    PushSubscription,
    WebhookFormat,
)
from notifications.registry import PRIORITY_RANK, get_type

logger = logging.getLogger(__name__)


def absolute_url(path: str) -> str:
    if not path or path.startswith(("http://", "https://")):
        return path
    return settings.NOTIFICATIONS_SITE_URL.rstrip("/") + path


def deliver(*, delivery_id: int, final_attempt: bool = False) -> str:
    """Send one pending delivery; returns its new status.

    Claims the row with a conditional UPDATE so a duplicate task does nothing. A
    retryable failure puts it back to pending and re-raises `RetryableDeliveryError`
    for the task to retry, unless attempts are used up (or `final_attempt`), when it fails.
    """
    claimed = Delivery.objects.filter(pk=delivery_id, status=DeliveryStatus.PENDING).update(
        status=DeliveryStatus.SENDING, attempts=F("attempts") + 1, updated_at=timezone.now()
    )
    if not claimed:
        return "skipped"
    delivery = Delivery.objects.select_related(
        "notification",
        "notification__organization",
        "user",
        "webhook",
        "webhook__organization",
        "push_subscription",
    ).get(pk=delivery_id)
    notification = delivery.notification
    now = timezone.now()
    if notification is not None and notification.is_expired(now):
        _finish(delivery, DeliveryStatus.EXPIRED, error="Expired before delivery")
        return DeliveryStatus.EXPIRED
    try:
        response_status = _send(delivery)
    except SubscriptionGone as exc:
        # The browser unsubscribed or the push service forgot it: stop sending there.
        if delivery.push_subscription_id is not None:
            PushSubscription.objects.filter(pk=delivery.push_subscription_id).delete()
        _finish(
            delivery, DeliveryStatus.FAILED, error=str(exc), response_status=exc.response_status
        )
        return DeliveryStatus.FAILED
    except PermanentDeliveryError as exc:
        _finish(
            delivery, DeliveryStatus.FAILED, error=str(exc), response_status=exc.response_status
        )
        return DeliveryStatus.FAILED
    except RetryableDeliveryError as exc:
        if final_attempt or delivery.attempts >= settings.NOTIFICATIONS_MAX_ATTEMPTS:
            _finish(
                delivery,
                DeliveryStatus.FAILED,
                error=f"Gave up after {delivery.attempts} attempts: {exc}",
                response_status=exc.response_status,
            )
            return DeliveryStatus.FAILED
        _finish(
            delivery, DeliveryStatus.PENDING, error=str(exc), response_status=exc.response_status
        )
        raise
    _finish(delivery, DeliveryStatus.SENT, response_status=response_status)
    return DeliveryStatus.SENT


def _finish(
    delivery: Delivery, status: str, *, error: str = "", response_status: int | None = None
) -> None:
    now = timezone.now()
    Delivery.objects.filter(pk=delivery.pk).update(
        status=status,
        error=error[:2000],
        response_status=response_status,
        sent_at=now if status == DeliveryStatus.SENT else None,
        updated_at=now,
    )
    if status == DeliveryStatus.SENT:
        NOTIFICATION_DELIVERY_SECONDS.labels(delivery.channel).observe(
            (now - delivery.created_at).total_seconds()
        )
    elif status == DeliveryStatus.FAILED:
        NOTIFICATION_FAILURES.labels(delivery.channel).inc()


def _send(delivery: Delivery) -> int | None:
    if delivery.channel == Channel.EMAIL:
        _send_email(delivery)
        return None
    if delivery.channel == Channel.WEB_PUSH:
        return _send_push(delivery)
    if delivery.channel == Channel.WEBHOOK:
        return _send_webhook(delivery)
    raise PermanentDeliveryError(f"Channel {delivery.channel!r} is not delivered by tasks.")


def _send_email(delivery: Delivery) -> None:
    notification = delivery.notification
    if notification is None or delivery.user is None or not delivery.user.email:
        raise PermanentDeliveryError("No notification or no email address.")
    context = {
        "notification": notification,
        "organization": notification.organization,
        "action_url": absolute_url(notification.action_url),
        "preferences_url": absolute_url("/notifications/preferences/"),
    }
    send_email(
        to=delivery.user.email,
        subject=f"[{notification.organization.name}] {notification.title}",
        text=render_to_string("notifications/email/notification.txt", context),
        html=render_to_string("notifications/email/notification.html", context),
    )
    return


def push_payload(notification: Notification) -> dict[str, Any]:
    return {
        "id": notification.pk,
        "title": notification.title,
        "body": notification.body[:500],
        "url": notification.action_url or "/notifications/",
        "priority": notification.priority,
        "organization": notification.organization.name,
        "tag": f"adplatform-{notification.pk}",
    }


def _send_push(delivery: Delivery) -> int:
    from notifications.services import get_vapid_keys

    notification = delivery.notification
    subscription = delivery.push_subscription
    if notification is None or subscription is None:
        raise PermanentDeliveryError("Subscription was removed.")
    check_destination(
        subscription.endpoint, allow_private=settings.NOTIFICATIONS_ALLOW_PRIVATE_DESTINATIONS
    )
    _public, private = get_vapid_keys()
    now = timezone.now()
    ttl = 24 * 3600
    if notification.expires_at is not None:
        # The push service must not hand it over after it has expired here.
        ttl = max(0, min(ttl, int((notification.expires_at - now).total_seconds())))
    status = send_web_push(
        target=PushTarget(
            endpoint=subscription.endpoint,
            p256dh=subscription.p256dh,
            auth=reveal(subscription.auth),
        ),
        payload=push_payload(notification),
        private_key=private,
        subject=settings.NOTIFICATIONS_VAPID_SUBJECT,
        ttl=ttl,
        timeout=settings.NOTIFICATIONS_HTTP_TIMEOUT,
        urgency="high"
        if PRIORITY_RANK[notification.priority] >= PRIORITY_RANK["high"]
        else "normal",
    )
    PushSubscription.objects.filter(pk=subscription.pk).update(last_used_at=now)
    return status


def webhook_body(delivery: Delivery) -> tuple[str, bytes]:
    """(event name, JSON body) for a webhook delivery, in the endpoint's format."""
    endpoint = delivery.webhook
    assert endpoint is not None
    notification = delivery.notification
    if notification is None:
        payload: dict[str, Any] = {
            "id": None,
            "type": "webhook.test",
            "priority": "low",
            "title": "Test from adplatform",
            "body": f"Webhook endpoint {endpoint.name!r} is reachable.",
            "action_url": "",
            "data": {},
            "count": 1,
            "created_at": timezone.now().isoformat(),
        }
    else:
        payload = {
            "id": notification.pk,
            "type": notification.type,
            "type_label": get_type(notification.type).label,
            "priority": notification.priority,
            "title": notification.title,
            "body": notification.body,
            "action_url": absolute_url(notification.action_url),
            "data": notification.data,
            "count": notification.count,
            "created_at": notification.created_at.isoformat(),
        }
    organization = endpoint.organization
    payload["organization"] = {
        "id": organization.pk,
        "slug": organization.slug,
        "name": organization.name,
    }
    payload["delivery_id"] = delivery.pk
    if endpoint.format == WebhookFormat.SLACK:
        link = f"\n<{payload['action_url']}|Open in adplatform>" if payload["action_url"] else ""
        slack = {"text": f"*{payload['title']}*\n{payload['body']}{link}"}
        return payload["type"], json.dumps(slack).encode()
    return payload["type"], json.dumps(payload, separators=(",", ":")).encode()


def _send_webhook(delivery: Delivery) -> int:
    endpoint = delivery.webhook
    if endpoint is None:
        raise PermanentDeliveryError("Webhook endpoint was removed.")
    event, body = webhook_body(delivery)
    return post_webhook(
        url=reveal(endpoint.url),
        body=body,
        secret=reveal(endpoint.secret),
        event=event,
        delivery_id=delivery.pk,
        timeout=settings.NOTIFICATIONS_HTTP_TIMEOUT,
        allow_private=settings.NOTIFICATIONS_ALLOW_PRIVATE_DESTINATIONS,
    )


__all__ = ["DeliveryError", "deliver", "push_payload", "webhook_body"]


def send_due_digests(*, now: Any = None, force: bool = False) -> int:
    """Email each member their waiting low-priority notifications, once a day.

    Runs hourly; a member's digest goes out in the hour `NOTIFICATIONS_DIGEST_HOUR` of
    their own time zone (or at once with `force`). Returns the number of emails sent.
    """
    import zoneinfo

    from notifications.models import NotificationSettings

    now = now or timezone.now()
    waiting = (
        Delivery.objects.filter(channel=Channel.EMAIL, status=DeliveryStatus.DIGEST)
        .select_related("notification", "notification__organization", "user")
        .order_by("organization_id", "user_id", "pk")
    )
    groups: dict[tuple[int, int], list[Delivery]] = {}
    for delivery in waiting:
        if delivery.user_id is None or delivery.notification is None:
            continue
        groups.setdefault((delivery.organization_id, delivery.user_id), []).append(delivery)
    member_settings = {
        (s.organization_id, s.user_id): s
        for s in NotificationSettings.objects.filter(user_id__in={user_id for _, user_id in groups})
    }
    sent = 0
    for key, deliveries in groups.items():
        row = member_settings.get(key)
        time_zone = zoneinfo.ZoneInfo(row.time_zone if row else "UTC")
        if not force and now.astimezone(time_zone).hour != settings.NOTIFICATIONS_DIGEST_HOUR:
            continue
        if (
            not force
            and row is not None
            and row.last_digest_at
            and (now - row.last_digest_at).total_seconds() < 20 * 3600
        ):
            continue
        live = [
            d
            for d in deliveries
            if d.notification is not None and not d.notification.is_expired(now)
        ]
        expired_ids = [d.pk for d in deliveries if d not in live]
        Delivery.objects.filter(pk__in=expired_ids).update(
            status=DeliveryStatus.EXPIRED, updated_at=now
        )
        if not live:
            continue
        user = live[0].user
        assert user is not None
        organization = live[0].notification.organization  # type: ignore[union-attr]
        context = {
            "organization": organization,
            "items": [(d.notification, absolute_url(d.notification.action_url)) for d in live],  # type: ignore[union-attr]
            "centre_url": absolute_url("/notifications/"),
            "preferences_url": absolute_url("/notifications/preferences/"),
        }
        ids = [d.pk for d in live]
        Delivery.objects.filter(pk__in=ids).update(attempts=F("attempts") + 1, updated_at=now)
        try:
            send_email(
                to=user.email,
                subject=f"[{organization.name}] {len(live)} update{'s' if len(live) != 1 else ''} today",
                text=render_to_string("notifications/email/digest.txt", context),
                html=render_to_string("notifications/email/digest.html", context),
            )
        except DeliveryError as exc:
            # Left waiting: the next hourly run (tomorrow's slot, or a forced run) retries.
            Delivery.objects.filter(pk__in=ids).update(error=str(exc)[:2000], updated_at=now)
            logger.warning("Digest for user %s failed: %s", user.pk, exc)
            continue
        Delivery.objects.filter(pk__in=ids).update(
            status=DeliveryStatus.SENT, sent_at=now, error="", updated_at=now
        )
        NotificationSettings.objects.update_or_create(
            organization_id=key[0], user_id=key[1], defaults={"last_digest_at": now}
        )
        sent += 1
    return sent


def release_held_deliveries(*, now: Any = None) -> int:
    """Queue email and push held back by quiet hours that have ended; returns how many.

    Expired notifications are caught by deliver() itself (status "expired").
    """
    from notifications.tasks import deliver_notification_task

    now = now or timezone.now()
    due = list(
        Delivery.objects.filter(status=DeliveryStatus.HELD, hold_until__lte=now)
        .order_by("hold_until")
        .values_list("pk", flat=True)[:1000]
    )
    Delivery.objects.filter(pk__in=due, status=DeliveryStatus.HELD).update(
        status=DeliveryStatus.PENDING, updated_at=now
    )
    # A concurrent sweep may queue the same ids; deliver() claims each row once.
    for pk in due:
        deliver_notification_task.delay(pk)
    return len(due)


def retry_due_deliveries(*, now: Any = None) -> int:
    """Re-queue pending deliveries whose backoff has passed, and rescue stuck ones.

    Celery's own retries cover worker deployments; this sweep covers the embedded
    profile (eager tasks cannot wait) and deliveries orphaned by a crashed worker
    (left "sending"). Returns how many were queued.
    """
    import datetime as dt

    from notifications.tasks import deliver_notification_task

    now = now or timezone.now()
    stuck_before = now - dt.timedelta(minutes=15)
    Delivery.objects.filter(status=DeliveryStatus.SENDING, updated_at__lt=stuck_before).update(
        status=DeliveryStatus.PENDING, updated_at=now
    )
    base = settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS
    cap = settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS
    due = []
    candidates = Delivery.objects.filter(
        status=DeliveryStatus.PENDING, attempts__gte=1
    ).values_list("pk", "attempts", "updated_at")
    for pk, attempts, updated_at in candidates[:1000]:
        wait = min(cap, base * 2 ** (attempts - 1))
        if (now - updated_at).total_seconds() >= wait:
            due.append(pk)
    for pk in due:
        deliver_notification_task.delay(pk)
    return len(due)
