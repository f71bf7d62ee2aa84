"""Reads for automation; the organization always comes first.

The engine's reads are set-based: one query for the targets in a rule's scope and one
for all their campaign-days over the windows the rule needs, whatever the number of
campaigns. Conditions are then judged in Python over that small aggregate.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import Max, Q, QuerySet

from adplatform.models import Organization
from analytics.metrics import Metrics
from automation.engine import Target
from automation.models import ActionStatus, AutomationRule, RuleAction, RuleExecution
from automation.schema import Scope
from campaigns.models import (
    Ad,
    AdGroup,
    Campaign,
    CampaignChange,
    CampaignDailyMetric,
    ChangeKind,
    ChangeStatus,
    DeliveryStatus,
)

# A rule never touches campaigns that are gone from the platform.
TARGETABLE_STATUSES = (DeliveryStatus.ACTIVE, DeliveryStatus.PAUSED)


def list_rules(organization: Organization) -> QuerySet[AutomationRule]:
    return AutomationRule.objects.filter(organization=organization).select_related("owner")


def get_rule(organization: Organization, *, rule_id: int) -> AutomationRule:
    """The rule, or `AutomationRule.DoesNotExist` if it is not this organization's."""
    return AutomationRule.objects.get(organization=organization, pk=rule_id)


def list_executions(
    organization: Organization, *, rule_id: int | None = None
) -> QuerySet[RuleExecution]:
    executions = RuleExecution.objects.filter(organization=organization).select_related("rule")
    if rule_id is not None:
        executions = executions.filter(rule_id=rule_id)
    return executions


def list_rule_actions(
    organization: Organization, *, status: str | None = None
) -> QuerySet[RuleAction]:
    actions = RuleAction.objects.filter(organization=organization).select_related(
        "rule", "campaign", "change"
    )
    if status:
        actions = actions.filter(status=status)
    return actions


def list_pending_approvals(organization: Organization) -> QuerySet[RuleAction]:
    return list_rule_actions(organization, status=ActionStatus.AWAITING_APPROVAL)


def scoped_campaigns(organization: Organization, scope: Scope) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.filter(organization=organization, status__in=TARGETABLE_STATUSES)
    include, exclude = scope.include, scope.exclude
    if include.platforms:
        campaigns = campaigns.filter(ad_account__platform__in=include.platforms)
    if include.ad_account_ids:
        campaigns = campaigns.filter(ad_account_id__in=include.ad_account_ids)
    if include.campaign_ids:
        campaigns = campaigns.filter(pk__in=include.campaign_ids)
    # Ad-group and ad scopes judge the campaigns that hold them; ad-level actions then act
    # only on the ad groups and ads the scope names (`scoped_ad_groups`, `scoped_ads`).
    if include.ad_group_ids:
        campaigns = campaigns.filter(
            pk__in=AdGroup.objects.filter(
                organization=organization, pk__in=include.ad_group_ids
            ).values("campaign_id")
        )
    if include.ad_ids:
        campaigns = campaigns.filter(
            pk__in=Ad.objects.filter(organization=organization, pk__in=include.ad_ids).values(
                "campaign_id"
            )
        )
    excluded = Q()
    if exclude.platforms:
        excluded |= Q(ad_account__platform__in=exclude.platforms)
    if exclude.ad_account_ids:
        excluded |= Q(ad_account_id__in=exclude.ad_account_ids)
    if exclude.campaign_ids:
        excluded |= Q(pk__in=exclude.campaign_ids)
    if excluded:
        campaigns = campaigns.exclude(excluded)
    return campaigns


def list_targets(organization: Organization, scope: Scope) -> list[Target]:
    """The campaigns a rule judges, as plain values (one query)."""
    rows = scoped_campaigns(organization, scope).values_list(
        "pk", "name", "ad_account_id", "ad_account__platform", "status",
        "daily_budget", "bid_amount", "bid_strategy",
    ).order_by("pk")  # fmt: skip
    return [
        Target(
            campaign_id=pk,
            name=name,
            ad_account_id=account_id,
            platform=platform,
            status=status,
            daily_budget=budget,
            bid_amount=bid,
            bid_strategy=strategy,
        )  # fmt: skip
        for pk, name, account_id, platform, status, budget, bid, strategy in rows
    ]


DailyValues = dict[int, dict[dt.date, Metrics]]


