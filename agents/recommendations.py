"""Applying and dismissing recommendations: every change goes through campaigns.services."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from agents.models import Recommendation, RecommendationStatus
from automation.models import AutomationRule
from automation.services.rules import create_rule
from campaigns.models import CampaignChange, ChangeStatus
from campaigns.services import (
    Actor,
    CampaignChangeError,
    activate_campaign,
    pause_campaign,
    set_bid,
    set_daily_budget,
)


class RecommendationError(Exception):
    """The recommendation cannot be applied (already decided, or the change was refused)."""


def request_recommended_change(
    recommendation: Recommendation,
    *,
    actor: Actor,
    reason: str,
    params: dict[str, Any] | None = None,
    **options: Any,
) -> CampaignChange:
    """The recommended change, asked of campaigns.services (guardrails, CampaignChange).

    The one path from a recommendation to the platform, for a person's "apply" and for a
    rule's "AI optimize" step. `params` overrides the recommended amounts (a rule's own
    floor or ceiling may have clipped them); `options` go to campaigns.services
    (idempotency_key, expected_before, dry_run). Raises CampaignChangeError, KeyError (a
    parameter missing) or RecommendationError (an action campaigns.services lacks).
    """
    campaign = recommendation.campaign
    params = params if params is not None else recommendation.params
    if recommendation.action == "pause":
        return pause_campaign(campaign=campaign, actor=actor, reason=reason, **options)
    if recommendation.action == "activate":
        return activate_campaign(campaign=campaign, actor=actor, reason=reason, **options)
    if recommendation.action == "daily_budget":
        return set_daily_budget(
            campaign=campaign, amount=Decimal(str(params["daily_budget"])), actor=actor,
            reason=reason, **options,
        )  # fmt: skip
    if recommendation.action == "bid":
        return set_bid(
            campaign=campaign, amount=Decimal(str(params["bid_amount"])), actor=actor,
            reason=reason, **options,
        )  # fmt: skip
    raise RecommendationError(f"Unknown action {recommendation.action!r}.")


def apply_recommendation(*, recommendation: Recommendation) -> Recommendation:
    """Ask campaigns.services for the recommended change, as the agent that proposed it."""
    with transaction.atomic():
        locked = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        if locked.status != RecommendationStatus.PENDING:
            raise RecommendationError(f"This recommendation is already {locked.status}.")
        locked.status = RecommendationStatus.APPLIED
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at"])
    actor = Actor.for_agent(recommendation.agent)
    reason = f"Recommendation #{recommendation.pk}: {recommendation.title}"[:500]
    try:
        change = request_recommended_change(
            recommendation, actor=actor, reason=reason,
            idempotency_key=f"recommendation:{recommendation.pk}",
        )  # fmt: skip
    except (CampaignChangeError, KeyError, RecommendationError) as exc:
        Recommendation.objects.filter(pk=recommendation.pk).update(
            status=RecommendationStatus.FAILED, error=str(exc)[:2000]
        )
        recommendation.refresh_from_db()
        return recommendation
    status = (
        RecommendationStatus.APPLIED
        if change.status == ChangeStatus.APPLIED
        else RecommendationStatus.FAILED
    )
    Recommendation.objects.filter(pk=recommendation.pk).update(
        status=status, change=change, error=change.error if status == "failed" else ""
    )
    recommendation.refresh_from_db()
    return recommendation


def dismiss_recommendation(*, recommendation: Recommendation) -> Recommendation:
    updated = Recommendation.objects.filter(
        pk=recommendation.pk, status=RecommendationStatus.PENDING
    ).update(status=RecommendationStatus.DISMISSED, decided_at=timezone.now())
    if not updated:
        recommendation.refresh_from_db()
        raise RecommendationError(f"This recommendation is already {recommendation.status}.")
    recommendation.refresh_from_db()
    return recommendation


def rule_from_recommendation(*, recommendation: Recommendation, user: Any = None) -> AutomationRule:
    """A disabled, dry-run rule that keeps doing what the recommendation proposes for its
    campaign: it fires when the agents recommend the same action there again (at least
    as confidently, rounded down to 0.05) and applies their fresh recommendation through
    "AI optimize". A person reviews it, watches its dry runs, then enables it."""
    threshold = math.floor(recommendation.confidence * 20) / 20
    values = {
        "name": f"From recommendation #{recommendation.pk}: {recommendation.title}"[:200],
        "type": "ai_optimization",
        "description": (
            f"Created from recommendation #{recommendation.pk} by {recommendation.agent} "
            f"({recommendation.action}, confidence {recommendation.confidence:.2f})."
        ),
        "is_enabled": False,
        "is_dry_run": True,
        "scope": {"include": {"campaign_ids": [recommendation.campaign_id]}},
        "conditions": {
            "items": [
                {
                    "signal": "ai_recommendation",
                    "action": recommendation.action,
                    "agent": recommendation.agent,
                    "min_confidence": threshold,
                }
            ]
        },  # fmt: skip
        "actions": [
            {
                "type": "ai_optimize",
                "min_confidence": threshold,
                "source": "open",
                "actions": [recommendation.action],
            }
        ],  # fmt: skip
    }
    organization = recommendation.organization
    return create_rule(organization, user=user, values=values)
