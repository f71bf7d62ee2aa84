from __future__ import annotations

import datetime as dt
import logging
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
from integrations.providers.x.connector import XConnector
from integrations.records import (
    AudienceDimension,
    CampaignSpec,
    CampaignUpdate,
    MetricLevel,
    SegmentDimension,
    TargetingChange,
)
from integrations.registry import get_connector_class
from tests.integrations.loopback import assert_no_secret_in_logs
from tests.integrations.x.fake import ACCOUNT

# A Monday in Los Angeles winter time (UTC-8).
START = dt.date(2026, 3, 2)


def test_x_is_registered_under_its_slug():
    assert get_connector_class("x") is XConnector


def test_the_three_legged_handshake_yields_a_signed_never_expiring_token(connector, fake):
    url = connector.authorization_url(state="st-9", redirect_uri="https://app.example/cb/x")

    parts = urlsplit(url)
    request_token = parse_qs(parts.query)["oauth_token"][0]
    assert parts.path == "/oauth/authorize"
    callback = fake.approve(request_token)
    assert callback["state"] == "st-9"  # X hands our state back on the callback

    token = connector.exchange_code(
        code=XConnector.code_from_callback(callback), redirect_uri="https://app.example/cb/x"
    )

    assert token.access_token == "x-access-NEW"
    assert token.token_secret == "x-token-secret-NEW"
    assert token.expires_at is None
    assert connector.get_account(ACCOUNT).name == "Acme on X"
    assert fake.bad_signatures == 0


def test_a_verifier_cannot_be_replayed(connector, fake):
    url = connector.authorization_url(state="s", redirect_uri="https://app.example/cb/x")
    callback = fake.approve(parse_qs(urlsplit(url).query)["oauth_token"][0])
    code = XConnector.code_from_callback(callback)
    connector.exchange_code(code=code, redirect_uri="https://app.example/cb/x")

    with pytest.raises(AuthExpired):
        connector.exchange_code(code=code, redirect_uri="https://app.example/cb/x")


def test_refresh_is_impossible_and_says_so(connector):
    with pytest.raises(AuthExpired):
        connector.refresh_token()


def test_a_wrong_consumer_secret_fails_the_signature_check(make_connector, fake):
    connector = make_connector(secret="not-the-secret")

    with pytest.raises(AuthExpired):
        connector.get_account(ACCOUNT)

    assert fake.bad_signatures == 1


def test_accounts_are_paged_with_currency_from_funding_and_account_time_zone(connector, fake):
    accounts = {a.external_id: a for a in connector.list_accounts()}

    assert set(accounts) == {ACCOUNT, "gq1a2b", "zz9old"}
    assert accounts[ACCOUNT].currency == "USD"
    assert accounts[ACCOUNT].time_zone == "America/Los_Angeles"
    assert accounts[ACCOUNT].status == "active"
    assert accounts["gq1a2b"].status == "pending"
    assert accounts["zz9old"].status == "closed"
    assert len(fake.calls("^/12/accounts$")) == 2  # two pages via next_cursor


def test_structure_maps_line_items_to_ad_groups_and_promoted_tweets_to_ads(connector):
    campaigns = {c.external_id: c for c in connector.list_campaigns(ACCOUNT)}
    groups = {g.external_id: g for g in connector.list_ad_groups(ACCOUNT)}
    ads = {a.external_id: a for a in connector.list_ads(ACCOUNT)}

    assert campaigns["c1"].daily_budget == Decimal("50")
    assert campaigns["c1"].lifetime_budget == Decimal("1000")
    assert campaigns["c1"].objective == "traffic"
    assert campaigns["c1"].start_date == dt.date(2026, 1, 5)
    assert campaigns["c2"].status == "paused"
    assert campaigns["c2"].objective == "awareness"
    assert campaigns["c3"].status == "deleted"
    assert groups["l1"].bid_amount == Decimal("1.5")
    assert groups["l3"].campaign_external_id == "c2"
    assert ads["p2"].campaign_external_id == "c2"
    assert ads["p2"].creative is not None
    assert ads["p2"].creative.body == "Always on, always there"


