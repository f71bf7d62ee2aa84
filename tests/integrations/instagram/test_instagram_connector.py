"""The Instagram connector: Meta's Graph API restricted to Instagram placements."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from pytest_httpserver import HTTPServer

from integrations.clients.errors import NotSupported, PermissionDenied
from integrations.clients.ratelimit import InProcessRateLimiter
from integrations.config import PlatformConfig
from integrations.providers.instagram.connector import InstagramConnector
from integrations.records import (
    AudienceDimension,
    MetricLevel,
    SegmentDimension,
    TargetingChange,
    TokenSet,
)
from integrations.registry import get_connector_class
from tests.integrations.conftest import FakeClock
from tests.integrations.meta.fake import (
    APP_ID,
    APP_SECRET,
    LONG_TOKEN,
    VERSION,
    FakeGraph,
    graph_error,
)

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def graph(httpserver: HTTPServer) -> FakeGraph:
    fake = FakeGraph(httpserver)
    fake.add_account("123", currency="GBP")
    fake.add_campaign("123", "11", name="Reels push", daily_budget="3000")
    fake.add_campaign("123", "12", name="Facebook only")
    fake.add_campaign("123", "13", name="Automatic placements")
    fake.add_ad_set(
        "123",
        "21",
        "11",
        targeting={"publisher_platforms": ["instagram"], "instagram_positions": ["reels"]},
    )
    fake.add_ad_set("123", "22", "12", targeting={"publisher_platforms": ["facebook"]})
    fake.add_ad_set("123", "23", "13", targeting={"geo_locations": {"countries": ["GB"]}})
    fake.add_ad("123", "31", "21")
    fake.add_ad("123", "32", "22")
    fake.add_ad("123", "33", "23")
    return fake


@pytest.fixture
def connector(
    graph: FakeGraph, limiter: InProcessRateLimiter, clock: FakeClock
) -> InstagramConnector:
    config = PlatformConfig(
        platform="instagram",
        api_base=graph.http.base_url,
        oauth_base="https://www.facebook.com",
        api_version=VERSION,
        client_id=APP_ID,
        client_secret=APP_SECRET,
    )
    return InstagramConnector(
        config=config,
        token=TokenSet(access_token=LONG_TOKEN),
        rate_limiter=limiter,
        sleep=clock.sleep,
    )


def row(campaign_id: str, platform: str, spend: str, **fields: str) -> dict[str, object]:
    return {
        "campaign_id": campaign_id,
        "date_start": DAY.isoformat(),
        "date_stop": DAY.isoformat(),
        "publisher_platform": platform,
        "impressions": "100",
        "clicks": "5",
        "spend": spend,
        "actions": [{"action_type": "purchase", "value": "1"}],
        **fields,
    }


def test_instagram_is_registered_separately_from_meta() -> None:
    assert get_connector_class("instagram") is InstagramConnector
    assert InstagramConnector.platform == "instagram"


def test_structure_keeps_what_can_deliver_on_instagram(connector: InstagramConnector) -> None:
    campaigns = {c.external_id for c in connector.list_campaigns("123")}
    groups = {g.external_id for g in connector.list_ad_groups("123")}
    ads = {a.external_id for a in connector.list_ads("123")}

    # Facebook-only ad set 22 (and its campaign and ad) is not Instagram's.
    assert campaigns == {"11", "13"}
    assert groups == {"21", "23"}
    assert ads == {"31", "33"}


def test_daily_metrics_are_instagrams_share_only(
    graph: FakeGraph, connector: InstagramConnector
) -> None:
    graph.insights[("campaign", ("publisher_platform",))] = [
        row("11", "instagram", "20.00"),
        row("13", "facebook", "7.00"),
        row("13", "instagram", "3.50"),
        row("13", "audience_network", "1.00"),
    ]

    metrics = list(connector.daily_metrics("123", start=DAY, end=DAY, level=MetricLevel.CAMPAIGN))

    assert [(m.campaign_external_id, m.spend) for m in metrics] == [
        ("11", Decimal("20.00")),
        ("13", Decimal("3.50")),
    ]
    call = graph.http.calls("GET", f"/{VERSION}/act_123/insights")[0]
    assert call.args["breakdowns"] == "publisher_platform"


def test_placement_segments_are_instagram_positions(
    graph: FakeGraph, connector: InstagramConnector
) -> None:
    graph.insights[("campaign", ("publisher_platform", "platform_position"))] = [
        row("11", "instagram", "4.00", platform_position="instagram_reels"),
        row("11", "facebook", "9.00", platform_position="feed"),
    ]

    segments = list(
        connector.segment_metrics("123", start=DAY, end=DAY, dimension=SegmentDimension.PLACEMENT)
    )

    assert [(s.value, s.spend) for s in segments] == [
        ("instagram/instagram_reels", Decimal("4.00"))
    ]


def test_age_cannot_be_split_to_instagram_and_says_so(connector: InstagramConnector) -> None:
    with pytest.raises(NotSupported):
        connector.segment_metrics("123", start=DAY, end=DAY, dimension=SegmentDimension.AGE)


def test_errors_are_labelled_instagram(graph: FakeGraph, connector: InstagramConnector) -> None:
    graph.http.inject("GET", f"/{VERSION}/act_123", graph_error(200, "Permissions error"))

    with pytest.raises(PermissionDenied) as caught:
        connector.get_account("123")

    assert caught.value.platform == "instagram"
    assert str(caught.value).startswith("instagram: Permissions error")


def test_an_instagram_ad_is_paused_on_its_graph_node(
    graph: FakeGraph, connector: InstagramConnector
) -> None:
    paused = connector.update_ad_status("123", "31", "paused")

    assert (paused.status, graph.ads["31"]["status"]) == ("paused", "PAUSED")


def test_widening_age_keeps_the_instagram_placement(
    graph: FakeGraph, connector: InstagramConnector
) -> None:
    group = connector.update_ad_group_targeting(
        "123", "21", TargetingChange(AudienceDimension.AGE_RANGE, step=5)
    )

    assert group.targeting["publisher_platforms"] == ["instagram"]
    assert group.targeting["instagram_positions"] == ["reels"]
    assert (group.targeting["age_min"], group.targeting["age_max"]) == (18, 65)
