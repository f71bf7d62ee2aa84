"""Importing this package registers every platform connector (see integrations.registry)."""

from __future__ import annotations

from integrations.providers.linkedin import connector as linkedin_connector  # noqa: F401
from integrations.providers.pinterest import connector as pinterest_connector  # noqa: F401
from integrations.providers.snapchat import connector as snapchat_connector  # noqa: F401
from integrations.providers.x import connector as x_connector  # noqa: F401
