"""The dashboard page, its partials, saved dashboards, exports and the client report."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from analytics.models import InsightRun, SavedDashboard
from analytics.params import organization_today
from tests.analytics.factories import (
    InsightFactory,
    SavedDashboardFactory,
    SegmentDailyMetricFactory,
    write_ad_day,
)
from tests.campaigns.factories import AdFactory


@pytest.fixture
def recent(organization):
    """Two campaigns with data yesterday and the day before, where every preset sees it."""
    yesterday = organization_today(organization) - dt.timedelta(days=1)
    first = AdFactory(
        ad_group__campaign__ad_account__organization=organization, ad_group__campaign__name="Alpha"
    )
    second = AdFactory(
        ad_group__campaign__ad_account__organization=organization, ad_group__campaign__name="Beta"
    )
    for day in (yesterday, yesterday - dt.timedelta(days=1)):
        write_ad_day(
            first, day, impressions=1000, clicks=20, spend="30.00", conversions="3", revenue="90.00"
        )
        write_ad_day(
            second, day, impressions=2000, clicks=10, spend="10.00", conversions="1", revenue="5.00"
        )
    SegmentDailyMetricFactory(
        campaign=first.campaign, date=yesterday, dimension="age", value="25-34"
    )
    return first, second


def test_the_dashboard_renders_kpis_charts_and_the_campaign_table(member, web_client_for, recent):
    response = web_client_for(member).get("/dashboard/", {"preset": "7d", "compare": "1"})

    assert response.status_code == 200
    html = response.content.decode()
    for chart in ("revenue-spend", "funnel", "platforms", "audience", "trend"):
        assert f'id="chart-{chart}"' in html
    assert "analytics/vendor/plotly.min.js" in html
    assert "$80.00" in html  # spend KPI: 2 days x (30 + 10)
    data = json.loads(
        html.split('id="dashboard-data" type="application/json">')[1].split("</script>")[0]
    )
    assert sum(data["series"]["current"]["spend"]) == 80.0
    assert data["funnel"]["clicks"] == 60
    assert data["audience_data"]["age"]["names"] == ["25-34"]
    assert html.index("Alpha") < html.index("Beta")  # top campaigns by spend


def test_htmx_requests_get_only_the_dashboard_body(member, web_client_for, recent):
    response = web_client_for(member).get("/dashboard/", {"preset": "30d"}, HTTP_HX_REQUEST="true")

    html = response.content.decode()
    assert html.lstrip().startswith('<div id="dashboard-body"')
    assert "<html" not in html


def test_the_campaign_table_partial_sorts_bottom_first(member, web_client_for, recent):
    response = web_client_for(member).get("/dashboard/campaigns/", {"preset": "7d", "sort": "roas"})

    html = response.content.decode()
    assert "Bottom campaigns" in html
    assert html.index("Beta") < html.index("Alpha")


def test_a_bad_parameter_shows_the_default_and_the_message(member, web_client_for):
    response = web_client_for(member).get("/dashboard/", {"preset": "forever"})

    assert response.status_code == 200
    assert "Unknown preset" in response.content.decode()


def test_the_plotly_bundle_is_served_from_the_installed_package(client):
    from django.contrib.staticfiles import finders

    found = finders.find("analytics/vendor/plotly.min.js")

    assert found is not None
    assert found.endswith("plotly/package_data/plotly.min.js")


def test_saving_a_dashboard_and_making_it_the_default(member, web_client_for, organization):
    client = web_client_for(member)
    old = SavedDashboardFactory(organization=organization, is_default=True)

    response = client.post(
        "/dashboard/save/",
        {
            "name": "Client review",
            "is_default": "on",
            "query": "preset=90d&metric=roas&kpis=spend,roas",
        },
    )

    saved = SavedDashboard.objects.get(organization=organization, name="Client review")
    assert response.status_code == 302
    assert saved.is_default
    assert saved.config["preset"] == "90d"
    assert saved.config["metric"] == "roas"
    assert saved.config["kpis"] == "spend,roas"
    old.refresh_from_db()
    assert not old.is_default
    # A bare visit opens the default.
    page = client.get("/dashboard/").content.decode()
    assert 'value="90d" checked' in page


def test_a_viewer_cannot_save_dashboards(viewer, web_client_for, organization):
    response = web_client_for(viewer).post(
        "/dashboard/save/", {"name": "Mine", "query": "preset=7d"}
    )

    assert response.status_code == 403
    assert not SavedDashboard.objects.exists()


@pytest.mark.parametrize("action", ["default", "delete"])
def test_another_organizations_saved_dashboard_is_not_found_and_unchanged(
    member, web_client_for, other_organization, action
):
    theirs = SavedDashboardFactory(organization=other_organization, is_default=False)

    response = web_client_for(member).post(f"/dashboard/saved/{theirs.pk}/{action}/")

    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.is_default is False


def test_opening_another_organizations_saved_dashboard_is_not_found(
    member, web_client_for, other_organization
):
    theirs = SavedDashboardFactory(organization=other_organization)

    assert web_client_for(member).get("/dashboard/", {"saved": theirs.pk}).status_code == 404


def test_the_export_view_downloads_the_breakdown(member, web_client_for, recent):
    response = web_client_for(member).get(
        "/dashboard/export/", {"preset": "7d", "breakdown": "campaign", "file_format": "csv"}
    )

    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert [r[1] for r in rows[1:]] == ["Alpha", "Beta"]
    assert 'attachment; filename="metrics-campaign-' in response["Content-Disposition"]


def test_the_report_is_html_with_charts_or_a_pdf(member, web_client_for, recent, organization):
    InsightFactory(organization=organization, title="Spend spike on Alpha")
    client = web_client_for(member)

    html = client.get("/dashboard/report/", {"preset": "7d"}).content.decode()
    pdf = client.get("/dashboard/report/", {"preset": "7d", "file_format": "pdf"})

    assert "<svg" in html
    assert "Spend spike on Alpha" in html
    assert "$80.00" in html
    assert pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")


def test_the_poll_tells_an_open_dashboard_when_new_data_landed(
    member, web_client_for, organization
):
    client = web_client_for(member)
    unchanged = client.get("/dashboard/poll/", {"version": "0"})
    InsightRun.objects.create(
        organization=organization, as_of=timezone.localdate(), status="succeeded"
    )

    changed = client.get("/dashboard/poll/", {"version": "0"})

    assert unchanged.status_code == 204
    assert "HX-Trigger" not in unchanged
    assert changed.status_code == 204
    assert changed["HX-Trigger"] == "analytics-data-changed"


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/dashboard/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


def test_the_dashboard_reads_a_bounded_number_of_queries(
    member, web_client_for, recent, django_assert_max_num_queries
):
    client = web_client_for(member)
    with django_assert_max_num_queries(40):
        client.get("/dashboard/", {"preset": "30d", "compare": "1"})
