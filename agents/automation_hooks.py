"""The agents' side of automation: the "AI recommendation" trigger and the "AI optimize"
action, registered in automation's registries at start-up (automation never imports
agents; import-linter enforces it).

- `ai_recommendation` (a signal condition) holds for a campaign when an open (pending)
  recommendation of the given action, by the given agent if any, at least as confident
  as asked and no older than asked, targets it. Loaded once per rule and pass for all
  the rule's targets in one query.
- `ai_optimize` (an action) takes the campaign's freshest confident open recommendation,
  or asks the offline analyst (Performance Optimizer by default) for one, and applies it
  through the same path as a person's "apply" (`request_recommended_change`), under the
  rule's guardrails and with the rule's claim as idempotency key; below the threshold
  the step is skipped with the reason.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import OrderedDict
from decimal import Decimal
from typing import Any, Literal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, field_validator

from agents.models import Recommendation, RecommendationStatus
from agents.recommendations import RecommendationError, request_recommended_change
from agents.runs import default_as_of
from agents.specialists import (
    AgentReport,
    RecommendationDraft,
    budget_manager_offline,
    check_guardrails,
    performance_optimizer_offline,
)
from agents.tools.data import load_snapshot
from agents.workflow import REVIEW_AGENTS
from automation.engine import StepContext, StepOutcome, Target
from automation.models import AutomationRule, RuleAction
from automation.registry import (
    ACTIONS,
    ActionDefinition,
    ActionSkipped,
    ConditionSignal,
    SignalQuery,
    register_action,
    register_signal,
)
from automation.schema import Guardrails
from campaigns.models import Campaign, CampaignChange, ChangeStatus
from campaigns.services import Actor

RecommendedAction = Literal["any", "pause", "activate", "daily_budget", "bid"]
ChangeAction = Literal["pause", "activate", "daily_budget", "bid"]
ALL_CHANGES: list[ChangeAction] = ["pause", "activate", "daily_budget", "bid"]
# Above this many targets the loader reads the organization's open recommendations and
# keeps the targets' in Python: a long IN list costs more than the few open rows.
MAX_IN_LIST = 500


# --- Trigger ---------------------------------------------------------------------------------
class AIRecommendationCondition(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: RecommendedAction = "any"
    min_confidence: float = Field(ge=0, le=1)
    agent: str | None = None
    max_age_hours: int = Field(default=72, ge=1, le=24 * 30)

    @field_validator("agent")
    @classmethod
    def _known_agent(cls, value: str | None) -> str | None:
        if value is not None and value not in REVIEW_AGENTS:
            raise ValueError(f"Unknown agent {value!r}; choose one of {', '.join(REVIEW_AGENTS)}.")
        return value


def open_recommendations(
    organization_id: int,
    *,
    campaign_ids: list[int],
    min_confidence: float,
    action: str = "any",
    agent: str | None = None,
    since: dt.datetime | None = None,
    open_at: dt.datetime | None = None,
) -> dict[int, Recommendation]:
    """Per campaign, its most confident open recommendation that qualifies (one query):
    open now, or — `open_at`, for a backtest tick — open at that moment (created before
    it, decided after it or not yet)."""
    rows = Recommendation.objects.filter(
        organization_id=organization_id, confidence__gte=min_confidence
    )
    if open_at is None:
        rows = rows.filter(status=RecommendationStatus.PENDING)
    else:
        rows = rows.filter(created_at__lte=open_at).filter(
            Q(decided_at__isnull=True) | Q(decided_at__gt=open_at)
        )
    if len(campaign_ids) <= MAX_IN_LIST:
        rows = rows.filter(campaign_id__in=campaign_ids)
    if action != "any":
        rows = rows.filter(action=action)
    if agent is not None:
        rows = rows.filter(agent=agent)
    if since is not None:
        rows = rows.filter(created_at__gte=since)
    wanted = set(campaign_ids)
    best: dict[int, Recommendation] = {}
    for row in rows.order_by("campaign_id", "-confidence", "-created_at", "-pk"):
        if row.campaign_id in wanted and row.campaign_id not in best:
            best[row.campaign_id] = row
    return best


def load_ai_recommendations(query: SignalQuery) -> dict[int, str]:
    params = query.params
    assert isinstance(params, AIRecommendationCondition)
    found = open_recommendations(
        query.organization_id,
        campaign_ids=query.campaign_ids,
        min_confidence=params.min_confidence,
        action=params.action,
        agent=params.agent,
        since=query.now - dt.timedelta(hours=params.max_age_hours),
        open_at=query.now if query.replay else None,
    )
    return {
        campaign_id: f"#{rec.pk} {rec.agent} {rec.action} confidence {rec.confidence:.2f}"
        for campaign_id, rec in found.items()
    }


# --- Action ----------------------------------------------------------------------------------
class AIOptimizeParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_confidence: float = Field(default=0.8, ge=0, le=1)
    # Which offline analyst to ask when no fresh open recommendation will do.
    agent: Literal["performance_optimizer", "budget_manager"] = "performance_optimizer"
    # "open_or_run": a fresh open recommendation first, else run the agent; "run": always
    # run the agent; "open": only use open recommendations (never run an agent).
    source: Literal["open_or_run", "run", "open"] = "open_or_run"
    max_age_hours: int = Field(default=24, ge=1, le=24 * 30)
    actions: list[ChangeAction] = Field(default_factory=lambda: list(ALL_CHANGES), min_length=1)


def _plan_ai_optimize(context: StepContext) -> StepOutcome:
    # What to change is the agents' answer at run time (`_execute_ai_optimize`); the plan
    # carries the parameters to it. The kind names the step, not a campaign change kind.
    params = AIOptimizeParams.model_validate(context.params).model_dump(mode="json")
    return StepOutcome(kind="ai_optimize", params=params, verdict={"allowed": True})


# A rule matching many campaigns asks the agent once per execution, not once per campaign;
# kept briefly (an approval days later asks afresh).
_REPORTS: OrderedDict[tuple[int, str], tuple[float, dict[int, list[RecommendationDraft]]]] = (
    OrderedDict()
)
_REPORTS_KEPT = 8
_REPORT_SECONDS = 600.0


def _agent_drafts(
    organization: Any, execution_id: int, agent: str
) -> dict[int, list[RecommendationDraft]]:
    key = (execution_id, agent)
    cached = _REPORTS.get(key)
    if cached is not None and time.monotonic() - cached[0] < _REPORT_SECONDS:
        return cached[1]
    snapshot = load_snapshot(organization, as_of=default_as_of(organization))
    report: AgentReport = (
        performance_optimizer_offline(snapshot)
        if agent == "performance_optimizer"
        else budget_manager_offline(snapshot)
    )
    drafts: dict[int, list[RecommendationDraft]] = {}
    for draft in report.recommendations:
        if check_guardrails(draft, snapshot) is None:
            drafts.setdefault(draft.campaign_id, []).append(draft)
    _REPORTS[key] = (time.monotonic(), drafts)
    while len(_REPORTS) > _REPORTS_KEPT:
        _REPORTS.popitem(last=False)
    return drafts


def _ask_agent(
    rule: AutomationRule, action: RuleAction, campaign: Campaign, params: AIOptimizeParams
) -> Recommendation | None:
    """Run the offline analyst and store its best draft for the campaign (pending)."""
    drafts = _agent_drafts(rule.organization, action.execution_id, params.agent)
    usable = [d for d in drafts.get(campaign.pk, []) if d.action in params.actions]
    if not usable:
        return None
    draft = max(usable, key=lambda d: d.confidence)
    # A pass every hour must not pile up copies of the same advice.
    same = Recommendation.objects.filter(
        organization_id=campaign.organization_id, campaign=campaign, agent=draft.agent,
        action=draft.action, params=draft.params, status=RecommendationStatus.PENDING,
        created_at__gte=timezone.now() - dt.timedelta(hours=params.max_age_hours),
    ).first()  # fmt: skip
    if same is not None:
        if same.confidence != draft.confidence:
            same.confidence = draft.confidence
            same.save(update_fields=["confidence"])
        return same
    return Recommendation.objects.create(
        organization_id=campaign.organization_id, agent=draft.agent, campaign=campaign,
        action=draft.action, params=draft.params, title=draft.title[:300],
        rationale=draft.rationale,
        expected_impact=draft.expected_impact.model_dump() if draft.expected_impact else None,
        confidence=draft.confidence,
        evidence={**draft.evidence, "requested_by": f"rule:{rule.pk}"},
    )  # fmt: skip


def _pick(
    rule: AutomationRule, action: RuleAction, campaign: Campaign, params: AIOptimizeParams
) -> Recommendation | None:
    if params.source != "run":
        since = timezone.now() - dt.timedelta(hours=params.max_age_hours)
        found = Recommendation.objects.filter(
            organization_id=campaign.organization_id, campaign=campaign,
            status=RecommendationStatus.PENDING, action__in=params.actions, created_at__gte=since,
        ).order_by("-confidence", "-created_at", "-pk").first()  # fmt: skip
        if found is not None and (
            found.confidence >= params.min_confidence or params.source == "open"
        ):
            return found
        if params.source == "open":
            return None
    return _ask_agent(rule, action, campaign, params)


def _target_of(campaign: Campaign) -> Target:
    return Target(
        campaign_id=campaign.pk, name=campaign.name, ad_account_id=campaign.ad_account_id,
        platform=campaign.ad_account.platform, status=campaign.status,
        daily_budget=campaign.daily_budget, bid_amount=campaign.bid_amount,
        bid_strategy=campaign.bid_strategy,
    )  # fmt: skip


def _guarded(rule: AutomationRule, campaign: Campaign, rec: Recommendation) -> StepOutcome:
    """The recommended change planned as the rule's own step of that kind would be: the
    rule's floor, ceiling and max change apply, and the compare-and-set guard is set."""
    step, step_params = {
        "pause": ("pause", {}), "activate": ("activate", {}),
        "daily_budget": ("set_budget", {"amount": rec.params.get("daily_budget")}),
        "bid": ("set_bid", {"amount": rec.params.get("bid_amount")}),
    }[rec.action]  # fmt: skip
    if any(value is None for value in step_params.values()):
        raise ActionSkipped(f"Recommendation #{rec.pk} has no amount for {rec.action}.")
    context = StepContext(
        target=_target_of(campaign), params=step_params,
        guardrails=Guardrails.model_validate(rule.guardrails or {}),
    )  # fmt: skip
    return ACTIONS[step].plan(context)


