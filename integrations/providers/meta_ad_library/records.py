"""What the Ad Library returns, as plain records (no database, no campaigns)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True)
class LibrarySearch:
    """One `ads_archive` query: by pages (≤10 ids) or by keywords, in some countries."""

    countries: tuple[str, ...]
    page_ids: tuple[str, ...] = ()
    search_terms: str = ""
    active_status: str = "ALL"  # ACTIVE, INACTIVE or ALL
    delivery_date_min: dt.date | None = None
    media_type: str = ""  # ALL, IMAGE, MEME, VIDEO, NONE; empty = not sent (ALL)


@dataclass(frozen=True)
class LibraryAd:
    """One archived ad, with the creative texts Meta shows for it (one per version)."""

    archive_id: str
    page_id: str
    page_name: str
    bodies: tuple[str, ...]
    link_titles: tuple[str, ...]
    link_descriptions: tuple[str, ...]
    delivery_start: dt.date | None
    delivery_stop: dt.date | None
    publisher_platforms: tuple[str, ...]
    snapshot_url: str
    languages: tuple[str, ...] = field(default_factory=tuple)

    @property
    def is_active(self) -> bool:
        # Meta leaves ad_delivery_stop_time out for ads that are still delivering.
        return self.delivery_stop is None