def test_daily_metrics_respect_the_7_day_and_20_id_limits_and_sum_placements(connector, fake):
    end = START + dt.timedelta(days=9)  # 10 days -> windows of 7 and 3

    rows = list(connector.daily_metrics(ACCOUNT, start=START, end=end, level=MetricLevel.CAMPAIGN))

    stats_calls = fake.calls(f"^/12/stats/accounts/{ACCOUNT}$")
    # 2 windows x (ALL_ON_TWITTER, PUBLISHER_NETWORK)
    assert len(stats_calls) == 4
    first = parse_qs(stats_calls[0].query)
    assert first["start_time"] == ["2026-03-02T08:00:00Z"]  # LA midnight
    assert first["end_time"] == ["2026-03-09T07:00:00Z"]  # DST began 8 March
    assert len(rows) == 2 * 10
    c1 = next(r for r in rows if r.campaign_external_id == "c1" and r.date == START)
    assert c1.impressions == 1020
    assert c1.clicks == 22
    assert c1.spend == Decimal("3.5")
    assert c1.conversions == Decimal(4)
    assert c1.conversion_value == Decimal("45")


def test_daily_metrics_by_ad_know_their_line_item_and_campaign(connector):
    rows = list(connector.daily_metrics(ACCOUNT, start=START, end=START, level=MetricLevel.AD))

    by_ad = {r.ad_external_id: r for r in rows}
    assert by_ad["p1"].ad_group_external_id == "l1"
    assert by_ad["p1"].campaign_external_id == "c1"
    assert by_ad["p2"].campaign_external_id == "c2"


def test_pause_and_budget_round_trip(connector, fake):
    campaign = connector.update_campaign(
        ACCOUNT, "c1", CampaignUpdate(status="paused", daily_budget=Decimal("75.25"))
    )

    assert campaign.status == "paused"
    assert campaign.daily_budget == Decimal("75.25")
    assert fake.campaigns["c1"]["daily_budget_amount_local_micro"] == 75_250_000
    put = fake.calls("/campaigns/c1$", method="PUT")[0]
    assert parse_qs(put.query)["entity_status"] == ["PAUSED"]


def test_a_bid_goes_to_every_line_item_of_the_campaign(connector, fake):
    campaign = connector.update_campaign(ACCOUNT, "c1", CampaignUpdate(bid_amount=Decimal("2.05")))

    assert fake.line_items["l1"]["bid_amount_local_micro"] == 2_050_000
    assert fake.line_items["l2"]["bid_amount_local_micro"] == 2_050_000
    assert fake.line_items["l3"]["bid_amount_local_micro"] is None
    assert campaign.bid_amount == Decimal("2.05")


def test_create_uses_the_funding_instrument_and_micros(connector, fake):
    campaign = connector.create_campaign(
        ACCOUNT, CampaignSpec(name="New", objective="traffic", daily_budget=Decimal("30"))
    )

    assert campaign.name == "New"
    assert campaign.status == "paused"
    assert campaign.daily_budget == Decimal("30")
    query = parse_qs(fake.calls("/campaigns$", method="POST")[0].query)
    assert query["funding_instrument_id"] == ["fi1"]
    assert query["daily_budget_amount_local_micro"] == ["30000000"]


def test_a_create_is_never_retried(connector, fake):
    fake.inject(
        "/campaigns$",
        method="POST",
        status=503,
        body={"errors": [{"code": "SERVICE_UNAVAILABLE", "message": "down"}]},
        times=3,
    )

    with pytest.raises(PlatformUnavailable):
        connector.create_campaign(ACCOUNT, CampaignSpec(name="Twin?", objective="traffic"))

    assert len(fake.calls("/campaigns$", method="POST")) == 1


def test_archive_deletes_and_reports_deleted(connector, fake):
    campaign = connector.archive_campaign(ACCOUNT, "c2")

    assert campaign.status == "deleted"
    assert fake.campaigns["c2"]["deleted"] is True


def test_segments_are_not_supported(connector):
    with pytest.raises(NotSupported):
        connector.segment_metrics(ACCOUNT, start=START, end=START, dimension=SegmentDimension.AGE)


