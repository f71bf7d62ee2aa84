from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from adplatform.models import Organization, Role
from adplatform.services import add_member
from campaigns.models import Campaign

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_data() -> None:
    call_command("seed_demo", days=14, stdout=StringIO())
    call_command(
        "seed_demo", org="northwind", name="Northwind Outdoor", seed=2, days=14, stdout=StringIO()
    )


def _login(page: Any, live_server: Any) -> None:
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("demo@example.com")
    page.get_by_label("Password").fill("demo")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/campaigns/")


def test_log_in_filter_sort_and_switch_organization(
    demo_data: None, page: Any, live_server: Any, screenshot: Any
) -> None:
    page.goto(f"{live_server.url}/login/")
    screenshot("login")
    _login(page, live_server)
    rows = page.locator("[data-testid=campaign-table] tbody tr")
    demo_total = Campaign.objects.filter(organization__slug="demo").count()
    expected_first_page = min(demo_total, 25)
    assert rows.count() == expected_first_page
    screenshot("campaigns")

    # Filter by platform: htmx swaps the table in place and the URL follows.
    page.get_by_label("Platform", exact=True).select_option("tiktok")
    page.wait_for_url("**platform=tiktok**")
    tiktok = Campaign.objects.filter(
        organization__slug="demo", ad_account__platform="tiktok"
    ).count()
    page.wait_for_function(
        "n => document.querySelectorAll('[data-testid=campaign-table] tbody tr').length === n",
        arg=tiktok,
    )
    platforms = page.locator("[data-testid=campaign-table] tbody tr").evaluate_all(
        "rows => rows.map(r => r.dataset.platform)"
    )
    assert set(platforms) == {"tiktok"}
    screenshot("campaigns-filtered")

    # Sort by name ascending via the header.
    page.locator("th a[data-sort=name]").click()
    page.wait_for_url("**sort=-name**")
    page.locator("th a[data-sort=name]").click()
    page.wait_for_url("**sort=name**")
    names = page.locator("[data-testid=campaign-table] tbody .cell-title").all_inner_texts()
    assert names == sorted(names)

    # Switch organization: the table now shows Northwind's campaigns only.
    page.get_by_label("Organization", exact=True).select_option("northwind")
    page.wait_for_selector(".page-header p:has-text('Northwind Outdoor')")
    # Filters belong to the previous organization's view; the switch starts afresh.
    count_text = page.locator("[data-testid=campaign-count]").inner_text()
    northwind = Campaign.objects.filter(organization__slug="northwind").count()
    assert count_text.startswith(f"{northwind} campaign")
    names = page.locator("[data-testid=campaign-table] tbody .cell-title").all_inner_texts()
    assert set(names) <= set(
        Campaign.objects.filter(organization__slug="northwind").values_list("name", flat=True)
    )
    screenshot("campaigns-northwind")


def test_search_narrows_the_table_and_shows_an_empty_state(
    demo_data: None, page: Any, live_server: Any
) -> None:
    _login(page, live_server)

    page.get_by_label("Search").fill("zzz-no-such-campaign")
    page.wait_for_selector("text=No campaigns match these filters")

    assert page.locator("[data-testid=campaign-count]").inner_text() == "0 campaigns"


def test_a_viewer_sees_the_campaigns_too(demo_data: None, page: Any, live_server: Any) -> None:
    from tests.adplatform.factories import UserFactory

    user = UserFactory(username="viewer", email="viewer@example.com")
    add_member(organization=Organization.objects.get(slug="demo"), user=user, role=Role.VIEWER)
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Email").fill("viewer@example.com")
    page.get_by_label("Password").fill("password")
    page.get_by_role("button", name="Sign in").click()

    page.wait_for_url("**/campaigns/")
    assert "Viewer" in page.locator(".whoami").inner_text()


def test_every_main_page_renders_without_browser_errors(
    demo_data: None, page: Any, live_server: Any, screenshot: Any
) -> None:
    """Catches, among others, anything the Content Security Policy blocks (inline handlers)."""
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    _login(page, live_server)

    for path in [
        "dashboard/",
        "campaigns/",
        "integrations/",
        "notifications/",
        "settings/",
        "agents/",
    ]:
        page.goto(f"{live_server.url}/{path}")
        page.wait_for_load_state("networkidle")
        screenshot("page-" + path.strip("/"))

    # The notifications socket needs an ASGI server; pytest's live server speaks WSGI only.
    problems = [p for p in problems if "WebSocket" not in p and "/ws/" not in p]
    assert problems == []


def test_an_account_review_from_the_agents_page(
    demo_data: None, page: Any, live_server: Any, screenshot: Any
) -> None:
    _login(page, live_server)
    page.goto(f"{live_server.url}/agents/")
    page.get_by_label("Task").select_option("account_review")
    page.get_by_role("button", name="Run").click()

    page.wait_for_url("**/agents/runs/*/")
    page.wait_for_selector("[data-testid=run-status]:has-text('Succeeded')", timeout=60_000)
    screenshot("agents-review")
    assert page.locator("[data-testid=recommendations] tbody tr").count() >= 1
