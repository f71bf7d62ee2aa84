from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand
from django_celery_beat.models import CrontabSchedule, IntervalSchedule
from django_celery_beat.models import PeriodicTask as BeatTask

from adplatform.periodic import PERIODIC_TASKS


class Command(BaseCommand):
    help = "Create or update the django-celery-beat rows for every periodic task declared in code."

    def handle(self, *args: Any, **options: Any) -> None:
        for declared in PERIODIC_TASKS:
            defaults: dict[str, Any] = {"task": declared.task, "queue": declared.queue}
            if declared.every_seconds:
                schedule, _ = IntervalSchedule.objects.get_or_create(
                    every=declared.every_seconds, period=IntervalSchedule.SECONDS
                )
                defaults.update(interval=schedule, crontab=None)
            else:
                assert declared.crontab, f"{declared.name} needs every_seconds or crontab"
                minute, hour, day_of_month, month, day_of_week = declared.crontab.split()
                cron, _ = CrontabSchedule.objects.get_or_create(
                    minute=minute,
                    hour=hour,
                    day_of_month=day_of_month,
                    month_of_year=month,
                    day_of_week=day_of_week,
                )
                defaults.update(crontab=cron, interval=None)
            _, created = BeatTask.objects.update_or_create(name=declared.name, defaults=defaults)
            self.stdout.write(f"{'created' if created else 'updated'} {declared.name}")
        self.stdout.write(self.style.SUCCESS(f"{len(PERIODIC_TASKS)} periodic task(s) declared."))
