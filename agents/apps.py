from __future__ import annotations

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"

    def ready(self) -> None:
        from adplatform.periodic import PeriodicTask, register_periodic_task
        from agents import checks  # noqa: F401  (registers the system checks)
        from agents.automation_hooks import register

        # Mondays 05:00 UTC: the week's review is ready when people start the week.
        register_periodic_task(
            PeriodicTask(
                name="Weekly account review of every organization",
                task="agents.tasks.start_weekly_reviews_task",
                crontab="0 5 * * 1",
            )
        )
        register()  # the "AI recommendation" trigger and "AI optimize" action
