"""Small helpers the LinkedIn, X, Snapchat and Pinterest providers share: units, windows, dedupe."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

T = TypeVar("T")

MICROS = Decimal(1_000_000)
REDACTED = "[redacted]"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def fingerprint(secret: str) -> str:
    """A stable, non-reversible label for a secret (rate-limit keys shared across processes)."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def scrub(text: str, secrets: Iterable[str]) -> str:
    """`text` with every known secret replaced, for error messages built from platform bodies."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, REDACTED)
    return text


def micros_to_decimal(value: Any) -> Decimal | None:
    """Platform micros (1,000,000 per currency unit) to Decimal units; None stays None."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)) / MICROS
    except InvalidOperation:
        return None


def decimal_to_micros(value: Decimal) -> int:
    return int((value * MICROS).to_integral_value())


def to_decimal(value: Any, default: Decimal = Decimal(0)) -> Decimal:
    if value is None or value == "":
        return default
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return default


def to_int(value: Any) -> int:
    if value is None or value == "":
        return 0
    try:
        return int(Decimal(str(value)))
    except InvalidOperation:
        return 0


def unique_by(items: Iterable[T], key: Callable[[T], str]) -> Iterator[T]:
    """Drop records already yielded: servers repeat a page now and then (retries, races)."""
    seen: set[str] = set()
    for item in items:
        k = key(item)
        if k in seen:
            continue
        seen.add(k)
        yield item


def date_windows(start: dt.date, end: dt.date, days: int) -> Iterator[tuple[dt.date, dt.date]]:
    """Inclusive [start, end] cut into windows of at most `days` days."""
    if end < start:
        return
    cursor = start
    while cursor <= end:
        last = min(end, cursor + dt.timedelta(days=days - 1))
        yield cursor, last
        cursor = last + dt.timedelta(days=1)


def chunks(values: list[T], size: int) -> Iterator[list[T]]:
    for index in range(0, len(values), size):
        yield values[index : index + size]
