"""The Meta connector against a fake Graph API speaking Meta's wire format on loopback."""

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
    MalformedResponse,
    PlatformUnavailable,
    QuotaExhausted,
    RateLimited,
    UnsupportedTargeting,
)
from integrations.clients.ratelimit import InProcessRateLimiter
from integrations.config import PlatformConfig
from integrations.providers.meta.connector import MetaConnector
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
from tests.integrations.meta.fake import (
    APP_ID,
    APP_SECRET,
    GOOD_CODE,
    LONG_TOKEN,
    SHORT_TOKEN,
    VERSION,
    FakeGraph,
    graph_error,
)

DAY = dt.date(2026, 3, 2)


@pytest.fixture
def graph(httpserver: HTTPServer) -> FakeGraph:
    fake = FakeGraph(httpserver)
    fake.add_account("123", currency="USD", name="Acme US")
    fake.add_account("456", currency="JPY", name="Acme JP")
    fake.add_account("789", currency="EUR", name="Acme EU")
    return fake


def make_connector(
    graph: FakeGraph,
    limiter: InProcessRateLimiter,
    clock: FakeClock,
    *,
    token: str = LONG_TOKEN,
    timeout: float = 5.0,
    **extra: str,
) -> MetaConnector:
    config = PlatformConfig(
        platform="meta",
        api_base=graph.http.base_url,
        oauth_base="https://www.facebook.com",
        api_version=VERSION,
        client_id=APP_ID,
        client_secret=APP_SECRET,
        timeout=timeout,
    )
    return MetaConnector(
        config=config,
        token=TokenSet(access_token=token) if token else None,
        extra=extra,
        rate_limiter=limiter,
        sleep=clock.sleep,
    )


@pytest.fixture
def connector(graph: FakeGraph, limiter: InProcessRateLimiter, clock: FakeClock) -> MetaConnector:
    return make_connector(graph, limiter, clock)


def seed_structure(graph: FakeGraph) -> None:
    graph.add_campaign("123", "11", daily_budget="5000", name="Spring sale")
    graph.add_campaign(
        "123", "12", status="PAUSED", objective="LINK_CLICKS", lifetime_budget="120000"
    )
    graph.add_campaign(
        "123", "13", status="ARCHIVED", objective="OUTCOME_LEADS", bid_strategy="COST_CAP"
    )
    graph.add_ad_set("123", "21", "11", bid_amount="250", daily_budget="2000")
    graph.add_ad_set("123", "22", "11", bid_amount="250")
    graph.add_ad(
        "123",
        "31",
        "21",
        creative={
            "id": "41",
            "name": "Spring creative",
            "object_story_spec": {
                "page_id": "1",
                "link_data": {
                    "message": "Everything 20% off",
                    "name": "Spring sale",
                    "picture": "https://cdn.example/spring.jpg",
                    "call_to_action": {"type": "SHOP_NOW"},
                },
            },
        },
    )
    graph.add_ad(
        "123",
        "32",
        "22",
        creative={"id": "42", "video_id": "777", "title": "Watch", "body": "Clip"},
    )


def test_meta_is_registered_under_its_platform_slug() -> None:
    assert get_connector_class("meta") is MetaConnector


def test_authorization_url_points_at_the_versioned_login_dialog(connector: MetaConnector) -> None:
    url = connector.authorization_url(state="st-1", redirect_uri="https://app.example/cb")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.netloc == "www.facebook.com"
    assert parts.path == f"/{VERSION}/dialog/oauth"
    assert query["client_id"] == [APP_ID]
    assert query["state"] == ["st-1"]
    assert query["response_type"] == ["code"]
    assert "ads_management" in query["scope"][0].split(",")


def test_code_exchange_trades_the_short_token_for_a_long_lived_one(
    graph: FakeGraph,
    limiter: InProcessRateLimiter,
    clock: FakeClock,
    capture_logs: pytest.LogCaptureFixture,
) -> None:
    connector = make_connector(graph, limiter, clock, token="")
    token = connector.exchange_code(code=GOOD_CODE, redirect_uri="https://app.example/cb")

    assert token.access_token == LONG_TOKEN
    assert token.expires_at is not None
    assert token.expires_at - dt.datetime.now(dt.UTC) > dt.timedelta(days=59)
    calls = graph.http.calls("GET", f"/{VERSION}/oauth/access_token")
    assert [c.args.get("grant_type") for c in calls] == [None, "fb_exchange_token"]
    assert calls[1].args["fb_exchange_token"] == SHORT_TOKEN
    assert_no_secrets(capture_logs, [APP_SECRET, SHORT_TOKEN, LONG_TOKEN, GOOD_CODE])


