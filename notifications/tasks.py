"""Celery entry points: ids in, one service call, retry decisions."""

from __future__ import annotations

import random

from celery import Task, shared_task
from django.conf import settings

from notifications import delivery, services
from notifications.channels import RetryableDeliveryError


def backoff_seconds(retries: int) -> int:
    """Exponential backoff with full jitter, capped."""
    base = settings.NOTIFICATIONS_RETRY_BACKOFF_SECONDS
    cap = settings.NOTIFICATIONS_RETRY_BACKOFF_MAX_SECONDS
    return int(random.uniform(0, min(cap, base * 2**retries)))  # noqa: S311 - jitter, not crypto


@shared_task(bind=True, acks_late=True, max_retries=None)
def deliver_notification_task(self: Task, delivery_id: int) -> str:
    try:
        return delivery.deliver(delivery_id=delivery_id)
    except RetryableDeliveryError as exc:
        if self.request.is_eager:
            # Embedded profile: no worker to wait in, and the caller is a web request.
            # The row stays pending; retry_due_deliveries_task picks it up after its backoff.
            return "pending"
        # deliver() counts attempts and stops raising when they are used up.
        raise self.retry(exc=exc, countdown=backoff_seconds(self.request.retries)) from exc


@shared_task(acks_late=True)
def plan_deliveries_task(notification_id: int) -> int:
    """Plan a new (or escalated) notification's email, push and webhook deliveries."""
    pending = services.plan_deliveries(notification_id)
    for delivery_id in pending:
        deliver_notification_task.delay(delivery_id)
    return len(pending)


@shared_task
def retry_due_deliveries_task() -> int:
    # Every minute: deliveries held for quiet hours that have ended, then due retries.
    return delivery.release_held_deliveries() + delivery.retry_due_deliveries()


@shared_task
def delete_expired_notifications_task() -> int:
    return services.delete_expired_notifications()


@shared_task
def send_email_digests_task() -> int:
    return delivery.send_due_digests()
