from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest

from integrations.clients.errors import (
    AuthExpired,
    InvalidRequest,
    MalformedResponse,
    NotSupported,
    PermissionDenied,
    PlatformUnavailable,
    RateLimited,
    UnsupportedTargeting,
)
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

START = dt.date(2026, 3, 1)


def test_linkedin_is_registered_under_its_slug():
    from integrations.providers.linkedin.connector import LinkedInConnector

    assert get_connector_class("linkedin") is LinkedInConnector


def test_authorization_url_asks_for_ads_scopes_with_state(connector):
    url = connector.authorization_url(state="st-1", redirect_uri="https://app.example/cb")

    parts = urlsplit(url)
    query = parse_qs(parts.query)
    assert parts.path == "/oauth/v2/authorization"
    assert query["response_type"] == ["code"]
    assert query["client_id"] == ["li-client"]
    assert query["redirect_uri"] == ["https://app.example/cb"]
    assert query["state"] == ["st-1"]
    assert query["scope"] == ["r_ads rw_ads r_ads_reporting"]


def test_code_exchange_returns_tokens_that_work_for_api_calls(make_connector, fake):
    connector = make_connector(token=TokenSet(access_token="unused"))

    token = connector.exchange_code(
        code="li-code-1", redirect_uri="https://app.example/callback/linkedin"
    )

    assert token.access_token == "li-access-new-1"
    assert token.refresh_token == "li-refresh-new-1"
    assert token.expires_at is not None
    assert token.expires_at - dt.datetime.now(dt.UTC) > dt.timedelta(days=59)
    form = fake.calls("/oauth/v2/accessToken")[0].form
    assert form["grant_type"] == "authorization_code"
    assert connector.get_account("501").name == "Acme EU"


def test_a_used_code_is_refused_as_auth_expired(connector):
    connector.exchange_code(code="li-code-1", redirect_uri="https://app.example/callback/linkedin")

    with pytest.raises(AuthExpired):
        connector.exchange_code(
            code="li-code-1", redirect_uri="https://app.example/callback/linkedin"
        )


def test_refresh_uses_the_refresh_token_grant_and_reports_the_new_token(connector, fake, refreshed):
    token = connector.refresh_token()

    assert token.access_token == "li-access-new-1"
    assert refreshed == [token]
    assert fake.calls("/oauth/v2/accessToken")[0].form["refresh_token"] == "li-refresh-RRR"


def test_a_revoked_refresh_token_raises_auth_expired_without_the_secret(make_connector):
    connector = make_connector(token=TokenSet(access_token="x-old", refresh_token="li-gone-TTT"))

    with pytest.raises(AuthExpired) as caught:
        connector.refresh_token()

    assert "li-gone-TTT" not in str(caught.value)


def test_accounts_are_listed_across_pages_with_status_and_utc_days(connector, fake):
    accounts = connector.list_accounts()

    assert [a.external_id for a in accounts] == ["501", "502", "503"]
    assert [a.status for a in accounts] == ["active", "closed", "active"]
    assert accounts[0].currency == "EUR"
    assert accounts[0].time_zone == "UTC"
    assert len(fake.calls("^/rest/adAccounts$")) == 2


def test_campaign_groups_are_our_campaigns_with_decimal_budgets(connector):
    campaigns = {c.external_id: c for c in connector.list_campaigns("501")}

    assert set(campaigns) == {"601", "602", "603"}
    spring = campaigns["601"]
    assert spring.status == "active"
    assert spring.objective == "traffic"
    assert spring.lifetime_budget == Decimal("5000.00")
    assert spring.start_date == dt.date(2026, 1, 1)
    assert campaigns["602"].status == "paused"
    assert campaigns["603"].status == "archived"  # COMPLETED


