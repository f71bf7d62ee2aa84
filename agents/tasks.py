"""Celery entry points of agents: ids in, one service call inside."""

from __future__ import annotations

from celery import shared_task


@shared_task(acks_late=True, ignore_result=True)
def execute_run_task(run_id: int) -> None:
    from agents.runs import execute_run

    execute_run(run_id)


@shared_task(ignore_result=True)
def start_weekly_reviews_task() -> None:
    from agents.schedule import start_weekly_reviews

    start_weekly_reviews()
