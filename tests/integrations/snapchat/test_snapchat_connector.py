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
from integrations.providers.snapchat.connector import SnapchatConnector
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
from tests.integrations.snapchat.fake import ACCOUNT

START = dt.date(2026, 3, 1)


def test_snapchat_is_registered_under_its_slug():
    assert get_connector_class("snapchat") is SnapchatConnector


def test_authorization_url_asks_for_the_marketing_scope(connector):
    parts = urlsplit(connector.authorization_url(state="s1", redirect_uri="https://app.example/cb"))

    assert parts.path == "/login/oauth2/authorize"
    query = parse_qs(parts.query)
    assert query["scope"] == ["snapchat-marketing-api"]
    assert query["state"] == ["s1"]
    assert query["client_id"] == ["snap-client"]


def test_code_exchange_gives_an_hour_long_token(make_connector):
    connector = make_connector(token=TokenSet(access_token="none"))

    token = connector.exchange_code(code="snap-code-1", redirect_uri="https://app.example/cb")

    assert token.access_token == "snap-access-new-1"
    assert (
        dt.timedelta(minutes=59)
        < token.expires_at - dt.datetime.now(dt.UTC)
        <= dt.timedelta(hours=1)
    )
    assert connector.get_account(ACCOUNT).currency == "USD"


def test_a_token_about_to_expire_is_refreshed_before_the_call(make_connector, fake, refreshed):
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=30)
    connector = make_connector(
        token=TokenSet(
            access_token="snap-access-AAA", refresh_token="snap-refresh-RRR", expires_at=soon
        )
    )

    connector.get_account(ACCOUNT)

    assert [t.access_token for t in refreshed] == ["snap-access-new-1"]
    assert fake.calls("/v1/adaccounts/")[0].headers["Authorization"] == "Bearer snap-access-new-1"


def test_a_rotated_refresh_token_is_kept(connector, refreshed):
    connector.refresh_token()
    connector.refresh_token()  # would fail had the first rotation not been kept

    assert [t.refresh_token for t in refreshed] == ["snap-refresh-new-1", "snap-refresh-new-2"]


def test_accounts_come_from_organizations_across_next_links(connector, fake):
    accounts = {a.external_id: a for a in connector.list_accounts()}

    assert set(accounts) == {ACCOUNT, "acc-2", "acc-3"}
    assert accounts[ACCOUNT].time_zone == "America/Los_Angeles"
    assert accounts["acc-3"].status == "disabled"
    assert len(fake.calls("/adaccounts$")) == 2


def test_structure_unwraps_entities_and_maps_micros(connector):
    campaigns = {c.external_id: c for c in connector.list_campaigns(ACCOUNT)}
    squads = {g.external_id: g for g in connector.list_ad_groups(ACCOUNT)}
    ads = {a.external_id: a for a in connector.list_ads(ACCOUNT)}

    assert campaigns["camp-1"].daily_budget == Decimal(40)
    assert campaigns["camp-1"].objective == "sales"
    assert campaigns["camp-2"].lifetime_budget == Decimal(900)
    assert campaigns["camp-2"].objective == "awareness"
    assert campaigns["camp-2"].status == "paused"
    assert campaigns["camp-3"].status == "archived"  # ended
    assert squads["sq-1"].bid_amount == Decimal(2)
    assert squads["sq-1"].targeting == {"geos": [{"country_code": "us"}]}
    assert ads["ad-1"].campaign_external_id == "camp-1"
    assert ads["ad-1"].creative is not None
    assert ads["ad-1"].creative.headline == "Shades on"
    assert ads["ad-2"].ad_group_external_id == "sq-3"


def test_daily_metrics_by_campaign_use_local_midnights_and_month_windows(connector, fake):
    end = START + dt.timedelta(days=39)

    rows = list(connector.daily_metrics(ACCOUNT, start=START, end=end, level=MetricLevel.CAMPAIGN))

    calls = fake.calls("/v1/campaigns/camp-1/stats")
    assert len(calls) == 2
    assert parse_qs(calls[0].query)["start_time"] == ["2026-03-01T00:00:00-08:00"]
    assert fake.calls("/v1/campaigns/camp-3/stats") == []  # ended last year
    by_key = {(r.campaign_external_id, r.date): r for r in rows}
    assert len(by_key) == 2 * 40
    first = by_key[("camp-1", START)]
    assert first.impressions == 500
    assert first.clicks == 7
    assert first.spend == Decimal("1.25")
    assert first.conversions == Decimal(2)
    assert first.conversion_value == Decimal("19.99")
    assert first.video_views == 30
    assert ("camp-1", dt.date(2026, 3, 8)) in by_key  # the DST day is still one day


def test_daily_metrics_by_ad_come_from_the_ad_breakdown(connector):
    rows = list(connector.daily_metrics(ACCOUNT, start=START, end=START, level=MetricLevel.AD))

    assert {(r.campaign_external_id, r.ad_group_external_id, r.ad_external_id) for r in rows} == {
        ("camp-1", "sq-1", "ad-1"),
        ("camp-2", "sq-3", "ad-2"),
    }


