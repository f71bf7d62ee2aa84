"""Each outbound channel against a local server speaking its real protocol."""

from __future__ import annotations

from email import message_from_bytes
from email.message import Message
from typing import Any

import pytest

from adplatform.fields import reveal
from adplatform.models import Membership, Organization
from notifications import services
from notifications.delivery import retry_due_deliveries
from notifications.models import Channel, Delivery, DeliveryStatus, PushSubscription, WebhookFormat
from tests.notifications.conftest import PushService, SmtpRecorder, WebhookReceiver
from tests.notifications.factories import NotificationPreferenceFactory, WebhookEndpointFactory

pytestmark = pytest.mark.usefixtures("no_backoff")

ALERT = {
    "campaign_id": 9,
    "campaign_name": "Summer <sale>",
    "metric": "CPA",
    "direction": "rose",
    "value": "$41.20",
    "expected": "$25.00",
}


def _raise(organization: Organization, capture: Any, priority: str = "high") -> Any:
    """Raise an alert, then let the retry sweep run until nothing is due (backoff is 0 here)."""
    with capture(execute=True):
        [notification] = services.notify(
            organization, "campaign_performance_alert", ALERT, priority=priority
        )
    for _ in range(10):
        if retry_due_deliveries() == 0:
            break
    return notification


def _parts(raw: bytes) -> dict[str, str]:
    message = message_from_bytes(raw)
    parts: dict[str, str] = {}
    for part in message.walk():
        if isinstance(part, Message) and not part.is_multipart():
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            parts[part.get_content_type()] = payload.decode()
    parts["subject"] = str(message["Subject"])
    return parts


# --- email -------------------------------------------------------------------------------------


def test_email_goes_through_smtp_as_text_and_html(
    organization: Organization,
    member: Membership,
    smtp_server: SmtpRecorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    notification = _raise(organization, django_capture_on_commit_callbacks)

    [envelope] = smtp_server.messages
    assert envelope.rcpt_tos == [member.user.email]
    parts = _parts(envelope.content)  # type: ignore[arg-type]
    assert parts["subject"] == "[Acme Retail] Summer <sale>: CPA rose"
    assert "CPA is $41.20 (expected $25.00)." in parts["text/plain"]
    assert "Summer &lt;sale&gt;: CPA rose" in parts["text/html"]
    assert "http://127.0.0.1:8000/campaigns/?q=Summer%20%3Csale%3E" in parts["text/plain"]
    delivery = Delivery.objects.get(notification=notification, channel=Channel.EMAIL)
    assert (delivery.status, delivery.attempts, delivery.error) == (DeliveryStatus.SENT, 1, "")


def test_email_temporary_failure_is_retried_and_recorded(
    organization: Organization,
    member: Membership,
    smtp_server: SmtpRecorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    smtp_server.fail_next = ["451 4.3.0 Try again later", "421 4.7.0 Too busy"]

    notification = _raise(organization, django_capture_on_commit_callbacks)

    assert smtp_server.attempts == 3
    assert len(smtp_server.messages) == 1
    delivery = Delivery.objects.get(notification=notification, channel=Channel.EMAIL)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)


def test_email_permanent_failure_is_not_retried(
    organization: Organization,
    member: Membership,
    smtp_server: SmtpRecorder,
    django_capture_on_commit_callbacks: Any,
) -> None:
    smtp_server.fail_next = ["554 5.7.1 Message rejected"]

    notification = _raise(organization, django_capture_on_commit_callbacks)

    assert smtp_server.attempts == 1
    delivery = Delivery.objects.get(notification=notification, channel=Channel.EMAIL)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 1)
    assert delivery.error.startswith("SMTP 554")


def test_email_gives_up_after_max_attempts(
    organization: Organization,
    member: Membership,
    smtp_server: SmtpRecorder,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 3
    smtp_server.fail_next = ["451 4.3.0 Try again later"] * 5

    notification = _raise(organization, django_capture_on_commit_callbacks)

    assert smtp_server.attempts == 3
    delivery = Delivery.objects.get(notification=notification, channel=Channel.EMAIL)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 3)
    assert delivery.error.startswith("Gave up after 3 attempts")


