"""The Celery application; tasks are discovered in every installed app's tasks.py."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")

app = Celery("adplatform")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@task_prerun.connect
def _bind_task_id(task_id: str | None = None, **kwargs: Any) -> None:
    from adplatform.observability import organization_var, task_id_var

    task_id_var.set(task_id or "-")
    organization_var.set("-")


@task_postrun.connect
def _unbind_task_id(**kwargs: Any) -> None:
    from adplatform.observability import task_id_var

    task_id_var.set("-")
