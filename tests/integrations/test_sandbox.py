from __future__ import annotations

import datetime as dt

import pytest
from django.db.models import Sum

from adplatform.models import Organization
from campaigns.models import MetricRestatement, SegmentDailyMetric, SyncKind
from campaigns.services.connections import import_ad_accounts
from campaigns.services.sync import sync_connection
from integrations.providers.sandbox.simulator import SandboxWorld
from integrations.records import SegmentDimension
from integrations.services import create_sandbox_connection, set_sandbox_clock

CLOCK = dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)


def _world(
    seed: int = 1, world: str = "0123456789abcdef", now: dt.datetime = CLOCK
) -> SandboxWorld:
    return SandboxWorld(
        seed=seed, platform="meta", world=world, epoch=dt.date(2025, 11, 10), now=now
    )


def test_the_same_seed_gives_the_same_world_and_numbers() -> None:
    one, two = _world(world="aaaaaaaa11111111"), _world(world="bbbbbbbb22222222")
    day = dt.date(2026, 3, 1)

    first = [one.simulate_day(c.external_id, day).ads for c in one.account.campaigns]
    second = [two.simulate_day(c.external_id, day).ads for c in two.account.campaigns]

    assert [[(a.spend, a.conversions) for a in ads] for ads in first] == [
        [(a.spend, a.conversions) for a in ads] for ads in second
    ]
    assert any(ads for ads in first)


def test_the_hidden_curve_has_diminishing_returns() -> None:
    campaign = _world().account.campaigns[0]
    day = dt.date(2026, 3, 2)

    low, high = campaign.expected_conversions(100, day), campaign.expected_conversions(200, day)

    assert 0 < low < high < 2 * low
    assert campaign.marginal_cpa(200, day) > campaign.marginal_cpa(100, day)


def test_late_conversions_restate_recent_days_as_time_passes() -> None:
    day = dt.date(2026, 3, 8)
    early = _world(now=dt.datetime(2026, 3, 9, 1, tzinfo=dt.UTC))
    later = _world(now=dt.datetime(2026, 3, 16, 1, tzinfo=dt.UTC))

    def conversions(world: SandboxWorld) -> int:
        return sum(
            a.conversions
            for c in world.account.campaigns
            for a in world.simulate_day(c.external_id, day).ads
        )

    assert conversions(later) > conversions(early)


def test_the_planted_winning_segment_converts_better_per_dollar() -> None:
    world = _world()
    campaign = max(world.account.campaigns, key=lambda c: c.initial.daily_budget or 0)
    dimension, winner = campaign.winning_segment
    totals: dict[str, list[float]] = {}
    for offset in range(60):
        for segment in world.simulate_day(
            campaign.external_id, dt.date(2026, 1, 1) + dt.timedelta(days=offset)
        ).segments:
            if segment.dimension == dimension:
                entry = totals.setdefault(segment.value, [0.0, 0.0])
                entry[0] += float(segment.spend)
                entry[1] += segment.conversions
    rate = {value: conv / spend for value, (spend, conv) in totals.items() if spend}

    assert max(rate, key=lambda value: rate[value]) == winner


@pytest.mark.django_db
def test_syncing_a_sandbox_as_time_passes_fills_the_restatement_log(
    organization: Organization,
) -> None:
    connection = create_sandbox_connection(
        organization=organization, platform="google", seed=2, clock=CLOCK
    )
    import_ad_accounts(connection=connection)
    sync_connection(connection_id=connection.pk, since=CLOCK.date() - dt.timedelta(days=13))

    set_sandbox_clock(connection=connection, at=CLOCK + dt.timedelta(days=2))
    run = sync_connection(connection_id=connection.pk, kind=SyncKind.METRICS).run

    assert run is not None and run.restated_rows > 0
    restated_days = set(MetricRestatement.objects.values_list("date", flat=True))
    assert restated_days and max(restated_days) <= CLOCK.date()
    assert min(restated_days) >= CLOCK.date() - dt.timedelta(days=6)
    dims = set(SegmentDailyMetric.objects.values_list("dimension", flat=True))
    assert dims == {SegmentDimension.AGE, SegmentDimension.GENDER, SegmentDimension.DEVICE}
    by_age = SegmentDailyMetric.objects.filter(dimension="age").aggregate(s=Sum("spend"))["s"]
    assert by_age > 0
