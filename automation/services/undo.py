"""One-click undo of a rule's applied status, budget or bid change.

The undo is a new change through `campaigns.services` (so the platform is called and a
`CampaignChange` recorded, pointing at the change it `undoes`), compare-and-set against
the value the rule left: if anything changed the campaign since, nothing is overwritten.
The rule's budget guardrails apply to the undo as to the rule, and the undo is audited.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction

from adplatform.audit import record_audit
from adplatform.models import AuditAction, Organization
from automation.models import ActionStatus, RuleAction
from automation.schema import Guardrails
from campaigns.models import CampaignChange, ChangeKind, ChangeLevel, ChangeStatus
from campaigns.services.changes import Actor, CampaignChangeError, request_campaign_change

# What undoes what, and the field compared before acting.
REVERSE_KIND: dict[str, str] = {
    ChangeKind.PAUSE: ChangeKind.ACTIVATE,
    ChangeKind.ACTIVATE: ChangeKind.PAUSE,
    ChangeKind.DAILY_BUDGET: ChangeKind.DAILY_BUDGET,
    ChangeKind.BID: ChangeKind.BID,
}
FIELD: dict[str, str] = {
    ChangeKind.PAUSE: "status",
    ChangeKind.ACTIVATE: "status",
    ChangeKind.DAILY_BUDGET: "daily_budget",
    ChangeKind.BID: "bid_amount",
}
ACTIVE_UNDO_STATUSES = (ChangeStatus.PENDING, ChangeStatus.APPLYING, ChangeStatus.APPLIED)


class UndoError(Exception):
    """The action cannot be undone; `errors` maps a field to messages (API: 400/409)."""

    def __init__(self, errors: dict[str, list[str]], *, conflict: bool = False) -> None:
        super().__init__("; ".join(m for msgs in errors.values() for m in msgs))
        self.errors = errors
        self.conflict = conflict


def undo_blocker(action: RuleAction) -> str | None:
    """Why `action` cannot be undone (None if it can), without touching the platform.
    `action.change` should be selected with the action."""
    change = action.change
    if action.status != ActionStatus.APPLIED or change is None:
        return "Only an applied change can be undone."
    if change.status != ChangeStatus.APPLIED or change.is_dry_run:
        return "Only an applied change can be undone."
    if change.level != ChangeLevel.CAMPAIGN:
        # A rotation or audience widening touched ads or ad groups, not the campaign the
        # reverse change would go to.
        return f"An {change.get_level_display().lower()}-level change cannot be undone here."
    if change.kind not in REVERSE_KIND:
        return f"A {change.get_kind_display().lower()} change cannot be undone."
    field = FIELD[change.kind]
    if change.before.get(field) in (None, "") or change.after.get(field) in (None, ""):
        return "The change did not record the values to go back to."
    return None


def _same(field: str, live: Any, recorded: str) -> bool:
    if field == "status":
        return str(live) == recorded
    return live is not None and Decimal(str(live)) == Decimal(recorded)


def _check_guardrails(action: RuleAction, field: str, current: str, target: str) -> None:
    if field != "daily_budget":
        return
    guardrails = Guardrails.model_validate(action.rule.guardrails or {})
    old, new = Decimal(current), Decimal(target)
    errors: list[str] = []
    if guardrails.budget_floor is not None and new < guardrails.budget_floor:
        errors.append(f"{new} is below the rule's budget floor {guardrails.budget_floor}.")
    if guardrails.budget_ceiling is not None and new > guardrails.budget_ceiling:
        errors.append(f"{new} is above the rule's budget ceiling {guardrails.budget_ceiling}.")
    limit = guardrails.max_budget_change_pct
    if limit is not None and old and abs(new - old) * 100 / old > limit:
        pct = (abs(new - old) * 100 / old).quantize(Decimal("0.1"))
        errors.append(f"A change of {pct}% exceeds the rule's limit of {limit}%.")
    if errors:
        raise UndoError({"guardrails": errors})


def undo_rule_action(
    organization: Organization, *, action_id: int, actor: Actor, user: User | None = None
) -> CampaignChange:
    """Revert the change a rule's action applied. Raises RuleAction.DoesNotExist (not this
    organization's), UndoError (not undoable, already undone, changed since, guardrail)."""
    action = RuleAction.objects.select_related("change", "campaign", "rule").get(
        organization=organization, pk=action_id
    )
    blocker = undo_blocker(action)
    if blocker:
        raise UndoError({"status": [blocker]})
    change = action.change
    assert change is not None
    if CampaignChange.objects.filter(undoes=change, status__in=ACTIVE_UNDO_STATUSES).exists():
        raise UndoError({"status": ["This change has already been undone."]}, conflict=True)
    field = FIELD[change.kind]
    campaign = action.campaign
    left, restore = str(change.after[field]), str(change.before[field])
    live = getattr(campaign, field)
    if not _same(field, live, left):
        raise UndoError(
            {field: [f"The campaign changed since the rule acted (now {live}); nothing undone."]},
            conflict=True,
        )
    _check_guardrails(action, field, left, restore)
    kind = REVERSE_KIND[change.kind]
    params: dict[str, Any] = {} if field == "status" else {field: Decimal(restore)}
    attempts = CampaignChange.objects.filter(undoes=change).count()
    try:
        undo = request_campaign_change(
            campaign=campaign,
            kind=kind,
            actor=actor,
            params=params,
            reason=f"Undo of change {change.pk} made by rule {action.rule.name!r}",
            # A double click finds the first attempt's change; a failed attempt may be retried.
            idempotency_key=f"undo:change:{change.pk}:{attempts}",
            # As the live value reads, so campaigns.services' comparison matches it.
            expected_before={field: str(live)},
        )
    except CampaignChangeError as exc:
        raise UndoError(exc.errors) from exc
    with transaction.atomic():
        CampaignChange.objects.filter(pk=undo.pk, undoes__isnull=True).update(undoes=change)
        undo.undoes = change
        record_audit(
            action=AuditAction.RULE_CHANGED, organization=organization, user=user,
            target=f"rule:{action.rule_id}",
            data={"event": "action_undone", "action": action.pk, "change": change.pk,
                  "undo_change": undo.pk, "status": undo.status},
        )  # fmt: skip
    return undo


def undone_change_ids(organization: Organization, change_ids: list[int]) -> set[int]:
    """Which of these changes already have an undo (one query, for lists of actions)."""
    return set(
        CampaignChange.objects.filter(
            organization=organization, undoes_id__in=change_ids, status__in=ACTIVE_UNDO_STATUSES
        ).values_list("undoes_id", flat=True)
    )
