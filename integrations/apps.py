from __future__ import annotations

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        # Importing the providers registers every connector with integrations.registry.
        import integrations.providers  # noqa: F401
