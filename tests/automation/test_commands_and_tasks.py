from __future__ import annotations

import datetime as dt

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from adplatform.models import Organization
from adplatform.periodic import PERIODIC_TASKS
from automation.models import AutomationRule, RuleExecution
from automation.services import claim_due_rules
from automation.tasks import evaluate_rules_task
from tests.automation.factories import RuleFactory

pytestmark = pytest.mark.django_db


def test_seed_demo_rules_adds_the_gallery_once(organization: Organization) -> None:
    call_command("seed_demo_rules", "--org", organization.slug)
    call_command("seed_demo_rules", "--org", organization.slug)

    rules = {r.name: r.is_enabled for r in AutomationRule.objects.filter(organization=organization)}
    assert rules == {
        "Budget protection": True,
        "Pause high-CPA campaigns": True,
        "Scale winners by 20%": True,
        "Rotate fatigued creatives": True,
        "Night-time pause": False,
    }


def test_seed_demo_rules_needs_the_organization(db: None) -> None:
    with pytest.raises(CommandError):
        call_command("seed_demo_rules", "--org", "nowhere")


def test_the_evaluation_task_is_registered_every_fifteen_minutes() -> None:
    [task] = [t for t in PERIODIC_TASKS if t.task == "automation.tasks.evaluate_rules_task"]
    assert task.every_seconds == 900


def test_the_periodic_task_runs_due_enabled_rules_once_per_slot(organization: Organization) -> None:
    due = RuleFactory(organization=organization, is_dry_run=True)
    RuleFactory(organization=organization, is_enabled=False)
    RuleFactory(organization=organization, frequency="daily", last_run_at=dt.datetime.now(dt.UTC))

    assert evaluate_rules_task.delay().get() == 1
    assert claim_due_rules() == []  # claimed: the same slot does not run it again

    assert list(RuleExecution.objects.values_list("rule_id", flat=True)) == [due.pk]
