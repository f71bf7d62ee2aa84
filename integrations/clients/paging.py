"""Small helpers every connector's listings and reports share."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

logger = logging.getLogger("integrations.http")

T = TypeVar("T")


def unique_by(items: Iterable[T], key: Callable[[T], Hashable]) -> Iterator[T]:
    """Yield each item once per key, first one wins.

    Offset and cursor pagination both repeat rows when the listing changes underneath us
    (a campaign created between two pages shifts the next page back by one); a listing
    must never yield the same record twice.
    """
    seen: set[Hashable] = set()
    for item in items:
        marker = key(item)
        if marker in seen:
            continue
        seen.add(marker)
        yield item


def date_windows(start: dt.date, end: dt.date, *, days: int) -> Iterator[tuple[dt.date, dt.date]]:
    """Split [start, end] into consecutive inclusive windows of at most `days` days."""
    if end < start:
        return
    cursor = start
    while cursor <= end:
        window_end = min(end, cursor + dt.timedelta(days=days - 1))
        yield cursor, window_end
        cursor = window_end + dt.timedelta(days=1)
