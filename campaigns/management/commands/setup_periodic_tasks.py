from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from campaigns.models import SyncKind

# name -> (task, kwargs, every, period). Operators may edit them in the admin afterwards;
# running this again keeps their edits unless --reset.
PERIODIC_TASKS = {
    # Campaigns, ad groups and ads change rarely; four reads a day catch edits made
    # directly on the platform.
    "Sync structure of every connection": (
        "campaigns.tasks.sync_due_connections_task",
        {"kind": SyncKind.STRUCTURE},
        6,
        IntervalSchedule.HOURS,
    ),
    # Metrics hourly: today's numbers move, and the lookback window picks up restatements.
    "Sync metrics of every connection": (
        "campaigns.tasks.sync_due_connections_task",
        {"kind": SyncKind.METRICS},
        1,
        IntervalSchedule.HOURS,
    ),
}


class Command(BaseCommand):
    help = "Store the periodic tasks (django-celery-beat rows) that keep data in sync."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Restore the default schedules and arguments."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for name, (task, kwargs, every, period) in PERIODIC_TASKS.items():
            schedule, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
            existing = PeriodicTask.objects.filter(name=name).first()
            if existing is not None and not options["reset"]:
                self.stdout.write(f"kept: {name}")
                continue
            PeriodicTask.objects.update_or_create(
                name=name,
                defaults={
                    "task": task,
                    "interval": schedule,
                    "crontab": None,
                    "kwargs": json.dumps(kwargs),
                    "enabled": True,
                },
            )
            self.stdout.write(f"stored: {name} (every {every} {period})")
