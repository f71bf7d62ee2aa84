from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from adplatform.fields import reveal
from adplatform.models import Membership, Organization, Role
from notifications import services
from notifications.models import (
    Notification,
    NotificationPreference,
    NotificationState,
    WebhookEndpoint,
)
from tests.adplatform.factories import MembershipFactory
from tests.notifications.conftest import WebhookReceiver
from tests.notifications.factories import WebhookEndpointFactory

URL = "/api/v1/notifications/"


@pytest.fixture(autouse=True)
def _locmem_email(settings: Any) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def session_client(membership: Membership) -> APIClient:
    client = APIClient()
    client.force_login(membership.user)
    return client


def test_member_lists_their_notifications_with_read_state_newest_first(
    organization: Organization, other_organization: Organization, member: Membership
) -> None:
    [older] = services.notify(organization, "system_update", {"message": "older"})
    services.notify(
        organization, "budget_alert", {"campaign_id": 1, "campaign_name": "X"}, priority="urgent"
    )
    services.notify(other_organization, "system_update", {"message": "not ours"})
    services.mark_read(organization, user=member.user, notification=older)

    response = session_client(member).get(URL)

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(r["type"], r["is_read"]) for r in rows] == [
        ("budget_alert", False),
        ("system_update", True),
    ]
    assert rows[0]["organization"] == {"id": organization.pk, "slug": "acme", "name": "Acme Retail"}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("type=budget_alert", ["budget"]),
        ("priority=low", ["old read", "new"]),
        ("is_read=false", ["budget", "new"]),
        ("is_read=true", ["old read"]),
    ],
)
def test_list_filters(
    organization: Organization, member: Membership, query: str, expected: list[str]
) -> None:
    [read] = services.notify(organization, "system_update", {"message": "old read"})
    services.notify(
        organization, "budget_alert", {"campaign_id": 1, "detail": "budget"}, priority="high"
    )
    services.notify(organization, "system_update", {"message": "new"})
    services.mark_read(organization, user=member.user, notification=read)

    response = session_client(member).get(f"{URL}?{query}")

    bodies = [
        r["body"].split(". ")[-1].rstrip(".") if r["type"] == "budget_alert" else r["body"]
        for r in response.json()["results"]
    ]
    assert sorted(bodies) == sorted(expected)


def test_list_pages_with_a_cursor(organization: Organization, member: Membership) -> None:
    for index in range(5):
        services.notify(organization, "system_update", {"message": f"n{index}"})
    client = session_client(member)

    first = client.get(f"{URL}?page_size=2").json()
    second = client.get(first["next"]).json()

    assert [r["body"] for r in first["results"]] == ["n4", "n3"]
    assert [r["body"] for r in second["results"]] == ["n2", "n1"]


def test_bad_filter_and_bad_cursor_are_400_json(
    organization: Organization, member: Membership
) -> None:
    client = session_client(member)

    assert client.get(f"{URL}?priority=extreme").status_code == 400
    response = client.get(f"{URL}?cursor=garbage")
    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["Invalid cursor."]}


def test_mark_read_and_read_all(organization: Organization, member: Membership) -> None:
    [one] = services.notify(organization, "system_update", {"message": "one"})
    services.notify(organization, "system_update", {"message": "two"})
    services.notify(organization, "system_update", {"message": "three"})
    client = session_client(member)

    assert client.post(f"{URL}{one.pk}/read/").status_code == 204
    assert [r["is_read"] for r in client.get(URL).json()["results"]] == [False, False, True]
    response = client.post(f"{URL}read-all/")

    assert response.json() == {"marked_read": 2}
    assert all(r["is_read"] for r in client.get(URL).json()["results"])


def test_dismiss_hides_it_from_the_list(organization: Organization, member: Membership) -> None:
    [one] = services.notify(organization, "system_update", {"message": "one"})
    client = session_client(member)

    assert client.post(f"{URL}{one.pk}/dismiss/").status_code == 204
    assert client.get(URL).json()["results"] == []


def test_viewer_may_mark_read_but_not_raise(organization: Organization, viewer: Membership) -> None:
    [one] = services.notify(organization, "system_update", {"message": "one"})
    client = session_client(viewer)

    assert client.post(f"{URL}{one.pk}/read/").status_code == 204
    response = client.post(URL, {"type": "system_update", "data": {"message": "x"}}, format="json")
    assert response.status_code == 403
    assert Notification.objects.count() == 1