def test_pause_and_budget_send_the_whole_campaign(connector, fake):
    campaign = connector.update_campaign(
        ACCOUNT, "camp-1", CampaignUpdate(status="paused", daily_budget=Decimal("55.5"))
    )

    assert campaign.status == "paused"
    assert campaign.daily_budget == Decimal("55.5")
    sent = fake.calls("/campaigns$", method="PUT")[0].json()["campaigns"][0]
    # The whole object, not a patch.
    assert sent["name"] == "Summer"
    assert sent["start_time"] == "2026-01-01T08:00:00.000Z"
    assert fake.campaigns["camp-1"]["daily_budget_micro"] == 55_500_000


def test_a_bid_is_written_to_every_ad_squad_of_the_campaign(connector, fake):
    connector.update_campaign(ACCOUNT, "camp-1", CampaignUpdate(bid_amount=Decimal("3")))

    assert fake.adsquads["sq-1"]["bid_micro"] == 3_000_000
    assert fake.adsquads["sq-2"]["bid_micro"] == 3_000_000
    assert fake.adsquads["sq-3"]["bid_micro"] == 500_000


def test_archive_pauses_and_ends_the_campaign(connector, fake):
    campaign = connector.archive_campaign(ACCOUNT, "camp-1")

    assert campaign.status == "archived"
    assert fake.campaigns["camp-1"]["status"] == "PAUSED"
    assert fake.campaigns["camp-1"]["end_time"]


def test_create_posts_a_wrapped_array_and_unwraps_the_answer(connector, fake):
    campaign = connector.create_campaign(
        ACCOUNT,
        CampaignSpec(
            name="Autumn",
            objective="traffic",
            daily_budget=Decimal(25),
            start_date=dt.date(2026, 9, 1),
        ),
    )

    assert campaign.external_id == "camp-new-1"
    assert campaign.daily_budget == Decimal(25)
    assert campaign.objective == "traffic"
    sent = fake.calls("/campaigns$", method="POST")[0].json()["campaigns"][0]
    assert sent["start_time"] == "2026-09-01T00:00:00-07:00"
    assert sent["status"] == "PAUSED"


def test_a_refused_item_in_a_200_answer_is_an_invalid_request(connector, fake):
    fake.inject(
        "/campaigns$",
        method="PUT",
        status=200,
        body={
            "request_status": "PARTIAL",
            "request_id": "r",
            "campaigns": [
                {
                    "sub_request_status": "ERROR",
                    "sub_request_error_reason": "daily budget below minimum",
                }
            ],
        },
    )

    with pytest.raises(InvalidRequest) as caught:
        connector.update_campaign(ACCOUNT, "camp-1", CampaignUpdate(daily_budget=Decimal(1)))

    assert "minimum" in str(caught.value)


def test_a_create_is_not_retried(connector, fake):
    fake.inject(
        "/campaigns$",
        method="POST",
        status=500,
        body={"request_status": "ERROR", "debug_message": "boom"},
        times=3,
    )

    with pytest.raises(PlatformUnavailable):
        connector.create_campaign(ACCOUNT, CampaignSpec(name="x", objective="traffic"))

    assert len(fake.calls("/campaigns$", method="POST")) == 1


def test_segments_are_not_supported(connector):
    with pytest.raises(NotSupported):
        connector.segment_metrics(ACCOUNT, start=START, end=START, dimension=SegmentDimension.AGE)


def test_calls_are_paced_at_ten_per_second_per_token(connector, clock):
    for _ in range(25):
        connector.get_account(ACCOUNT)

    # 10 in the burst, the next 15 spaced at 0.1 s
    assert sum(clock.sleeps) == pytest.approx(1.5, abs=0.01)


def test_a_429_is_backed_off_and_retried(connector, fake, clock):
    fake.inject(
        "/v1/adaccounts/",
        status=429,
        body={"request_status": "ERROR", "msg": "Too many requests"},
        times=2,
    )

    assert connector.get_account(ACCOUNT).name == "Acme Snap"
    assert len([s for s in clock.sleeps if s > 0]) >= 2


def test_endless_429s_surface_as_rate_limited(connector, fake):
    fake.inject("/v1/adaccounts/", status=429, body={"request_status": "ERROR"}, times=9)

    with pytest.raises(RateLimited):
        connector.get_account(ACCOUNT)


def test_5xx_timeout_and_malformed_json_are_retried(make_connector, fake):
    connector = make_connector(timeout=0.3)
    fake.inject("/v1/adaccounts/", status=502, raw="<html>bad gateway</html>")
    fake.inject("/v1/adaccounts/", status=200, body={}, delay=0.8)
    fake.inject("/v1/adaccounts/", status=200, raw="{not json")

    assert connector.get_account(ACCOUNT).name == "Acme Snap"


