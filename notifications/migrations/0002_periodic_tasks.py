"""Schedule the notification housekeeping in django-celery-beat (DatabaseScheduler)."""

from __future__ import annotations

from django.db import migrations

TASKS = [
    # Every minute: retry pending deliveries whose backoff has passed (the embedded profile's
    # retry path) and rescue deliveries a crashed worker left "sending".
    ("notifications: retry deliveries", "notifications.tasks.retry_due_deliveries_task", "*"),
    # Hourly: remove expired notifications (their deliveries and read states cascade).
    ("notifications: delete expired", "notifications.tasks.delete_expired_notifications_task", "17"),
    # Hourly: each member's digest goes out at NOTIFICATIONS_DIGEST_HOUR in their own time zone.
    ("notifications: email digests", "notifications.tasks.send_email_digests_task", "2"),
]


def create_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    for name, task, minute in TASKS:
        crontab, _ = CrontabSchedule.objects.get_or_create(
            minute=minute, hour="*", day_of_week="*", day_of_month="*", month_of_year="*",
            timezone="UTC",
        )
        PeriodicTask.objects.update_or_create(
            name=name, defaults={"task": task, "crontab": crontab, "enabled": True}
        )


def remove_schedule(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, _, _ in TASKS]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
