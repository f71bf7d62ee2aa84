"""The live socket through the real ASGI application (origin check, session auth, routing).

Every test runs on the in-memory layer and, when Redis is reachable, on channels-redis'
list-based and pub/sub layers too.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from django.db import transaction
from django.test import Client

from adplatform.asgi import application
from adplatform.models import Membership, Organization
from adplatform.services import create_api_key
from notifications import services
from tests.adplatform.factories import MembershipFactory
from tests.notifications.wsclient import WebSocketClient

ORIGIN = (b"origin", b"http://testserver")


def HOST(redis_url: str) -> dict[str, object]:  # noqa: N802
    # The same host options as adplatform/settings.py sets for production.
    return {"address": redis_url, "max_connections": 2000, "socket_timeout": 30}


@pytest.fixture(params=["memory", "redis", "redis-pubsub"])
def channel_layer(request: pytest.FixtureRequest, settings: Any) -> str:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    if request.param == "memory":
        settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
        return request.param
    redis_url = request.getfixturevalue("redis_url")
    backend = (
        "channels_redis.pubsub.RedisPubSubChannelLayer"
        if request.param == "redis-pubsub"
        else "channels_redis.core.RedisChannelLayer"
    )
    # A fresh prefix per test keeps groups from other tests (and other runs) out.
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": backend,
            "CONFIG": {
                "hosts": [HOST(redis_url)],
                "prefix": f"test-{uuid.uuid4().hex[:8]}",
            },
        }
    }
    return request.param


def session_cookie(membership: Membership) -> tuple[bytes, bytes]:
    client = Client()
    client.force_login(membership.user)
    return (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())


def socket(
    *headers: tuple[bytes, bytes], query: str = "", subprotocols: list[str] | None = None
) -> WebSocketClient:
    path = "/ws/notifications/" + (f"?{query}" if query else "")
    return WebSocketClient(application, path, headers=list(headers), subprotocols=subprotocols)


notify = database_sync_to_async(services.notify)


def run(scenario: Callable[[], Awaitable[None]]) -> None:
    async_to_sync(scenario)()


pytestmark = pytest.mark.django_db(transaction=True)


def test_member_receives_their_organizations_notifications_and_never_anothers(
    channel_layer: str, organization: Organization, other_organization: Organization
) -> None:
    member_a = MembershipFactory(organization=organization)
    MembershipFactory(organization=other_organization)
    cookie = session_cookie(member_a)

    async def scenario() -> None:
        client = socket(ORIGIN, cookie)
        connected, _ = await client.connect()
        assert connected
        # B's is published first: if it leaked, it would arrive first.
        await notify(other_organization, "system_update", {"message": "for B"})
        [mine] = await notify(
            organization,
            "budget_alert",
            {"campaign_id": 1, "campaign_name": "Spring"},
            priority="high",
        )
        message = await client.receive_json_from(timeout=5)
        assert message["type"] == "notification.created"
        assert message["id"] == mine.pk
        assert message["data"]["title"] == "Budget: Spring has spent most% of its budget"
        assert message["data"]["priority"] == "high"
        assert message["data"]["organization"]["slug"] == "acme"
        assert set(message) == {"type", "id", "data", "timestamp"}
        assert await client.receive_nothing(timeout=0.3)
        await client.disconnect()

    run(scenario)


def test_personal_notifications_reach_only_their_recipient(
    channel_layer: str, organization: Organization
) -> None:
    alice = MembershipFactory(organization=organization)
    bob = MembershipFactory(organization=organization)
    cookie_alice = session_cookie(alice)
    cookie_bob = session_cookie(bob)

    async def scenario() -> None:
        alice_socket = socket(ORIGIN, cookie_alice)
        bob_socket = socket(ORIGIN, cookie_bob)
        assert (await alice_socket.connect())[0]
        assert (await bob_socket.connect())[0]
        await notify(
            organization,
            "user_activity",
            {"actor": "Ana", "action": "shared a report"},
            recipients=[bob.user],
        )
        message = await bob_socket.receive_json_from(timeout=5)
        assert message["data"]["title"] == "Ana shared a report"
        assert await alice_socket.receive_nothing(timeout=0.3)
        await alice_socket.disconnect()
        await bob_socket.disconnect()

    run(scenario)


def test_unauthenticated_connection_is_refused(
    channel_layer: str, organization: Organization
) -> None:
    async def scenario() -> None:
        connected, _ = await socket(ORIGIN).connect()
        assert not connected

    run(scenario)


def test_foreign_origin_is_refused_even_with_a_valid_session(
    channel_layer: str, member: Membership
) -> None:
    cookie_member = session_cookie(member)

    async def scenario() -> None:
        connected, _ = await socket((b"origin", b"https://evil.example"), cookie_member).connect()
        assert not connected
        connected, _ = await socket(cookie_member).connect()  # no Origin at all
        assert not connected

    run(scenario)


def test_user_without_organization_is_refused(channel_layer: str, db: None) -> None:
    from tests.adplatform.factories import UserFactory

    user = UserFactory()
    client = Client()
    client.force_login(user)
    cookie = (b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode())

    async def scenario() -> None:
        connected, code = await socket(ORIGIN, cookie).connect()
        assert not connected

    run(scenario)


def test_reconnect_with_last_id_replays_what_was_missed(
    channel_layer: str, organization: Organization, other_organization: Organization
) -> None:
    member = MembershipFactory(organization=organization)
    cookie = session_cookie(member)

    async def scenario() -> None:
        client = socket(ORIGIN, cookie)
        assert (await client.connect())[0]
        [seen] = await notify(organization, "system_update", {"message": "seen live"})
        assert (await client.receive_json_from(timeout=5))["id"] == seen.pk
        await client.disconnect()

        # While offline: two for us, one for another organization.
        [missed_1] = await notify(organization, "system_update", {"message": "missed 1"})
        await notify(other_organization, "system_update", {"message": "not ours"})
        [missed_2] = await notify(organization, "system_update", {"message": "missed 2"})

        again = socket(ORIGIN, cookie, query=f"last_id={seen.pk}")
        assert (await again.connect())[0]
        first = await again.receive_json_from(timeout=5)
        second = await again.receive_json_from(timeout=5)
        done = await again.receive_json_from(timeout=5)
        assert [first["id"], second["id"]] == [missed_1.pk, missed_2.pk]
        assert first["data"]["body"] == "missed 1"
        assert done == {
            "type": "replay.complete",
            "id": missed_2.pk,
            "data": {"count": 2, "truncated": False},
            "timestamp": done["timestamp"],
        }
        await again.disconnect()

    run(scenario)


def test_api_key_authenticates_a_partner_socket_for_its_organization(
    channel_layer: str, organization: Organization, other_organization: Organization
) -> None:
    raw_key = create_api_key(organization=organization, name="partner").raw_key
    member = MembershipFactory(organization=organization)

    async def scenario() -> None:
        partner = socket(ORIGIN, (b"authorization", f"Bearer {raw_key}".encode()))
        assert (await partner.connect())[0]
        via_protocol = socket(ORIGIN, subprotocols=["adplatform.v1", f"bearer.{raw_key}"])
        connected, subprotocol = await via_protocol.connect()
        assert connected
        assert subprotocol == "adplatform.v1"
        await notify(other_organization, "system_update", {"message": "not for this key"})
        await notify(
            organization,
            "user_activity",
            {"actor": "A", "action": "personal"},
            recipients=[member.user],
        )
        [shared] = await notify(organization, "system_update", {"message": "for the organization"})
        assert (await partner.receive_json_from(timeout=5))["id"] == shared.pk
        assert (await via_protocol.receive_json_from(timeout=5))["id"] == shared.pk
        assert await partner.receive_nothing(timeout=0.3)
        await partner.disconnect()
        await via_protocol.disconnect()

    run(scenario)


def test_revoked_or_wrong_api_key_is_refused(
    channel_layer: str, organization: Organization
) -> None:
    from adplatform.services import revoke_api_key

    issued = create_api_key(organization=organization, name="old")
    revoke_api_key(api_key=issued.api_key)

    async def scenario() -> None:
        for key in (issued.raw_key, "adp_not-a-real-key"):
            connected, _ = await socket(
                ORIGIN, (b"authorization", f"Bearer {key}".encode())
            ).connect()
            assert not connected

    run(scenario)


def test_repeat_notification_is_sent_as_an_update_with_its_count(
    channel_layer: str, member: Membership, organization: Organization
) -> None:
    cookie_member = session_cookie(member)

    async def scenario() -> None:
        client = socket(ORIGIN, cookie_member)
        assert (await client.connect())[0]
        data = {
            "campaign_id": 4,
            "campaign_name": "Fall",
            "metric": "CTR",
            "direction": "fell",
            "value": "0.4%",
        }
        await notify(organization, "campaign_performance_alert", data)
        await notify(organization, "campaign_performance_alert", data)
        created = await client.receive_json_from(timeout=5)
        updated = await client.receive_json_from(timeout=5)
        assert (created["type"], created["data"]["count"]) == ("notification.created", 1)
        assert (updated["type"], updated["id"], updated["data"]["count"]) == (
            "notification.updated",
            created["id"],
            2,
        )
        await client.disconnect()

    run(scenario)


def test_burst_of_live_signals_in_one_transaction_is_coalesced(
    channel_layer: str, member: Membership, organization: Organization
) -> None:
    @database_sync_to_async
    def sync_many_rows() -> None:
        with transaction.atomic():
            for row in range(200):
                services.broadcast(
                    organization,
                    "metrics.updated",
                    {"account_id": 3, "rows": row + 1},
                    coalesce_key="account:3",
                )
            services.broadcast(
                organization,
                "metrics.updated",
                {"account_id": 5, "rows": 1},
                coalesce_key="account:5",
            )

    cookie_member = session_cookie(member)

    async def scenario() -> None:
        client = socket(ORIGIN, cookie_member)
        assert (await client.connect())[0]
        await sync_many_rows()
        first = await client.receive_json_from(timeout=5)
        second = await client.receive_json_from(timeout=5)
        assert (first["type"], first["data"]) == ("metrics.updated", {"account_id": 3, "rows": 200})
        assert (second["type"], second["data"]) == ("metrics.updated", {"account_id": 5, "rows": 1})
        assert await client.receive_nothing(timeout=0.3)
        await client.disconnect()

    run(scenario)


def test_marking_read_tells_the_users_other_tabs_the_new_count(
    channel_layer: str, member: Membership, organization: Organization
) -> None:
    cookie_member = session_cookie(member)

    async def scenario() -> None:
        client = socket(ORIGIN, cookie_member)
        assert (await client.connect())[0]
        [one] = await notify(organization, "system_update", {"message": "one"})
        await notify(organization, "system_update", {"message": "two"})
        await client.receive_json_from(timeout=5)
        await client.receive_json_from(timeout=5)
        await database_sync_to_async(services.mark_read)(
            organization, user=member.user, notification=one
        )
        message = await client.receive_json_from(timeout=5)
        assert message["type"] == "notifications.read"
        assert message["data"] == {
            "organization_id": organization.pk,
            "ids": [one.pk],
            "unread_count": 1,
        }
        await client.disconnect()

    run(scenario)


def test_socket_idle_longer_than_the_layers_poll_still_receives(
    channel_layer: str, member: Membership, organization: Organization
) -> None:
    """Regression: redis-py 8's 5 s socket timeout equals channels-redis' 5 s BZPOPMIN."""
    if channel_layer == "memory":
        pytest.skip("only the Redis layers poll")
    import asyncio

    cookie_member = session_cookie(member)

    async def scenario() -> None:
        client = socket(ORIGIN, cookie_member)
        assert (await client.connect())[0]
        await asyncio.sleep(6.5)
        [late] = await notify(organization, "system_update", {"message": "after a quiet spell"})
        assert (await client.receive_json_from(timeout=5))["id"] == late.pk
        await client.disconnect()

    run(scenario)


def test_sockets_of_one_organization_share_one_layer_channel_per_process(
    settings: Any, organization: Organization
) -> None:
    # One layer member per process and group: the layer carries one copy of each event
    # to this process whatever the number of sockets, and the last socket leaves the group.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    cookies = [session_cookie(MembershipFactory(organization=organization)) for _ in range(3)]

    async def scenario() -> None:
        from channels.layers import get_channel_layer

        from notifications.realtime import organization_group

        layer = get_channel_layer()
        group = organization_group(organization.pk)
        clients = [socket(ORIGIN, cookie) for cookie in cookies]
        for client in clients:
            connected, _ = await client.connect()
            assert connected
        assert len(layer.groups[group]) == 1
        [sent] = await notify(organization, "system_update", {"message": "to all"})
        for client in clients:
            assert (await client.receive_json_from(timeout=5))["id"] == sent.pk
        await clients[0].disconnect()
        assert len(layer.groups[group]) == 1  # the others still listen
        for client in clients[1:]:
            await client.disconnect()
        assert not layer.groups.get(group)

    run(scenario)
