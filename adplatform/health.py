"""Liveness, readiness and metrics endpoints for load balancers and Prometheus."""

from __future__ import annotations

import hmac
import os
from typing import Any

import prometheus_client
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import multiprocess

from adplatform.metrics import SCRAPE_TIME_REGISTRY


@require_GET
@never_cache
def healthz(request: HttpRequest) -> JsonResponse:
    """The process is alive and answering; says nothing about its dependencies."""
    return JsonResponse({"status": "ok"})


def _check_database() -> str | None:
    connection = connections[DEFAULT_DB_ALIAS]
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    return f"{len(pending)} migration(s) not applied" if pending else None


def _check_redis() -> str | None:
    if not settings.REDIS_URL:
        return None
    import redis

    redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2).ping()
    return None


def _check_broker() -> str | None:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return None
    from adplatform.celery import app

    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1, timeout=2)
    return None


@require_GET
@never_cache
def readyz(request: HttpRequest) -> JsonResponse:
    """Ready for traffic: database reachable and migrated, Redis and the broker reachable."""
    checks: dict[str, Any] = {}
    for name, check in (
        ("database", _check_database),
        ("redis", _check_redis),
        ("broker", _check_broker),
    ):
        try:
            problem = check()
        except Exception as exc:  # any failure means "not ready"; the type is enough detail
            problem = f"unreachable ({type(exc).__name__})"
        checks[name] = problem or "ok"
    ready = all(value == "ok" for value in checks.values())
    return JsonResponse(
        {"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503
    )


def _client_ip(request: HttpRequest) -> str:
    return request.META.get("REMOTE_ADDR", "")


@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus exposition, for a bearer token or an allow-listed address only."""
    token = settings.METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    by_token = bool(token) and hmac.compare_digest(header, f"Bearer {token}")
    by_address = _client_ip(request) in settings.METRICS_ALLOWED_IPS
    if not (by_token or by_address):
        return HttpResponse("Not found.", status=404, content_type="text/plain")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every process (web workers, ws, Celery) writes its own files; sum them all.
        registry = prometheus_client.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = prometheus_client.REGISTRY
    body = prometheus_client.generate_latest(registry)
    body += prometheus_client.generate_latest(SCRAPE_TIME_REGISTRY)
    return HttpResponse(body, content_type=prometheus_client.CONTENT_TYPE_LATEST)
