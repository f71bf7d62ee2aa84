from __future__ import annotations

from django.db import migrations

TASK_NAME = "analytics: send due scheduled reports"


def schedule(apps, schema_editor):
    # Hourly, at minute 5: each run sends the reports whose next_run_at has passed.
    crontab_model = apps.get_model("django_celery_beat", "CrontabSchedule")
    task_model = apps.get_model("django_celery_beat", "PeriodicTask")
    crontab, _ = crontab_model.objects.get_or_create(
        minute="5", hour="*", day_of_week="*", day_of_month="*", month_of_year="*", timezone="UTC"
    )
    task_model.objects.update_or_create(
        name=TASK_NAME,
        defaults={"task": "analytics.tasks.send_due_reports_task", "crontab": crontab, "enabled": True},
    )


def unschedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("analytics", "0002_backfill_account_rollups"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(schedule, unschedule)]
