from __future__ import annotations

import base64
import datetime as dt
import logging
import time
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.clients.errors import (
    AuthExpired,
    InvalidRequest,
    NotSupported,
    PermissionDenied,
    PlatformUnavailable,
    RateLimited,
    UnsupportedTargeting,
)
from integrations.providers.pinterest.connector import PinterestConnector
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
from tests.integrations.loopback import assert_no_secret_in_logs
from tests.integrations.pinterest.fake import ACCOUNT

START = dt.date(2026, 1, 1)
HOME, CATALOG, OLD = "626735565838", "626735565839", "626735565840"


def test_pinterest_is_registered_under_its_slug():
    assert get_connector_class("pinterest") is PinterestConnector


def test_authorization_url_asks_for_ads_read_and_write(connector):
    parts = urlsplit(connector.authorization_url(state="s2", redirect_uri="https://app.example/cb"))

    assert parts.path == "/oauth/"
    query = parse_qs(parts.query)
    assert query["scope"] == ["ads:read,ads:write"]
    assert query["state"] == ["s2"]


def test_code_exchange_authenticates_the_app_with_http_basic(make_connector, fake):
    connector = make_connector(token=TokenSet(access_token="none"))

    token = connector.exchange_code(code="pin-code-1", redirect_uri="https://app.example/cb")

    assert token.access_token == "pina_new_1"
    assert token.refresh_token == "pinr_new_1"
    call = fake.calls("^/v5/oauth/token$")[0]
    assert (
        call.headers["Authorization"]
        == "Basic " + base64.b64encode(b"pin-app:pin-app-secret-PPP").decode()
    )
    assert "client_secret" not in call.form
    assert connector.get_account(ACCOUNT).name == "Acme Pins"


def test_refresh_keeps_the_refresh_token_when_pinterest_sends_none(connector, refreshed):
    token = connector.refresh_token()

    assert token.access_token == "pina_new_1"
    assert token.refresh_token == "pinr_RRR"
    assert refreshed == [token]


def test_accounts_are_paged_by_bookmark(connector, fake):
    accounts = connector.list_accounts()

    assert [a.external_id for a in accounts] == [ACCOUNT, "549755885176", "549755885177"]
    assert accounts[1].currency == "EUR"
    assert len(fake.calls("^/v5/ad_accounts$")) == 2


def test_structure_maps_micros_statuses_and_objectives(connector):
    campaigns = {c.external_id: c for c in connector.list_campaigns(ACCOUNT)}
    groups = {g.external_id: g for g in connector.list_ad_groups(ACCOUNT)}
    ads = {a.external_id: a for a in connector.list_ads(ACCOUNT)}

    assert campaigns[HOME].daily_budget == Decimal(30)
    assert campaigns[HOME].objective == "traffic"
    assert campaigns[HOME].start_date == dt.date(2026, 1, 1)
    assert campaigns[CATALOG].lifetime_budget == Decimal(2000)
    assert campaigns[CATALOG].objective == "sales"
    assert campaigns[OLD].status == "archived"
    assert groups["2680059592705"].bid_amount == Decimal("0.8")
    assert groups["2680059592705"].daily_budget == Decimal(10)
    assert groups["2680059592706"].daily_budget is None
    assert ads["687195905987"].creative is not None
    assert ads["687195905987"].creative.format == "video"
    assert ads["687195905987"].campaign_external_id == CATALOG


def test_daily_metrics_by_campaign_are_cut_into_90_day_windows(connector, fake):
    end = START + dt.timedelta(days=99)  # 100 days: windows of 90 and 10

    rows = list(connector.daily_metrics(ACCOUNT, start=START, end=end, level=MetricLevel.CAMPAIGN))

    calls = fake.calls("/campaigns/analytics$")
    assert [parse_qs(c.query)["end_date"] for c in calls] == [["2026-03-31"], ["2026-04-10"]]
    assert len(rows) == 2 * 100  # the archived campaign delivered nothing
    first = next(r for r in rows if r.campaign_external_id == HOME and r.date == START)
    assert first.spend == Decimal("4.2")
    assert first.impressions == 300
    assert first.clicks == 9
    assert first.conversions == Decimal(1)
    assert first.conversion_value == Decimal("35.5")


def test_daily_metrics_by_ad_carry_ad_group_and_campaign(connector):
    rows = list(connector.daily_metrics(ACCOUNT, start=START, end=START, level=MetricLevel.AD))

    assert {(r.ad_external_id, r.ad_group_external_id, r.campaign_external_id) for r in rows} == {
        ("687195905986", "2680059592705", HOME),
        ("687195905987", "2680059592707", CATALOG),
    }


