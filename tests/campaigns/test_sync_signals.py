"""What the rest of the product hears from a sync: problems, new numbers, insights."""

from __future__ import annotations

import asyncio
import datetime as dt
from concurrent.futures import ThreadPoolExecutor

import pytest
from channels.layers import get_channel_layer

from adplatform.models import Organization
from campaigns.services.problems import report_sync_problem
from campaigns.services.sync import sync_connection
from campaigns.tasks import sync_connection_task
from integrations.clients.errors import PlatformUnavailable
from integrations.models import Connection
from notifications.models import Notification
from notifications.realtime import organization_group
from tests.campaigns.sync_helpers import connect
from tests.integrations.factories import FakeConnectionFactory
from tests.integrations.fake import FakeConnector

pytestmark = pytest.mark.django_db

SINCE = dt.date(2026, 2, 25)


@pytest.fixture
def connection(organization: Organization) -> Connection:
    connection = FakeConnectionFactory(organization=organization)
    connect(connection)
    return connection


def test_a_sync_that_keeps_failing_tells_the_organization_when_retries_run_out(
    connection: Connection, monkeypatch: pytest.MonkeyPatch
) -> None:
    def always_unavailable(*args: object, **kwargs: object) -> None:
        raise PlatformUnavailable("HTTP 503", platform="fake")

    monkeypatch.setattr(FakeConnector, "daily_metrics", always_unavailable)

    # The last allowed attempt (retries already spent) gives up and tells the organization.
    with pytest.raises(PlatformUnavailable):
        sync_connection_task.apply(
            args=[connection.pk], kwargs={"since": SINCE.isoformat()}, retries=6
        ).get()

    notification = Notification.objects.get(organization=connection.organization)
    assert notification.type == "integration_error"
    assert notification.priority == "high"
    assert "stayed unavailable after 7 attempts" in notification.body


def test_the_same_problem_twice_is_one_notification_with_a_count(connection: Connection) -> None:
    report_sync_problem(connection=connection, message="HTTP 503 from the platform")
    report_sync_problem(connection=connection, message="HTTP 503 from the platform")

    notification = Notification.objects.get(organization=connection.organization)
    assert notification.count == 2


def _listen(organization: Organization, run_sync: object) -> list[dict[str, object]]:
    """Messages the organization's WebSocket group receives while `run_sync()` runs."""
    layer = get_channel_layer()
    assert layer is not None

    async def join() -> str:
        channel = await layer.new_channel()
        await layer.group_add(organization_group(organization.pk), channel)
        return channel

    async def drain(channel: str) -> list[dict[str, object]]:
        messages = []
        while True:
            try:
                messages.append(await asyncio.wait_for(layer.receive(channel), timeout=0.5))
            except TimeoutError:
                return messages

    # One loop that stays up for the whole sync: a pub/sub layer delivers only to
    # subscriptions alive when a message is published.
    loop = asyncio.new_event_loop()
    try:
        with ThreadPoolExecutor(max_workers=1) as pool:
            pool.submit(loop.run_forever)
            try:
                channel = asyncio.run_coroutine_threadsafe(join(), loop).result(timeout=10)
                run_sync()  # type: ignore[operator]
                return asyncio.run_coroutine_threadsafe(drain(channel), loop).result(timeout=30)
            finally:
                loop.call_soon_threadsafe(loop.stop)
    finally:
        loop.close()


def test_a_sync_announces_new_numbers_once_per_account(
    connection: Connection, django_capture_on_commit_callbacks: object
) -> None:
    def run_sync() -> None:
        with django_capture_on_commit_callbacks(execute=True):  # type: ignore[operator]
            sync_connection(connection_id=connection.pk, since=SINCE)

    messages = _listen(connection.organization, run_sync)

    updates = [m for m in messages if "metrics.updated" in str(m)]
    assert len(updates) == 2  # the fake connection has two ad accounts
