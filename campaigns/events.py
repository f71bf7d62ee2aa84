"""Events other apps react to, without campaigns importing them.

Downstream apps (analytics' insights, automation's rules) register a handler at start-up;
the sync emits one `MetricsUpdated` per ad account per sync, after its transaction
commits, however many chunks it wrote.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class MetricsUpdated:
    organization_id: int
    ad_account_id: int
    sync_run_id: int | None
    start: dt.date
    end: dt.date
    rows: int
    restated_rows: int


MetricsHandler = Callable[[MetricsUpdated], None]
_metrics_handlers: list[MetricsHandler] = []


def on_metrics_updated(handler: MetricsHandler) -> MetricsHandler:
    """Register `handler` (usable as a decorator); it runs after the sync's commit."""
    if handler not in _metrics_handlers:
        _metrics_handlers.append(handler)
    return handler


def remove_metrics_handler(handler: MetricsHandler) -> None:
    if handler in _metrics_handlers:
        _metrics_handlers.remove(handler)


def emit_metrics_updated(event: MetricsUpdated) -> None:
    """Deliver `event` to every handler once the current transaction commits."""

    def deliver() -> None:
        logger.info(
            "metrics updated",
            extra={"ad_account_id": event.ad_account_id, "sync_run_id": event.sync_run_id},
        )
        for handler in _metrics_handlers:
            try:
                handler(event)
            except Exception:
                # One broken subscriber must not undo a sync that already committed.
                logger.exception("metrics-updated handler failed")

    transaction.on_commit(deliver)
