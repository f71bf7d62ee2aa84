from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal

import pytest
from django.db.models import Sum
from django.utils import timezone

from adplatform.models import Organization
from campaigns.events import MetricsUpdated, on_metrics_updated, remove_metrics_handler
from campaigns.models import (
    AdAccount,
    DailyMetric,
    MetricRestatement,
    SegmentDailyMetric,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from campaigns.services.sync import sync_connection
from integrations.clients.errors import PlatformUnavailable, QuotaExhausted
from integrations.models import Connection, ConnectionStatus
from tests.campaigns.sync_helpers import connect, dump_by_natural_key, dump_tables
from tests.integrations.factories import FakeConnectionFactory
from tests.integrations.fake import PLATFORMS, FakePlatform

pytestmark = pytest.mark.django_db(transaction=False)

SINCE = dt.date(2026, 2, 25)


def _remote(connection: Connection) -> FakePlatform:
    return PLATFORMS[connection.extra["world"]]


@pytest.fixture
def connection(organization: Organization) -> Connection:
    connection = FakeConnectionFactory(organization=organization)
    connect(connection)
    return connection


def test_a_sync_stores_structure_metrics_and_segments(connection: Connection) -> None:
    outcome = sync_connection(connection_id=connection.pk, since=SINCE)

    assert outcome.run is not None and outcome.run.status == SyncStatus.SUCCEEDED
    # 2 accounts x 2 campaigns x 2 ads x 14 days (Feb 25 .. Mar 10)
    assert DailyMetric.objects.count() == 2 * 2 * 2 * 14
    assert outcome.run.rows == 2 * 2 * 2 * 14
    assert SegmentDailyMetric.objects.filter(value="25-34").count() == 2 * 2 * 14
    account = AdAccount.objects.get(external_id="A2")
    assert (account.currency, account.time_zone) == ("EUR", "Europe/Berlin")
    assert account.metrics_synced_until == dt.date(2026, 3, 10)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.ACTIVE
    assert connection.last_synced_at is not None


def test_running_the_same_sync_twice_leaves_every_table_identical(connection: Connection) -> None:
    sync_connection(connection_id=connection.pk, since=SINCE)
    first = dump_tables()

    second_run = sync_connection(connection_id=connection.pk, since=SINCE).run

    assert dump_tables() == first
    assert second_run is not None and second_run.restated_rows == 0
    assert MetricRestatement.objects.count() == 0


def test_a_sync_killed_half_way_and_resumed_ends_as_an_uninterrupted_one(
    organization: Organization,
) -> None:
    interrupted = FakeConnectionFactory(organization=organization)
    connect(interrupted)
    remote = _remote(interrupted)
    # 14 days in 7-day windows: two per account; the third read is account 2's first.
    remote.fail_on_call = 3
    remote.failure = RuntimeError("worker killed")

    with pytest.raises(RuntimeError):
        sync_connection(connection_id=interrupted.pk, since=SINCE)
    run = SyncRun.objects.get()
    assert run.status == SyncStatus.FAILED
    partial_rows = DailyMetric.objects.count()
    assert 0 < partial_rows < 2 * 2 * 2 * 14
    calls_before = remote.metric_calls

    resumed = sync_connection(connection_id=interrupted.pk, since=SINCE).run

    assert resumed is not None and resumed.pk == run.pk  # the same run, continued
    assert (resumed.status, resumed.attempts) == (SyncStatus.SUCCEEDED, 2)
    # It continued from the cursor: account 1's windows were not read again.
    assert remote.metric_calls - calls_before == 2
    after_resume = dump_by_natural_key()

    # Same platform, synced in one go from nothing.
    for model in (DailyMetric, SegmentDailyMetric):
        model._default_manager.all().delete()
    from campaigns.models import Campaign

    Campaign.objects.all().delete()
    AdAccount.objects.update(metrics_synced_until=None)
    clean = sync_connection(connection_id=interrupted.pk, since=SINCE).run
    assert clean is not None and clean.pk != run.pk and clean.status == SyncStatus.SUCCEEDED
    assert dump_by_natural_key() == after_resume


def test_a_restated_day_is_logged_with_its_earlier_values(connection: Connection) -> None:
    sync_connection(connection_id=connection.pk, since=SINCE)
    remote = _remote(connection)
    restated_day = dt.date(2026, 3, 8)
    ad = "A1-C0-G-AD0"
    before = DailyMetric.objects.get(ad__external_id=ad, date=restated_day)
    remote.conversions[(ad, restated_day)] += 7  # late conversions arrive
    remote.today = dt.date(2026, 3, 11)

    run = sync_connection(connection_id=connection.pk, kind=SyncKind.METRICS).run

    assert run is not None and run.restated_rows == 1
    log = MetricRestatement.objects.get()
    assert (log.ad.external_id, log.date) == (ad, restated_day)
    assert (log.conversions, log.clicks) == (before.conversions, before.clicks)
    assert log.seen_at == before.updated_at
    assert log.sync_run_id == run.pk
    now = DailyMetric.objects.get(ad__external_id=ad, date=restated_day)
    assert now.conversions == before.conversions + 7
    assert now.updated_at == log.replaced_at


def test_incremental_sync_rereads_only_the_lookback_window(connection: Connection) -> None:
    sync_connection(connection_id=connection.pk, since=SINCE)
    remote = _remote(connection)
    remote.today = dt.date(2026, 3, 12)
    remote.calls.clear()

    run = sync_connection(connection_id=connection.pk, kind=SyncKind.METRICS).run

    # Lookback 7 days before the last synced day (Mar 10) through the new today (Mar 12).
    account = AdAccount.objects.get(external_id="A1")
    assert run is not None
    assert run.cursor["windows"][str(account.pk)] == ["2026-03-04", "2026-03-12"]
    assert "list_campaigns" not in remote.calls


def test_a_quota_block_pauses_the_connection_until_resume_at_then_the_run_continues(
    connection: Connection,
) -> None:
    remote = _remote(connection)
    resume_at = timezone.now() + dt.timedelta(hours=1)
    remote.fail_on_call = 2
    remote.failure = QuotaExhausted("app quota reached", resume_at=resume_at, retry_after=3600)

    paused = sync_connection(connection_id=connection.pk, since=SINCE).run

    connection.refresh_from_db()
    assert paused is not None and paused.status == SyncStatus.PAUSED
    assert (connection.status, connection.resume_at) == (ConnectionStatus.PAUSED_QUOTA, resume_at)
    calls = len(remote.calls)

    waiting = sync_connection(connection_id=connection.pk, since=SINCE)

    assert (waiting.run, waiting.skipped) == (None, "quota")
    assert len(remote.calls) == calls  # not one call while blocked

    # The block ends.
    Connection.objects.filter(pk=connection.pk).update(
        resume_at=timezone.now() - dt.timedelta(seconds=1)
    )
    resumed = sync_connection(connection_id=connection.pk, since=SINCE).run

    assert resumed is not None and resumed.pk == paused.pk
    assert resumed.status == SyncStatus.SUCCEEDED
    # It went straight back to the blocked metrics window; account 1's structure was done.
    assert remote.calls[calls : calls + 2] == ["daily_metrics", "segment_metrics"]
    assert DailyMetric.objects.count() == 2 * 2 * 2 * 14
    connection.refresh_from_db()
    assert (connection.status, connection.resume_at) == (ConnectionStatus.ACTIVE, None)


def test_a_platform_outage_fails_the_run_and_the_next_one_continues(connection: Connection) -> None:
    remote = _remote(connection)
    remote.fail_on_call = 1
    remote.failure = PlatformUnavailable("HTTP 503", platform="fake")

    with pytest.raises(PlatformUnavailable):
        sync_connection(connection_id=connection.pk, since=SINCE)

    run = SyncRun.objects.get()
    assert run.status == SyncStatus.FAILED and run.is_resumable
    assert sync_connection(connection_id=connection.pk, since=SINCE).run == run
    run.refresh_from_db()
    assert run.status == SyncStatus.SUCCEEDED


def test_a_second_sync_while_one_runs_does_nothing(connection: Connection) -> None:
    now = timezone.now()
    SyncRun.objects.create(
        organization=connection.organization, connection=connection, kind=SyncKind.FULL,
        status=SyncStatus.RUNNING, started_at=now, heartbeat_at=now,
    )  # fmt: skip

    outcome = sync_connection(connection_id=connection.pk, since=SINCE)

    assert (outcome.run, outcome.skipped) == (None, "busy")
    assert DailyMetric.objects.count() == 0


def test_a_killed_run_with_a_stale_heartbeat_is_taken_over(connection: Connection) -> None:
    long_ago = timezone.now() - dt.timedelta(hours=1)
    stale = SyncRun.objects.create(
        organization=connection.organization, connection=connection, kind=SyncKind.FULL,
        status=SyncStatus.RUNNING, started_at=long_ago, heartbeat_at=long_ago, since=SINCE,
        cursor={"accounts": list(AdAccount.objects.order_by("pk").values_list("pk", flat=True)),
                "position": 1, "step": "structure"},
    )  # fmt: skip

    run = sync_connection(connection_id=connection.pk, since=SINCE).run

    assert run is not None and run.pk == stale.pk and run.status == SyncStatus.SUCCEEDED
    # Only the second account was left to do.
    assert set(DailyMetric.objects.values_list("ad_account__external_id", flat=True)) == {"A2"}


def test_one_metrics_updated_event_per_account_per_sync(
    connection: Connection, django_capture_on_commit_callbacks
) -> None:
    events: list[MetricsUpdated] = []
    handler = on_metrics_updated(events.append)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            sync_connection(connection_id=connection.pk, since=SINCE)
    finally:
        remove_metrics_handler(handler)

    assert sorted(e.ad_account_id for e in events) == sorted(
        AdAccount.objects.values_list("pk", flat=True)
    )
    assert {(e.start, e.end) for e in events} == {(SINCE, dt.date(2026, 3, 10))}


def test_rollups_match_the_facts_after_a_sync(connection: Connection) -> None:
    from campaigns.models import CampaignDailyMetric

    sync_connection(connection_id=connection.pk, since=SINCE)

    facts = DailyMetric.objects.aggregate(s=Sum("spend"), c=Sum("conversions"))
    rollup = CampaignDailyMetric.objects.aggregate(s=Sum("spend"), c=Sum("conversions"))
    assert facts == rollup
    assert facts["s"] == Decimal("12.50") * 2 * 2 * 2 * 14


def test_sync_logs_carry_no_credential(
    connection: Connection, caplog: pytest.LogCaptureFixture
) -> None:
    _remote(connection).valid_tokens = {"fresh-token"}  # force a refresh on the first call

    with caplog.at_level(logging.DEBUG):
        sync_connection(connection_id=connection.pk, since=SINCE)

    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in ("good-token", "good-refresh", "fresh-token"):
        assert secret not in text


def test_replay_returns_what_was_known_at_a_past_moment(
    connection: Connection, organization: Organization
) -> None:
    from campaigns.selectors import daily_metrics_as_known_at, restatement_settlement

    sync_connection(connection_id=connection.pk, since=SINCE)
    between = timezone.now()
    remote = _remote(connection)
    day, ad = dt.date(2026, 3, 9), "A1-C1-G-AD1"
    old = DailyMetric.objects.get(ad__external_id=ad, date=day).conversions
    remote.conversions[(ad, day)] += 2
    sync_connection(connection_id=connection.pk, kind=SyncKind.METRICS)
    campaign_id = DailyMetric.objects.get(ad__external_id=ad, date=day).campaign_id

    def known(at: dt.datetime) -> Decimal:
        rows = daily_metrics_as_known_at(
            organization, at=at, start=day, end=day, campaign_id=campaign_id
        )
        ad_id = DailyMetric.objects.get(ad__external_id=ad, date=day).ad_id
        return next(r.conversions for r in rows if r.ad_id == ad_id)

    assert known(between) == old
    assert known(timezone.now()) == old + 2
    [settlement] = restatement_settlement(organization)
    assert (settlement.restatements, settlement.mean_conversion_change) == (1, Decimal(2))