def test_email_server_down_is_retryable(
    organization: Organization,
    member: Membership,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    from tests.notifications.conftest import free_port

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    settings.NOTIFICATIONS_MAX_ATTEMPTS = 2

    notification = _raise(organization, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get(notification=notification, channel=Channel.EMAIL)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.FAILED, 2)
    assert "SMTP unavailable: ConnectionRefusedError" in delivery.error


# --- webhooks --------------------------------------------------------------------------------------


def test_webhook_posts_signed_json(
    organization: Organization,
    webhook_receiver: WebhookReceiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    endpoint = WebhookEndpointFactory(
        organization=organization, url=webhook_receiver.url, secret=webhook_receiver.secret
    )

    notification = _raise(organization, django_capture_on_commit_callbacks)

    [payload] = webhook_receiver.received
    assert webhook_receiver.signatures_valid == [True]
    assert payload["id"] == notification.pk
    assert payload["type"] == "campaign_performance_alert"
    assert payload["title"] == "Summer <sale>: CPA rose"
    assert payload["organization"] == {"id": organization.pk, "slug": "acme", "name": "Acme Retail"}
    assert payload["data"]["value"] == "$41.20"
    assert webhook_receiver.headers[0]["X-Adplatform-Event"] == "campaign_performance_alert"
    delivery = Delivery.objects.get(notification=notification, channel=Channel.WEBHOOK)
    assert (delivery.status, delivery.webhook_id, delivery.response_status) == (
        DeliveryStatus.SENT,
        endpoint.pk,
        200,
    )


def test_webhook_signature_fails_with_another_secret(
    organization: Organization,
    webhook_receiver: WebhookReceiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    WebhookEndpointFactory(
        organization=organization, url=webhook_receiver.url, secret="whsec_some_other_secret_000000"
    )

    _raise(organization, django_capture_on_commit_callbacks)

    assert webhook_receiver.signatures_valid == [False]


def test_webhook_server_errors_are_retried_and_logged(
    organization: Organization,
    webhook_receiver: WebhookReceiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    WebhookEndpointFactory(
        organization=organization, url=webhook_receiver.url, secret=webhook_receiver.secret
    )
    webhook_receiver.statuses = [503, 429]

    notification = _raise(organization, django_capture_on_commit_callbacks)

    assert len(webhook_receiver.headers) == 3
    assert len(webhook_receiver.received) == 1
    delivery = Delivery.objects.get(notification=notification, channel=Channel.WEBHOOK)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.SENT,
        3,
        200,
    )


def test_webhook_client_error_is_permanent(
    organization: Organization,
    webhook_receiver: WebhookReceiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    WebhookEndpointFactory(
        organization=organization, url=webhook_receiver.url, secret=webhook_receiver.secret
    )
    webhook_receiver.statuses = [410]

    notification = _raise(organization, django_capture_on_commit_callbacks)

    delivery = Delivery.objects.get(notification=notification, channel=Channel.WEBHOOK)
    assert (delivery.status, delivery.attempts, delivery.response_status) == (
        DeliveryStatus.FAILED,
        1,
        410,
    )
    assert delivery.error == "Webhook answered 410"


def test_webhook_filters_by_type_and_priority(
    organization: Organization,
    webhook_receiver: WebhookReceiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    WebhookEndpointFactory(
        organization=organization, url=webhook_receiver.url, types=["budget_alert"]
    )
    WebhookEndpointFactory(
        organization=organization, url=webhook_receiver.url, min_priority="urgent"
    )

    _raise(organization, django_capture_on_commit_callbacks, priority="high")

    assert webhook_receiver.headers == []
    assert not Delivery.objects.filter(channel=Channel.WEBHOOK).exists()


def test_webhook_slack_format(
    organization: Organization,
    webhook_receiver: WebhookReceiver,
    django_capture_on_commit_callbacks: Any,
) -> None:
    WebhookEndpointFactory(
        organization=organization, url=webhook_receiver.url, format=WebhookFormat.SLACK, secret=""
    )

    _raise(organization, django_capture_on_commit_callbacks)

    [payload] = webhook_receiver.received
    assert payload == {
        "text": "*Summer <sale>: CPA rose*\nCPA is $41.20 (expected $25.00).\n"
        "<http://127.0.0.1:8000/campaigns/?q=Summer%20%3Csale%3E|Open in adplatform>"
    }


def test_webhook_to_private_address_is_refused_when_not_allowed(
    organization: Organization,
    webhook_receiver: WebhookReceiver,
    settings: Any,
    django_capture_on_commit_callbacks: Any,
) -> None:
    settings.NOTIFICATIONS_ALLOW_PRIVATE_DESTINATIONS = False
    WebhookEndpointFactory(organization=organization, url=webhook_receiver.url)

    notification = _raise(organization, django_capture_on_commit_callbacks)

    assert webhook_receiver.headers == []
    delivery = Delivery.objects.get(notification=notification, channel=Channel.WEBHOOK)
    assert (delivery.status, delivery.error) == (DeliveryStatus.FAILED, "URL must use https.")


def test_webhook_secret_and_url_are_encrypted_at_rest(organization: Organization) -> None:
    from django.db import connection

    endpoint = WebhookEndpointFactory(
        organization=organization,
        url="https://hooks.example.com/T000/B000/XXXX",
        secret="whsec_plain_secret_value_123",
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT url, secret FROM notifications_webhookendpoint WHERE id = %s", [endpoint.pk]
        )
        stored_url, stored_secret = cursor.fetchone()

    assert "XXXX" not in stored_url
    assert "whsec" not in stored_secret
    endpoint.refresh_from_db()
    assert reveal(endpoint.secret) == "whsec_plain_secret_value_123"


# --- web push -----------------------------------------------------------------------------------------


def test_web_push_is_encrypted_for_the_browser_and_signed_with_vapid(
    organization: Organization,
    member: Membership,
    push_service: PushService,
    django_capture_on_commit_callbacks: Any,
) -> None:
    push_service.subscribe(member)

    notification = _raise(organization, django_capture_on_commit_callbacks, priority="urgent")

    [payload] = push_service.received
    assert payload["title"] == "Summer <sale>: CPA rose"
    assert payload["id"] == notification.pk
    assert payload["priority"] == "urgent"
    assert push_service.vapid_ok == [True]
    assert push_service.headers[0]["Urgency"] == "high"
    assert push_service.headers[0]["Content-Encoding"] == "aes128gcm"
    delivery = Delivery.objects.get(notification=notification, channel=Channel.WEB_PUSH)
    assert (delivery.status, delivery.response_status) == (DeliveryStatus.SENT, 201)


def test_web_push_gone_subscription_is_removed(
    organization: Organization,
    member: Membership,
    push_service: PushService,
    django_capture_on_commit_callbacks: Any,
) -> None:
    push_service.subscribe(member)
    push_service.statuses = [410]

    notification = _raise(organization, django_capture_on_commit_callbacks)

    assert not PushSubscription.objects.exists()
    delivery = Delivery.objects.get(notification=notification, channel=Channel.WEB_PUSH)
    assert (delivery.status, delivery.response_status) == (DeliveryStatus.FAILED, 410)


def test_web_push_server_error_is_retried(
    organization: Organization,
    member: Membership,
    push_service: PushService,
    django_capture_on_commit_callbacks: Any,
) -> None:
    push_service.subscribe(member)
    push_service.statuses = [500, 503]

    notification = _raise(organization, django_capture_on_commit_callbacks)

    assert len(push_service.received) == 1
    delivery = Delivery.objects.get(notification=notification, channel=Channel.WEB_PUSH)
    assert (delivery.status, delivery.attempts) == (DeliveryStatus.SENT, 3)


def test_web_push_respects_the_preference(
    organization: Organization,
    member: Membership,
    push_service: PushService,
    django_capture_on_commit_callbacks: Any,
) -> None:
    push_service.subscribe(member)
    NotificationPreferenceFactory(
        organization=organization,
        user=member.user,
        type="campaign_performance_alert",
        web_push=False,
    )

    _raise(organization, django_capture_on_commit_callbacks)

    assert push_service.received == []


def test_vapid_private_key_is_stored_encrypted(db: None) -> None:
    from django.db import connection

    public, private = services.get_vapid_keys()
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key FROM notifications_vapidkey")
        [(stored,)] = cursor.fetchall()

    assert private not in stored
    assert services.get_vapid_keys() == (public, private)