def test_low_remaining_calls_slow_the_client_down_before_the_wall(connector, fake, clock):
    fake.remaining = 12  # of 250: below 10%, so each answer spreads the rest of the window

    connector.get_account(ACCOUNT)
    connector.get_account(ACCOUNT)

    assert any(60 < s <= 900 for s in clock.sleeps)


def test_zero_remaining_blocks_until_reset(connector, fake, clock):
    from integrations.clients.errors import QuotaExhausted

    fake.account_remaining = 1

    # Once an answer says 0 are left, a wait this long is not slept inside a worker: the
    # call is refused locally and the sync pauses the connection until the reset.
    def call_until_refused() -> None:
        for _ in range(3):
            connector.get_account(ACCOUNT)

    with pytest.raises(QuotaExhausted) as blocked:
        call_until_refused()
    calls = len(fake.seen)
    with pytest.raises(QuotaExhausted):
        connector.get_account(ACCOUNT)

    assert blocked.value.retry_after > 800
    assert len(fake.seen) == calls


def test_a_429_waits_for_the_reset_header_then_retries(connector, fake, clock):
    import time

    fake.inject(
        f"^/12/accounts/{ACCOUNT}$",
        status=429,
        body={"errors": [{"code": "TOO_MANY_REQUESTS", "message": "Rate limit exceeded"}]},
        headers={
            "x-rate-limit-limit": "250",
            "x-rate-limit-remaining": "0",
            "x-rate-limit-reset": str(int(time.time()) + 120),
        },
    )

    account = connector.get_account(ACCOUNT)

    assert account.name == "Acme on X"
    assert any(100 < s <= 121 for s in clock.sleeps)


def test_persistent_throttling_surfaces_as_rate_limited(connector, fake):
    fake.inject(
        f"^/12/accounts/{ACCOUNT}$",
        status=429,
        body={"errors": [{"code": "TOO_MANY_REQUESTS", "message": "x"}]},
        times=10,
    )

    with pytest.raises(RateLimited):
        connector.get_account(ACCOUNT)


def test_5xx_timeouts_and_non_json_bodies_are_retried(make_connector, fake):
    connector = make_connector(timeout=0.3)
    fake.inject(f"^/12/accounts/{ACCOUNT}$", status=503, raw="<html>Over capacity</html>")
    fake.inject(f"^/12/accounts/{ACCOUNT}$", status=200, body={}, delay=0.8)
    fake.inject(f"^/12/accounts/{ACCOUNT}$", status=200, raw="not json")

    assert connector.get_account(ACCOUNT).name == "Acme on X"
    assert len(fake.calls(f"^/12/accounts/{ACCOUNT}$")) == 4


def test_a_revoked_token_is_auth_expired_without_retry_loops(connector, fake):
    fake.tokens.clear()

    with pytest.raises(AuthExpired):
        connector.get_account(ACCOUNT)

    assert len(fake.calls(f"^/12/accounts/{ACCOUNT}$")) == 1


def test_a_repeated_cursor_stops_paging_and_duplicates_are_dropped(connector, fake):
    original = fake.paged

    def stuck(request, items):
        response = original(request, items)
        return (
            response
            if "cursor=" not in request.query_string.decode()
            else original(request.__class__(dict(request.environ, QUERY_STRING="count=2")), items)
        )

    fake.paged = stuck  # every later page repeats the first one with the same cursor

    accounts = connector.list_accounts()

    assert [a.external_id for a in accounts] == [ACCOUNT, "gq1a2b"]


def test_forbidden_client_application_is_permission_denied(connector, fake):
    fake.inject(
        f"^/12/accounts/{ACCOUNT}$",
        status=403,
        body={
            "errors": [
                {
                    "code": "UNAUTHORIZED_CLIENT_APPLICATION",
                    "message": "The client application is not permitted",
                }
            ]
        },
    )

    with pytest.raises(PermissionDenied) as caught:
        connector.get_account(ACCOUNT)

    assert caught.value.code == "UNAUTHORIZED_CLIENT_APPLICATION"


