"""The dashboard in a real browser: charts render, selectors and presets change them,
exports download the right rows."""

from __future__ import annotations

import csv
import datetime as dt
import os
import shutil
from decimal import Decimal

import pytest

from adplatform.models import Role
from analytics.params import organization_today
from campaigns.models import Platform
from tests.adplatform.factories import MembershipFactory, OrganizationFactory, UserFactory
from tests.analytics.factories import SegmentDailyMetricFactory, write_ad_day
from tests.campaigns.factories import AdFactory

pytestmark = pytest.mark.e2e

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync"]  # fmt: skip


@pytest.fixture
def browser_page():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        context = browser.new_context(
            viewport={"width": 1400, "height": 1000}, accept_downloads=True
        )
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        yield page, errors
        context.close()
        browser.close()


@pytest.fixture
def agency(transactional_db):
    """An organization with two campaigns on two platforms over the last 40 days."""
    organization = OrganizationFactory(name="Acme Retail", slug="acme")
    user = UserFactory(username="ana", email="ana@example.com")
    MembershipFactory(user=user, organization=organization, role=Role.OWNER)
    yesterday = organization_today(organization) - dt.timedelta(days=1)
    meta = AdFactory(
        ad_group__campaign__ad_account__organization=organization,
        ad_group__campaign__name="Meta Prospecting",
    )
    google = AdFactory(
        ad_group__campaign__ad_account__organization=organization,
        ad_group__campaign__ad_account__platform=Platform.GOOGLE,
        ad_group__campaign__name="Google Search",
    )
    for offset in range(40):
        day = yesterday - dt.timedelta(days=offset)
        write_ad_day(
            meta,
            day,
            impressions=10000,
            clicks=100 + offset,
            spend="50.00",
            conversions="5",
            revenue="150.00",
        )
        write_ad_day(
            google,
            day,
            impressions=2000,
            clicks=80,
            spend="20.00",
            conversions="4",
            revenue="100.00",
        )
        SegmentDailyMetricFactory(
            campaign=meta.campaign, date=day, dimension="age", value="25-34", spend=Decimal("30")
        )
        SegmentDailyMetricFactory(
            campaign=meta.campaign, date=day, dimension="age", value="35-44", spend=Decimal("20")
        )
    return organization


def sign_in(page, live_server):
    page.goto(f"{live_server.url}/login/")
    page.fill("input[name=username]", "ana@example.com")
    page.fill("input[name=password]", "password")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login/" not in url)


def chart_values(page, chart: str, axis: str = "y"):
    return page.evaluate(f"document.getElementById('chart-{chart}').data[0].{axis}")


def test_dashboard_charts_presets_selectors_and_export(browser_page, live_server, agency, tmp_path):
    page, errors = browser_page
    sign_in(page, live_server)

    # Given the dashboard over the last 30 days
    page.goto(f"{live_server.url}/dashboard/?preset=30d&compare=1")
    for chart in ("revenue-spend", "funnel", "platforms", "audience", "trend"):
        page.wait_for_selector(f"#chart-{chart}.js-plotly-plot", timeout=20000)
    assert page.get_attribute("#chart-trend", "data-rendered") == "spend"
    assert len(chart_values(page, "trend", "x")) == 30
    assert chart_values(page, "trend")[0] == 70.0
    assert page.locator(".kpi[data-metric=spend] .kpi-value").inner_text() == "$2,100.00"

    # When the trend metric changes, the chart redraws with that metric
    page.select_option("[data-testid=trend-metric]", "clicks")
    page.wait_for_selector("#chart-trend[data-rendered=clicks]")
    clicks = chart_values(page, "trend")
    assert clicks[-1] == 180.0  # yesterday: 100 (meta) + 80 (google)

    # And the platform chart follows its own selector
    page.select_option("[data-testid=platform-metric]", "roas")
    page.wait_for_selector("#chart-platforms[data-rendered=roas]")
    assert sorted(chart_values(page, "platforms", "x")) == [3.0, 5.0]

    # When the 7-day preset is chosen, the body reloads with 7 days
    page.click("label.preset:has(input[value='7d'])")
    page.wait_for_function(
        "() => { const c = document.getElementById('chart-trend');"
        " return !!(c && c.data && c.data[0].x.length === 7); }"
    )
    assert page.locator(".kpi[data-metric=spend] .kpi-value").inner_text() == "$490.00"
    assert "preset=7d" in page.url

    # Then the campaign CSV export downloads those 7 days, one row per campaign
    page.click("[data-testid=export-menu] summary")
    with page.expect_download() as download:
        page.click("a[data-export='campaign-csv']")
    path = tmp_path / "campaigns.csv"
    download.value.save_as(path)
    with path.open() as handle:
        rows = list(csv.reader(handle))
    spend_column = rows[0].index("Spend (USD)")
    assert [(r[1], r[spend_column]) for r in rows[1:]] == [
        ("Meta Prospecting", "350.00"),
        ("Google Search", "140.00"),
    ]
    assert errors == []
