"""How well a rule does: times fired, success rate, spend affected, and for budget and bid
rules the CPA and ROAS of the campaigns it changed in the 7 days before vs after each change.

A read: one query counts the rule's actions by status, one reads its applied actions, and
one (through `analytics.selectors`, in the organization's currency) reads the campaign-days
around them, whatever the number of actions.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import Count
from django.utils import timezone

from adplatform.models import Organization
from analytics.metrics import Dimension, MetricFilters, MetricQuery, Metrics, Period
from analytics.selectors import get_metric_report
from automation.models import ActionStatus, AutomationRule, RuleAction

WINDOW_DAYS = 7
BUDGET_AND_BID_ACTIONS = frozenset(
    {"increase_budget", "decrease_budget", "set_budget", "adjust_bid", "set_bid"}
)


@dataclass(frozen=True)
class Comparison:
    """Sums over the campaigns' 7 days before and the (up to) 7 days after each change."""

    changes: int
    before: Metrics
    after: Metrics
    # Days after the changes with data so far (a change made yesterday has 0).
    after_days_observed: int

    @property
    def cpa_before(self) -> Decimal | None:
        return self.before.cpa

    @property
    def cpa_after(self) -> Decimal | None:
        return self.after.cpa

    @property
    def roas_before(self) -> Decimal | None:
        return self.before.roas

    @property
    def roas_after(self) -> Decimal | None:
        return self.after.roas


@dataclass(frozen=True)
class RulePerformance:
    currency: str
    # Steps that acted on the platform or tried to (applied + failed); a dry run is counted
    # apart, as are proposals, skips and rejections.
    times_fired: int
    applied: int
    failed: int
    dry_run: int
    skipped: int
    awaiting_approval: int
    rejected: int
    undone: int
    # The campaigns' spend in the 7 days before each applied change: what the rule decided on.
    spend_affected: Decimal
    budget_and_bid: Comparison | None = None
    by_status: dict[str, int] = field(default_factory=dict)

    @property
    def success_rate(self) -> Decimal | None:
        """Applied ÷ (applied + failed), in %; None before the rule has acted."""
        if not self.times_fired:
            return None
        return (Decimal(self.applied) * 100 / self.times_fired).quantize(Decimal("0.1"))


def rule_performance(
    organization: Organization, rule: AutomationRule, *, today: dt.date | None = None
) -> RulePerformance:
    assert rule.organization_id == organization.pk
    today = today or timezone.localdate()
    by_status = dict(
        RuleAction.objects.filter(organization=organization, rule=rule)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    applied = list(
        RuleAction.objects.filter(
            organization=organization,
            rule=rule,
            status=ActionStatus.APPLIED,
            change__isnull=False,
        ).values("campaign_id", "action_type", "created_at", "finished_at", "change__undone_by")
    )
    undone = sum(1 for row in applied if row["change__undone_by"] is not None)
    # One action row per (campaign, day) is enough: a chain's steps share their window.
    changes: dict[tuple[int, dt.date], bool] = {}
    for row in applied:
        moment = row["finished_at"] or row["created_at"]
        key = (row["campaign_id"], timezone.localdate(moment))
        changes[key] = changes.get(key, False) or row["action_type"] in BUDGET_AND_BID_ACTIONS
    spend_affected = Decimal(0)
    comparison: Comparison | None = None
    currency = organization.currency
    if changes:
        first = min(day for _, day in changes) - dt.timedelta(days=WINDOW_DAYS)
        last = min(max(day for _, day in changes) + dt.timedelta(days=WINDOW_DAYS), today)
        report = get_metric_report(
            organization,
            MetricQuery(
                period=Period(start=first, end=max(last, first)),
                group_by=(Dimension.CAMPAIGN, Dimension.DATE),
                filters=MetricFilters(campaign_ids=tuple(sorted({c for c, _ in changes}))),
            ),
        )
        currency = report.currency
        daily = {(row.key[0], _as_date(row.key[1])): row.metrics for row in report.rows}
        before_all, after_all = Metrics(), Metrics()
        observed = 0
        budget_changes = 0
        for (campaign_id, day), is_budget_or_bid in changes.items():
            one_day = dt.timedelta(days=1)
            before = _sum(daily, campaign_id, day - dt.timedelta(days=WINDOW_DAYS), day - one_day)
            spend_affected += before.spend
            if not is_budget_or_bid:
                continue
            budget_changes += 1
            after_end = min(day + dt.timedelta(days=WINDOW_DAYS), today - dt.timedelta(days=1))
            before_all = before_all + before
            after_all = after_all + _sum(daily, campaign_id, day + one_day, after_end)
            observed = max(observed, (after_end - day).days)
        if budget_changes:
            comparison = Comparison(
                changes=budget_changes,
                before=before_all,
                after=after_all,
                after_days_observed=max(observed, 0),
            )
    applied_count = by_status.get(ActionStatus.APPLIED, 0)
    failed = by_status.get(ActionStatus.FAILED, 0)
    return RulePerformance(
        currency=currency,
        times_fired=applied_count + failed,
        applied=applied_count,
        failed=failed,
        dry_run=by_status.get(ActionStatus.DRY_RUN, 0),
        skipped=by_status.get(ActionStatus.SKIPPED, 0),
        awaiting_approval=by_status.get(ActionStatus.AWAITING_APPROVAL, 0),
        rejected=by_status.get(ActionStatus.REJECTED, 0),
        undone=undone,
        spend_affected=spend_affected,
        budget_and_bid=comparison,
        by_status=by_status,
    )


def _as_date(value: object) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    assert isinstance(value, dt.date)
    return value


def _sum(
    daily: dict[tuple[int, dt.date], Metrics], campaign_id: int, first: dt.date, last: dt.date
) -> Metrics:
    """The campaign's metrics from `first` through `last` (nothing when last < first)."""
    total = Metrics()
    day = first
    while day <= last:
        metrics = daily.get((campaign_id, day))
        if metrics is not None:
            total = total + metrics
        day += dt.timedelta(days=1)
    return total
