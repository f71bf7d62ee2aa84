"""Late data: a condition can leave out unsettled days or correct them by the maturity
curve each account's own restatement history teaches."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest

from adplatform.models import Organization
from automation.maturity import AGES, learn_curves
from automation.models import ActionStatus, AutomationRule, RuleAction
from automation.schema import RuleDefinitionError, parse_rule_definition
from automation.services import backtest_rule, rule_definition, run_rule
from campaigns.models import AdAccount, Campaign, MetricRestatement
from campaigns.services import DailyMetricRow, upsert_daily_metrics
from tests.automation.factories import RuleFactory
from tests.campaigns.factories import AdAccountFactory, CampaignFactory

pytestmark = pytest.mark.django_db

NOW = dt.datetime(2026, 3, 20, 12, tzinfo=dt.UTC)
TODAY = NOW.date()
YESTERDAY = TODAY - dt.timedelta(days=1)


def _day_end(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, dt.UTC)


def _report(campaign: Campaign, day: dt.date, at: dt.datetime, **values: str) -> None:
    """What the sync's write path stores when the platform reports `day` at moment `at`."""
    row = DailyMetricRow(
        organization_id=campaign.organization_id, ad_account_id=campaign.ad_account_id,
        campaign_id=campaign.pk, ad_group_id=None, ad_id=None, date=day, impressions=10000,
        clicks=200, **{name: Decimal(value) for name, value in values.items()},
    )  # fmt: skip
    with mock.patch("campaigns.services.metrics.timezone.now", return_value=at):
        upsert_daily_metrics([row])


def _late_converting_account(organization: Organization) -> tuple[AdAccount, Campaign]:
    """An account where, for 30 days, half of each day's conversions and revenue arrived
    more than a day late: first reported 2 h after the day ended, restated after 30 h."""
    account = AdAccountFactory(organization=organization)
    campaign = CampaignFactory(organization=organization, ad_account=account, daily_budget=1000)
    for back in range(10, 40):
        day = TODAY - dt.timedelta(days=back)
        _report(campaign, day, _day_end(day) + dt.timedelta(hours=2),
                spend="100", conversions="5", conversion_value="50")  # fmt: skip
        _report(campaign, day, _day_end(day) + dt.timedelta(hours=30),
                spend="100", conversions="10", conversion_value="100")  # fmt: skip
    return account, campaign


def _yesterday_as_reported_now(campaign: Campaign) -> None:
    # Reported 2 h after it ended: 300 spent, 5 conversions so far (CPA 60).
    _report(campaign, YESTERDAY, _day_end(YESTERDAY) + dt.timedelta(hours=2),
            spend="300", conversions="5", conversion_value="150")  # fmt: skip


def _cpa_rule(organization: Organization, **late: object) -> AutomationRule:
    return RuleFactory(
        organization=organization,
        conditions={"items": [{"metric": "cpa", "window": "yesterday", "operator": "gt",
                               "value": "40", **late}]},
        actions=[{"type": "pause"}], is_dry_run=True,
    )  # fmt: skip


def _paused(rule: AutomationRule) -> set[int]:
    run_rule(rule_id=rule.pk, now=NOW, as_of=TODAY)
    return set(
        RuleAction.objects.filter(rule=rule, status=ActionStatus.DRY_RUN).values_list(
            "campaign_id", flat=True
        )
    )


def test_the_curve_is_learned_from_the_accounts_own_restatements(
    organization: Organization,
) -> None:
    late, _ = _late_converting_account(organization)
    punctual = AdAccountFactory(organization=organization)
    assert MetricRestatement.objects.filter(ad_account=late).count() == 30

    curves = learn_curves(organization, ad_account_ids=[late.pk, punctual.pk], now=NOW)

    shares = dict(zip(AGES, curves[late.pk].conversions, strict=True))
    # Half arrived within 24 h of the day's end, all of it by 36 h.
    assert [shares[age] for age in (0, 12, 24)] == [Decimal("0.5")] * 3
    assert [shares[age] for age in (36, 72, 168)] == [Decimal(1)] * 3
    assert curves[late.pk].revenue == curves[late.pk].conversions
    # The planted days that fall in the learning period (28 days ending a week ago).
    assert curves[late.pk].days_learned == 26
    # No restatements, nothing to learn: its data counts as settled.
    assert set(curves[punctual.pk].conversions) == {Decimal(1)}