def test_partner_raises_a_system_update_for_its_organization(
    organization: Organization, member: Membership, api_client_for: Callable[..., APIClient]
) -> None:
    partner = api_client_for(organization)

    response = partner.post(
        URL,
        {
            "type": "system_update",
            "priority": "high",
            "data": {"title": "ERP sync", "message": "Product feed imported", "url": "/campaigns/"},
        },
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert (body["title"], body["body"], body["priority"], body["action_url"]) == (
        "ERP sync",
        "Product feed imported",
        "high",
        "/campaigns/",
    )
    notification = Notification.objects.get()
    assert notification.organization == organization
    assert notification.source.startswith("api_key:")
    # The API key sees organization-wide notifications.
    assert [r["id"] for r in partner.get(URL).json()["results"]] == [notification.pk]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"type": "budget_alert", "data": {"campaign_id": 1}}, "type"),
        ({"type": "system_update", "data": {}}, "data"),
        ({"type": "user_activity", "data": {"actor": "x"}}, "data"),
        ({"type": "system_update", "data": {"message": "x"}, "priority": "extreme"}, "priority"),
        (
            {
                "type": "system_update",
                "data": {"message": "x"},
                "expires_at": "2001-01-01T00:00:00Z",
            },
            "expires_at",
        ),
        ({"type": "system_update", "data": "not a dict"}, "data"),
    ],
)
def test_partner_bad_input_is_400_with_field_errors(
    organization: Organization,
    api_client_for: Callable[..., APIClient],
    payload: dict[str, Any],
    field: str,
) -> None:
    response = api_client_for(organization).post(URL, payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert Notification.objects.count() == 0


def test_api_key_cannot_use_read_state_or_preferences(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    [one] = services.notify(organization, "system_update", {"message": "one"})
    partner = api_client_for(organization)

    assert partner.post(f"{URL}{one.pk}/read/").status_code == 403
    assert partner.get(f"{URL}preferences/").status_code == 403
    assert not NotificationState.objects.exists()


def test_unauthenticated_is_refused(db: None) -> None:
    assert APIClient().get(URL).status_code in (401, 403)


def test_preferences_round_trip(organization: Organization, member: Membership) -> None:
    client = session_client(member)
    defaults = client.get(f"{URL}preferences/").json()
    assert defaults["time_zone"] == "UTC"
    assert {
        "type": "budget_alert",
        "email": True,
        "web_push": True,
        "min_priority": "medium",
    } in defaults["types"]

    response = client.put(
        f"{URL}preferences/",
        {
            "time_zone": "Europe/Berlin",
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:00",
            "email_digest": False,
            "types": [
                {"type": "budget_alert", "email": False, "web_push": True, "min_priority": "high"}
            ],
        },
        format="json",
    )

    assert response.status_code == 200
    body = response.json()
    assert (
        body["time_zone"],
        body["quiet_hours_start"],
        body["quiet_hours_end"],
        body["email_digest"],
    ) == ("Europe/Berlin", "22:00:00", "07:00:00", False)
    assert {
        "type": "budget_alert",
        "email": False,
        "web_push": True,
        "min_priority": "high",
    } in body["types"]
    assert NotificationPreference.objects.get(user=member.user).min_priority == "high"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"time_zone": "Mars/Olympus", "email_digest": True}, "time_zone"),
        (
            {"time_zone": "UTC", "email_digest": True, "quiet_hours_start": "22:00"},
            "quiet_hours_end",
        ),
        (
            {
                "time_zone": "UTC",
                "email_digest": True,
                "types": [{"type": "nope", "email": True, "web_push": True, "min_priority": "low"}],
            },
            "types",
        ),
    ],
)
def test_bad_preferences_are_400(
    organization: Organization, member: Membership, payload: dict[str, Any], field: str
) -> None:
    response = session_client(member).put(f"{URL}preferences/", payload, format="json")

    assert response.status_code == 400
    assert field in response.json()["errors"]


# --- cross-tenant ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "{id}/"),
        ("post", "{id}/read/"),
        ("post", "{id}/dismiss/"),
    ],
)
def test_another_organizations_notification_is_404_and_unchanged(
    organization: Organization,
    other_organization: Organization,
    member: Membership,
    method: str,
    path: str,
) -> None:
    [theirs] = services.notify(other_organization, "system_update", {"message": "theirs"})

    response = getattr(session_client(member), method)(URL + path.format(id=theirs.pk))

    assert response.status_code == 404
    assert not NotificationState.objects.exists()