def campaign_day_metrics(
    organization: Organization, *, scope: Scope, start: dt.date, end: dt.date
) -> DailyValues:
    """Every in-scope campaign-day in [start, end] from the campaign-day rollup, one query.

    Amounts stay in the account's currency, the unit the budgets they are compared with
    are in (the analytics report would convert them to the organization's).
    """
    rows = CampaignDailyMetric.objects.filter(
        organization=organization,
        date__range=(start, end),
        campaign_id__in=scoped_campaigns(organization, scope).values("pk"),
    ).values_list("campaign_id", "date", "impressions", "clicks", "spend", "conversions",
                  "conversion_value", "reach")  # fmt: skip
    values: DailyValues = defaultdict(dict)
    for campaign_id, day, impressions, clicks, spend, conversions, revenue, reach in rows:
        values[campaign_id][day] = Metrics(
            impressions=impressions,
            clicks=clicks,
            spend=spend or Decimal(0),
            conversions=conversions or Decimal(0),
            revenue=revenue or Decimal(0),
            reach=reach,
        )
    return dict(values)


def last_acted_at(
    organization: Organization, *, rule: AutomationRule, since: dt.datetime
) -> dict[int, dt.datetime]:
    """When this rule last changed each campaign (applied actions after `since`), one query."""
    latest: dict[int, dt.datetime] = {}
    rows = RuleAction.objects.filter(
        organization=organization,
        rule=rule,
        status__in=(ActionStatus.APPLIED, ActionStatus.DRY_RUN),
        finished_at__gte=since,
    ).values_list("campaign_id", "finished_at")
    for campaign_id, finished_at in rows:
        if finished_at and (campaign_id not in latest or finished_at > latest[campaign_id]):
            latest[campaign_id] = finished_at
    return latest


def latest_executions(organization: Organization) -> dict[int, RuleExecution]:
    """The newest execution of each rule, by rule id (two queries, any number of rules)."""
    from django.db.models import Max

    newest = (
        RuleExecution.objects.filter(organization=organization)
        .values("rule_id")
        .annotate(last=Max("pk"))
        .values("last")
    )
    return {
        execution.rule_id: execution
        for execution in RuleExecution.objects.filter(organization=organization, pk__in=newest)
    }


def scoped_ad_groups(
    organization: Organization, scope: Scope, *, campaign_id: int
) -> QuerySet[AdGroup]:
    """The campaign's delivering ad groups an ad-level action may touch under `scope`."""
    groups = AdGroup.objects.filter(
        organization=organization, campaign_id=campaign_id, status=DeliveryStatus.ACTIVE
    )
    if scope.include.ad_group_ids:
        groups = groups.filter(pk__in=scope.include.ad_group_ids)
    if scope.include.ad_ids:
        groups = groups.filter(
            pk__in=Ad.objects.filter(organization=organization, pk__in=scope.include.ad_ids)
            .values("ad_group_id")
        )  # fmt: skip
    if scope.exclude.ad_group_ids:
        groups = groups.exclude(pk__in=scope.exclude.ad_group_ids)
    return groups.order_by("pk")


def scoped_ads(organization: Organization, scope: Scope, *, campaign_id: int) -> QuerySet[Ad]:
    """The campaign's active and paused ads, in delivering ad groups, that `scope` allows."""
    ads = Ad.objects.filter(
        organization=organization,
        campaign_id=campaign_id,
        status__in=TARGETABLE_STATUSES,
        ad_group__in=scoped_ad_groups(organization, scope, campaign_id=campaign_id),
    )
    if scope.include.ad_ids:
        ads = ads.filter(pk__in=scope.include.ad_ids)
    if scope.exclude.ad_ids:
        ads = ads.exclude(pk__in=scope.exclude.ad_ids)
    return ads.select_related("ad_group", "campaign").order_by("ad_group_id", "pk")


def last_paused_at(organization: Organization, *, ad_ids: list[int]) -> dict[int, dt.datetime]:
    """When each ad was last paused through us (applied ad_pause changes), one query."""
    rows = (
        CampaignChange.objects.filter(
            organization=organization,
            ad_id__in=ad_ids,
            kind=ChangeKind.AD_PAUSE,
            status=ChangeStatus.APPLIED,
        )  # fmt: skip
        .values("ad_id")
        .annotate(last=Max("applied_at"))
    )
    return {row["ad_id"]: row["last"] for row in rows if row["last"] is not None}
