from __future__ import annotations

from django.apps import AppConfig


class AutomationConfig(AppConfig):
    name = "automation"

    def ready(self) -> None:
        from adplatform.periodic import PeriodicTask, register_periodic_task
        from automation import actions  # noqa: F401  (registers the built-in actions)

        register_periodic_task(
            PeriodicTask(
                name="Evaluate due automation rules",
                task="automation.tasks.evaluate_rules_task",
                every_seconds=15 * 60,
            )
        )
