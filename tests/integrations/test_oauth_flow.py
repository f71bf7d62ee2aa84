from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs, urlparse

import pytest
from django.db import connection as db
from django.test import Client

from adplatform.fields import reveal
from adplatform.models import Membership, Organization, Role
from campaigns.models import AdAccount, SyncRun
from integrations.models import Connection
from tests.adplatform.factories import MembershipFactory
from tests.integrations.fake import make_platform

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def default_platform() -> None:
    make_platform("default")


def _start(client: Client) -> str:
    response = client.post("/integrations/fake/connect/", {"platform": "meta"})
    assert response.status_code == 302
    location = urlparse(response["Location"])
    assert location.netloc == "fake.example"
    query = parse_qs(location.query)
    assert query["redirect_uri"] == ["http://testserver/integrations/fake/callback/"]
    return query["state"][0]


def test_connect_then_callback_stores_the_tokens_encrypted_and_offers_the_accounts(
    member: Membership, web_client_for: Callable[..., Client]
) -> None:
    client = web_client_for(member)
    state = _start(client)

    response = client.get("/integrations/fake/callback/", {"state": state, "code": "good-code"})

    connection = Connection.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/integrations/connections/{connection.pk}/accounts/"
    assert (connection.organization_id, connection.platform, connection.connector) == (
        member.organization_id, "meta", "fake",
    )  # fmt: skip
    assert (reveal(connection.access_token), reveal(connection.refresh_token)) == (
        "good-token",
        "good-refresh",
    )
    assert connection.created_by == member.user
    with db.cursor() as cursor:
        cursor.execute("SELECT access_token FROM integrations_connection")
        stored = cursor.fetchone()[0]
    assert "good-token" not in stored

    picker = client.get(response["Location"])
    assert picker.status_code == 200
    assert "Fake account" in picker.content.decode() and "A2" in picker.content.decode()
    assert "good-token" not in picker.content.decode()


def test_picking_accounts_imports_them_and_starts_a_sync(
    member: Membership, web_client_for: Callable[..., Client], django_capture_on_commit_callbacks
) -> None:
    client = web_client_for(member)
    client.get("/integrations/fake/callback/", {"state": _start(client), "code": "good-code"})
    connection = Connection.objects.get()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/integrations/connections/{connection.pk}/accounts/", {"account": ["A1"]}
        )

    assert response.status_code == 302
    assert list(AdAccount.objects.values_list("external_id", "connection_id")) == [
        ("A1", connection.pk)
    ]
    run = SyncRun.objects.get()
    assert (run.connection_id, run.trigger, run.status) == (connection.pk, "connect", "succeeded")


@pytest.mark.parametrize("state", ["", "forged-state"])
def test_a_callback_with_a_missing_or_wrong_state_is_refused(
    member: Membership, web_client_for: Callable[..., Client], state: str
) -> None:
    client = web_client_for(member)
    _start(client)

    response = client.get("/integrations/fake/callback/", {"state": state, "code": "good-code"})

    assert response.status_code == 400
    assert not Connection.objects.exists()


def test_a_state_from_another_session_is_refused(
    member: Membership, web_client_for: Callable[..., Client]
) -> None:
    state = _start(web_client_for(member))
    other_browser = web_client_for(member)  # same user, another session

    response = other_browser.get(
        "/integrations/fake/callback/", {"state": state, "code": "good-code"}
    )

    assert response.status_code == 400
    assert not Connection.objects.exists()


def test_a_state_issued_for_another_organization_is_refused(
    member: Membership, other_organization: Organization, web_client_for: Callable[..., Client]
) -> None:
    MembershipFactory(user=member.user, organization=other_organization, role=Role.OWNER)
    client = web_client_for(member)
    state = _start(client)
    client.post("/organizations/switch/", {"organization": other_organization.slug})

    response = client.get("/integrations/fake/callback/", {"state": state, "code": "good-code"})

    assert response.status_code == 400
    assert not Connection.objects.exists()


def test_a_state_works_once(member: Membership, web_client_for: Callable[..., Client]) -> None:
    client = web_client_for(member)
    state = _start(client)
    client.get("/integrations/fake/callback/", {"state": state, "code": "good-code"})

    replay = client.get("/integrations/fake/callback/", {"state": state, "code": "good-code"})

    assert replay.status_code == 400
    assert Connection.objects.count() == 1


def test_a_refused_code_connects_nothing(
    member: Membership, web_client_for: Callable[..., Client]
) -> None:
    client = web_client_for(member)

    response = client.get("/integrations/fake/callback/", {"state": _start(client), "code": "bad"})

    assert response.status_code == 400
    assert not Connection.objects.exists()


def test_viewers_cannot_start_a_connection(
    viewer: Membership, web_client_for: Callable[..., Client]
) -> None:
    response = web_client_for(viewer).post("/integrations/fake/connect/", {"platform": "meta"})

    assert response.status_code == 403


def test_connecting_a_sandbox_goes_straight_to_the_account_picker(
    member: Membership, web_client_for: Callable[..., Client]
) -> None:
    client = web_client_for(member)

    start = client.post("/integrations/sandbox/connect/", {"platform": "snapchat"})
    back = client.get(start["Location"])

    connection = Connection.objects.get()
    assert (connection.connector, connection.platform) == ("sandbox", "snapchat")
    assert back["Location"] == f"/integrations/connections/{connection.pk}/accounts/"
    assert "Snapchat" in client.get(back["Location"]).content.decode()


def test_the_integrations_page_lists_connections_with_their_status(
    member: Membership, web_client_for: Callable[..., Client]
) -> None:
    client = web_client_for(member)
    client.get("/integrations/fake/callback/", {"state": _start(client), "code": "good-code"})

    html = client.get("/integrations/").content.decode()

    assert "Meta" in html and "Active" in html and "Sync now" in html
    assert "good-token" not in html and "good-refresh" not in html
    assert "Choose accounts" in html  # nothing imported yet: the picker is offered