def test_linkedin_campaigns_are_our_ad_groups_and_creatives_our_ads(connector):
    groups = {g.external_id: g for g in connector.list_ad_groups("501")}
    ads = {a.external_id: a for a in connector.list_ads("501")}

    assert groups["701"].campaign_external_id == "601"
    assert groups["701"].bid_amount == Decimal("3.10")
    assert groups["701"].daily_budget == Decimal("50.00")
    assert set(ads) == {"801", "802", "803"}
    assert ads["803"].ad_group_external_id == "703"
    assert ads["803"].campaign_external_id == "602"
    assert ads["801"].creative is not None
    assert ads["801"].creative.headline == "Headline 801"
    assert ads["801"].creative.format == "text"


def test_daily_metrics_by_campaign_are_chunked_into_windows(connector, fake):
    end = START + dt.timedelta(days=39)  # 40 days -> a 31-day and a 9-day window

    rows = list(connector.daily_metrics("501", start=START, end=end, level=MetricLevel.CAMPAIGN))

    calls = fake.calls("^/rest/adAnalytics$")
    assert len(calls) == 2
    assert "campaignGroups=List(urn%3Ali%3AsponsoredCampaignGroup%3A601" in calls[0].query
    assert len(rows) == 2 * 40  # groups 601 and 602 delivered; 603 did not
    first = next(r for r in rows if r.campaign_external_id == "601" and r.date == START)
    assert first.impressions == 1601
    assert first.spend == Decimal("12.34")
    assert first.conversions == Decimal(2)
    assert first.conversion_value == Decimal("40.5")
    assert first.level == MetricLevel.CAMPAIGN


def test_daily_metrics_by_ad_carry_campaign_and_ad_group(connector):
    rows = list(connector.daily_metrics("501", start=START, end=START, level=MetricLevel.AD))

    by_ad = {r.ad_external_id: r for r in rows}
    assert set(by_ad) == {"801", "802", "803"}
    assert by_ad["803"].ad_group_external_id == "703"
    assert by_ad["803"].campaign_external_id == "602"


def test_pause_is_a_partial_update_then_a_re_read(connector, fake):
    campaign = connector.update_campaign("501", "601", CampaignUpdate(status="paused"))

    assert campaign.status == "paused"
    update = fake.calls("/adCampaignGroups/601$", method="POST")[0]
    assert update.headers["X-Restli-Method"] == "PARTIAL_UPDATE"
    assert update.json() == {"patch": {"$set": {"status": "PAUSED"}}}
    assert fake.groups["601"]["status"] == "PAUSED"


def test_budget_change_is_sent_as_amount_and_currency(connector, fake):
    campaign = connector.update_campaign(
        "501", "601", CampaignUpdate(daily_budget=Decimal("75"), lifetime_budget=Decimal("9000.5"))
    )

    assert fake.groups["601"]["dailyBudget"] == {"amount": "75.00", "currencyCode": "EUR"}
    assert fake.groups["601"]["totalBudget"] == {"amount": "9000.50", "currencyCode": "EUR"}
    assert campaign.daily_budget == Decimal("75.00")
    assert campaign.lifetime_budget == Decimal("9000.50")


def test_a_bid_change_reaches_every_live_linkedin_campaign_of_the_group(connector, fake):
    campaign = connector.update_campaign("501", "601", CampaignUpdate(bid_amount=Decimal("4.5")))

    assert fake.campaigns["701"]["unitCost"] == {"amount": "4.50", "currencyCode": "EUR"}
    assert fake.campaigns["702"]["unitCost"] == {"amount": "4.50", "currencyCode": "EUR"}
    assert fake.campaigns["703"]["unitCost"] == {"amount": "3.10", "currencyCode": "EUR"}
    assert campaign.bid_amount == Decimal("4.5")


def test_archive_sets_archived(connector, fake):
    campaign = connector.archive_campaign("501", "602")

    assert campaign.status == "archived"
    assert fake.groups["602"]["status"] == "ARCHIVED"


def test_create_reads_the_new_id_from_the_header_and_returns_the_group(connector, fake):
    campaign = connector.create_campaign(
        "501",
        CampaignSpec(
            name="Autumn", objective="leads", status="paused", lifetime_budget=Decimal("1200")
        ),
    )

    assert campaign.external_id == "901"
    assert campaign.name == "Autumn"
    assert campaign.status == "paused"
    assert campaign.objective == "leads"
    assert campaign.lifetime_budget == Decimal("1200.00")
    body = fake.calls("/adCampaignGroups$", method="POST")[0].json()
    assert body["account"] == "urn:li:sponsoredAccount:501"
    assert body["totalBudget"] == {"amount": "1200.00", "currencyCode": "EUR"}


