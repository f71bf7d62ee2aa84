from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, IntervalSchedule
from django_celery_beat.models import PeriodicTask as BeatTask

from adplatform.periodic import PERIODIC_TASKS, PeriodicTask


def _schedule(declared: PeriodicTask) -> dict[str, Any]:
    if declared.every_seconds:
        # Stored in the largest whole unit, so the admin reads "every 6 hours".
        every, period = declared.every_seconds, IntervalSchedule.SECONDS
        for seconds, unit in (
            (86400, IntervalSchedule.DAYS),
            (3600, IntervalSchedule.HOURS),
            (60, IntervalSchedule.MINUTES),
        ):
            if declared.every_seconds % seconds == 0:
                every, period = declared.every_seconds // seconds, unit
                break
        interval, _ = IntervalSchedule.objects.get_or_create(every=every, period=period)
        return {"interval": interval, "crontab": None}
    assert declared.crontab, f"{declared.name} needs every_seconds or crontab"
    minute, hour, day_of_month, month, day_of_week = declared.crontab.split()
    cron, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_month=day_of_month,
        month_of_year=month,
        day_of_week=day_of_week,
    )
    return {"crontab": cron, "interval": None}


class Command(BaseCommand):
    help = "Store the periodic tasks declared in code as django-celery-beat rows."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--reset", action="store_true", help="Restore declared schedules over admin edits."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        for declared in PERIODIC_TASKS:
            if BeatTask.objects.filter(name=declared.name).exists() and not options["reset"]:
                self.stdout.write(f"kept: {declared.name}")
                continue
            BeatTask.objects.update_or_create(
                name=declared.name,
                defaults={
                    "task": declared.task,
                    "kwargs": json.dumps(declared.kwargs),
                    "queue": declared.queue,
                    "enabled": True,
                    **_schedule(declared),
                },
            )
            self.stdout.write(f"stored: {declared.name}")