def test_age_breakdown_comes_from_targeting_analytics(connector):
    rows = list(
        connector.segment_metrics(ACCOUNT, start=START, end=START, dimension=SegmentDimension.AGE)
    )

    assert {(r.campaign_external_id, r.value) for r in rows} == {(HOME, "25-34"), (HOME, "35-44")}
    assert rows[0].spend == Decimal("4.2")


def test_placement_breakdown_is_not_supported(connector):
    with pytest.raises(NotSupported):
        connector.segment_metrics(
            ACCOUNT, start=START, end=START, dimension=SegmentDimension.PLACEMENT
        )


def test_pause_and_budget_are_one_batch_patch_then_a_re_read(connector, fake):
    campaign = connector.update_campaign(
        ACCOUNT, HOME, CampaignUpdate(status="paused", daily_budget=Decimal("42.5"))
    )

    assert campaign.status == "paused"
    assert campaign.daily_budget == Decimal("42.5")
    patch = fake.calls("/campaigns$", method="PATCH")[0].json()
    assert patch == [{"id": HOME, "status": "PAUSED", "daily_spend_cap": 42_500_000}]


def test_a_refused_item_raises_with_pinterests_message(connector):
    with pytest.raises(InvalidRequest) as caught:
        connector.update_campaign(ACCOUNT, OLD, CampaignUpdate(status="active"))

    assert "Archived entities cannot change status" in str(caught.value)


def test_a_bid_goes_to_the_live_ad_groups_of_the_campaign(connector, fake):
    connector.update_campaign(ACCOUNT, HOME, CampaignUpdate(bid_amount=Decimal("1.1")))

    assert fake.ad_groups["2680059592705"]["bid_in_micro_currency"] == 1_100_000
    assert fake.ad_groups["2680059592706"]["bid_in_micro_currency"] == 1_100_000
    assert fake.ad_groups["2680059592707"]["bid_in_micro_currency"] is None


def test_archive_is_a_status_patch(connector, fake):
    campaign = connector.archive_campaign(ACCOUNT, CATALOG)

    assert campaign.status == "archived"
    assert fake.campaigns[CATALOG]["status"] == "ARCHIVED"


def test_create_sends_an_array_and_returns_the_created_campaign(connector, fake):
    campaign = connector.create_campaign(
        ACCOUNT, CampaignSpec(name="Spring", objective="awareness", lifetime_budget=Decimal(500))
    )

    assert campaign.name == "Spring"
    assert campaign.lifetime_budget == Decimal(500)
    assert campaign.status == "paused"
    sent = fake.calls("/campaigns$", method="POST")[0].json()
    assert sent == [
        {
            "ad_account_id": ACCOUNT,
            "name": "Spring",
            "status": "PAUSED",
            "objective_type": "AWARENESS",
            "lifetime_spend_cap": 500_000_000,
        }
    ]


def test_a_create_is_not_retried_after_a_5xx(connector, fake):
    fake.inject(
        "/campaigns$",
        method="POST",
        status=503,
        body={"code": 1, "message": "unavailable"},
        times=3,
    )

    with pytest.raises(PlatformUnavailable):
        connector.create_campaign(ACCOUNT, CampaignSpec(name="x", objective="traffic"))

    assert len(fake.calls("/campaigns$", method="POST")) == 1


def test_a_429_waits_for_x_ratelimit_reset(connector, fake, clock):
    fake.inject(
        f"^/v5/ad_accounts/{ACCOUNT}$",
        status=429,
        body={"code": 8, "message": "Max rate limit exceeded"},
        headers={"X-RateLimit-Reset": "37"},
    )

    assert connector.get_account(ACCOUNT).name == "Acme Pins"
    assert sum(clock.sleeps) == pytest.approx(37, abs=0.01)


def test_a_429_with_an_epoch_reset_is_read_as_a_moment(connector, fake, clock):
    fake.inject(
        f"^/v5/ad_accounts/{ACCOUNT}$",
        status=429,
        body={"code": 8, "message": "Max rate limit exceeded"},
        headers={"X-RateLimit-Reset": str(int(time.time()) + 90)},
    )

    connector.get_account(ACCOUNT)

    assert any(80 < s <= 91 for s in clock.sleeps)


def test_endless_rate_limiting_surfaces_as_rate_limited(connector, fake):
    fake.inject(
        f"^/v5/ad_accounts/{ACCOUNT}$",
        status=429,
        body={"code": 8, "message": "x"},
        headers={"X-RateLimit-Reset": "1"},
        times=9,
    )

    with pytest.raises(RateLimited):
        connector.get_account(ACCOUNT)