def _execute_ai_optimize(
    *, rule: AutomationRule, action: RuleAction, campaign: Campaign, outcome: StepOutcome
) -> CampaignChange:
    params = AIOptimizeParams.model_validate(outcome.params)
    rec = _pick(rule, action, campaign, params)
    if rec is None:
        raise ActionSkipped(f"The {params.agent} has no recommendation for this campaign.")
    if rec.confidence < params.min_confidence:
        raise ActionSkipped(
            f"Recommendation #{rec.pk} ({rec.action}) has confidence {rec.confidence:.2f}, "
            f"below the threshold {params.min_confidence:.2f}."
        )
    planned = _guarded(rule, campaign, rec)
    if planned.is_skipped:
        raise ActionSkipped(f"Recommendation #{rec.pk} ({rec.action}): {planned.skip_reason}")
    if not rule.is_dry_run:
        # Claim the recommendation so a person (or another rule) does not apply it too.
        with transaction.atomic():
            claimed = Recommendation.objects.filter(
                pk=rec.pk, status=RecommendationStatus.PENDING
            ).update(status=RecommendationStatus.APPLIED, decided_at=timezone.now())
        if not claimed:
            raise ActionSkipped(f"Recommendation #{rec.pk} was decided meanwhile.")
    reason = (
        f"Rule {rule.name!r} applied recommendation #{rec.pk} by {rec.agent} "
        f"(confidence {rec.confidence:.2f}): {rec.title}"
    )[:500]
    try:
        change = request_recommended_change(
            rec, actor=Actor.for_rule(rule.pk, rule.name), reason=reason,
            params={name: Decimal(str(v)) for name, v in planned.params.items()},
            idempotency_key=action.idempotency_key, expected_before=planned.expected_before,
            dry_run=rule.is_dry_run,
        )  # fmt: skip
    except (KeyError, RecommendationError) as exc:
        raise ActionSkipped(f"Recommendation #{rec.pk} cannot be applied: {exc}") from exc
    except Exception as exc:
        if not rule.is_dry_run:
            Recommendation.objects.filter(pk=rec.pk).update(
                status=RecommendationStatus.FAILED, error=str(exc)[:2000]
            )
        raise
    if not rule.is_dry_run:
        failed = change.status in (ChangeStatus.FAILED, ChangeStatus.CONFLICT)
        Recommendation.objects.filter(pk=rec.pk).update(
            status=RecommendationStatus.FAILED if failed else RecommendationStatus.APPLIED,
            change=change, error=(change.error or change.status) if failed else "",
        )  # fmt: skip
    return change


def register() -> None:
    register_signal(
        ConditionSignal(
            name="ai_recommendation",
            label="AI recommendation (an agent's open recommendation)",
            params=AIRecommendationCondition,
            load=load_ai_recommendations,
        )
    )
    register_action(
        ActionDefinition(
            name="ai_optimize",
            label="AI optimize (apply the agents' recommendation above a confidence)",
            params=AIOptimizeParams,
            plan=_plan_ai_optimize,
            execute=_execute_ai_optimize,
        )
    )
