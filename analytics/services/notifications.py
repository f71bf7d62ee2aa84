"""Announcing insights: the one place analytics tells an organization's members."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.urls import reverse

from adplatform.models import Organization
from analytics.models import Insight, Severity
from notifications.registry import AI_INSIGHT, Priority
from notifications.services import notify

logger = logging.getLogger(__name__)


def notify_new_insights(*, organization: Organization, insights: Sequence[Insight]) -> int:
    """Announce newly found high-severity insights; returns how many were announced.

    The same insight found again (same fingerprint) updates the existing notification's
    count instead of adding one.
    """
    urgent = [i for i in insights if i.severity == Severity.HIGH]
    for insight in urgent:
        logger.info("High-severity insight %s", insight.pk, extra={"kind": insight.kind})
        notify(
            organization,
            AI_INSIGHT.key,
            {
                "headline": insight.title,
                "summary": insight.summary,
                "confidence": f"{insight.confidence:.0%}",
                "url": reverse("analytics:dashboard"),
                "insight_id": insight.pk,
                "campaign_id": insight.campaign_id,
            },
            priority=Priority.HIGH,
            subject=f"insight:{insight.fingerprint}",
            source="analytics",
        )
    return len(urgent)
