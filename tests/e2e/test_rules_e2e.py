"""Browser test: the rule builder makes OR groups and an action chain, shows a schema error
in place, then creates the rule; the rules page imports a rule file. No console errors
(the Content Security Policy forbids inline script, so a handler sneaking in would show)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from adplatform.models import Organization, Role
from adplatform.services import add_member
from automation.models import AutomationRule
from tests.adplatform.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def member_org() -> Organization:
    organization = Organization.objects.create(name="Rules Inc", slug="rules-inc")
    user = UserFactory(username="ops", email="ops@example.com")
    add_member(organization=organization, user=user, role=Role.MEMBER)
    return organization


def _login(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("ops@example.com")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/campaigns/")


def _real(problems: list[str]) -> list[str]:
    # The notifications socket needs an ASGI server; pytest's live server speaks WSGI only.
    return [p for p in problems if "WebSocket" not in p and "/ws/" not in p]


def _field(page: Any, name: str) -> Any:
    return page.locator(f'#rule-builder [name="{name}"]')


def test_build_groups_and_a_chain_see_an_error_in_place_then_create(
    member_org: Organization, page: Any, live_server: Any, screenshot: Any
) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    _login(page, live_server)
    page.goto(f"{live_server.url}/rules/new/")

    _field(page, "name").fill("Cut the losers")
    _field(page, "g0-c0-metric").select_option("cpa")
    _field(page, "g0-c0-value").fill("50")
    # A second group, with two conditions: the server redraws the form, keeping values.
    page.get_by_role("button", name="+ Group").click()
    page.wait_for_selector('[name="g1-c0-metric"]')
    assert _field(page, "name").input_value() == "Cut the losers"
    page.locator("[data-testid=group-1]").get_by_role("button", name="+ Condition").click()
    page.wait_for_selector('[name="g1-c1-metric"]')
    _field(page, "match").select_option("or")
    _field(page, "g1-c0-metric").select_option("ctr")
    _field(page, "g1-c0-operator").select_option("lt")
    _field(page, "g1-c0-compare").select_option("previous")
    _field(page, "g1-c0-value").fill("-30")
    _field(page, "g1-c1-metric").select_option("cpm")
    # The action chain: cut the budget, then notify without stopping the chain.
    _field(page, "a0-type").select_option("decrease_budget")
    _field(page, "a0-value").fill("20")
    page.get_by_role("button", name="+ Step").click()
    page.wait_for_selector('[name="a1-type"]')
    _field(page, "a1-type").select_option("notify")
    _field(page, "a1-priority").select_option("high")
    _field(page, "a1-stop").uncheck()

    # g1-c1 has no value: the rule schema's message appears on that field.
    page.get_by_role("button", name="Create rule", exact=True).last.click()
    error = page.locator('[data-field="g1-c1-value"]')
    error.wait_for()
    assert "Give either a value or another metric" in error.inner_text()
    assert not AutomationRule.objects.exists()
    screenshot("rule-builder-error")

    _field(page, "g1-c1-value").fill("8")
    page.get_by_role("button", name="Create rule", exact=True).last.click()
    page.wait_for_url(re.compile(r"/rules/\d+/$"))
    screenshot("rule-created")

    rule = AutomationRule.objects.get(organization=member_org)
    assert rule.conditions["operator"] == "or"
    assert rule.conditions["items"][0]["metric"] == "cpa"
    assert [c["metric"] for c in rule.conditions["items"][1]["items"]] == ["ctr", "cpm"]
    assert [(a["type"], a["stop_on_failure"]) for a in rule.actions] == [
        ("decrease_budget", True),
        ("notify", False),
    ]
    assert _real(problems) == []


def test_an_ai_signal_condition_shows_its_parameters_and_is_saved_then_edited(
    member_org: Organization, page: Any, live_server: Any, screenshot: Any
) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    _login(page, live_server)
    page.goto(f"{live_server.url}/rules/new/")

    _field(page, "name").fill("Follow the agents")
    assert _field(page, "g0-c0-window").is_visible()
    assert not _field(page, "g0-c0-params").is_visible()
    # Choosing a signal swaps the row's inputs, with no script (CSS :has).
    _field(page, "g0-c0-metric").select_option("signal:ai_recommendation")
    assert not _field(page, "g0-c0-window").is_visible()
    _field(page, "g0-c0-params").fill('{"action": "pause", "min_confidence": 0.9}')
    screenshot("rule-builder-signal")
    page.get_by_role("button", name="Create rule", exact=True).last.click()
    page.wait_for_url(re.compile(r"/rules/\d+/$"))

    rule = AutomationRule.objects.get(organization=member_org)
    assert rule.conditions["items"] == [
        {"signal": "ai_recommendation", "action": "pause", "min_confidence": 0.9}
    ]
    page.get_by_role("link", name="Edit").click()
    page.wait_for_url("**/edit/")
    assert _field(page, "g0-c0-params").is_visible()
    _field(page, "g0-c0-params").fill('{"action": "pause", "min_confidence": 0.95}')
    page.get_by_role("button", name="Save rule", exact=True).last.click()
    page.wait_for_url(f"**/rules/{rule.pk}/")
    rule.refresh_from_db()
    assert rule.conditions["items"][0]["min_confidence"] == 0.95
    assert _real(problems) == []


def test_import_a_rule_file_dry_run_then_for_real(
    member_org: Organization, page: Any, live_server: Any, screenshot: Any
) -> None:
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    _login(page, live_server)
    page.goto(f"{live_server.url}/rules/")
    text = (
        "version: 1\nrules:\n  - name: Night pause\n    conditions:\n      items:\n"
        "        - {metric: spend, window: today, operator: gt, value: 0}\n"
        "      hours: {start: 23, end: 5}\n    actions: [{type: pause}]\n"
    )

    page.locator('#rule-import [name="text"]').fill(text)
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("text=Dry run: would create 1")
    assert not AutomationRule.objects.exists()
    page.locator('#rule-import [name="text"]').fill(text)
    page.locator('#rule-import [name="dry_run"]').uncheck()
    page.get_by_role("button", name="Import").click()
    page.wait_for_selector("text=Created 1")
    screenshot("rules-imported")

    assert AutomationRule.objects.get(organization=member_org).name == "Night pause"
    assert _real(problems) == []
