"""The weekly account review of every organization, started by Celery beat."""

from __future__ import annotations

import datetime as dt
import logging

from django.utils import timezone

from adplatform.models import Organization
from agents.models import AgentRun, AgentTask
from agents.runs import start_run
from campaigns.models import Campaign

logger = logging.getLogger(__name__)

# A scheduled review is skipped when the last one is younger than this (a beat that
# fires twice, or an operator running the task by hand, starts nothing new).
MIN_INTERVAL = dt.timedelta(days=6)


def start_weekly_reviews(*, now: dt.datetime | None = None) -> list[int]:
    """Queue an account review for each organization with campaigns; returns the run ids."""
    now = now or timezone.now()
    recent = set(
        AgentRun.objects.filter(
            task=AgentTask.ACCOUNT_REVIEW,
            params__scheduled=True,
            created_at__gte=now - MIN_INTERVAL,
        ).values_list("organization_id", flat=True)
    )
    with_campaigns = Campaign.objects.values_list("organization_id", flat=True).distinct()
    started = []
    for organization in Organization.objects.filter(pk__in=with_campaigns).order_by("pk"):
        if organization.pk in recent:
            continue
        run = start_run(
            organization=organization, task=AgentTask.ACCOUNT_REVIEW, params={"scheduled": True}
        )
        started.append(run.pk)
    logger.info("queued %d weekly account reviews", len(started))
    return started
