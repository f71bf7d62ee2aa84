"""Importing this package registers every platform connector (see IntegrationsConfig.ready)."""

from __future__ import annotations

from integrations.providers.google import connector as google  # noqa: F401
from integrations.providers.instagram import connector as instagram  # noqa: F401
from integrations.providers.meta import connector as meta  # noqa: F401
from integrations.providers.tiktok import connector as tiktok  # noqa: F401
