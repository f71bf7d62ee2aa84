from __future__ import annotations

import importlib
import importlib.util
import pkgutil

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        # Each provider registers its connector on import: integrations/providers/<name>/
        # with a connector module (or the package itself registering).
        from integrations import providers

        for module in pkgutil.iter_modules(providers.__path__):
            package = importlib.import_module(f"{providers.__name__}.{module.name}")
            if module.ispkg and importlib.util.find_spec(f"{package.__name__}.connector"):
                importlib.import_module(f"{package.__name__}.connector")
        from adplatform.metrics import register_scrape_time_collector
        from integrations.observability import SyncLagCollector

        register_scrape_time_collector(SyncLagCollector())
