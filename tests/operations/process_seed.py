"""Prepare the database the real processes of test_processes.py run on.

Run as a script (not imported by pytest) with DATABASE_URL pointing at that database:
`python tests/operations/process_seed.py prepare` migrates it, empties it and seeds one
organization (owner, API key, a sandbox connection with its ad accounts, an enabled rule)
and schedules the metrics sync to run as soon as beat starts. Prints one JSON line.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_celery_beat.models import PeriodicTask  # noqa: E402

SYNC_TASK = "Sync metrics of every connection"


def _run_now(name: str) -> None:
    """Make beat run the stored task once, as soon as it sees the row: a one-off task whose
    start time has come (django-celery-beat treats a never-run task with a start time as
    due immediately). Saving through the model tells a running beat the schedule changed."""
    task = PeriodicTask.objects.get(name=name)
    task.enabled = True
    task.one_off = True
    task.start_time = timezone.now() - dt.timedelta(seconds=1)
    task.last_run_at = None
    task.total_run_count = 0
    task.save()


def prepare() -> dict[str, object]:
    from adplatform.models import Role
    from adplatform.services import add_member, create_api_key, create_organization
    from automation.services import create_rule
    from campaigns.services.connections import import_ad_accounts
    from integrations.services import create_sandbox_connection

    call_command("migrate", interactive=False, verbosity=0)
    call_command("flush", interactive=False, verbosity=0)
    call_command("setup_periodic_tasks", reset=True, verbosity=0)
    # Only the two tasks under test run; the others keep their stored schedules but off.
    PeriodicTask.objects.exclude(name="celery.backend_cleanup").update(enabled=False)
    _run_now(SYNC_TASK)

    organization = create_organization(name="Process Check", slug="process-check")
    user = get_user_model()._default_manager.create_user(
        username="ops-owner", email="ops-owner@example.com", password="unused-password"
    )
    add_member(organization=organization, user=user, role=Role.OWNER)
    issued = create_api_key(organization=organization, name="process test", role=Role.MEMBER)
    connection = create_sandbox_connection(organization=organization, platform="meta", seed=7)
    import_ad_accounts(connection=connection)
    rule = create_rule(
        organization,
        user=None,
        values={
            "name": "Tell us about every campaign with impressions",
            "type": "performance",
            "frequency": "15m",
            "conditions": {
                "operator": "and",
                "items": [
                    {
                        "metric": "impressions",
                        "window": "last_7_days",
                        "operator": "gte",
                        "value": "0",
                    }
                ],
            },  # fmt: skip
            "actions": [{"type": "notify", "priority": "high"}],
            "guardrails": {"cooldown_hours": 1, "max_actions_per_run": 5},
            "is_enabled": True,
        },
    )
    return {
        "organization_id": organization.pk,
        "connection_id": connection.pk,
        "rule_id": rule.pk,
        "api_key": issued.raw_key,
    }


if __name__ == "__main__":
    assert sys.argv[1:] == ["prepare"], "usage: process_seed.py prepare"
    print("RESULT " + json.dumps(prepare()), flush=True)