def test_transient_analytics_400s_5xx_and_timeouts_are_retried(make_connector, fake):
    connector = make_connector(timeout=0.3)
    fake.inject(
        "/campaigns/analytics$",
        status=400,
        body={"code": 12, "message": "Something went wrong, please retry"},
    )
    fake.inject("/campaigns/analytics$", status=500, raw="<html>oops</html>")
    fake.inject("/campaigns/analytics$", status=200, body=[], delay=0.8)

    rows = list(
        connector.daily_metrics(ACCOUNT, start=START, end=START, level=MetricLevel.CAMPAIGN)
    )

    assert len(rows) == 2


def test_a_token_expiring_mid_listing_is_refreshed_once(connector, fake, refreshed):
    fake.page_size = 1
    ads = connector.list_ads(ACCOUNT)
    first = next(ads)
    fake.access_tokens.discard("pina_AAA")

    rest = list(ads)

    assert [first.external_id] + [a.external_id for a in rest] == ["687195905986", "687195905987"]
    assert len(refreshed) == 1
    assert len(fake.calls("/ads$")) == 3  # page 1, page 2 refused (401), page 2 again


def test_a_repeated_bookmark_ends_paging_without_duplicates(connector, fake):
    original = fake.paged

    def stuck(request, items):
        if "bookmark=" in request.query_string.decode():
            return original(
                request.__class__(dict(request.environ, QUERY_STRING="page_size=250")), items
            )
        return original(request, items)

    fake.paged = stuck

    assert [a.external_id for a in connector.list_accounts()] == [ACCOUNT, "549755885176"]


def test_forbidden_is_permission_denied(connector, fake):
    fake.inject(
        f"^/v5/ad_accounts/{ACCOUNT}$",
        status=403,
        body={"code": 29, "message": "You are not permitted to access that resource."},
    )

    with pytest.raises(PermissionDenied):
        connector.get_account(ACCOUNT)


def test_no_credential_in_logs_or_errors(connector, fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.access_tokens.discard("pina_AAA")
    connector.get_account(ACCOUNT)
    fake.refresh_tokens.clear()
    fake.access_tokens.clear()
    with pytest.raises(AuthExpired) as caught:
        connector.get_account(ACCOUNT)

    secrets = [
        "pina_AAA",
        "pinr_RRR",
        "pina_new_1",
        "pin-app-secret-PPP",
        base64.b64encode(b"pin-app:pin-app-secret-PPP").decode(),
    ]
    assert_no_secret_in_logs(caplog.records, secrets)
    assert not any(s in str(caught.value) for s in secrets)


# --- Ad status and ad-group targeting -----------------------------------------------------------
def test_an_ad_is_paused_by_a_batch_patch_and_read_back(connector, fake):
    paused = connector.update_ad_status(ACCOUNT, "687195905986", "paused")

    assert fake.ads["687195905986"]["status"] == "PAUSED"
    assert fake.ads["687195905987"]["status"] == "ACTIVE"
    assert (paused.external_id, paused.status) == ("687195905986", "paused")
    assert connector.update_ad_status(ACCOUNT, "687195905986", "active").status == "active"


def test_a_per_item_refusal_inside_a_200_is_an_invalid_request(connector, fake):
    with pytest.raises(InvalidRequest, match="not found"):
        connector.update_ad_status(ACCOUNT, "999", "paused")


def test_age_widening_adds_neighbouring_age_buckets_and_keeps_the_spec(connector, fake):
    group = connector.update_ad_group_targeting(
        ACCOUNT, "2680059592705", TargetingChange(AudienceDimension.AGE_RANGE, step=5)
    )

    spec = fake.ad_groups["2680059592705"]["targeting_spec"]
    assert spec == {"AGE_BUCKET": ["18-24", "25-34", "35-44", "45-49"], "GENDER": ["female"]}
    assert group.targeting["AGE_BUCKET"] == spec["AGE_BUCKET"]


def test_interest_expansion_turns_on_auto_targeting(connector, fake):
    group = connector.update_ad_group_targeting(
        ACCOUNT, "2680059592706", TargetingChange(AudienceDimension.INTERESTS)
    )

    assert fake.ad_groups["2680059592706"]["auto_targeting_enabled"] is True
    assert group.targeting["auto_targeting_enabled"] is True


def test_an_actalike_cannot_be_widened_on_pinterest(connector, fake):
    with pytest.raises(UnsupportedTargeting, match="cannot widen lookalike"):
        connector.update_ad_group_targeting(
            ACCOUNT, "2680059592705", TargetingChange(AudienceDimension.LOOKALIKE, step=1)
        )
    assert "auto_targeting_enabled" not in fake.ad_groups["2680059592705"]
