from __future__ import annotations

from django.apps import AppConfig


class AdplatformConfig(AppConfig):
    name = "adplatform"
    verbose_name = "Organizations and access"

    def ready(self) -> None:
        # Registers our metric families so /metrics lists them from the first scrape.
        from adplatform import metrics  # noqa: F401
