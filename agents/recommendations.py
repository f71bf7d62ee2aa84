"""Applying and dismissing recommendations: every change goes through campaigns.services."""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from agents.models import Recommendation, RecommendationStatus
from campaigns.models import ChangeStatus
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


def apply_recommendation(*, recommendation: Recommendation) -> Recommendation:
    """Ask campaigns.services for the recommended change, as the agent that proposed it."""
    with transaction.atomic():
        locked = Recommendation.objects.select_for_update().get(pk=recommendation.pk)
        if locked.status != RecommendationStatus.PENDING:
            raise RecommendationError(f"This recommendation is already {locked.status}.")
        locked.status = RecommendationStatus.APPLIED
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "decided_at"])
    campaign = recommendation.campaign
    actor = Actor.for_agent(recommendation.agent)
    reason = f"Recommendation #{recommendation.pk}: {recommendation.title}"[:500]
    key = f"recommendation:{recommendation.pk}"
    params = recommendation.params
    try:
        if recommendation.action == "pause":
            change = pause_campaign(campaign=campaign, actor=actor, reason=reason,
                                    idempotency_key=key)  # fmt: skip
        elif recommendation.action == "activate":
            change = activate_campaign(campaign=campaign, actor=actor, reason=reason,
                                       idempotency_key=key)  # fmt: skip
        elif recommendation.action == "daily_budget":
            change = set_daily_budget(
                campaign=campaign, amount=Decimal(str(params["daily_budget"])), actor=actor,
                reason=reason, idempotency_key=key,
            )  # fmt: skip
        elif recommendation.action == "bid":
            change = set_bid(
                campaign=campaign, amount=Decimal(str(params["bid_amount"])), actor=actor,
                reason=reason, idempotency_key=key,
            )  # fmt: skip
        else:
            raise RecommendationError(f"Unknown action {recommendation.action!r}.")
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
