"""Periodic tasks are declared here, in code, and stored by django-celery-beat.

Each app registers its schedules at start-up (`register_periodic_task` in its
`AppConfig.ready`); `manage.py setup_periodic_tasks` (run by `make demo`/`make up` and at
deploy) stores them. Operators may then change a schedule or disable a task in the admin;
running the command again keeps their edits unless `--reset`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    task: str
    every_seconds: int | None = None
    crontab: str | None = None  # "minute hour day_of_month month day_of_week", UTC
    kwargs: dict[str, Any] = field(default_factory=dict)
    queue: str | None = None


PERIODIC_TASKS: list[PeriodicTask] = []


def register_periodic_task(task: PeriodicTask) -> None:
    if any(existing.name == task.name for existing in PERIODIC_TASKS):
        return
    PERIODIC_TASKS.append(task)
