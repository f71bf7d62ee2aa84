"""The Google Ads connector against a fake Google Ads REST API on loopback."""

from __future__ import annotations

import dataclasses
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
    PermissionDenied,
    PlatformUnavailable,
    QuotaExhausted,
    UnsupportedTargeting,
)
from integrations.clients.ratelimit import InProcessRateLimiter
from integrations.config import PlatformConfig
from integrations.providers.google.connector import GoogleAdsConnector
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
from tests.integrations.google.fake import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEVELOPER_TOKEN,
    GOOD_CODE,
    REFRESH_TOKEN,
    VERSION,
    FakeGoogleAds,
    ads_error,
)

DAY = dt.date(2026, 3, 2)
STREAM = rf"/{VERSION}/customers/\d+/googleAds:searchStream"
INITIAL = "ya29.initial-access-token"
SECRETS = [CLIENT_SECRET, DEVELOPER_TOKEN, REFRESH_TOKEN, INITIAL, GOOD_CODE]


@pytest.fixture
def ads(httpserver: HTTPServer) -> FakeGoogleAds:
    fake = FakeGoogleAds(httpserver)
    fake.add_customer("1234567890")
    fake.add_customer("5550001111", manager=True)
    fake.add_customer("2223334444", under="5550001111", currency="EUR")
    return fake


def make_connector(
    ads: FakeGoogleAds,
    limiter: InProcessRateLimiter,
    clock: FakeClock,
    *,
    token: TokenSet | None = None,
    timeout: float = 5.0,
    **extra: str,
) -> GoogleAdsConnector:
    config = PlatformConfig(
        platform="google",
        api_base=ads.http.base_url,
        oauth_base=ads.http.base_url,
        api_version=VERSION,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        developer_token=DEVELOPER_TOKEN,
        timeout=timeout,
    )
    if token is None:
        token = TokenSet(
            access_token=INITIAL,
            refresh_token=REFRESH_TOKEN,
            expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=50),
        )
    return GoogleAdsConnector(
        config=config, token=token, extra=extra, rate_limiter=limiter, sleep=clock.sleep
    )


@pytest.fixture
def connector(
    ads: FakeGoogleAds, limiter: InProcessRateLimiter, clock: FakeClock
) -> GoogleAdsConnector:
    return make_connector(ads, limiter, clock)


def seed_campaigns(ads: FakeGoogleAds) -> None:
    ads.add_campaign("1234567890", "11", budget_micros="25500000", name="Brand search")
    ads.add_campaign(
        "1234567890",
        "12",
        status="PAUSED",
        advertisingChannelType="DISPLAY",
        biddingStrategyType="TARGET_CPA",
        targetCpa={"targetCpaMicros": "12000000"},
    )
    ads.add_campaign("1234567890", "13", status="REMOVED", advertisingChannelType="VIDEO")
    ads.add_ad_group("1234567890", "21", "11")
    ads.add_ad_group("1234567890", "22", "11")


def metric_row(campaign_id: str, day: dt.date, **extra: object) -> dict[str, object]:
    return {
        "campaign": {
            "resourceName": f"customers/1234567890/campaigns/{campaign_id}",
            "id": campaign_id,
        },
        "segments": {"date": day.isoformat()},
        "metrics": {
            "impressions": "1000",
            "clicks": "50",
            "costMicros": "12345678",
            "conversions": 2.5,
            "conversionsValue": 99.9,
            "videoTrueviewViews": "7",
        },
        **extra,
    }


def test_google_is_registered_under_its_platform_slug() -> None:
    assert get_connector_class("google") is GoogleAdsConnector


def test_authorization_url_asks_for_offline_access_to_adwords(
    connector: GoogleAdsConnector,
) -> None:
    url = connector.authorization_url(state="s-9", redirect_uri="https://app.example/cb")
    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).path == "/o/oauth2/v2/auth"
    assert query["scope"] == ["https://www.googleapis.com/auth/adwords"]
    assert query["access_type"] == ["offline"]
    assert query["prompt"] == ["consent"]
    assert query["state"] == ["s-9"]


