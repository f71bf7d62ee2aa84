"""Browser test of the creative studio: ask for variants, read the checks, save one."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from agents.models import CreativeVariant, VariantStatus

pytestmark = pytest.mark.django_db(transaction=True)


def test_creative_studio_writes_checked_variants_and_saves_one(
    page: Any, live_server: Any, screenshot: Any
) -> None:
    call_command("seed_demo", days=28, stdout=StringIO())
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("demo@example.com")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/campaigns/")

    page.goto(f"{live_server.url}/agents/")
    page.get_by_role("link", name="Creative studio").click()
    page.wait_for_url("**/agents/studio/")
    page.locator("#id_campaign").select_option(index=1)
    page.locator("#id_platform_format").select_option("tiktok:in_feed")
    page.locator("#id_count").fill("3")
    page.get_by_role("button", name="Write variants").click()
    page.wait_for_url("**/agents/studio/?run=*")
    variants = page.locator("[data-testid=variants] article")
    variants.first.wait_for()
    assert variants.count() == 3
    assert page.locator("[data-testid=limits-ok]").count() == 3
    assert "Grounded in what performed best" in page.content()
    screenshot("agents-studio")

    first = variants.first
    first.get_by_role("button", name="Save").click()
    page.locator("[data-status=saved]").wait_for()
    variants.nth(1).get_by_role("button", name="Discard").click()
    page.locator("[data-status=discarded]").wait_for()
    screenshot("agents-studio-decided")

    statuses = sorted(CreativeVariant.objects.values_list("status", flat=True))
    assert statuses == sorted(
        [VariantStatus.SAVED, VariantStatus.DISCARDED, VariantStatus.PROPOSED]
    )

    page.goto(f"{live_server.url}/agents/competitors/")
    page.locator("#id_name").fill("Rival Shoes")
    page.locator("#id_page_ids").fill("4242")
    page.get_by_role("button", name="Track").click()
    page.locator("[data-testid=competitors] td", has_text="Rival Shoes").wait_for()
    screenshot("agents-competitors")
    # The notifications socket needs an ASGI server; pytest's live server speaks WSGI only.
    assert [p for p in problems if "WebSocket" not in p and "/ws/" not in p] == []
