"""Our adplatform_* metrics move when the things they count happen, as /metrics shows them.

Counters are process-wide and other tests move them too, so each test compares a scrape
before and after its own action.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client, override_settings
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from pytest_httpserver import HTTPServer
from werkzeug import Response

from adplatform.models import Membership, Organization
from agents.models import AgentTask, CallStatus
from agents.runs import execute_run, start_run
from agents.services import record_llm_call
from automation.services import run_rule, run_rules
from campaigns.services.connections import import_ad_accounts
from campaigns.services.sync import sync_connection
from integrations.clients.base import HttpApiClient
from integrations.clients.errors import PermissionDenied
from integrations.clients.ratelimit import InProcessRateLimiter
from integrations.models import Connection
from integrations.services import create_sandbox_connection
from notifications import services as notifications
from notifications.delivery import retry_due_deliveries
from tests.automation.conftest import CLOCK, TODAY, sandbox  # noqa: F401 (fixture)
from tests.automation.factories import RuleFactory
from tests.notifications.conftest import SmtpRecorder, no_backoff, smtp_server  # noqa: F401

pytestmark = pytest.mark.django_db


def scrape() -> list[tuple[str, dict[str, str], float]]:
    with override_settings(METRICS_TOKEN="", METRICS_ALLOWED_IPS=["127.0.0.1"]):
        response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")
    assert response.status_code == 200
    return [
        (sample.name, sample.labels, sample.value)
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    ]


def total(samples: list[tuple[str, dict[str, str], float]], name: str, **labels: str) -> float:
    return sum(
        value
        for sample_name, sample_labels, value in samples
        if sample_name == name and all(sample_labels.get(k) == v for k, v in labels.items())
    )


def test_a_sandbox_sync_counts_its_rows_and_reports_the_connection_lag(
    organization: Organization,
) -> None:
    connection = create_sandbox_connection(organization=organization, platform="meta", seed=5)
    import_ad_accounts(connection=connection)
    before = scrape()

    run = sync_connection(connection_id=connection.pk, since=timezone.localdate() - dt.timedelta(3))

    after = scrape()
    assert run.run is not None and run.run.rows > 0
    rows = "adplatform_sync_rows_total"
    assert total(after, rows, platform="meta", kind="metrics") - total(
        before, rows, platform="meta", kind="metrics"
    ) == float(run.run.rows)
    [lag] = [
        value
        for name, labels, value in after
        if name == "adplatform_sync_lag_seconds" and labels["connection"] == str(connection.pk)
    ]
    assert 0 <= lag < 3600


def test_a_rule_run_times_its_evaluation_and_counts_the_changes_it_applied(
    organization: Organization,
    sandbox: Connection,  # noqa: F811 (the fixture)
    django_capture_on_commit_callbacks: Any,
) -> None:
    rule = RuleFactory(
        organization=organization,
        is_enabled=True,
        conditions={
            "items": [
                {"metric": "impressions", "window": "last_7_days", "operator": "gte", "value": "0"}
            ]
        },
        actions=[{"type": "pause"}],
        guardrails={"cooldown_hours": 0, "max_actions_per_run": 2},
    )
    before = scrape()

    with django_capture_on_commit_callbacks(execute=True):
        execution = run_rule(rule_id=rule.pk, as_of=TODAY, now=CLOCK)

    after = scrape()
    assert execution.actions_applied > 0
    evaluations = "adplatform_rule_evaluation_seconds_count"
    assert total(after, evaluations) - total(before, evaluations) == 1
    applied = "adplatform_actions_applied_total"
    assert total(after, applied, source="rule", outcome="applied") - total(
        before, applied, source="rule", outcome="applied"
    ) == float(execution.actions_applied)

    # The scheduled pass evaluates rules in a batch; it is timed as well.
    with django_capture_on_commit_callbacks(execute=True):
        run_rules(rule_ids=[rule.pk], as_of=TODAY + dt.timedelta(days=1), now=CLOCK)
    assert total(scrape(), evaluations) - total(after, evaluations) == 1


class _Platform(HttpApiClient):
    platform = "metricsprobe"
    rate_per_second = 1.0
    burst = 1


def test_platform_errors_and_rate_limit_waits_are_counted(httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/v1/thing").respond_with_response(
        Response("{}", status=429, headers={"Retry-After": "0"})
    )
    httpserver.expect_ordered_request("/v1/thing").respond_with_json({"ok": True})
    httpserver.expect_ordered_request("/v1/secret").respond_with_json({}, status=403)
    clock = [0.0]

    def sleep(seconds: float) -> None:  # a clock that moves only when the client waits
        clock[0] += seconds

    client = _Platform(
        base_url=httpserver.url_for(""),
        rate_limiter=InProcessRateLimiter(clock=lambda: clock[0], sleep=sleep),
        sleep=sleep,
    )
    before = scrape()

    assert client.request("GET", "/v1/thing") == {"ok": True}
    with pytest.raises(PermissionDenied):
        client.request("GET", "/v1/secret")

    after = scrape()
    errors = "adplatform_platform_api_errors_total"
    assert (
        total(after, errors, platform="metricsprobe", error="RateLimited")
        - total(before, errors, platform="metricsprobe", error="RateLimited")
        == 1
    )
    assert (
        total(after, errors, platform="metricsprobe", error="PermissionDenied")
        - total(before, errors, platform="metricsprobe", error="PermissionDenied")
        == 1
    )
    waits = "adplatform_platform_rate_limit_wait_seconds_total"
    assert total(after, waits, platform="metricsprobe") > total(
        before, waits, platform="metricsprobe"
    )


@pytest.mark.usefixtures("no_backoff")
def test_notification_deliveries_record_latency_and_failures(
    organization: Organization,
    member: Membership,
    smtp_server: SmtpRecorder,  # noqa: F811 (the fixture)
    django_capture_on_commit_callbacks: Any,
) -> None:
    alert = {"campaign_id": 1, "campaign_name": "Boots", "metric": "CPA", "direction": "rose",
             "value": "$41", "expected": "$25"}  # fmt: skip
    before = scrape()

    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(organization, "campaign_performance_alert", alert, priority="high")
    smtp_server.fail_next = ["554 5.7.1 Message rejected"]
    with django_capture_on_commit_callbacks(execute=True):
        notifications.notify(
            organization, "campaign_performance_alert", {**alert, "campaign_id": 2},
            priority="high",
        )  # fmt: skip
    retry_due_deliveries()

    after = scrape()
    sent = "adplatform_notification_delivery_seconds_count"
    failed = "adplatform_notification_failures_total"
    assert total(after, sent, channel="email") - total(before, sent, channel="email") == 1
    assert total(after, failed, channel="email") - total(before, failed, channel="email") == 1


def test_agent_runs_record_their_time_and_llm_calls_their_tokens(
    organization: Organization, django_capture_on_commit_callbacks: Any
) -> None:
    import uuid

    before = scrape()

    with django_capture_on_commit_callbacks(execute=False):
        run = start_run(organization=organization, task=AgentTask.BUDGET_PLAN)
    execute_run(run.pk)
    record_llm_call(
        organization=organization, run_id=uuid.uuid4(), attempt=1, agent="campaign_analyst",
        task="review", provider="openai", model="gpt-test", status=CallStatus.OK,
        prompt_tokens=120, completion_tokens=30,
    )  # fmt: skip

    after = scrape()
    runs = "adplatform_agent_run_seconds_count"
    assert (
        total(after, runs, task=AgentTask.BUDGET_PLAN, provider="offline")
        - total(before, runs, task=AgentTask.BUDGET_PLAN, provider="offline")
        == 1
    )
    tokens = "adplatform_agent_tokens_total"
    assert (
        total(after, tokens, provider="openai", direction="prompt")
        - total(before, tokens, provider="openai", direction="prompt")
        == 120
    )
    assert (
        total(after, tokens, provider="openai", direction="completion")
        - total(before, tokens, provider="openai", direction="completion")
        == 30
    )