def test_code_exchange_returns_access_and_refresh_tokens(
    ads: FakeGoogleAds,
    limiter: InProcessRateLimiter,
    clock: FakeClock,
    capture_logs: pytest.LogCaptureFixture,
) -> None:
    connector = make_connector(ads, limiter, clock, token=TokenSet(access_token=""))

    token = connector.exchange_code(code=GOOD_CODE, redirect_uri="https://app.example/cb")

    assert token.access_token == "ya29.access-1"
    assert token.refresh_token == REFRESH_TOKEN
    assert token.expires_at is not None
    [call] = ads.http.calls("POST", "/o/oauth2/token")
    assert call.form["grant_type"] == "authorization_code"
    assert call.form["redirect_uri"] == "https://app.example/cb"
    assert_no_secrets(capture_logs, [*SECRETS, "ya29.access-1"])


def test_refresh_keeps_the_refresh_token_and_reports_the_new_token(
    ads: FakeGoogleAds, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    refreshed: list[TokenSet] = []
    connector = make_connector(ads, limiter, clock)
    connector.on_token_refreshed = refreshed.append

    token = connector.refresh_token()

    assert (token.access_token, token.refresh_token) == ("ya29.access-1", REFRESH_TOKEN)
    assert refreshed == [token]
    assert ads.http.calls("POST", "/o/oauth2/token")[0].form["grant_type"] == "refresh_token"


def test_a_revoked_refresh_token_means_authorizing_again(
    ads: FakeGoogleAds, connector: GoogleAdsConnector, capture_logs: pytest.LogCaptureFixture
) -> None:
    ads.refresh_tokens.clear()

    with pytest.raises(AuthExpired) as caught:
        connector.refresh_token()

    assert "invalid_grant" in str(caught.value)
    assert len(ads.http.calls("POST", "/o/oauth2/token")) == 1
    assert_no_secrets(capture_logs, SECRETS, str(caught.value))


def test_a_token_about_to_expire_is_refreshed_before_the_call(
    ads: FakeGoogleAds, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    soon = TokenSet(
        access_token=INITIAL,
        refresh_token=REFRESH_TOKEN,
        expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30),
    )
    connector = make_connector(ads, limiter, clock, token=soon)

    connector.get_account("1234567890")

    assert len(ads.http.calls("POST", "/o/oauth2/token")) == 1
    assert ads.http.calls("POST", STREAM)[0].headers["Authorization"] == "Bearer ya29.access-1"


def test_accounts_include_clients_under_a_manager_with_its_login_customer_id(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    accounts = {a.external_id: a for a in connector.list_accounts()}

    assert set(accounts) == {"1234567890", "2223334444"}  # the manager itself holds no ads
    assert accounts["2223334444"].currency == "EUR"
    assert accounts["2223334444"].raw["login_customer_id"] == "5550001111"
    assert accounts["1234567890"].time_zone == "Europe/Berlin"
    manager_calls = [c for c in ads.http.calls("POST", STREAM) if "5550001111" in c.path]
    assert {c.headers["login-customer-id"] for c in manager_calls} == {"5550001111"}


def test_a_client_account_needs_the_manager_as_login_customer_id(
    ads: FakeGoogleAds, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    without = make_connector(ads, limiter, clock)
    with pytest.raises(PermissionDenied):
        without.get_account("222-333-4444")

    through_manager = make_connector(ads, limiter, clock, login_customer_id="555-000-1111")
    assert through_manager.get_account("222-333-4444").currency == "EUR"


def test_campaigns_come_from_a_search_stream_in_micros(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    seed_campaigns(ads)

    campaigns = {c.external_id: c for c in connector.list_campaigns("123-456-7890")}

    assert set(campaigns) == {"11", "12", "13"}
    brand = campaigns["11"]
    assert (brand.status, brand.objective, brand.bid_strategy) == (
        "active",
        "traffic",
        "manual_cpc",
    )
    assert brand.daily_budget == Decimal("25.5")
    assert brand.start_date == dt.date(2026, 3, 1)
    assert brand.account_external_id == "1234567890"
    display = campaigns["12"]
    assert (display.status, display.objective, display.bid_strategy) == (
        "paused",
        "awareness",
        "target_cpa",
    )
    assert display.bid_amount == Decimal(12)
    assert campaigns["13"].status == "archived"
    [call] = ads.http.calls("POST", STREAM)
    assert call.path == f"/{VERSION}/customers/1234567890/googleAds:searchStream"
    assert call.headers["developer-token"] == DEVELOPER_TOKEN
    assert "FROM campaign" in json.loads(call.data)["query"]


def test_a_batch_the_stream_repeats_yields_no_duplicate(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    seed_campaigns(ads)
    rows = [ads._campaign_row(ads.campaigns[cid]) for cid in ("11", "12", "13")]
    ads.http.inject(
        "POST",
        STREAM,
        json_response([{"results": rows[:2]}, {"results": rows[:2]}, {"results": rows[2:]}]),
    )

    ids = [c.external_id for c in connector.list_campaigns("1234567890")]

    assert ids == ["11", "12", "13"]


def test_ad_groups_and_ads_map_bids_and_responsive_search_ads(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    seed_campaigns(ads)
    ads.ads = [
        {
            "adGroupAd": {
                "status": "PAUSED",
                "ad": {
                    "id": "31",
                    "type": "RESPONSIVE_SEARCH_AD",
                    "finalUrls": ["https://shop.example"],
                    "responsiveSearchAd": {
                        "headlines": [{"text": "Fast shoes"}, {"text": "Free returns"}],
                        "descriptions": [{"text": "Order today."}],
                    },
                },
            },
            "adGroup": {"id": "21"},
            "campaign": {"id": "11"},
        }
    ]

    groups = {g.external_id: g for g in connector.list_ad_groups("1234567890")}
    [ad] = connector.list_ads("1234567890")

    assert groups["21"].bid_amount == Decimal("1.5")
    assert groups["21"].campaign_external_id == "11"
    assert (ad.external_id, ad.ad_group_external_id, ad.status) == ("31", "21", "paused")
    assert ad.creative is not None
    assert (ad.creative.headline, ad.creative.body, ad.creative.format) == (
        "Fast shoes",
        "Order today.",
        "text",
    )


def test_create_campaign_creates_budget_and_campaign_in_one_atomic_mutate(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    spec = CampaignSpec(
        name="Launch",
        objective="traffic",
        daily_budget=Decimal("30.25"),
        bid_strategy="manual_cpc",
        start_date=dt.date(2026, 4, 1),
        end_date=dt.date(2026, 4, 30),
    )

    campaign = connector.create_campaign("1234567890", spec)

    [(service, body)] = ads.mutations
    budget_op, campaign_op = body["mutateOperations"]
    assert service == "googleAds"
    assert budget_op["campaignBudgetOperation"]["create"]["amountMicros"] == "30250000"
    created = campaign_op["campaignOperation"]["create"]
    assert created["campaignBudget"] == "customers/1234567890/campaignBudgets/-1"
    assert created["status"] == "PAUSED"
    assert created["manualCpc"] == {}
    assert created["startDateTime"] == "2026-04-01 00:00:00"
    assert created["containsEuPoliticalAdvertising"] == "DOES_NOT_CONTAIN_EU_POLITICAL_ADVERTISING"
    assert (campaign.name, campaign.status, campaign.daily_budget) == (
        "Launch",
        "paused",
        Decimal("30.25"),
    )
    assert campaign.end_date == dt.date(2026, 4, 30)


def test_a_create_is_never_retried_after_unavailable(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    path = f"/{VERSION}/customers/1234567890/googleAds:mutate"
    ads.http.inject("POST", path, ads_error("UNAVAILABLE", 503, "internalError", "TRANSIENT_ERROR"))

    with pytest.raises(PlatformUnavailable):
        connector.create_campaign(
            "1234567890", CampaignSpec(name="x", objective="traffic", daily_budget=Decimal(5))
        )

    assert len(ads.http.calls("POST", path)) == 1
    assert ads.campaigns == {}


def test_pause_and_budget_change_round_trip(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    seed_campaigns(ads)

    paused = connector.update_campaign("1234567890", "11", CampaignUpdate(status="paused"))
    resized = connector.update_campaign(
        "1234567890", "11", CampaignUpdate(daily_budget=Decimal("80"))
    )

    assert paused.status == "paused"
    assert resized.daily_budget == Decimal(80)
    (s1, status_body), (s2, budget_body) = ads.mutations
    assert (s1, status_body["operations"][0]["updateMask"]) == ("campaigns", "status")
    assert status_body["operations"][0]["update"]["status"] == "PAUSED"
    assert (s2, budget_body["operations"][0]["updateMask"]) == ("campaignBudgets", "amountMicros")
    assert budget_body["operations"][0]["update"]["amountMicros"] == "80000000"


def test_a_manual_cpc_bid_goes_to_every_ad_group(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    seed_campaigns(ads)

    campaign = connector.update_campaign(
        "1234567890", "11", CampaignUpdate(bid_amount=Decimal("2.35"))
    )

    [(service, body)] = ads.mutations
    assert service == "adGroups"
    assert [op["update"]["cpcBidMicros"] for op in body["operations"]] == ["2350000", "2350000"]
    assert campaign.bid_amount == Decimal("2.35")


def test_a_target_cpa_bid_changes_the_campaign_target(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    seed_campaigns(ads)

    campaign = connector.update_campaign("1234567890", "12", CampaignUpdate(bid_amount=Decimal(15)))

    [(service, body)] = ads.mutations
    assert (service, body["operations"][0]["updateMask"]) == (
        "campaigns",
        "targetCpa.targetCpaMicros",
    )
    assert campaign.bid_amount == Decimal(15)


def test_archive_removes_the_campaign(ads: FakeGoogleAds, connector: GoogleAdsConnector) -> None:
    seed_campaigns(ads)

    archived = connector.archive_campaign("1234567890", "11")

    assert archived.status == "archived"
    assert ads.mutations[-1][1] == {"operations": [{"remove": "customers/1234567890/campaigns/11"}]}


def test_daily_campaign_metrics_query_segments_date_and_convert_micros(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    ads.report_rows["campaign"] = [
        metric_row("11", DAY),
        metric_row("11", DAY + dt.timedelta(days=1)),
        metric_row("11", DAY + dt.timedelta(days=5)),
    ]

    metrics = list(
        connector.daily_metrics(
            "1234567890", start=DAY, end=DAY + dt.timedelta(days=1), level=MetricLevel.CAMPAIGN
        )
    )

    assert [m.date for m in metrics] == [DAY, DAY + dt.timedelta(days=1)]
    first = metrics[0]
    assert (first.impressions, first.clicks, first.spend) == (1000, 50, Decimal("12.345678"))
    assert (first.conversions, first.conversion_value, first.video_views) == (
        Decimal("2.5"),
        Decimal("99.9"),
        7,
    )
    query = ads.queries[-1][1]
    assert "segments.date BETWEEN '2026-03-02' AND '2026-03-03'" in query
    assert "metrics.cost_micros" in query


def test_daily_ad_metrics_come_from_ad_group_ad(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    ads.report_rows["ad_group_ad"] = [
        metric_row("11", DAY, adGroup={"id": "21"}, adGroupAd={"ad": {"id": "31"}}),
    ]

    [metric] = connector.daily_metrics("1234567890", start=DAY, end=DAY, level=MetricLevel.AD)

    assert (metric.campaign_external_id, metric.ad_group_external_id, metric.ad_external_id) == (
        "11",
        "21",
        "31",
    )


def test_age_segments_are_summed_across_ad_groups(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    ads.report_rows["age_range_view"] = [
        metric_row(
            "11",
            DAY,
            adGroup={"id": "21"},
            adGroupCriterion={"ageRange": {"type": "AGE_RANGE_25_34"}},
        ),
        metric_row(
            "11",
            DAY,
            adGroup={"id": "22"},
            adGroupCriterion={"ageRange": {"type": "AGE_RANGE_25_34"}},
        ),
        metric_row(
            "11",
            DAY,
            adGroup={"id": "21"},
            adGroupCriterion={"ageRange": {"type": "AGE_RANGE_65_UP"}},
        ),
    ]

    segments = {
        s.value: s
        for s in connector.segment_metrics(
            "1234567890", start=DAY, end=DAY, dimension=SegmentDimension.AGE
        )
    }

    assert set(segments) == {"25-34", "65+"}
    assert segments["25-34"].impressions == 2000
    assert segments["25-34"].spend == Decimal("24.691356")


def test_country_segments_resolve_geo_targets_to_country_codes(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    ads.geo_constants = {"2840": "US", "2276": "DE"}
    ads.report_rows["geographic_view"] = [
        metric_row(
            "11",
            DAY,
            geographicView={"countryCriterionId": "2840", "locationType": "LOCATION_OF_PRESENCE"},
        ),
        metric_row(
            "11",
            DAY,
            geographicView={"countryCriterionId": "2276", "locationType": "LOCATION_OF_PRESENCE"},
        ),
    ]

    values = [
        s.value
        for s in connector.segment_metrics(
            "1234567890", start=DAY, end=DAY, dimension=SegmentDimension.COUNTRY
        )
    ]

    assert sorted(values) == ["DE", "US"]


def test_device_segments_use_the_device_segment(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    ads.report_rows["campaign:device"] = [
        metric_row("11", DAY, segments={"date": DAY.isoformat(), "device": "MOBILE"})
    ]

    [segment] = connector.segment_metrics(
        "1234567890", start=DAY, end=DAY, dimension=SegmentDimension.DEVICE
    )

    assert (segment.dimension, segment.value) == (SegmentDimension.DEVICE, "mobile")


# --- Faults ------------------------------------------------------------------------------


def test_resource_exhausted_waits_the_retry_delay_then_succeeds(
    ads: FakeGoogleAds, connector: GoogleAdsConnector, clock: FakeClock
) -> None:
    ads.http.inject(
        "POST",
        STREAM,
        ads_error(
            "RESOURCE_EXHAUSTED",
            429,
            "quotaError",
            "RESOURCE_TEMPORARILY_EXHAUSTED",
            "Too many requests. Retry in 30 seconds.",
            retry_delay="30s",
            stream=True,
        ),
    )
    started = clock.now

    account = connector.get_account("1234567890")

    assert account.external_id == "1234567890"
    assert len(ads.http.calls("POST", STREAM)) == 2
    assert clock.now - started >= 30


def test_an_exhausted_daily_quota_blocks_instead_of_hammering(
    ads: FakeGoogleAds, connector: GoogleAdsConnector, limiter: InProcessRateLimiter
) -> None:
    ads.http.inject(
        "POST",
        STREAM,
        ads_error(
            "RESOURCE_EXHAUSTED",
            429,
            "quotaError",
            "RESOURCE_EXHAUSTED",
            "Number of operations for basic access has been exceeded.",
            retry_delay="7200s",
            stream=True,
        ),
    )

    with pytest.raises(QuotaExhausted) as caught:
        connector.get_account("1234567890")
    with pytest.raises(QuotaExhausted):
        connector.list_accounts()

    assert caught.value.retry_after == 7200
    assert limiter.blocked_for("google:customer:1234567890") == 7200
    assert len(ads.http.calls("POST", STREAM)) == 1


def test_a_token_expiring_mid_listing_is_refreshed_once_and_the_listing_goes_on(
    ads: FakeGoogleAds, connector: GoogleAdsConnector, capture_logs: pytest.LogCaptureFixture
) -> None:
    refreshed: list[TokenSet] = []
    connector.on_token_refreshed = refreshed.append
    original = ads.list_accessible

    def expire_after_listing(request):  # the token dies right after the first call
        response = original(request)
        ads.valid_tokens.discard(INITIAL)
        return response

    ads.http.inject("GET", f"/{VERSION}/customers:listAccessibleCustomers", expire_after_listing)

    accounts = connector.list_accounts()

    assert {a.external_id for a in accounts} == {"1234567890", "2223334444"}
    assert len(ads.http.calls("POST", "/o/oauth2/token")) == 1
    assert [t.access_token for t in refreshed] == ["ya29.access-1"]
    assert_no_secrets(capture_logs, [*SECRETS, "ya29.access-1"])


def test_a_token_rejected_again_after_refresh_is_not_refreshed_twice(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    rejected = ads_error(
        "UNAUTHENTICATED", 401, "authenticationError", "OAUTH_TOKEN_REVOKED", stream=True
    )
    ads.http.inject("POST", STREAM, rejected, times=3)

    with pytest.raises(AuthExpired):
        connector.get_account("1234567890")

    assert len(ads.http.calls("POST", "/o/oauth2/token")) == 1
    assert len(ads.http.calls("POST", STREAM)) == 2


def test_an_invalid_developer_token_is_a_permission_problem_not_a_refresh(
    ads: FakeGoogleAds, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    connector = make_connector(ads, limiter, clock)
    connector.config = dataclasses.replace(connector.config, developer_token="wrong")

    with pytest.raises(PermissionDenied):
        connector.get_account("1234567890")

    assert ads.http.calls("POST", "/o/oauth2/token") == []


@pytest.mark.parametrize(
    "failure",
    [
        ads_error("UNAVAILABLE", 503, "internalError", "TRANSIENT_ERROR", stream=True),
        Response("<html>502</html>", status=502),
        Response("[{not json", status=200, content_type="application/json"),
    ],
    ids=["503-unavailable", "502-html", "malformed"],
)
def test_transient_failures_are_retried(
    ads: FakeGoogleAds, connector: GoogleAdsConnector, failure: Response
) -> None:
    seed_campaigns(ads)
    ads.http.inject("POST", STREAM, failure)

    assert len(list(connector.list_campaigns("1234567890"))) == 3
    assert len(ads.http.calls("POST", STREAM)) == 2


def test_a_timeout_is_retried(
    ads: FakeGoogleAds, limiter: InProcessRateLimiter, clock: FakeClock
) -> None:
    connector = make_connector(ads, limiter, clock, timeout=0.2)
    ads.http.inject("POST", STREAM, slow_response(0.5, json_response([])))

    assert connector.get_account("1234567890").external_id == "1234567890"
    assert len(ads.http.calls("POST", STREAM)) >= 2


def test_a_bad_query_is_an_invalid_request_and_not_retried(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    ads.http.inject(
        "POST",
        STREAM,
        ads_error(
            "INVALID_ARGUMENT",
            400,
            "queryError",
            "UNRECOGNIZED_FIELD",
            "Unrecognized field",
            stream=True,
        ),
    )

    with pytest.raises(InvalidRequest) as caught:
        list(connector.list_campaigns("1234567890"))

    assert caught.value.code == "UNRECOGNIZED_FIELD"
    assert len(ads.http.calls("POST", STREAM)) == 1


# --- Ad status and ad-group targeting -----------------------------------------------------------
CID = "1234567890"


def _seed_ad(ads: FakeGoogleAds) -> None:
    seed_campaigns(ads)
    ads.ads = [
        {"adGroupAd": {"status": "ENABLED", "ad": {"id": "31", "type": "RESPONSIVE_SEARCH_AD"}},
         "adGroup": {"id": "21"}, "campaign": {"id": "11"}},
        {"adGroupAd": {"status": "ENABLED", "ad": {"id": "31", "type": "RESPONSIVE_SEARCH_AD"}},
         "adGroup": {"id": "22"}, "campaign": {"id": "11"}},
    ]  # fmt: skip


def _age_exclusion(ads: FakeGoogleAds, group: str, age: str) -> None:
    ads.criteria.append(
        {"adGroup": group, "resourceName": f"customers/{CID}/adGroupCriteria/{group}~{age}",
         "ageRange": {"type": age}, "negative": True}
    )  # fmt: skip


def test_an_ad_is_paused_through_its_ad_group_ad_resource(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    _seed_ad(ads)

    paused = connector.update_ad_status(CID, "31", "paused", ad_group_id="22")

    assert ads.mutations[-1] == (
        "adGroupAds",
        {"operations": [{"update": {"resourceName": f"customers/{CID}/adGroupAds/22~31",
                                    "status": "PAUSED"}, "updateMask": "status"}]},
    )  # fmt: skip
    assert (paused.ad_group_external_id, paused.status) == ("22", "paused")
    assert ads.ads[0]["adGroupAd"]["status"] == "ENABLED"  # the same ad id in group 21


def test_an_ad_id_in_two_ad_groups_needs_its_ad_group(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    _seed_ad(ads)

    with pytest.raises(InvalidRequest, match="in 2 ad groups"):
        connector.update_ad_status(CID, "31", "paused")
    assert not ads.mutations


def test_age_widening_lifts_the_neighbouring_age_exclusions(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    _seed_ad(ads)
    # Reaches 25-44: 18-24 and 45 up are excluded.
    for age in ("AGE_RANGE_18_24", "AGE_RANGE_45_54", "AGE_RANGE_55_64", "AGE_RANGE_65_UP"):
        _age_exclusion(ads, "21", age)

    group = connector.update_ad_group_targeting(
        CID, "21", TargetingChange(AudienceDimension.AGE_RANGE, step=5)
    )

    service, body = ads.mutations[-1]
    assert service == "adGroupCriteria"
    assert body["operations"] == [
        {"remove": f"customers/{CID}/adGroupCriteria/21~AGE_RANGE_18_24"},
        {"remove": f"customers/{CID}/adGroupCriteria/21~AGE_RANGE_45_54"},
    ]
    assert group.targeting["excluded_age_ranges"] == ["AGE_RANGE_55_64", "AGE_RANGE_65_UP"]


def test_interest_expansion_enables_optimized_targeting(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    _seed_ad(ads)

    group = connector.update_ad_group_targeting(
        CID, "22", TargetingChange(AudienceDimension.INTERESTS)
    )

    assert ads.mutations[-1][1]["operations"][0]["updateMask"] == "optimizedTargetingEnabled"
    assert group.targeting["optimized_targeting_enabled"] is True


def test_a_lookalike_cannot_be_widened_on_google(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    _seed_ad(ads)

    with pytest.raises(UnsupportedTargeting, match="cannot widen lookalike"):
        connector.update_ad_group_targeting(
            CID, "21", TargetingChange(AudienceDimension.LOOKALIKE, step=1)
        )
    assert not ads.mutations


def test_google_refusing_optimized_targeting_is_an_invalid_request(
    ads: FakeGoogleAds, connector: GoogleAdsConnector
) -> None:
    _seed_ad(ads)
    ads.http.inject(
        "POST",
        f"/{VERSION}/customers/{CID}/adGroups:mutate",
        ads_error("INVALID_ARGUMENT", 400, "fieldError", "INVALID_VALUE",
                  "optimized targeting is not available for this ad group type"),
    )  # fmt: skip

    with pytest.raises(InvalidRequest, match="not available"):
        connector.update_ad_group_targeting(CID, "21", TargetingChange(AudienceDimension.INTERESTS))
