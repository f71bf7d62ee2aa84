"""The TikTok connector against a fake TikTok API for Business on loopback."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Response

from integrations.clients.errors import (
    AuthExpired,
    InvalidRequest,
    NotSupported,
    PlatformUnavailable,
    UnsupportedTargeting,
)
from integrations.clients.ratelimit import InProcessRateLimiter
from integrations.config import PlatformConfig
from integrations.providers.tiktok.connector import TikTokConnector
from integrations.records import (
    AudienceDimension,
    CampaignSpec,
    CampaignUpdate,
    MetricLevel,
    SegmentDimension,
    TargetingChange,
    TokenSet,
)
from integrations.registry import get_connector_class
from tests.integrations.conftest import FakeClock, assert_no_secrets
from tests.integrations.fakes import json_response, slow_response
from tests.integrations.tiktok.fake import (
    APP_ID,
    APP_SECRET,
    AUTH_CODE,
    BASE,
    TOKEN,
    FakeTikTok,
    tiktok_error,
)

DAY = dt.date(2026, 3, 2)
ADV = "7000000000000000001"


@pytest.fixture
def tiktok(httpserver: HTTPServer) -> FakeTikTok:
    fake = FakeTikTok(httpserver)
    fake.add_advertiser(ADV)
    fake.add_advertiser("7000000000000000002", currency="EUR")
    return fake


def make_connector(
    tiktok: FakeTikTok,
    limiter: InProcessRateLimiter,
    clock: FakeClock,
    *,
    token: str = TOKEN,
    timeout: float = 5.0,
    **extra: str,
) -> TikTokConnector:
    config = PlatformConfig(
        platform="tiktok",
        api_base=tiktok.http.base_url,
        oauth_base="https://business-api.tiktok.com",
        api_version="v1.3",
        client_id=APP_ID,
        client_secret=APP_SECRET,
        timeout=timeout,
    )
    return TikTokConnector(
        config=config,
        token=TokenSet(access_token=token) if token else None,
        extra=extra,
        rate_limiter=limiter,
        sleep=clock.sleep,
    )


@pytest.fixture
def connector(
    tiktok: FakeTikTok, limiter: InProcessRateLimiter, clock: FakeClock
) -> TikTokConnector:
    return make_connector(tiktok, limiter, clock)


def seed_campaigns(tiktok: FakeTikTok) -> None:
    tiktok.add_campaign(ADV, "11", campaign_name="Spring", budget=80.5)
    tiktok.add_campaign(
        ADV,
        "12",
        objective_type="WEB_CONVERSIONS",
        budget_mode="BUDGET_MODE_TOTAL",
        budget=1000,
        operation_status="DISABLE",
        secondary_status="CAMPAIGN_STATUS_DISABLE",
    )
    tiktok.add_campaign(
        ADV,
        "13",
        objective_type="REACH",
        budget_mode="BUDGET_MODE_INFINITE",
        budget=0,
        operation_status="DELETE",
        secondary_status="CAMPAIGN_STATUS_DELETE",
    )
    tiktok.add_ad_group(ADV, "21", "11")
    tiktok.add_ad_group(ADV, "22", "11")
    tiktok.add_ad_group(ADV, "23", "12", bid_price=0.0, conversion_bid_price=9.5)


def report_row(key: str, key_value: str, day: dt.date, **metrics: str) -> dict[str, object]:
    return {
        "dimensions": {key: key_value, "stat_time_day": f"{day.isoformat()} 00:00:00"},
        "metrics": {
            "spend": "12.34",
            "impressions": "2000",
            "clicks": "30",
            "reach": "1500",
            "frequency": "1.33",
            "video_play_actions": "400",
            "conversion": "4",
            "total_purchase_value": "88.00",
            **metrics,
        },
    }


def test_tiktok_is_registered_under_its_platform_slug() -> None:
    assert get_connector_class("tiktok") is TikTokConnector


def test_authorization_url_is_the_business_portal(connector: TikTokConnector) -> None:
    url = connector.authorization_url(state="s-3", redirect_uri="https://app.example/cb")
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("business-api.tiktok.com", "/portal/auth")
    assert parse_qs(parts.query) == {
        "app_id": [APP_ID],
        "state": ["s-3"],
        "redirect_uri": ["https://app.example/cb"],
    }


def test_code_exchange_uses_tiktoks_own_json_call(
    tiktok: FakeTikTok,
    limiter: InProcessRateLimiter,
    clock: FakeClock,
    capture_logs: pytest.LogCaptureFixture,
) -> None:
    connector = make_connector(tiktok, limiter, clock, token="")

    token = connector.exchange_code(code=AUTH_CODE, redirect_uri="https://app.example/cb")

    assert token.access_token == TOKEN
    assert token.scope == "4,5,6"
    [call] = tiktok.http.calls("POST", f"{BASE}/oauth2/access_token/")
    assert json.loads(call.data) == {"app_id": APP_ID, "secret": APP_SECRET, "auth_code": AUTH_CODE}
    assert_no_secrets(capture_logs, [APP_SECRET, TOKEN, AUTH_CODE])


def test_an_expired_auth_code_is_refused_and_not_retried(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    with pytest.raises(AuthExpired):
        connector.exchange_code(code="old", redirect_uri="https://app.example/cb")
    assert len(tiktok.http.calls("POST", f"{BASE}/oauth2/access_token/")) == 1


def test_long_term_tokens_have_no_refresh(tiktok: FakeTikTok, connector: TikTokConnector) -> None:
    with pytest.raises(AuthExpired):
        connector.refresh_token()
    assert tiktok.http.log == []


def test_accounts_are_the_authorized_advertisers_with_their_details(
    tiktok: FakeTikTok, connector: TikTokConnector, capture_logs: pytest.LogCaptureFixture
) -> None:
    accounts = connector.list_accounts()

    assert [(a.external_id, a.currency, a.time_zone, a.status) for a in accounts] == [
        (ADV, "USD", "America/New_York", "active"),
        ("7000000000000000002", "EUR", "America/New_York", "active"),
    ]
    info = tiktok.http.calls("GET", f"{BASE}/advertiser/info/")[0]
    assert json.loads(info.args["advertiser_ids"]) == [ADV, "7000000000000000002"]
    # The app secret rides in that query string (TikTok's design); logs must not show it.
    assert_no_secrets(capture_logs, [APP_SECRET, TOKEN])


def test_campaigns_page_through_page_info_and_map_budget_modes(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    seed_campaigns(tiktok)

    campaigns = {c.external_id: c for c in connector.list_campaigns(ADV)}

    assert set(campaigns) == {"11", "12", "13"}
    spring = campaigns["11"]
    assert (spring.status, spring.objective, spring.daily_budget, spring.lifetime_budget) == (
        "active",
        "traffic",
        Decimal("80.5"),
        None,
    )
    assert (campaigns["12"].status, campaigns["12"].objective, campaigns["12"].lifetime_budget) == (
        "paused",
        "sales",
        Decimal(1000),
    )
    assert (campaigns["13"].status, campaigns["13"].daily_budget) == ("deleted", None)
    calls = tiktok.http.calls("GET", f"{BASE}/campaign/get/")
    assert [c.args["page"] for c in calls] == ["1", "2"]
    assert calls[0].headers["Access-Token"] == TOKEN
    assert "Authorization" not in calls[0].headers
    assert json.loads(calls[0].args["filtering"]) == {"secondary_status": "CAMPAIGN_STATUS_ALL"}


def test_a_page_the_server_repeats_yields_no_duplicate(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    seed_campaigns(tiktok)
    tiktok.add_campaign(ADV, "14")
    path = f"{BASE}/campaign/get/"

    def new_campaign_lands_first(request):
        # A campaign created between page 1 and 2 sorts first: page 2 starts with 12 again.
        tiktok.campaigns = {
            "10": {**tiktok.campaigns["11"], "campaign_id": "10"},
            **tiktok.campaigns,
        }
        return tiktok.listing(request, tiktok.campaigns, "campaign_ids")

    tiktok.http.inject("GET", path, lambda r: tiktok.listing(r, tiktok.campaigns, "campaign_ids"))
    tiktok.http.inject("GET", path, new_campaign_lands_first)

    ids = [c.external_id for c in connector.list_campaigns(ADV)]

    assert ids == ["11", "12", "13", "14"]
    assert [c.args["page"] for c in tiktok.http.calls("GET", path)] == ["1", "2", "3"]


def test_ad_groups_and_ads_map_bids_and_creatives(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    seed_campaigns(tiktok)
    tiktok.ads["31"] = {
        "advertiser_id": ADV,
        "ad_id": "31",
        "adgroup_id": "21",
        "campaign_id": "11",
        "ad_name": "Clip",
        "ad_text": "New drop",
        "call_to_action": "SHOP_NOW",
        "display_name": "Acme",
        "video_id": "v09",
        "operation_status": "DISABLE",
        "secondary_status": "AD_STATUS_DISABLE",
    }

    groups = {g.external_id: g for g in connector.list_ad_groups(ADV)}
    [ad] = connector.list_ads(ADV)

    assert groups["21"].bid_amount == Decimal("1.2")
    assert groups["23"].bid_amount == Decimal("9.5")
    assert groups["21"].targeting["placements"] == ["PLACEMENT_TIKTOK"]
    assert (ad.status, ad.ad_group_external_id, ad.campaign_external_id) == ("paused", "21", "11")
    assert ad.creative is not None
    assert (ad.creative.body, ad.creative.call_to_action, ad.creative.format) == (
        "New drop",
        "SHOP_NOW",
        "video",
    )


def test_create_campaign_posts_a_paused_daily_budget_campaign(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    campaign = connector.create_campaign(
        ADV, CampaignSpec(name="Launch", objective="video_views", daily_budget=Decimal("25.499"))
    )

    [(path, body)] = tiktok.posts
    assert path == "campaign/create"
    assert body == {
        "advertiser_id": ADV,
        "campaign_name": "Launch",
        "objective_type": "VIDEO_VIEWS",
        "operation_status": "DISABLE",
        "budget_mode": "BUDGET_MODE_DAY",
        "budget": 25.5,
    }
    assert (campaign.name, campaign.status, campaign.daily_budget) == (
        "Launch",
        "paused",
        Decimal("25.5"),
    )


def test_a_create_is_never_retried_after_an_internal_error(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    tiktok.http.inject("POST", f"{BASE}/campaign/create/", tiktok_error(50000, "System error"))

    with pytest.raises(PlatformUnavailable):
        connector.create_campaign(ADV, CampaignSpec(name="x", objective="traffic"))

    assert len(tiktok.http.calls("POST", f"{BASE}/campaign/create/")) == 1


def test_pause_and_budget_change_round_trip(tiktok: FakeTikTok, connector: TikTokConnector) -> None:
    seed_campaigns(tiktok)

    paused = connector.update_campaign(ADV, "11", CampaignUpdate(status="paused"))
    resized = connector.update_campaign(ADV, "11", CampaignUpdate(daily_budget=Decimal("99.99")))

    assert paused.status == "paused"
    assert resized.daily_budget == Decimal("99.99")
    assert tiktok.posts[0] == (
        "campaign/status/update",
        {
            "advertiser_id": ADV,
            "campaign_ids": ["11"],
            "operation_status": "DISABLE",
        },
    )
    assert tiktok.posts[1] == (
        "campaign/update",
        {"advertiser_id": ADV, "campaign_id": "11", "budget": 99.99},
    )


def test_a_daily_budget_on_a_lifetime_campaign_is_refused(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    seed_campaigns(tiktok)

    with pytest.raises(InvalidRequest):
        connector.update_campaign(ADV, "12", CampaignUpdate(daily_budget=Decimal(10)))

    assert tiktok.posts == []


def test_a_bid_change_uses_each_ad_groups_bid_field(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    seed_campaigns(tiktok)

    campaign = connector.update_campaign(ADV, "11", CampaignUpdate(bid_amount=Decimal("1.75")))
    connector.update_campaign(ADV, "12", CampaignUpdate(bid_amount=Decimal("11")))

    assert campaign.bid_amount == Decimal("1.75")
    updates = [body for path, body in tiktok.posts if path == "adgroup/update"]
    assert [
        (u["adgroup_id"], u.get("bid_price"), u.get("conversion_bid_price")) for u in updates
    ] == [
        ("21", 1.75, None),
        ("22", 1.75, None),
        ("23", None, 11.0),
    ]


def test_archive_deletes_and_the_campaign_reads_back_deleted(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    seed_campaigns(tiktok)

    archived = connector.archive_campaign(ADV, "11")

    assert archived.status == "deleted"
    assert tiktok.posts[0][1]["operation_status"] == "DELETE"


def test_daily_metrics_split_long_ranges_into_30_day_windows(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    start = dt.date(2026, 1, 1)
    tiktok.reports[("BASIC", "AUCTION_CAMPAIGN", ("campaign_id", "stat_time_day"))] = [
        report_row("campaign_id", "11", start),
        report_row("campaign_id", "11", start + dt.timedelta(days=40)),
    ]

    metrics = list(
        connector.daily_metrics(
            ADV, start=start, end=start + dt.timedelta(days=44), level=MetricLevel.CAMPAIGN
        )
    )

    calls = tiktok.http.calls("GET", f"{BASE}/report/integrated/get/")
    assert [(c.args["start_date"], c.args["end_date"]) for c in calls] == [
        ("2026-01-01", "2026-01-30"),
        ("2026-01-31", "2026-02-14"),
    ]
    assert [m.date for m in metrics] == [start, start + dt.timedelta(days=40)]
    first = metrics[0]
    assert (first.spend, first.impressions, first.clicks, first.video_views) == (
        Decimal("12.34"),
        2000,
        30,
        400,
    )
    assert (first.conversions, first.conversion_value, first.reach) == (
        Decimal(4),
        Decimal("88.00"),
        1500,
    )
    assert calls[0].args["service_type"] == "AUCTION"
    assert "stat_time_day" in json.loads(calls[0].args["dimensions"])


def test_daily_ad_metrics_carry_campaign_and_ad_group_attributes(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    tiktok.reports[("BASIC", "AUCTION_AD", ("ad_id", "stat_time_day"))] = [
        report_row("ad_id", "31", DAY, campaign_id="11", adgroup_id="21"),
    ]

    [metric] = connector.daily_metrics(ADV, start=DAY, end=DAY, level=MetricLevel.AD)

    assert (metric.campaign_external_id, metric.ad_group_external_id, metric.ad_external_id) == (
        "11",
        "21",
        "31",
    )
    metrics_asked = json.loads(
        tiktok.http.calls("GET", f"{BASE}/report/integrated/get/")[0].args["metrics"]
    )
    assert {"campaign_id", "adgroup_id"} <= set(metrics_asked)


def test_age_segments_come_from_the_audience_report(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    row = report_row("campaign_id", "11", DAY)
    row["dimensions"]["age"] = "AGE_25_34"  # type: ignore[index]
    tiktok.reports[("AUDIENCE", "AUCTION_CAMPAIGN", ("campaign_id", "stat_time_day", "age"))] = [
        row
    ]

    [segment] = connector.segment_metrics(ADV, start=DAY, end=DAY, dimension=SegmentDimension.AGE)

    assert (segment.value, segment.spend, segment.conversions) == (
        "25-34",
        Decimal("12.34"),
        Decimal(4),
    )


def test_placement_is_not_a_tiktok_breakdown(connector: TikTokConnector) -> None:
    with pytest.raises(NotSupported):
        connector.segment_metrics(ADV, start=DAY, end=DAY, dimension=SegmentDimension.PLACEMENT)


# --- Faults ------------------------------------------------------------------------------


def test_a_rate_limit_inside_http_200_is_retried_and_holds_the_app_back(
    tiktok: FakeTikTok, connector: TikTokConnector, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    seed_campaigns(tiktok)
    tiktok.http.inject("GET", f"{BASE}/campaign/get/", tiktok_error(40100, "Too many requests"))
    started = clock.now

    assert len(list(connector.list_campaigns(ADV))) == 3

    assert len(tiktok.http.calls("GET", f"{BASE}/campaign/get/")) == 3  # 1 refused + 2 pages
    assert clock.now - started >= 2  # the app-wide pause after 40100, on the fake clock


def test_a_revoked_token_mid_listing_raises_auth_expired_without_retrying(
    tiktok: FakeTikTok, connector: TikTokConnector, capture_logs: pytest.LogCaptureFixture
) -> None:
    seed_campaigns(tiktok)
    listing = connector.list_campaigns(ADV)
    next(listing)
    next(listing)
    tiktok.valid_tokens.clear()

    with pytest.raises(AuthExpired) as caught:
        list(listing)

    assert caught.value.code == 40105
    assert len(tiktok.http.calls("GET", f"{BASE}/campaign/get/")) == 2
    assert_no_secrets(capture_logs, [TOKEN, APP_SECRET], str(caught.value))


@pytest.mark.parametrize(
    "failure",
    [
        Response("<html>gateway</html>", status=504),
        Response('{"code": 0, "data": ', status=200, content_type="application/json"),
        tiktok_error(50002, "Service busy"),
    ],
    ids=["504-html", "truncated-json", "code-50002"],
)
def test_transient_failures_are_retried(
    tiktok: FakeTikTok, connector: TikTokConnector, failure: Response
) -> None:
    tiktok.http.inject("GET", f"{BASE}/advertiser/info/", failure)

    assert connector.get_account(ADV).currency == "USD"
    assert len(tiktok.http.calls("GET", f"{BASE}/advertiser/info/")) == 2


def test_a_timeout_is_retried(
    tiktok: FakeTikTok, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    connector = make_connector(tiktok, limiter, clock, timeout=0.2)
    tiktok.http.inject("GET", f"{BASE}/advertiser/info/", slow_response(0.5, json_response({})))

    assert connector.get_account(ADV).external_id == ADV
    assert len(tiktok.http.calls("GET", f"{BASE}/advertiser/info/")) >= 2


def test_a_range_error_from_tiktok_is_an_invalid_request(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    tiktok.http.inject(
        "GET", f"{BASE}/report/integrated/get/", tiktok_error(40002, "Invalid dimensions")
    )

    with pytest.raises(InvalidRequest) as caught:
        list(connector.daily_metrics(ADV, start=DAY, end=DAY, level=MetricLevel.CAMPAIGN))

    assert "request_id" in str(caught.value)
    assert len(tiktok.http.calls("GET", f"{BASE}/report/integrated/get/")) == 1


# --- Ad status and ad-group targeting -----------------------------------------------------------
def _seed_ad(tiktok: FakeTikTok) -> None:
    seed_campaigns(tiktok)
    tiktok.ads["31"] = {
        "advertiser_id": ADV, "ad_id": "31", "adgroup_id": "21", "campaign_id": "11",
        "ad_name": "Spring video", "video_id": "v1", "operation_status": "ENABLE",
        "secondary_status": "AD_STATUS_DELIVERY_OK",
    }  # fmt: skip


def test_an_ad_is_disabled_and_enabled_through_ad_status_update(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    _seed_ad(tiktok)

    paused = connector.update_ad_status(ADV, "31", "paused")

    assert tiktok.posts[-1] == (
        "ad/status/update",
        {"advertiser_id": ADV, "ad_ids": ["31"], "operation_status": "DISABLE"},
    )
    assert (paused.external_id, paused.status) == ("31", "paused")
    assert tiktok.campaigns["11"]["operation_status"] == "ENABLE"
    assert connector.update_ad_status(ADV, "31", "active").status == "active"


def test_an_unknown_ad_is_refused_inside_an_http_200(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    _seed_ad(tiktok)

    with pytest.raises(InvalidRequest, match="do not exist"):
        connector.update_ad_status(ADV, "99", "paused")


def test_age_widening_adds_the_neighbouring_age_buckets(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    _seed_ad(tiktok)
    tiktok.ad_groups["21"]["age_groups"] = ["AGE_25_34", "AGE_35_44"]
    tiktok.ad_groups["21"]["location_ids"] = ["6252001"]

    group = connector.update_ad_group_targeting(
        ADV, "21", TargetingChange(AudienceDimension.AGE_RANGE, step=5)
    )

    assert tiktok.posts[-1] == (
        "adgroup/update",
        {"advertiser_id": ADV, "adgroup_id": "21",
         "age_groups": ["AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54"]},
    )  # fmt: skip
    assert group.targeting["age_groups"] == ["AGE_18_24", "AGE_25_34", "AGE_35_44", "AGE_45_54"]
    assert group.targeting["location_ids"] == ["6252001"]


def test_interest_expansion_turns_on_smart_interests_and_behaviours(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    _seed_ad(tiktok)

    group = connector.update_ad_group_targeting(
        ADV, "22", TargetingChange(AudienceDimension.INTERESTS)
    )

    assert tiktok.ad_groups["22"]["smart_interest_behavior_enabled"] is True
    assert group.targeting["smart_interest_behavior_enabled"] is True


def test_a_lookalike_cannot_be_widened_on_tiktok(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    _seed_ad(tiktok)

    with pytest.raises(UnsupportedTargeting, match="cannot widen lookalike"):
        connector.update_ad_group_targeting(
            ADV, "21", TargetingChange(AudienceDimension.LOOKALIKE, step=1)
        )
    assert not [post for post in tiktok.posts if post[0] == "adgroup/update"]


def test_a_rate_limited_status_update_is_retried(
    tiktok: FakeTikTok, connector: TikTokConnector
) -> None:
    _seed_ad(tiktok)
    tiktok.http.inject(
        "POST", f"{BASE}/ad/status/update/", tiktok_error(40100, "Too many requests")
    )

    assert connector.update_ad_status(ADV, "31", "paused").status == "paused"
    assert len(tiktok.http.calls("POST", f"{BASE}/ad/status/update/")) == 2
