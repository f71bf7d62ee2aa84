"""`ads_archive` JSON → `LibraryAd` records.

Meta sends dates as `YYYY-MM-DD` (older versions sent ISO timestamps with an offset),
text fields as lists (one entry per creative version), and leaves fields out when empty.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from integrations.providers.meta_ad_library.records import LibraryAd


def _date(value: Any) -> dt.date | None:
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def _texts(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        return ()
    return tuple(str(v).strip() for v in value if isinstance(v, str) and v.strip())


def library_ad(item: dict[str, Any]) -> LibraryAd | None:
    """The record for one `data` item, or None when it has no id."""
    archive_id = str(item.get("id") or "")
    if not archive_id:
        return None
    return LibraryAd(
        archive_id=archive_id,
        page_id=str(item.get("page_id") or ""),
        page_name=str(item.get("page_name") or ""),
        bodies=_texts(item.get("ad_creative_bodies")),
        link_titles=_texts(item.get("ad_creative_link_titles")),
        link_descriptions=_texts(item.get("ad_creative_link_descriptions")),
        delivery_start=_date(item.get("ad_delivery_start_time")),
        delivery_stop=_date(item.get("ad_delivery_stop_time")),
        publisher_platforms=tuple(p.lower() for p in _texts(item.get("publisher_platforms"))),
        snapshot_url=str(item.get("ad_snapshot_url") or ""),
        languages=_texts(item.get("languages")),
    )