def test_a_used_or_wrong_code_means_the_user_logs_in_again(connector: MetaConnector) -> None:
    with pytest.raises(AuthExpired) as caught:
        connector.exchange_code(code="stale", redirect_uri="https://app.example/cb")
    assert APP_SECRET not in str(caught.value)


def test_refresh_extends_a_valid_token_and_reports_it(
    graph: FakeGraph, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    refreshed: list[TokenSet] = []
    connector = make_connector(graph, limiter, clock)
    connector.on_token_refreshed = refreshed.append

    token = connector.refresh_token()

    assert token.access_token == LONG_TOKEN
    assert refreshed == [token]
    call = graph.http.calls("GET", f"/{VERSION}/oauth/access_token")[0]
    assert call.args["grant_type"] == "fb_exchange_token"


def test_an_expired_token_cannot_be_refreshed_and_is_not_retried(
    graph: FakeGraph,
    limiter: InProcessRateLimiter,
    clock: FakeClock,
    capture_logs: pytest.LogCaptureFixture,
) -> None:
    connector = make_connector(graph, limiter, clock, token="meta-expired-token-0001")

    with pytest.raises(AuthExpired) as caught:
        connector.refresh_token()

    assert len(graph.http.calls("GET", f"/{VERSION}/oauth/access_token")) == 1
    assert_no_secrets(capture_logs, ["meta-expired-token-0001", APP_SECRET], str(caught.value))


def test_accounts_are_read_across_pages_until_next_is_missing(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    accounts = connector.list_accounts()

    assert [(a.external_id, a.currency, a.status) for a in accounts] == [
        ("123", "USD", "active"),
        ("456", "JPY", "active"),
        ("789", "EUR", "active"),
    ]
    # Page 2 of 2 carries cursors.after as well; the client stops because next is absent.
    assert len(graph.http.calls("GET", f"/{VERSION}/me/adaccounts")) == 2
    assert accounts[0].time_zone == "America/Los_Angeles"


def test_campaigns_map_minor_unit_budgets_enums_and_dates(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    seed_structure(graph)

    campaigns = {c.external_id: c for c in connector.list_campaigns("123")}

    assert set(campaigns) == {"11", "12", "13"}
    spring = campaigns["11"]
    assert (spring.status, spring.objective, spring.daily_budget) == (
        "active",
        "sales",
        Decimal("50"),
    )
    assert spring.start_date == dt.date(2026, 3, 1)
    assert spring.account_external_id == "123"
    assert (campaigns["12"].status, campaigns["12"].objective) == ("paused", "traffic")
    assert campaigns["12"].lifetime_budget == Decimal("1200")
    assert (campaigns["13"].status, campaigns["13"].bid_strategy) == ("archived", "cost_cap")
    listing = graph.http.calls("GET", f"/{VERSION}/act_123/campaigns")[0]
    assert "ARCHIVED" in json.loads(listing.args["effective_status"])
    assert listing.headers["Authorization"] == f"Bearer {LONG_TOKEN}"
    assert "access_token" not in listing.args


def test_zero_decimal_currencies_have_no_minor_unit(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    graph.add_campaign("456", "51", daily_budget="5000")

    [campaign] = list(connector.list_campaigns("456"))

    assert campaign.daily_budget == Decimal("5000")


def test_a_page_the_server_repeats_yields_no_duplicate_campaign(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    for number in range(1, 6):
        graph.add_campaign("123", f"6{number}")
    path = f"/{VERSION}/act_123/campaigns"

    def new_campaign_lands_first(request):
        # Between page 1 and 2 someone creates a campaign that sorts first: offset paging
        # now sends campaign 62 again at the top of page 2.
        graph.campaigns = {"60": {**graph.campaigns["61"], "id": "60"}, **graph.campaigns}
        return graph.edge(request, "123", "campaigns")

    graph.http.inject("GET", path, lambda request: graph.edge(request, "123", "campaigns"))
    graph.http.inject("GET", path, new_campaign_lands_first)

    ids = [c.external_id for c in connector.list_campaigns("123")]

    assert ids == ["61", "62", "63", "64", "65"]
    assert len(graph.http.calls("GET", path)) == 3


def test_a_cursor_the_server_repeats_fails_the_listing_instead_of_looping(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    for number in range(1, 6):
        graph.add_campaign("123", f"6{number}")
    path = f"/{VERSION}/act_123/campaigns"
    looping = json_response(
        {"data": [graph.campaigns["61"]], "paging": {"cursors": {"after": "c1"}, "next": "x"}}
    )
    graph.http.inject("GET", path, looping, times=5)

    with pytest.raises(MalformedResponse):
        list(connector.list_campaigns("123"))

    assert len(graph.http.calls("GET", path)) == 2


def test_ad_sets_and_ads_come_with_bids_targeting_and_creatives(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    seed_structure(graph)

    groups = {g.external_id: g for g in connector.list_ad_groups("123")}
    ads = {a.external_id: a for a in connector.list_ads("123")}

    assert groups["21"].bid_amount == Decimal("2.5")
    assert groups["21"].daily_budget == Decimal("20")
    assert groups["21"].targeting == {"geo_locations": {"countries": ["US"]}}
    link_ad = ads["31"]
    assert (link_ad.ad_group_external_id, link_ad.campaign_external_id) == ("21", "11")
    assert link_ad.creative is not None
    assert link_ad.creative.headline == "Spring sale"
    assert link_ad.creative.body == "Everything 20% off"
    assert link_ad.creative.call_to_action == "SHOP_NOW"
    assert link_ad.creative.image_url == "https://cdn.example/spring.jpg"
    assert link_ad.creative.format == "image"
    assert ads["32"].creative is not None
    assert ads["32"].creative.format == "video"


def test_create_campaign_posts_minor_units_and_reads_the_campaign_back(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    spec = CampaignSpec(
        name="Launch",
        objective="sales",
        status="paused",
        daily_budget=Decimal("42.50"),
        bid_strategy="cost_cap",
        start_date=dt.date(2026, 4, 1),
    )

    campaign = connector.create_campaign("123", spec)

    [posted] = graph.posts
    assert posted["objective"] == "OUTCOME_SALES"
    assert posted["status"] == "PAUSED"
    assert posted["daily_budget"] == "4250"
    assert posted["bid_strategy"] == "COST_CAP"
    assert posted["special_ad_categories"] == "[]"
    assert campaign.name == "Launch"
    assert campaign.daily_budget == Decimal("42.5")
    assert campaign.status == "paused"


def test_a_create_is_never_retried_after_a_server_error(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    graph.http.inject("POST", f"/{VERSION}/act_123/campaigns", Response("oops", status=500))

    with pytest.raises(PlatformUnavailable):
        connector.create_campaign(
            "123", CampaignSpec(name="Once", objective="traffic", daily_budget=Decimal(10))
        )

    assert len(graph.http.calls("POST", f"/{VERSION}/act_123/campaigns")) == 1
    assert graph.campaigns == {}


def test_pause_and_budget_change_round_trip(graph: FakeGraph, connector: MetaConnector) -> None:
    seed_structure(graph)

    paused = connector.update_campaign("123", "11", CampaignUpdate(status="paused"))
    assert paused.status == "paused"
    assert graph.campaigns["11"]["status"] == "PAUSED"

    resized = connector.update_campaign("123", "11", CampaignUpdate(daily_budget=Decimal("75.505")))
    assert graph.campaigns["11"]["daily_budget"] == "7551"
    assert resized.daily_budget == Decimal("75.51")

    active = connector.update_campaign("123", "11", CampaignUpdate(status="active"))
    assert active.status == "active"


def test_a_bid_change_goes_to_every_ad_set_of_the_campaign(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    seed_structure(graph)

    campaign = connector.update_campaign("123", "11", CampaignUpdate(bid_amount=Decimal("3.10")))

    assert graph.ad_sets["21"]["bid_amount"] == "310"
    assert graph.ad_sets["22"]["bid_amount"] == "310"
    assert campaign.bid_amount == Decimal("3.1")


def test_archive_sets_archived(graph: FakeGraph, connector: MetaConnector) -> None:
    seed_structure(graph)

    archived = connector.archive_campaign("123", "11")

    assert archived.status == "archived"
    assert graph.posts[-1] == {"node": "11", "status": "ARCHIVED"}


def test_an_objective_meta_cannot_create_is_refused_before_any_call(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    with pytest.raises(InvalidRequest):
        connector.create_campaign(
            "123", CampaignSpec(name="x", objective="other", daily_budget=Decimal(1))
        )
    assert graph.posts == []


def insight(campaign_id: str, day: dt.date, **fields: object) -> dict[str, object]:
    return {
        "campaign_id": campaign_id,
        "date_start": day.isoformat(),
        "date_stop": day.isoformat(),
        "impressions": "1000",
        "clicks": "40",
        "spend": "12.34",
        "reach": "800",
        "frequency": "1.25",
        "actions": [
            {"action_type": "purchase", "value": "3"},
            {"action_type": "lead", "value": "5"},
            {"action_type": "video_view", "value": "70"},
        ],
        "action_values": [{"action_type": "purchase", "value": "150.5"}],
        **fields,
    }


def test_daily_campaign_metrics_count_the_configured_action_type(
    graph: FakeGraph, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    graph.insights[("campaign", ())] = [
        insight("11", DAY),
        insight("11", DAY + dt.timedelta(days=1), spend="0.66"),
        insight("12", DAY),
        insight("11", DAY + dt.timedelta(days=9)),  # outside the range
    ]

    purchases = list(
        make_connector(graph, limiter, clock).daily_metrics(
            "123", start=DAY, end=DAY + dt.timedelta(days=1), level=MetricLevel.CAMPAIGN
        )
    )
    leads = list(
        make_connector(graph, limiter, clock, conversion_action_type="lead").daily_metrics(
            "123", start=DAY, end=DAY, level=MetricLevel.CAMPAIGN
        )
    )

    assert [(m.campaign_external_id, m.date, m.spend) for m in purchases] == [
        ("11", DAY, Decimal("12.34")),
        ("11", DAY + dt.timedelta(days=1), Decimal("0.66")),
        ("12", DAY, Decimal("12.34")),
    ]
    first = purchases[0]
    assert (first.impressions, first.clicks, first.video_views, first.reach) == (1000, 40, 70, 800)
    assert (first.conversions, first.conversion_value) == (Decimal(3), Decimal("150.5"))
    assert first.frequency == Decimal("1.25")
    assert leads[0].conversions == Decimal(5)
    assert leads[0].conversion_value == Decimal(0)
    call = graph.http.calls("GET", f"/{VERSION}/act_123/insights")[0]
    assert call.args["level"] == "campaign"
    assert json.loads(call.args["time_range"]) == {"since": "2026-03-02", "until": "2026-03-03"}
    assert "ad_id" not in call.args["fields"].split(",")


def test_daily_ad_metrics_carry_ad_and_ad_set_ids(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    graph.insights[("ad", ())] = [insight("11", DAY, adset_id="21", ad_id="31")]

    [metric] = connector.daily_metrics("123", start=DAY, end=DAY, level=MetricLevel.AD)

    assert (metric.level, metric.ad_external_id, metric.ad_group_external_id) == (
        MetricLevel.AD,
        "31",
        "21",
    )
    assert graph.http.calls("GET", f"/{VERSION}/act_123/insights")[0].args["level"] == "ad"


@pytest.mark.parametrize(
    ("dimension", "breakdowns", "row_fields", "value"),
    [
        (SegmentDimension.AGE, ("age",), {"age": "25-34"}, "25-34"),
        (SegmentDimension.GENDER, ("gender",), {"gender": "female"}, "female"),
        (SegmentDimension.COUNTRY, ("country",), {"country": "DE"}, "DE"),
        (
            SegmentDimension.DEVICE,
            ("impression_device",),
            {"impression_device": "iphone"},
            "iphone",
        ),
        (
            SegmentDimension.PLACEMENT,
            ("publisher_platform", "platform_position"),
            {"publisher_platform": "facebook", "platform_position": "feed"},
            "facebook/feed",
        ),
    ],
)
def test_segment_breakdowns_use_metas_breakdown_fields(
    graph: FakeGraph,
    connector: MetaConnector,
    dimension: SegmentDimension,
    breakdowns: tuple[str, ...],
    row_fields: dict[str, str],
    value: str,
) -> None:
    graph.insights[("campaign", breakdowns)] = [insight("11", DAY, **row_fields)]

    [segment] = connector.segment_metrics("123", start=DAY, end=DAY, dimension=dimension)

    assert (segment.campaign_external_id, segment.dimension, segment.value) == (
        "11",
        dimension,
        value,
    )
    assert (segment.spend, segment.conversions) == (Decimal("12.34"), Decimal(3))


# --- Faults ------------------------------------------------------------------------------


def test_a_user_rate_limit_pauses_the_account_then_succeeds(
    graph: FakeGraph, connector: MetaConnector, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    path = f"/{VERSION}/act_123"
    graph.http.inject("GET", path, graph_error(17, "User request limit reached", subcode=2446079))
    started = clock.now

    account = connector.get_account("123")

    assert account.external_id == "123"
    assert len(graph.http.calls("GET", path)) == 2
    # The limiter held the retry back by Meta's default pause, on the fake clock.
    assert clock.now - started >= 60


def test_a_quota_block_is_honoured_not_hammered(
    graph: FakeGraph, connector: MetaConnector, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    path = f"/{VERSION}/act_123"
    usage = {
        "123": [
            {
                "type": "ads_management",
                "call_count": 100,
                "total_cputime": 30,
                "total_time": 30,
                "estimated_time_to_regain_access": 5,
            }
        ]
    }
    graph.http.inject(
        "GET",
        path,
        graph_error(
            80004,
            "There have been too many calls to this ad-account.",
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        ),
    )

    with pytest.raises(QuotaExhausted) as caught:
        connector.get_account("123")
    assert caught.value.retry_after == 300
    assert limiter.blocked_for("meta:act_123") == 300

    # Every further call is refused locally until Meta's regain time has passed.
    with pytest.raises(QuotaExhausted):
        connector.get_account("123")
    assert len(graph.http.calls("GET", path)) == 1

    clock.sleep(301)
    assert connector.get_account("123").external_id == "123"
    assert len(graph.http.calls("GET", path)) == 2


def test_high_usage_headers_slow_the_account_down_before_the_limit(
    graph: FakeGraph, connector: MetaConnector, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    graph.usage_headers = {
        "X-Ad-Account-Usage": json.dumps({"acc_id_util_pct": 93.5, "reset_time_duration": 40}),
        "X-App-Usage": json.dumps({"call_count": 12, "total_cputime": 3, "total_time": 5}),
    }

    connector.get_account("123")

    assert limiter.blocked_for("meta:act_123") == 40
    assert limiter.blocked_for("meta:app") == 0
    graph.usage_headers = {}
    started = clock.now
    connector.get_account("123")
    assert clock.now - started >= 40


def test_app_usage_over_the_threshold_blocks_every_account(
    graph: FakeGraph, connector: MetaConnector, limiter: InProcessRateLimiter
) -> None:
    graph.usage_headers = {
        "X-App-Usage": json.dumps({"call_count": 91, "total_cputime": 10, "total_time": 10})
    }

    connector.get_account("123")

    assert limiter.blocked_for("meta:app") == 60


@pytest.mark.parametrize(
    "failure",
    [
        Response("<html>bad gateway</html>", status=502),
        graph_error(
            2, "An unexpected error has occurred. Please retry your request later.", status=500
        ),
        graph_error(1, "Please reduce the amount of data", transient=True),
        Response("{not json", status=200, content_type="application/json"),
    ],
    ids=["502-html", "code-2", "transient", "malformed-json"],
)
def test_transient_failures_are_retried(
    graph: FakeGraph, connector: MetaConnector, failure: Response
) -> None:
    seed_structure(graph)
    graph.http.inject("GET", f"/{VERSION}/act_123/campaigns", failure)

    campaigns = list(connector.list_campaigns("123"))

    assert len(campaigns) == 3
    assert len(graph.http.calls("GET", f"/{VERSION}/act_123/campaigns")) == 3  # 1 failed + 2 pages


def test_a_body_that_is_never_json_gives_up_after_the_attempt_cap(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    graph.http.inject("GET", f"/{VERSION}/act_123", Response("garbage", status=200), times=10)

    with pytest.raises(MalformedResponse):
        connector.get_account("123")

    assert len(graph.http.calls("GET", f"/{VERSION}/act_123")) == 5


def test_a_timeout_is_retried(
    graph: FakeGraph, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    connector = make_connector(graph, limiter, clock, timeout=0.2)
    graph.http.inject("GET", f"/{VERSION}/act_123", slow_response(0.5, json_response({})))

    account = connector.get_account("123")

    assert account.currency == "USD"
    assert len(graph.http.calls("GET", f"/{VERSION}/act_123")) >= 2


def test_a_token_expiring_mid_listing_stops_the_listing_with_auth_expired(
    graph: FakeGraph, connector: MetaConnector, capture_logs: pytest.LogCaptureFixture
) -> None:
    seed_structure(graph)
    listing = connector.list_campaigns("123")
    first = next(listing)  # page 1 read with a valid token
    graph.valid_tokens.clear()  # the user changed their password

    with pytest.raises(AuthExpired) as caught:
        list(listing)

    assert first.external_id == "11"
    # Meta has no refresh grant: one refused call, no retry storm.
    assert len(graph.http.calls("GET", f"/{VERSION}/act_123/campaigns")) == 2
    assert caught.value.code == 190
    assert_no_secrets(capture_logs, [LONG_TOKEN, APP_SECRET], str(caught.value), repr(caught.value))


def test_a_rate_limited_create_is_not_retried_but_holds_the_account_back(
    graph: FakeGraph, connector: MetaConnector, limiter: InProcessRateLimiter
) -> None:
    path = f"/{VERSION}/act_123/campaigns"
    graph.http.inject(
        "POST", path, graph_error(613, "Calls to this api have exceeded the rate limit.")
    )

    with pytest.raises(RateLimited) as caught:
        connector.create_campaign(
            "123", CampaignSpec(name="Once", objective="traffic", daily_budget=Decimal(10))
        )

    assert caught.value.retry_after == 60
    assert len(graph.http.calls("POST", path)) == 1
    assert limiter.blocked_for("meta:act_123") == 60


# --- Ad status and ad-set targeting ------------------------------------------------------------
def test_an_ad_is_paused_and_activated_on_its_own_node(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    seed_structure(graph)

    paused = connector.update_ad_status("123", "31", "paused")

    assert graph.posts[-1] == {"node": "31", "status": "PAUSED"}
    assert (paused.external_id, paused.status) == ("31", "paused")
    assert graph.campaigns["11"]["status"] == "ACTIVE"  # only the ad stopped
    assert connector.update_ad_status("123", "31", "active").status == "active"


def test_an_ad_status_change_survives_a_transient_error(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    seed_structure(graph)
    graph.http.inject(
        "POST",
        f"/{VERSION}/31",
        graph_error(2, "Service temporarily unavailable", status=500, transient=True),
    )

    assert connector.update_ad_status("123", "31", "paused").status == "paused"
    assert len(graph.http.calls("POST", f"/{VERSION}/31")) == 2


def test_age_widening_rewrites_the_whole_targeting_spec_and_keeps_the_rest(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    seed_structure(graph)
    graph.ad_sets["21"]["targeting"] = {
        "age_min": 25, "age_max": 44, "geo_locations": {"countries": ["US", "CA"]},
        "flexible_spec": [{"interests": [{"id": "6003", "name": "Running"}]}],
    }  # fmt: skip

    group = connector.update_ad_group_targeting(
        "123", "21", TargetingChange(AudienceDimension.AGE_RANGE, step=10)
    )

    sent = json.loads(graph.posts[-1]["targeting"])
    assert (sent["age_min"], sent["age_max"]) == (18, 54)
    assert sent["geo_locations"] == {"countries": ["US", "CA"]}
    assert sent["flexible_spec"][0]["interests"][0]["id"] == "6003"
    assert (group.targeting["age_min"], group.targeting["age_max"]) == (18, 54)


def test_interest_expansion_switches_on_advantage_audience(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    seed_structure(graph)

    group = connector.update_ad_group_targeting(
        "123", "22", TargetingChange(AudienceDimension.INTERESTS)
    )

    assert group.targeting["targeting_automation"] == {"advantage_audience": 1}
    assert group.targeting["geo_locations"] == {"countries": ["US"]}


def test_a_lookalike_ratio_cannot_be_widened_on_meta(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    seed_structure(graph)

    with pytest.raises(UnsupportedTargeting) as refused:
        connector.update_ad_group_targeting(
            "123", "21", TargetingChange(AudienceDimension.LOOKALIKE, step=2)
        )

    assert refused.value.dimension == "lookalike"
    assert "cannot widen lookalike" in str(refused.value)
    assert not graph.http.calls("POST", f"/{VERSION}/21")


def test_meta_refusing_a_targeting_spec_is_an_invalid_request(
    graph: FakeGraph, connector: MetaConnector
) -> None:
    seed_structure(graph)
    graph.http.inject(
        "POST", f"/{VERSION}/21", graph_error(100, "Invalid parameter", subcode=1487079)
    )

    with pytest.raises(InvalidRequest):
        connector.update_ad_group_targeting(
            "123", "21", TargetingChange(AudienceDimension.AGE_RANGE, step=5)
        )
