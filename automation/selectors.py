"""Reads for automation; the organization always comes first.

The engine's reads are set-based: one query for the targets in a rule's scope and one
for all their campaign-days over the windows the rule needs, whatever the number of
campaigns. Conditions are then judged in Python over that small aggregate.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    BooleanField,
    Case,
    Count,
    DecimalField,
    FilteredRelation,
    Max,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)

from adplatform.bulk import is_postgresql
from adplatform.models import Organization
from analytics.metrics import Metrics
from automation.engine import Span, Target, WindowSums, needed_measures
from automation.models import ActionStatus, AutomationRule, RuleAction, RuleExecution
from automation.prefilter import prefilter, prefilter_sql
from automation.schema import RuleDefinition, Scope
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


def scope_filter(scope: Scope) -> Q:
    """The scope as a condition on campaigns (empty: every campaign)."""
    include, exclude = scope.include, scope.exclude
    condition = Q()
    if include.platforms:
        condition &= Q(ad_account__platform__in=include.platforms)
    if include.ad_account_ids:
        condition &= Q(ad_account_id__in=include.ad_account_ids)
    if include.campaign_ids:
        condition &= Q(pk__in=include.campaign_ids)
    # Ad-group and ad scopes judge the campaigns that hold them; ad-level actions then act
    # only on the ad groups and ads the scope names (`scoped_ad_groups`, `scoped_ads`).
    # The caller filters campaigns by organization, so foreign ids here select nothing.
    if include.ad_group_ids:
        condition &= Q(
            pk__in=AdGroup.objects.filter(pk__in=include.ad_group_ids).values("campaign_id")
        )
    if include.ad_ids:
        condition &= Q(pk__in=Ad.objects.filter(pk__in=include.ad_ids).values("campaign_id"))
    excluded = Q()
    if exclude.platforms:
        excluded |= Q(ad_account__platform__in=exclude.platforms)
    if exclude.ad_account_ids:
        excluded |= Q(ad_account_id__in=exclude.ad_account_ids)
    if exclude.campaign_ids:
        excluded |= Q(pk__in=exclude.campaign_ids)
    if excluded:
        condition &= ~excluded
    return condition


def scoped_campaigns(organization: Organization, scope: Scope) -> QuerySet[Campaign]:
    campaigns = Campaign.objects.filter(organization=organization, status__in=TARGETABLE_STATUSES)
    condition = scope_filter(scope)
    return campaigns.filter(condition) if condition else campaigns


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
# The measures summed over each span (`automation.engine.needed_measures`).
Measures = dict[Span, frozenset[str]]


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


def campaign_window_sums(
    organization: Organization,
    *,
    scope: Scope,
    spans: list[Span],
    measures: Measures | None = None,
    having: tuple[Q, dict[str, Any]] | None = None,
) -> dict[int, WindowSums]:
    """Each in-scope campaign's measures summed over each span, one query and one row per
    campaign (conditional sums), whatever the number of days. Same units as
    `campaign_day_metrics`, whose day-by-day values summed in Python give the same sums.

    `measures` names what is summed over each span (default: everything); `having`
    (from `automation.prefilter`) keeps only the campaigns that may match."""
    if not spans:
        return {}
    measures = measures or dict.fromkeys(spans, _ALL_MEASURES)
    fields: tuple[str, ...] = ("pk", "daily_budget")
    rows: QuerySet[Campaign, dict[str, Any]] = (
        _with_sums(scoped_campaigns(organization, scope), spans)
        .values(*fields)
        .annotate(**_sums(spans, measures))
        .order_by()
    )
    if having is not None:
        condition, compared = having
        rows = rows.annotate(**compared).filter(condition)
    return {row["pk"]: _window_sums(row, spans) for row in rows}


def _with_sums(campaigns: QuerySet[Campaign], spans: list[Span]) -> QuerySet[Campaign]:
    # From the campaigns, left-joined to their rollup rows of the days needed (the join
    # condition, not a WHERE, restricts the days): a campaign without data still gets a
    # row of zero sums, so the prefilter judges it as the engine would.
    first, last = min(start for start, _ in spans), max(end for _, end in spans)
    return campaigns.annotate(
        days=FilteredRelation(
            "campaign_daily_metrics", condition=Q(campaign_daily_metrics__date__range=(first, last))
        )
    )


def _sums(spans: list[Span], measures: Measures) -> dict[str, Sum]:
    sums: dict[str, Sum] = {}
    for index, span in enumerate(spans):
        within = Q(days__date__range=span)
        for measure, column in _MEASURES:
            if measure in measures[span]:
                sums[f"s{index}_{measure}"] = Sum(f"days__{column}", filter=within)
    return sums


@dataclass(frozen=True)
class Candidates:
    """What one rule of a batch judges: its campaigns that may match, their sums, and how
    many campaigns its scope holds."""

    targets: list[Target]
    values: dict[int, WindowSums]
    in_scope: int


def rule_candidates(
    organization: Organization, *, definitions: list[RuleDefinition], as_of: dt.date
) -> list[Candidates]:
    """For several rules of one organization at once, two queries in all (one on
    PostgreSQL): each rule's campaigns that may match (its scope and SQL prefilter, as
    flags) with their targets' values and span sums, and each rule's number of campaigns
    in scope. Rules with late-data conditions are not batched (their spans depend on the
    learned curves)."""
    measures: dict[Span, frozenset[str]] = {}
    for definition in definitions:
        for span, needed in needed_measures(definition, as_of).items():
            measures[span] = measures.get(span, frozenset()) | needed
    spans = sorted(measures)
    scopes = [scope_filter(definition.scope) for definition in definitions]
    campaigns = Campaign.objects.filter(organization=organization, status__in=TARGETABLE_STATUSES)
    if not all(scopes):
        union = Q()  # a rule over every campaign
    else:
        union = Q()
        for scope in scopes:
            union |= scope
    base = campaigns.filter(union) if union else campaigns
    if is_postgresql() and spans:
        return _read_candidates(organization, base, definitions, scopes, measures, as_of)
    counted = campaigns.aggregate(
        **{f"n{i}": Count("pk", filter=scope) if scope else Count("pk")
           for i, scope in enumerate(scopes)}
    )  # fmt: skip
    found = [Candidates([], {}, in_scope=counted[f"n{i}"]) for i in range(len(definitions))]
    compared: dict[str, Any] = {}
    flags: dict[str, Any] = {}
    for i, definition in enumerate(definitions):
        condition = scopes[i]
        having = prefilter(definition, as_of, spans, prefix=f"r{i}_")
        if having is not None:
            compared.update(having[1])
            condition = condition & having[0] if condition else having[0]
        flags[f"m{i}"] = (
            Case(
                When(condition, then=Value(True)), default=Value(False), output_field=BooleanField()
            )
            if condition
            else Value(True, output_field=BooleanField())
        )
    may_match = Q()
    for name in flags:
        may_match |= Q(**{name: True})
    fields = ("pk", "name", "ad_account_id", "ad_account__platform", "status", "daily_budget",
              "bid_amount", "bid_strategy")  # fmt: skip
    rows = (
        _with_sums(base, spans).values(*fields).annotate(**_sums(spans, measures)).order_by("pk")
        .annotate(**compared).annotate(**flags).filter(may_match)
    )  # fmt: skip
    for row in rows:
        target = Target(
            campaign_id=row["pk"], name=row["name"], ad_account_id=row["ad_account_id"],
            platform=row["ad_account__platform"], status=row["status"],
            daily_budget=row["daily_budget"], bid_amount=row["bid_amount"],
            bid_strategy=row["bid_strategy"],
        )  # fmt: skip
        windows = _window_sums(row, spans)
        for i, candidates in enumerate(found):
            if row[f"m{i}"]:
                candidates.targets.append(target)
                candidates.values[target.campaign_id] = windows
    return found


_TARGET_FIELDS = ("pk", "name", "ad_account_id", "ad_account__platform", "status",
                  "daily_budget", "bid_amount", "bid_strategy")  # fmt: skip


def _read_candidates(
    organization: Organization,
    campaigns: QuerySet[Campaign],
    definitions: list[RuleDefinition],
    scopes: list[Q],
    measures: Measures,
    as_of: dt.date,
) -> list[Candidates]:
    """`rule_candidates`' read on PostgreSQL: the organization's rollup rows summed per
    campaign first (a derived table, which the prefilter then reads as plain columns),
    joined to the campaigns in scope; a rule's flag is its scope and its prefilter. The
    ORM's form of the same read groups the join by campaign and repeats every sum the
    prefilter names in its HAVING, which costs more to build and to run. Each rule's
    number of campaigns in scope is counted over the join (a window), and the first
    campaign is always returned to carry the counts."""
    spans = sorted(measures)
    flagged = {
        f"sc{i}": Case(When(scope, then=Value(True)), default=Value(False),
                       output_field=BooleanField())
        for i, scope in enumerate(scopes) if scope
    }  # fmt: skip
    campaign_sql, campaign_params = (
        campaigns.values(*_TARGET_FIELDS).annotate(**flagged).order_by().query.sql_with_params()
    )
    columns = [
        (f"s{index}_{measure}", column, span)
        for index, span in enumerate(spans)
        for measure, column in _MEASURES
        if measure in measures[span]
    ]
    sums_sql, sums_params = (
        CampaignDailyMetric.objects.filter(
            organization=organization, date__range=(spans[0][0], max(end for _, end in spans))
        )
        .values("campaign_id")
        .annotate(
            **{name: Sum(column, filter=Q(date__range=span)) for name, column, span in columns}
        )
        .order_by()
        .query.sql_with_params()
    )
    flags: list[str] = []
    flag_params: list[Any] = []
    for i, definition in enumerate(definitions):
        parts = [f'c."sc{i}"'] if f"sc{i}" in flagged else []
        having = prefilter_sql(definition, as_of, spans, sums="s", budget='c."daily_budget"')
        if having is not None:
            parts.append(having[0])
            flag_params += having[1]
        flags.append(f"COALESCE({' AND '.join(parts)}, FALSE)" if parts else "TRUE")
    counts = [
        f'COUNT(*) FILTER (WHERE c."sc{i}") OVER ()' if f"sc{i}" in flagged else "COUNT(*) OVER ()"
        for i in range(len(definitions))
    ]
    selected = ", ".join(
        [f'c."{name}"' for name in _TARGET_FIELDS]
        + [f's."{name}"' for name, _, _ in columns]
        + [f"{flag} AS m{i}" for i, flag in enumerate(flags)]
        + counts
        + ['ROW_NUMBER() OVER (ORDER BY c."pk") AS "first"']
    )
    any_flag = " OR ".join(f"r.m{i}" for i in range(len(flags)))
    sql = (
        f"SELECT * FROM (SELECT {selected} FROM ({campaign_sql}) c"
        f' LEFT JOIN ({sums_sql}) s ON s."campaign_id" = c."pk") r'
        f' WHERE {any_flag} OR r."first" = 1 ORDER BY r."pk"'
    )
    width = len(_TARGET_FIELDS)
    position = {name: width + offset for offset, (name, _, _) in enumerate(columns)}
    # Where each span's measures are in a row (None: not summed, zero).
    layout = [
        (span, [position.get(f"s{index}_{measure}") for measure, _ in _MEASURES])
        for index, span in enumerate(spans)
    ]
    first_flag = width + len(columns)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*flag_params, *campaign_params, *sums_params])
        rows = cursor.fetchall()
    first_count = first_flag + len(definitions)
    in_scope = rows[0][first_count : first_count + len(definitions)] if rows else ()
    found = [
        Candidates([], {}, in_scope=in_scope[i] if rows else 0) for i in range(len(definitions))
    ]
    zero = Decimal(0)
    for row in rows:
        target = Target(*row[:width])
        windows = WindowSums()
        for span, at in layout:
            # PostgreSQL's sums keep the columns' scale (no quantizing, see `_amount`);
            # its sums of integers are numeric, back to int as the ORM gives them.
            impressions, clicks, spend, conversions, revenue, reach = (
                None if place is None else row[place] for place in at
            )
            windows[span] = Metrics(
                int(impressions or 0), int(clicks or 0), zero if spend is None else spend,
                zero if conversions is None else conversions,
                zero if revenue is None else revenue, int(reach or 0),
            )  # fmt: skip
        for i, candidates in enumerate(found):
            if row[first_flag + i]:
                candidates.targets.append(target)
                candidates.values[target.campaign_id] = windows
    return found


def _window_sums(row: dict[str, Any], spans: list[Span]) -> WindowSums:
    # A measure not summed (no rule reads it over that span) stays zero.
    windows = WindowSums()
    for index, span in enumerate(spans):
        windows[span] = Metrics(
            impressions=row.get(f"s{index}_impressions") or 0,
            clicks=row.get(f"s{index}_clicks") or 0,
            spend=_amount(row.get(f"s{index}_spend"), "spend"),
            conversions=_amount(row.get(f"s{index}_conversions"), "conversions"),
            revenue=_amount(row.get(f"s{index}_revenue"), "revenue"),
            reach=row.get(f"s{index}_reach") or 0,
        )
    return windows


def _amount(value: Decimal | None, measure: str) -> Decimal:
    # SQLite sums decimals as floats; back to the columns' scale, as PostgreSQL keeps it.
    if value is None:
        return Decimal(0)
    return value.quantize(_SCALES[measure])


_MEASURES = (
    ("impressions", "impressions"),
    ("clicks", "clicks"),
    ("spend", "spend"),
    ("conversions", "conversions"),
    ("revenue", "conversion_value"),
    ("reach", "reach"),
)


def _decimal_places(column: str) -> int:
    field = CampaignDailyMetric._meta.get_field(column)
    assert isinstance(field, DecimalField)
    return field.decimal_places


_ALL_MEASURES = frozenset(measure for measure, _ in _MEASURES)
_SCALES = {
    measure: Decimal(1).scaleb(-_decimal_places(column))
    for measure, column in _MEASURES if measure in ("spend", "conversions", "revenue")
}  # fmt: skip


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


def last_acted_by_rule(
    organization: Organization, *, rules: dict[int, dt.datetime]
) -> dict[int, dict[int, dt.datetime]]:
    """`last_acted_at` for several rules (rule id -> since), one query."""
    latest: dict[int, dict[int, dt.datetime]] = defaultdict(dict)
    if not rules:
        return {}
    rows = RuleAction.objects.filter(
        organization=organization,
        rule_id__in=list(rules),
        status__in=(ActionStatus.APPLIED, ActionStatus.DRY_RUN),
        finished_at__gte=min(rules.values()),
    ).values_list("rule_id", "campaign_id", "finished_at")
    for rule_id, campaign_id, finished_at in rows:
        if finished_at is None or finished_at < rules[rule_id]:
            continue
        known = latest[rule_id].get(campaign_id)
        if known is None or finished_at > known:
            latest[rule_id][campaign_id] = finished_at
    return dict(latest)


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