def test_invalid_parameters_are_invalid_requests(connector, fake):
    fake.inject(
        f"^/12/accounts/{ACCOUNT}$",
        status=400,
        body={
            "errors": [
                {"code": "INVALID_PARAMETER", "message": "Expected time", "parameter": "start_time"}
            ]
        },
    )

    with pytest.raises(InvalidRequest) as caught:
        connector.get_account(ACCOUNT)

    assert "start_time" in str(caught.value)


def test_no_secret_in_logs_or_errors(connector, fake, caplog):
    caplog.set_level(logging.DEBUG)
    fake.inject(
        f"^/12/accounts/{ACCOUNT}$",
        status=500,
        body={"errors": [{"code": "X", "message": "x-access-AAA broke"}]},
    )
    connector.get_account(ACCOUNT)
    connector.authorization_url(state="s", redirect_uri="https://app.example/cb")
    fake.tokens.clear()
    with pytest.raises(AuthExpired) as caught:
        connector.get_account(ACCOUNT)

    secrets = ["x-access-AAA", "x-token-secret-SSS", "x-consumer-secret-CCC", "req-secret-101"]
    assert_no_secret_in_logs(caplog.records, secrets)
    assert not any(s in str(caught.value) for s in secrets)
    assert caplog.records


# --- Ad status and line-item targeting ----------------------------------------------------------
def test_a_promoted_tweet_is_paused_with_a_signed_put(connector, fake):
    paused = connector.update_ad_status(ACCOUNT, "p1", "paused")

    assert fake.promoted_tweets["p1"]["entity_status"] == "PAUSED"
    assert fake.line_items["l1"]["entity_status"] == "ACTIVE"
    assert (paused.status, paused.ad_group_external_id, paused.campaign_external_id) == (
        "paused", "l1", "c1",
    )  # fmt: skip
    assert connector.update_ad_status(ACCOUNT, "p1", "active").status == "active"


def test_an_unknown_promoted_tweet_is_refused(connector):
    with pytest.raises(InvalidRequest):
        connector.update_ad_status(ACCOUNT, "p404", "paused")


def test_interest_expansion_sets_the_line_items_audience_expansion(connector, fake):
    group = connector.update_ad_group_targeting(
        ACCOUNT, "l1", TargetingChange(AudienceDimension.INTERESTS)
    )

    assert fake.line_items["l1"]["audience_expansion"] == "EXPANDED"
    assert group.targeting == {"audience_expansion": "EXPANDED", "age": ["AGE_25_TO_49"]}


def test_age_widening_swaps_the_age_criterion_in_one_batch(connector, fake):
    group = connector.update_ad_group_targeting(
        ACCOUNT, "l1", TargetingChange(AudienceDimension.AGE_RANGE, step=5)
    )

    assert fake.batches[-1][0] == {
        "operation_type": "Delete", "params": {"targeting_criterion_id": "t1"},
    }  # fmt: skip
    assert fake.batches[-1][1]["params"]["targeting_value"] == "AGE_18_TO_54"
    live = [c for c in fake.targeting_criteria.values() if not c["deleted"]]
    assert sorted(c["targeting_value"] for c in live) == ["96683cc9126741d1", "AGE_18_TO_54"]
    assert group.targeting["age"] == ["AGE_18_TO_54"]


def test_an_open_ended_age_range_has_nothing_wider(connector, fake):
    fake.targeting_criteria["t1"]["targeting_value"] = "AGE_OVER_13"

    connector.update_ad_group_targeting(
        ACCOUNT, "l1", TargetingChange(AudienceDimension.AGE_RANGE, step=5)
    )

    assert fake.batches == []


def test_a_lookalike_is_not_widened_on_x(connector, fake):
    with pytest.raises(UnsupportedTargeting) as refused:
        connector.update_ad_group_targeting(
            ACCOUNT, "l1", TargetingChange(AudienceDimension.LOOKALIKE, step=2)
        )

    assert refused.value.dimension == "lookalike"
    assert "audience_expansion" not in fake.line_items["l1"]
