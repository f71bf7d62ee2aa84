from __future__ import annotations

from django.apps import AppConfig


class AgentsConfig(AppConfig):
    name = "agents"

    def ready(self) -> None:
        from agents import checks  # noqa: F401  (registers the system checks)
        from agents.automation_hooks import register

        register()  # the "AI recommendation" trigger and "AI optimize" action
