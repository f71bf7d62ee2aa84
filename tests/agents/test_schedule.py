"""The weekly account review: registered with beat, one run per organization and week."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from adplatform.models import Organization
from adplatform.periodic import PERIODIC_TASKS
from agents.models import AgentRun
from agents.schedule import start_weekly_reviews
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_the_weekly_review_is_declared_for_celery_beat() -> None:
    (task,) = [t for t in PERIODIC_TASKS if t.task == "agents.tasks.start_weekly_reviews_task"]
    assert task.crontab == "0 5 * * 1"


def test_organizations_with_campaigns_get_one_review_a_week(
    organization: Organization,
    other_organization: Organization,
) -> None:
    CampaignFactory(organization=organization, ad_account__organization=organization)
    now = timezone.now()

    first = start_weekly_reviews(now=now)
    again = start_weekly_reviews(now=now + dt.timedelta(days=1))
    next_week = start_weekly_reviews(now=now + dt.timedelta(days=7))

    runs = AgentRun.objects.filter(task="account_review", params__scheduled=True)
    assert len(first) == 1 and again == [] and len(next_week) == 1
    assert set(runs.values_list("organization_id", flat=True)) == {organization.pk}
    assert not AgentRun.objects.filter(organization=other_organization).exists()
