"""Instagram ads are Meta ads: the same Graph host, token, errors and limits.

There is no separate Instagram ads API
(https://developers.facebook.com/docs/marketing-api/guides/instagramads/get-started);
this client is Meta's, labelled "instagram" in errors and logs. It paces under Meta's
keys because both connectors spend the same ad account's Graph budget.
"""

from __future__ import annotations

from typing import ClassVar

from integrations.providers.meta.client import MetaClient


class InstagramClient(MetaClient):
    platform: ClassVar[str] = "instagram"
