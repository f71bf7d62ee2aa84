"""Conflict detection: two enabled rules that can act on the same campaign in the same
window in opposite directions (scale vs pause, raise vs lower a budget or bid, pause vs
activate) fight each other, one undoing the other every day.

A read: the organization's targetable campaigns are fetched once (id, account, platform)
and grouped by account; every rule's scope becomes a set of campaign ids by set operations
per account, and pairs are compared by set intersection. Comparing any number of rules
costs one query for the rules, one for the campaigns and one for the names of the samples.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from adplatform.models import Organization
from automation.models import AutomationRule
from automation.schema import Scope
from automation.selectors import TARGETABLE_STATUSES
from campaigns.models import Campaign

SAMPLE_SIZE = 5


@dataclass(frozen=True)
class Effect:
    """What one action step does to a campaign, for comparing directions."""

    action_type: str
    axis: str  # "status", "budget" or "bid"
    direction: str  # "up", "down" or "set"
    amount: Decimal | None = None


@dataclass(frozen=True)
class Conflict:
    rule_id: int  # the other rule
    rule_name: str
    action: str  # this rule's action
    other_action: str
    campaigns: int  # campaigns both rules can act on
    sample: list[dict[str, Any]]  # up to SAMPLE_SIZE of them: {"id", "name"}


def _amount(step: dict[str, Any], key: str) -> Decimal | None:
    try:
        return Decimal(str(step[key]))
    except (KeyError, InvalidOperation):
        return None


def effects(actions: list[dict[str, Any]]) -> list[Effect]:
    """The directional effects of an action chain (notifications and unknown actions have
    none)."""
    found: list[Effect] = []
    for step in actions:
        kind = step.get("type", "")
        if kind == "pause":
            found.append(Effect(kind, "status", "down"))
        elif kind == "activate":
            found.append(Effect(kind, "status", "up"))
        elif kind == "increase_budget":
            found.append(Effect(kind, "budget", "up"))
        elif kind == "decrease_budget":
            found.append(Effect(kind, "budget", "down"))
        elif kind in ("set_budget", "set_bid"):
            axis = "budget" if kind == "set_budget" else "bid"
            found.append(Effect(kind, axis, "set", _amount(step, "amount")))
        elif kind == "adjust_bid":
            percent = _amount(step, "percent") or Decimal(0)
            if percent:
                found.append(Effect(kind, "bid", "up" if percent > 0 else "down"))
    return found


def opposed(one: Effect, other: Effect) -> bool:
    """Whether two effects pull the same campaign in opposite directions."""
    if one.axis == other.axis:
        if "set" in (one.direction, other.direction):
            # Setting an amount fights any other move of it, except the same amount.
            return not (one.direction == other.direction == "set" and one.amount == other.amount)
        return one.direction != other.direction
    # Pausing fights scaling: raising a budget or bid of what another rule pauses.
    pairs = {(one.axis, one.direction), (other.axis, other.direction)}
    return ("status", "down") in pairs and bool(
        pairs & {("budget", "up"), ("bid", "up"), ("budget", "set"), ("bid", "set")}
    )


def _hours(rule_conditions: dict[str, Any]) -> frozenset[int]:
    hours = (rule_conditions or {}).get("hours")
    if not hours:
        return frozenset(range(24))
    start, end = int(hours["start"]), int(hours["end"])
    if start <= end:
        return frozenset(range(start, end + 1))
    return frozenset([*range(start, 24), *range(0, end + 1)])


# Campaign ids by (platform, ad account): scopes filter on those two and on ids, so a
# scope resolves with set operations per account instead of a test per campaign.
Accounts = dict[tuple[str, int], frozenset[int]]


def _in_scope(accounts: Accounts, scope_data: dict[str, Any]) -> frozenset[int]:
    scope = Scope.model_validate(scope_data or {})
    include, exclude = scope.include, scope.exclude
    chosen: set[int] = set()
    for (platform, account_id), ids in accounts.items():
        if include.platforms and platform not in include.platforms:
            continue
        if include.ad_account_ids and account_id not in include.ad_account_ids:
            continue
        if platform in exclude.platforms or account_id in exclude.ad_account_ids:
            continue
        chosen |= ids
    if include.campaign_ids:
        chosen &= set(include.campaign_ids)
    chosen -= set(exclude.campaign_ids)
    return frozenset(chosen)


def _accounts(organization: Organization) -> Accounts:
    grouped: dict[tuple[str, int], set[int]] = {}
    for campaign_id, account_id, platform in Campaign.objects.filter(
        organization=organization, status__in=TARGETABLE_STATUSES
    ).values_list("id", "ad_account_id", "ad_account__platform"):
        grouped.setdefault((platform, account_id), set()).add(campaign_id)
    return {key: frozenset(ids) for key, ids in grouped.items()}


def _pair(
    rule: AutomationRule,
    targets: frozenset[int],
    other: AutomationRule,
    other_targets: frozenset[int],
) -> tuple[Effect, Effect, frozenset[int]] | None:
    # Cheapest tests first: hours, then directions, then the (possibly large) intersection.
    if not _hours(rule.conditions) & _hours(other.conditions):
        return None  # they never act in the same hours
    for mine in effects(rule.actions):
        for theirs in effects(other.actions):
            if opposed(mine, theirs):
                shared = targets & other_targets
                return (mine, theirs, shared) if shared else None
    return None


def _conflicts(
    organization: Organization, rules: list[AutomationRule], others: list[AutomationRule]
) -> dict[int, list[Conflict]]:
    directional = [r for r in {*rules, *others} if effects(r.actions)]
    if not directional:
        return {}
    accounts = _accounts(organization)
    targets = {rule.pk: _in_scope(accounts, rule.scope) for rule in directional}
    found: dict[int, list[tuple[AutomationRule, Effect, Effect, frozenset[int]]]] = {}
    for rule in rules:
        if rule.pk not in targets:
            continue
        for other in others:
            if other.pk == rule.pk or other.pk not in targets:
                continue
            pair = _pair(rule, targets[rule.pk], other, targets[other.pk])
            if pair is not None:
                found.setdefault(rule.pk, []).append((other, *pair))
    sample_ids = {
        pk
        for pairs in found.values()
        for *_, shared in pairs
        for pk in sorted(shared)[:SAMPLE_SIZE]
    }
    names = dict(
        Campaign.objects.filter(organization=organization, pk__in=sample_ids).values_list(
            "id", "name"
        )
    )
    return {
        rule_id: [
            Conflict(
                rule_id=other.pk,
                rule_name=other.name,
                action=mine.action_type,
                other_action=theirs.action_type,
                campaigns=len(shared),
                sample=[
                    {"id": pk, "name": names.get(pk, "")} for pk in sorted(shared)[:SAMPLE_SIZE]
                ],
            )
            for other, mine, theirs, shared in pairs
        ]
        for rule_id, pairs in found.items()
    }


def rule_conflicts(organization: Organization, rule: AutomationRule) -> list[Conflict]:
    """The enabled rules `rule` would fight (whether or not `rule` itself is enabled, so the
    builder can warn before it is switched on)."""
    assert rule.organization_id == organization.pk
    others = list(AutomationRule.objects.filter(organization=organization, is_enabled=True))
    return _conflicts(organization, [rule], others).get(rule.pk, [])


def organization_conflicts(organization: Organization) -> dict[int, list[Conflict]]:
    """Every enabled rule's conflicts with the other enabled rules, by rule id."""
    enabled = list(AutomationRule.objects.filter(organization=organization, is_enabled=True))
    return _conflicts(organization, enabled, enabled)