def test_the_correction_keeps_a_rule_from_pausing_on_conversions_not_yet_reported(
    organization: Organization,
) -> None:
    _, late_campaign = _late_converting_account(organization)
    punctual_campaign = CampaignFactory(organization=organization, daily_budget=1000)
    _yesterday_as_reported_now(late_campaign)
    _yesterday_as_reported_now(punctual_campaign)

    as_reported = _cpa_rule(organization)
    corrected = _cpa_rule(organization, data="corrected")

    # As reported both look bad (CPA 60). Yesterday ended 12 h ago; the late account
    # usually has half its conversions by then: corrected CPA 30, no pause. The punctual
    # account has no history of restatements: its CPA stands.
    assert _paused(as_reported) == {late_campaign.pk, punctual_campaign.pk}
    assert _paused(corrected) == {punctual_campaign.pk}
    action = RuleAction.objects.get(rule=corrected)
    assert action.trigger_values == {"cpa:yesterday:corrected": "60"}


def test_the_correction_fades_once_the_day_is_settled(organization: Organization) -> None:
    _, campaign = _late_converting_account(organization)
    _yesterday_as_reported_now(campaign)
    corrected = _cpa_rule(organization, data="corrected")

    # Two days later yesterday is 60 h old: the curve says it is settled, CPA 60 stands.
    later = NOW + dt.timedelta(days=2)
    run_rule(rule_id=corrected.pk, now=later, as_of=YESTERDAY + dt.timedelta(days=1))

    assert RuleAction.objects.filter(rule=corrected, campaign=campaign).exists()


def test_a_settled_only_condition_does_not_judge_a_day_younger_than_its_hours(
    organization: Organization,
) -> None:
    _, campaign = _late_converting_account(organization)
    _yesterday_as_reported_now(campaign)
    young = _cpa_rule(organization, data="settled", settled_after_hours=24)
    old_enough = _cpa_rule(organization, data="settled", settled_after_hours=6)

    assert _paused(young) == set()
    assert _paused(old_enough) == {campaign.pk}


def test_the_preview_corrects_stored_values_by_their_age_and_says_how_settled_they_are(
    organization: Organization,
) -> None:
    _, campaign = _late_converting_account(organization)
    _yesterday_as_reported_now(campaign)

    def preview(rule: AutomationRule) -> tuple[set[int], list[dict[str, object]]]:
        with mock.patch("django.utils.timezone.now", return_value=NOW):
            result = backtest_rule(organization, definition=rule_definition(rule), days=1,
                                   end=TODAY)  # fmt: skip
        return {firing.campaign_id for firing in result.applied}, result.settledness

    assert preview(_cpa_rule(organization)) == ({campaign.pk}, [])
    # Yesterday's stored values are 12 h old: half its conversions are still to come.
    fired, settledness = preview(_cpa_rule(organization, data="corrected"))
    assert fired == set()
    by_day = {line["date"]: line for line in settledness}
    assert by_day[YESTERDAY.isoformat()]["conversions_settled_pct"] == "50"
    assert by_day[TODAY.isoformat()]["revenue_settled_pct"] == "50"
    assert by_day[YESTERDAY.isoformat()]["days_learned"] == 26


@pytest.mark.parametrize(
    ("late", "field"),
    [({"data": "guessed"}, "conversions.items.0.data"),
     ({"data": "settled", "settled_after_hours": 0}, "conversions.items.0.settled_after_hours")],
)  # fmt: skip
def test_an_unknown_late_data_mode_or_hours_out_of_range_is_refused(
    late: dict[str, object], field: str
) -> None:
    with pytest.raises(RuleDefinitionError) as refused:
        parse_rule_definition(
            {"conditions": {"items": [{"metric": "cpa", "operator": "gt", "value": "1", **late}]},
             "actions": [{"type": "pause"}]}
        )  # fmt: skip
    assert field.replace("conversions", "conditions") in refused.value.errors


def test_the_preview_api_and_page_say_how_settled_the_judged_data_is(
    organization: Organization, api_client_for: Callable[..., Any]
) -> None:
    account, campaign = _late_converting_account(organization)
    _yesterday_as_reported_now(campaign)
    rule = _cpa_rule(organization, data="corrected")

    with mock.patch("django.utils.timezone.now", return_value=NOW):
        body = api_client_for(organization).get(f"/api/v1/rules/{rule.pk}/preview/?days=1").json()

    # The preview ends yesterday (12 h old) and shows the day before (36 h old) too.
    assert body["settledness"] == [
        {"ad_account_id": account.pk, "date": YESTERDAY.isoformat(),
         "conversions_settled_pct": "50", "revenue_settled_pct": "50", "days_learned": 26},
        {"ad_account_id": account.pk, "date": (YESTERDAY - dt.timedelta(days=1)).isoformat(),
         "conversions_settled_pct": "100", "revenue_settled_pct": "100", "days_learned": 26},
    ]  # fmt: skip
