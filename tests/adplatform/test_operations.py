"""Health, readiness, metrics access, request ids, security headers, throttling, lockout."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client, override_settings
from rest_framework.test import APIClient

from adplatform.models import AuditAction, AuditEntry, Membership, Organization

pytestmark = pytest.mark.django_db


def test_healthz_answers_without_touching_dependencies() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_dependency() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"]["database"] == "ok"
    assert set(body["checks"]) == {"database", "redis", "broker"}


@override_settings(REDIS_URL="redis://127.0.0.1:1/0")
def test_readyz_is_503_when_redis_is_unreachable() -> None:
    response = Client().get("/readyz")

    assert response.status_code == 503
    assert response.json()["checks"]["redis"].startswith("unreachable")


@override_settings(METRICS_TOKEN="s3cret-metrics", METRICS_ALLOWED_IPS=[])
def test_metrics_need_the_token_or_an_allowed_address() -> None:
    client = Client()

    hidden = client.get("/metrics")
    wrong = client.get("/metrics", HTTP_AUTHORIZATION="Bearer nope")
    shown = client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-metrics")

    assert hidden.status_code == 404
    assert wrong.status_code == 404
    assert shown.status_code == 200
    assert b"django_http_requests_total_by_method_total" in shown.content
    assert b"adplatform_sync_rows_total" in shown.content


@override_settings(METRICS_TOKEN="", METRICS_ALLOWED_IPS=["127.0.0.1"])
def test_metrics_are_open_to_allow_listed_addresses() -> None:
    assert Client(REMOTE_ADDR="127.0.0.1").get("/metrics").status_code == 200
    assert Client(REMOTE_ADDR="10.1.2.3").get("/metrics").status_code == 404


def test_every_response_carries_a_request_id_and_keeps_a_sane_incoming_one() -> None:
    fresh = Client().get("/healthz")
    echoed = Client().get("/healthz", HTTP_X_REQUEST_ID="lb-1234567890")
    refused = Client().get("/healthz", HTTP_X_REQUEST_ID="<script>")

    assert len(fresh["X-Request-ID"]) == 32
    assert echoed["X-Request-ID"] == "lb-1234567890"
    assert refused["X-Request-ID"] != "<script>"


def test_pages_send_a_content_security_policy_that_allows_only_our_scripts() -> None:
    response = Client().get("/login/")

    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert "unsafe-eval" not in policy


def test_api_keys_are_throttled_separately(
    organization: Organization,
    api_client_for: Callable[..., APIClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache import cache

    from adplatform.api.throttling import CallerRateThrottle

    cache.clear()
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": "3/min"})
    # Fixed windows: pin the clock inside one so the test cannot straddle a boundary.
    monkeypatch.setattr("adplatform.api.throttling.time.time", lambda: 1_800_000_030.0)
    first, second = api_client_for(organization), api_client_for(organization)

    statuses = [first.get("/api/v1/campaigns/").status_code for _ in range(4)]
    other = second.get("/api/v1/campaigns/").status_code
    cache.clear()

    assert statuses == [200, 200, 200, 429]
    assert other == 200


def test_a_throttled_caller_is_told_when_to_retry(
    organization: Organization,
    api_client_for: Callable[..., APIClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from django.core.cache import cache

    from adplatform.api.throttling import CallerRateThrottle

    cache.clear()
    monkeypatch.setattr(CallerRateThrottle, "THROTTLE_RATES", {"caller": "1/min"})
    clock = {"now": 1_800_000_010.0}
    monkeypatch.setattr("adplatform.api.throttling.time.time", lambda: clock["now"])
    client = api_client_for(organization)

    client.get("/api/v1/campaigns/")
    refused = client.get("/api/v1/campaigns/")
    clock["now"] += 50  # the next minute's window
    again = client.get("/api/v1/campaigns/")
    cache.clear()

    assert refused.status_code == 429
    assert refused["Retry-After"] == "50"
    assert again.status_code == 200


def test_repeated_failed_logins_lock_the_account_out(member: Membership) -> None:
    client = Client(REMOTE_ADDR="192.0.2.10")
    for _ in range(5):
        client.post("/login/", {"username": member.user.email, "password": "wrong"})

    response = client.post("/login/", {"username": member.user.email, "password": "password"})

    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.content.decode()
    assert AuditEntry.objects.filter(action=AuditAction.LOGIN_FAILED).count() >= 5
