"""Periodic tasks are declared here, in code, and stored by django-celery-beat.

Each app adds its schedules to `PERIODIC_TASKS`; `manage.py setup_periodic_tasks` (run
by `make demo`/`make up` and at deploy) creates or updates the rows. Operators may then
change intervals or disable a task in the admin; re-running the command does not undo a
disabled flag.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PeriodicTask:
    name: str
    task: str
    every_seconds: int | None = None
    crontab: str | None = None  # "minute hour day_of_month month day_of_week"
    queue: str | None = None


PERIODIC_TASKS: list[PeriodicTask] = []


def register_periodic_task(task: PeriodicTask) -> None:
    if any(existing.name == task.name for existing in PERIODIC_TASKS):
        return
    PERIODIC_TASKS.append(task)
