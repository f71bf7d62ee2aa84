"""Celery beat inside the web process, for the embedded profile (no worker, eager tasks).

In production exactly one `celery beat -S django` runs instead; see README, "Deploy".
"""

from __future__ import annotations

import logging
from typing import Any

from celery.beat import EmbeddedService

from adplatform.celery import app

logger = logging.getLogger(__name__)
_service: Any = None


def start_embedded_beat() -> None:
    global _service
    if _service is not None:
        return
    _service = EmbeddedService(
        app, thread=True, scheduler_cls="django_celery_beat.schedulers:DatabaseScheduler"
    )
    _service.start()
    logger.info("Started embedded Celery beat (DatabaseScheduler)")