def test_a_create_that_fails_with_5xx_is_not_retried(connector, fake):
    fake.inject("/adCampaignGroups$", status=503, method="POST", times=3)

    with pytest.raises(PlatformUnavailable):
        connector.create_campaign("501", CampaignSpec(name="Twin?", objective="traffic"))

    assert len(fake.calls("/adCampaignGroups$", method="POST")) == 1
    assert len(fake.groups) == 3


def test_device_breakdown_comes_from_the_statistics_finder(connector):
    rows = list(
        connector.segment_metrics("501", start=START, end=START, dimension=SegmentDimension.DEVICE)
    )

    assert {(r.campaign_external_id, r.value) for r in rows} == {
        ("601", "desktop_web"),
        ("601", "mobile_app"),
    }


def test_age_breakdown_is_not_supported(connector):
    with pytest.raises(NotSupported):
        list(
            connector.segment_metrics("501", start=START, end=START, dimension=SegmentDimension.AGE)
        )


def test_a_429_without_headers_is_retried_after_a_backoff(connector, fake, clock):
    fake.inject(
        "^/rest/adAccounts$",
        status=429,
        body={"status": 429, "message": "Resource level throttle limit"},
        times=2,
    )

    accounts = connector.list_accounts()

    assert len(accounts) == 3
    assert len(fake.calls("^/rest/adAccounts$")) == 4  # 2 throttled + 2 pages
    assert any(s > 0 for s in clock.sleeps)


def test_throttling_that_never_ends_surfaces_as_rate_limited(connector, fake):
    fake.inject("^/rest/adAccounts/501$", status=429, body={"status": 429}, times=10)

    with pytest.raises(RateLimited):
        connector.get_account("501")

    assert len(fake.calls("^/rest/adAccounts/501$")) == 5


def test_server_errors_and_timeouts_are_retried(make_connector, fake):
    connector = make_connector(timeout=0.3)
    fake.inject("^/rest/adAccounts/501$", status=500, body={"status": 500, "message": "boom"})
    fake.inject("^/rest/adAccounts/501$", status=200, body={}, delay=0.8)

    account = connector.get_account("501")

    assert account.name == "Acme EU"
    assert len(fake.calls("^/rest/adAccounts/501$")) == 3


def test_malformed_json_is_retried_and_then_reported(connector, fake):
    fake.inject("^/rest/adAccounts/501$", status=200, raw="<html>oops</html>", times=5)

    with pytest.raises(MalformedResponse):
        connector.get_account("501")


def test_a_token_expiring_mid_listing_is_refreshed_once_and_the_listing_continues(
    connector, fake, refreshed
):
    def revoke_after_first_page():
        fake.access_tokens.discard("li-access-AAA")

    campaigns = connector.list_campaigns("501")
    first = next(campaigns)
    revoke_after_first_page()
    rest = list(campaigns)

    assert [first.external_id] + [c.external_id for c in rest] == ["601", "602", "603"]
    assert len(refreshed) == 1
    assert len(fake.calls("/oauth/v2/accessToken")) == 1


def test_a_page_served_twice_yields_no_duplicate(connector, fake):
    fake.page_overlap_once = True

    ids = [c.external_id for c in connector.list_campaigns("501")]

    assert ids == ["601", "602", "603"]


def test_a_missing_or_wrong_linkedin_version_is_an_invalid_request(make_connector):
    connector = make_connector(version="201901")

    with pytest.raises(InvalidRequest):
        connector.get_account("501")


def test_forbidden_maps_to_permission_denied(connector, fake):
    fake.inject(
        "^/rest/adAccounts/501$",
        status=403,
        body={
            "status": 403,
            "serviceErrorCode": 100,
            "code": "ACCESS_DENIED",
            "message": "Not enough permissions",
        },
    )

    with pytest.raises(PermissionDenied) as caught:
        connector.get_account("501")

    assert caught.value.code == "ACCESS_DENIED"