def test_another_members_personal_notification_is_404(
    organization: Organization, member: Membership
) -> None:
    other = MembershipFactory(organization=organization)
    [personal] = services.notify(
        organization, "user_activity", {"action": "x"}, recipients=[other.user]
    )

    assert session_client(member).get(f"{URL}{personal.pk}/").status_code == 404


# --- webhooks ----------------------------------------------------------------------------------


def test_admin_creates_a_webhook_and_sees_the_secret_once(
    organization: Organization, owner: Membership
) -> None:
    client = session_client(owner)

    response = client.post(
        f"{URL}webhooks/",
        {
            "name": "Ops",
            "url": "https://hooks.example.com/services/T0/B0/secret-token",
            "types": ["budget_alert"],
            "min_priority": "high",
        },
        format="json",
    )

    assert response.status_code == 201
    created = response.json()
    assert created["secret"].startswith("whsec_")
    assert created["url_hint"] == "https://hooks.example.com/…"
    assert "url" not in created
    listed = client.get(f"{URL}webhooks/").json()["results"]
    assert [set(row) & {"secret", "url"} for row in listed] == [set()]
    assert reveal(WebhookEndpoint.objects.get().secret) == created["secret"]


def test_webhook_crud_and_send_test(
    organization: Organization, owner: Membership, webhook_receiver: WebhookReceiver
) -> None:
    client = session_client(owner)
    created = client.post(
        f"{URL}webhooks/",
        {"name": "Ops", "url": webhook_receiver.url, "secret": webhook_receiver.secret},
        format="json",
    ).json()

    tested = client.post(f"{URL}webhooks/{created['id']}/test/").json()
    assert (tested["status"], tested["response_status"], tested["attempts"]) == ("sent", 200, 1)
    assert webhook_receiver.signatures_valid == [True]
    assert webhook_receiver.received[0]["type"] == "webhook.test"

    log = client.get(f"{URL}webhooks/{created['id']}/deliveries/").json()["results"]
    assert [d["status"] for d in log] == ["sent"]

    patched = client.patch(
        f"{URL}webhooks/{created['id']}/",
        {"is_active": False, "min_priority": "urgent"},
        format="json",
    )
    assert (patched.json()["is_active"], patched.json()["min_priority"]) == (False, "urgent")
    assert client.delete(f"{URL}webhooks/{created['id']}/").status_code == 204
    assert not WebhookEndpoint.objects.exists()


def test_send_test_reports_a_failing_endpoint(
    organization: Organization, owner: Membership, webhook_receiver: WebhookReceiver
) -> None:
    endpoint = WebhookEndpointFactory(organization=organization, url=webhook_receiver.url)
    webhook_receiver.statuses = [500]

    tested = session_client(owner).post(f"{URL}webhooks/{endpoint.pk}/test/").json()

    assert (tested["status"], tested["response_status"], tested["error"]) == (
        "failed",
        500,
        "Gave up after 1 attempts: Webhook answered 500",
    )


@pytest.mark.parametrize("role", [Role.MEMBER, Role.VIEWER])
def test_only_admins_manage_webhooks(organization: Organization, role: str) -> None:
    membership = MembershipFactory(organization=organization, role=role)

    response = session_client(membership).post(
        f"{URL}webhooks/", {"name": "x", "url": "https://example.com/h"}, format="json"
    )

    assert response.status_code == 403
    assert not WebhookEndpoint.objects.exists()


def test_webhook_bad_input_is_400(organization: Organization, owner: Membership) -> None:
    response = session_client(owner).post(
        f"{URL}webhooks/",
        {"name": "x", "url": "not a url", "types": ["nope"], "secret": "short"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"url", "types", "secret"}


@pytest.mark.parametrize(
    ("method", "suffix"), [("get", ""), ("patch", ""), ("delete", ""), ("post", "test/")]
)
def test_another_organizations_webhook_is_404_and_unchanged(
    organization: Organization,
    other_organization: Organization,
    owner: Membership,
    method: str,
    suffix: str,
) -> None:
    theirs = WebhookEndpointFactory(organization=other_organization, name="Theirs")

    response = getattr(session_client(owner), method)(
        f"{URL}webhooks/{theirs.pk}/{suffix}", {"name": "Mine now"}, format="json"
    )

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.name == "Theirs"
    assert not theirs.deliveries.exists()
