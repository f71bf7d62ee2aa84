"""Per-platform configuration from settings: base URLs, API versions, client credentials.

Every external base URL is a setting so tests and air-gapped installs can point a
connector at a local server. Values are scheme and host; connectors append the version
and paths exactly as on the real host.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings


@dataclass(frozen=True)
class PlatformConfig:
    platform: str
    api_base: str
    oauth_base: str
    api_version: str
    client_id: str = ""
    client_secret: str = ""
    developer_token: str = ""  # Google Ads only
    timeout: float = 30.0
    lookback_days: int = 7

    @property
    def has_client_credentials(self) -> bool:
        return bool(self.client_id and self.client_secret)


def get_platform_config(platform: str) -> PlatformConfig:
    """The configuration for `platform` (a vocabulary.Platform value or "sandbox")."""
    entry: dict[str, Any] = settings.ADPLATFORM_PLATFORMS[platform]
    return PlatformConfig(platform=platform, **entry)