def test_no_credential_reaches_a_log_record_or_an_error(connector, fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.inject(
        "^/rest/adAccounts$",
        status=401,
        body={
            "status": 401,
            "code": "EXPIRED_ACCESS_TOKEN",
            "message": "token li-access-AAA expired",
        },
    )
    fake.inject("^/rest/adAccounts/501$", status=500, body={"status": 500})

    connector.list_accounts()
    connector.get_account("501")
    fake.refresh_tokens.clear()
    connector.token = connector.client.token = TokenSet(
        access_token="li-access-ZZZ", refresh_token="li-refresh-ZZZ"
    )
    with pytest.raises(AuthExpired) as caught:
        connector.refresh_token()

    secrets = [
        "li-access-AAA",
        "li-refresh-RRR",
        "li-access-new-1",
        "li-refresh-new-1",
        "li-client-secret-XYZ",
        "li-access-ZZZ",
        "li-refresh-ZZZ",
    ]
    assert_no_secret_in_logs(caplog.records, secrets)
    assert not any(s in str(caught.value) for s in secrets)
    assert caplog.records  # the calls were logged, just without secrets


# --- Ad status and ad-group targeting -----------------------------------------------------------
def test_a_creative_is_paused_by_partial_update_of_its_encoded_urn(connector, fake):
    paused = connector.update_ad_status("501", "801", "paused")

    assert fake.creatives["801"]["intendedStatus"] == "PAUSED"
    assert fake.creatives["802"]["intendedStatus"] == "ACTIVE"
    assert (paused.external_id, paused.ad_group_external_id, paused.campaign_external_id) == (
        "801", "701", "601",
    )  # fmt: skip
    assert paused.status == "paused"
    assert connector.update_ad_status("501", "801", "active").status == "active"


def test_an_ad_cannot_be_archived_through_the_status_change(connector, fake):
    with pytest.raises(InvalidRequest):
        connector.update_ad_status("501", "801", "archived")
    assert fake.creatives["801"]["intendedStatus"] == "ACTIVE"


def test_age_widening_adds_neighbouring_age_ranges_and_keeps_other_facets(connector, fake):
    fake.campaigns["701"]["targetingCriteria"] = {
        "include": {"and": [
            {"or": {"urn:li:adTargetingFacet:locations": ["urn:li:geo:103644278"]}},
            {"or": {"urn:li:adTargetingFacet:ageRanges": ["urn:li:ageRange:(25,34)"]}},
        ]}
    }  # fmt: skip

    group = connector.update_ad_group_targeting(
        "501", "701", TargetingChange(AudienceDimension.AGE_RANGE, step=2)
    )

    clauses = fake.campaigns["701"]["targetingCriteria"]["include"]["and"]
    assert clauses[0] == {"or": {"urn:li:adTargetingFacet:locations": ["urn:li:geo:103644278"]}}
    assert clauses[1]["or"]["urn:li:adTargetingFacet:ageRanges"] == [
        "urn:li:ageRange:(18,24)", "urn:li:ageRange:(25,34)", "urn:li:ageRange:(35,54)",
    ]  # fmt: skip
    assert group.targeting["include"]["and"][1] == clauses[1]


def test_interest_expansion_turns_on_audience_expansion(connector, fake):
    group = connector.update_ad_group_targeting(
        "501", "702", TargetingChange(AudienceDimension.INTERESTS)
    )

    assert fake.campaigns["702"]["audienceExpansionEnabled"] is True
    assert group.targeting["audienceExpansionEnabled"] is True


def test_linkedin_has_no_lookalike_to_widen(connector, fake):
    with pytest.raises(UnsupportedTargeting, match="retired lookalike"):
        connector.update_ad_group_targeting(
            "501", "701", TargetingChange(AudienceDimension.LOOKALIKE, step=1)
        )
    assert "audienceExpansionEnabled" not in fake.campaigns["701"]
