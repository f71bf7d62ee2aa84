from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from adplatform.models import Membership, Organization
from notifications import services
from notifications.models import (
    NotificationPreference,
    NotificationSettings,
    NotificationState,
    PushSubscription,
)


@pytest.fixture(autouse=True)
def _locmem_email(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def test_header_bell_shows_the_unread_count(
    organization: Organization, member: Membership, web_client_for: Callable[..., Client]
) -> None:
    services.notify(organization, "system_update", {"message": "one"})
    [two] = services.notify(organization, "system_update", {"message": "two"})

    html = web_client_for(member).get("/notifications/").content.decode()

    assert 'data-testid="notification-count">2</span>' in html
    assert f'data-last-id="{two.pk}"' in html
    assert "/static/notifications/notifications.js" in html


def test_centre_filters_by_type_priority_and_state(
    organization: Organization, member: Membership, web_client_for: Callable[..., Client]
) -> None:
    [read] = services.notify(organization, "system_update", {"message": "maintenance done"})
    services.notify(
        organization,
        "ai_insight",
        {"headline": "CPA rising", "summary": "Up 20%", "insight_id": 1},
        priority="high",
    )
    services.mark_read(organization, user=member.user, notification=read)
    client = web_client_for(member)

    assert "CPA rising" in client.get("/notifications/?type=ai_insight").content.decode()
    assert "maintenance done" not in client.get("/notifications/?type=ai_insight").content.decode()
    assert "maintenance done" not in client.get("/notifications/?state=unread").content.decode()
    assert "CPA rising" not in client.get("/notifications/?priority=low").content.decode()


def test_centre_htmx_request_returns_only_the_list(
    organization: Organization, member: Membership, web_client_for: Callable[..., Client]
) -> None:
    services.notify(organization, "system_update", {"message": "hello"})

    html = web_client_for(member).get("/notifications/", HTTP_HX_REQUEST="true").content.decode()

    assert html.lstrip().startswith('<section id="notif-list"')
    assert "hello" in html


def test_mark_read_mark_all_and_dismiss_from_the_page(
    organization: Organization, member: Membership, web_client_for: Callable[..., Client]
) -> None:
    [one] = services.notify(organization, "system_update", {"message": "one"})
    [two] = services.notify(organization, "system_update", {"message": "two"})
    client = web_client_for(member)

    response = client.post(f"/notifications/{one.pk}/read/", HTTP_HX_REQUEST="true")
    assert (response.status_code, response["HX-Trigger"]) == (204, "notifications-changed")
    assert client.get("/notifications/unread-count/").json() == {"unread_count": 1}
    assert client.post("/notifications/read-all/").status_code == 302
    assert client.get("/notifications/unread-count/").json() == {"unread_count": 0}
    client.post(f"/notifications/{two.pk}/dismiss/")
    assert (
        "two"
        not in client.get("/notifications/?state=").content.decode().split('id="notif-list"')[1]
    )


def test_another_organizations_notification_cannot_be_touched_from_the_page(
    organization: Organization,
    other_organization: Organization,
    member: Membership,
    web_client_for: Callable[..., Client],
) -> None:
    [theirs] = services.notify(other_organization, "system_update", {"message": "theirs"})
    client = web_client_for(member)

    assert client.post(f"/notifications/{theirs.pk}/read/").status_code == 404
    assert client.post(f"/notifications/{theirs.pk}/dismiss/").status_code == 404
    assert "theirs" not in client.get("/notifications/").content.decode()
    assert not NotificationState.objects.exists()


def test_anonymous_visitor_is_sent_to_login(db: None) -> None:
    response = Client().get("/notifications/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_preferences_page_saves_settings_and_per_type_choices(
    organization: Organization, member: Membership, web_client_for: Callable[..., Client]
) -> None:
    client = web_client_for(member)
    assert client.get("/notifications/preferences/").status_code == 200

    response = client.post(
        "/notifications/preferences/",
        {
            "time_zone": "Europe/Paris",
            "quiet_hours_start": "21:00",
            "quiet_hours_end": "06:30",
            "email_digest": "on",
            "budget_alert-email": "on",
            "budget_alert-min_priority": "urgent",
            "ai_insight-web_push": "on",
            "ai_insight-min_priority": "low",
        },
    )

    assert response.status_code == 302
    row = NotificationSettings.objects.get(user=member.user)
    assert (row.time_zone, str(row.quiet_hours_start), row.email_digest) == (
        "Europe/Paris",
        "21:00:00",
        True,
    )
    budget = NotificationPreference.objects.get(user=member.user, type="budget_alert")
    insight = NotificationPreference.objects.get(user=member.user, type="ai_insight")
    assert (budget.email, budget.web_push, budget.min_priority) == (True, False, "urgent")
    assert (insight.email, insight.web_push, insight.min_priority) == (False, True, "low")


def test_push_subscription_is_saved_and_removed(
    organization: Organization, member: Membership, web_client_for: Callable[..., Client]
) -> None:
    client = web_client_for(member)
    subscription = {
        "endpoint": "https://push.example.com/send/abc",
        "keys": {"p256dh": "BEl62iUYgUivxIkv69yViEuiBIa", "auth": "tBHItJI5svbpez7KI4CCXg"},
    }

    created = client.post(
        "/notifications/push/subscribe/", json.dumps(subscription), content_type="application/json"
    )
    assert created.status_code == 201
    assert PushSubscription.objects.get().user == member.user
    removed = client.post(
        "/notifications/push/unsubscribe/",
        json.dumps({"endpoint": subscription["endpoint"]}),
        content_type="application/json",
    )
    assert removed.json() == {"status": "unsubscribed", "deleted": 1}
    assert not PushSubscription.objects.exists()


def test_bad_push_subscription_is_400(
    organization: Organization,
    member: Membership,
    web_client_for: Callable[..., Client],
    settings: Any,
) -> None:
    settings.NOTIFICATIONS_ALLOW_PRIVATE_DESTINATIONS = False
    client = web_client_for(member)

    assert (
        client.post(
            "/notifications/push/subscribe/", "nope", content_type="application/json"
        ).status_code
        == 400
    )
    internal = {"endpoint": "http://10.0.0.5/push", "keys": {"p256dh": "x", "auth": "y"}}
    assert (
        client.post(
            "/notifications/push/subscribe/", json.dumps(internal), content_type="application/json"
        ).status_code
        == 400
    )
    assert not PushSubscription.objects.exists()


def test_service_worker_is_served_for_the_whole_site(db: None) -> None:
    response = Client().get("/notifications/sw.js")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/javascript"
    assert response["Service-Worker-Allowed"] == "/"
    assert b'addEventListener("push"' in response.content
