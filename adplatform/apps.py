from __future__ import annotations

from django.apps import AppConfig


class AdplatformConfig(AppConfig):
    name = "adplatform"
    verbose_name = "Organizations and access"
