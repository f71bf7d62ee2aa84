"""Announcing insights. The one place to wire `notifications.services.notify` once it exists."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from adplatform.models import Organization
from analytics.models import Insight, Severity

logger = logging.getLogger(__name__)


def notify_new_insights(*, organization: Organization, insights: Sequence[Insight]) -> int:
    """Announce newly found high-severity insights; returns how many were announced.

    Until the notifications app is merged this logs one line per insight; replace the
    log call with `notifications.services.notify(organization=..., event=...)`.
    """
    urgent = [i for i in insights if i.severity == Severity.HIGH]
    for insight in urgent:
        logger.warning(
            "High-severity insight",
            extra={
                "organization_id": organization.pk,
                "insight_id": insight.pk,
                "kind": insight.kind,
                "campaign_id": insight.campaign_id,
                "title": insight.title,
            },
        )
    return len(urgent)
