"""Celery entry points of analytics: ids in, one service call inside."""

from __future__ import annotations

import datetime as dt

from celery import shared_task

from adplatform.models import Organization


@shared_task(acks_late=True, ignore_result=True)
def compute_insights_task(
    organization_id: int, as_of: str | None = None, trigger: str = "sync"
) -> int:
    """Recompute insights for one organization; the sync calls this after each metrics sync.

    `as_of` is an ISO date (default: yesterday in the organization's time zone). Returns
    the id of the `InsightRun`.
    """
    from analytics.services.insights import compute_insights

    organization = Organization.objects.get(pk=organization_id)
    run = compute_insights(
        organization=organization,
        as_of=dt.date.fromisoformat(as_of) if as_of else None,
        trigger=trigger,
    )
    return run.pk


@shared_task(acks_late=True, ignore_result=True)
def send_due_reports_task() -> int:
    """Send every scheduled report whose time has come (run hourly by beat)."""
    from analytics.services.reports import send_due_reports

    return send_due_reports()