def test_persistently_malformed_json_is_reported(connector, fake):
    fake.inject("/v1/adaccounts/", status=200, raw="{not json", times=5)

    with pytest.raises(MalformedResponse):
        connector.get_account(ACCOUNT)


def test_a_token_revoked_mid_listing_is_refreshed_once_and_listing_continues(
    connector, fake, refreshed
):
    campaigns = connector.list_campaigns(ACCOUNT)
    first = next(campaigns)
    fake.access_tokens.discard("snap-access-AAA")

    rest = [c.external_id for c in campaigns]

    assert [first.external_id, *rest] == ["camp-1", "camp-2", "camp-3"]
    assert len(refreshed) == 1


def test_a_repeated_next_link_ends_paging_without_duplicates(connector, fake):
    original = fake.paged

    def loop(request, plural, singular, items):
        response = original(request, plural, singular, items)
        if "cursor=" in request.query_string.decode():
            # The server serves page one again, pointing at the same next page.
            return original(
                request.__class__(dict(request.environ, QUERY_STRING="limit=1000")),
                plural,
                singular,
                items,
            )
        return response

    fake.paged = loop

    assert [c.external_id for c in connector.list_campaigns(ACCOUNT)] == ["camp-1", "camp-2"]


def test_forbidden_is_permission_denied(connector, fake):
    fake.inject(
        "/v1/adaccounts/",
        status=403,
        body={"request_status": "ERROR", "debug_message": "no access", "error_code": "E3002"},
    )

    with pytest.raises(PermissionDenied):
        connector.get_account(ACCOUNT)


def test_no_credential_in_logs_or_errors(connector, fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.access_tokens.discard("snap-access-AAA")
    connector.get_account(ACCOUNT)  # 401 -> refresh -> retry
    fake.refresh_tokens.clear()
    fake.access_tokens.clear()
    with pytest.raises(AuthExpired) as caught:
        connector.get_account(ACCOUNT)

    secrets = [
        "snap-access-AAA",
        "snap-refresh-RRR",
        "snap-access-new-1",
        "snap-refresh-new-1",
        "snap-client-secret-QQQ",
    ]
    assert_no_secret_in_logs(caplog.records, secrets)
    assert not any(s in str(caught.value) for s in secrets)


# --- Ad status and ad-squad targeting -----------------------------------------------------------
def test_an_ad_is_paused_by_putting_the_whole_ad_to_its_squad(connector, fake):
    paused = connector.update_ad_status(ACCOUNT, "ad-1", "paused")

    assert fake.ads["ad-1"] == {
        "id": "ad-1", "ad_squad_id": "sq-1", "creative_id": "cr-1", "name": "Top snap",
        "status": "PAUSED",
    }  # fmt: skip
    assert (paused.status, paused.ad_group_external_id, paused.campaign_external_id) == (
        "paused", "sq-1", "camp-1",
    )  # fmt: skip
    assert paused.creative is not None and paused.creative.headline == "Shades on"
    assert fake.campaigns["camp-1"]["status"] == "ACTIVE"


def test_an_unknown_ad_is_refused(connector):
    with pytest.raises(InvalidRequest):
        connector.update_ad_status(ACCOUNT, "ad-404", "paused")


def test_age_widening_moves_the_demographic_bounds_and_keeps_geos(connector, fake):
    fake.adsquads["sq-1"]["targeting"] = {
        "geos": [{"country_code": "us"}],
        "demographics": [{"min_age": "21", "max_age": "34", "languages": ["en"]}],
    }

    group = connector.update_ad_group_targeting(
        ACCOUNT, "sq-1", TargetingChange(AudienceDimension.AGE_RANGE, step=5)
    )

    targeting = fake.adsquads["sq-1"]["targeting"]
    assert targeting["demographics"] == [{"min_age": 18, "max_age": 39, "languages": ["en"]}]
    assert targeting["geos"] == [{"country_code": "us"}]
    assert fake.adsquads["sq-1"]["bid_micro"] == 2_000_000  # the whole squad went back
    assert group.targeting == targeting


def test_interest_expansion_turns_on_snaps_auto_expansion(connector, fake):
    group = connector.update_ad_group_targeting(
        ACCOUNT, "sq-1", TargetingChange(AudienceDimension.INTERESTS)
    )

    expected = {"interest_expansion_option": {"enabled": True}}
    assert fake.adsquads["sq-1"]["targeting"]["auto_expansion_options"] == expected
    assert group.targeting["auto_expansion_options"] == expected


def test_a_lookalike_cannot_be_widened_on_snapchat(connector, fake):
    before = dict(fake.adsquads["sq-1"])

    with pytest.raises(UnsupportedTargeting, match="cannot widen lookalike"):
        connector.update_ad_group_targeting(
            ACCOUNT, "sq-1", TargetingChange(AudienceDimension.LOOKALIKE, step=1)
        )
    assert fake.adsquads["sq-1"] == before
