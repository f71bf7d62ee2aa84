"""The analytics API: metrics, insights, forecasts and exports, scoped to the caller."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from openpyxl import load_workbook

from adplatform.models import Role
from analytics.models import Insight
from campaigns.models import Platform
from tests.analytics.factories import InsightFactory, write_ad_day
from tests.campaigns.factories import AdFactory

MARCH_2 = dt.date(2026, 3, 2)
WEEK = {"start": "2026-03-01", "end": "2026-03-07"}


@pytest.fixture
def ads(organization):
    meta = AdFactory(
        ad_group__campaign__ad_account__organization=organization,
        ad_group__campaign__name="Meta prospecting",
    )
    google = AdFactory(
        ad_group__campaign__ad_account__organization=organization,
        ad_group__campaign__ad_account__platform=Platform.GOOGLE,
        ad_group__campaign__name="Google search",
    )
    write_ad_day(
        meta, MARCH_2, impressions=1000, clicks=10, spend="20.00", conversions="2", revenue="60.00"
    )
    write_ad_day(
        google,
        MARCH_2,
        impressions=500,
        clicks=25,
        spend="50.00",
        conversions="5",
        revenue="100.00",
    )
    write_ad_day(google, dt.date(2026, 2, 23), impressions=400, clicks=20, spend="40.00")
    return meta, google


def test_metrics_without_group_by_are_the_totals(organization, ads, api_client_for):
    response = api_client_for(organization).get("/api/v1/analytics/metrics/", WEEK)

    assert response.status_code == 200
    body = response.json()
    assert body["currency"] == "USD"
    assert len(body["rows"]) == 1
    metrics = body["rows"][0]["metrics"]
    assert metrics["spend"] == "70.00"
    assert metrics["clicks"] == 35
    assert metrics["cpc"] == "2.00"
    assert metrics["ctr"] == round(35 / 1500, 6)
    assert metrics["roas"] == round(160 / 70, 4)
    assert metrics["reach"] is None


def test_metrics_group_by_two_dimensions_with_comparison(organization, ads, api_client_for):
    _meta, google = ads

    response = api_client_for(organization).get(
        "/api/v1/analytics/metrics/",
        {**WEEK, "group_by": "platform,campaign", "compare": "true", "order_by": "-spend"},
    )

    assert response.status_code == 200
    body = response.json()
    assert body["previous_start"] == "2026-02-22"
    first = body["rows"][0]
    assert first["dimensions"] == {
        "platform": {"value": "google", "label": "Google Ads"},
        "campaign": {"value": google.campaign_id, "label": "Google search"},
    }
    assert first["metrics"]["spend"] == "50.00"
    assert first["previous"]["spend"] == "40.00"
    assert first["change"]["spend"] == {"absolute": "10.00", "percent": 25.0}


def test_filters_apply_to_the_api(organization, ads, api_client_for):
    response = api_client_for(organization).get(
        "/api/v1/analytics/metrics/", {**WEEK, "platform": "meta"}
    )

    assert response.json()["rows"][0]["metrics"]["spend"] == "20.00"


def test_a_bad_dimension_is_a_400_that_lists_the_valid_ones(organization, api_client_for):
    response = api_client_for(organization).get(
        "/api/v1/analytics/metrics/", {"group_by": "country_code"}
    )

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    message = body["errors"]["group_by"][0]
    assert "country_code" in message
    assert (
        "date, week, month, platform, ad_account, campaign, ad_group, ad, creative, age" in message
    )


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2026-13-01", "end": "2026-03-07"}, "start"),
        ({"start": "2026-03-07", "end": "2026-03-01"}, "end"),
        ({"start": "2026-03-07"}, "end"),
        ({"preset": "yesterday"}, "preset"),
        ({"platform": "myspace"}, "platform"),
        ({"campaign": "abc"}, "campaign"),
        ({"order_by": "-happiness"}, "order_by"),
        ({"compare": "maybe"}, "compare"),
        ({"limit": "-1"}, "limit"),
        ({"group_by": "age,gender"}, "group_by"),
        ({"group_by": "age", "ad": "1"}, "group_by"),
    ],
)
def test_bad_parameters_are_400_with_the_field_named(organization, api_client_for, params, field):
    response = api_client_for(organization).get("/api/v1/analytics/metrics/", params)

    assert response.status_code == 400
    assert field in response.json()["errors"]


def test_another_organizations_metrics_never_appear(
    organization, other_organization, ads, api_client_for
):
    foreign = AdFactory(ad_group__campaign__ad_account__organization=other_organization)
    write_ad_day(foreign, MARCH_2, spend="999.00")

    response = api_client_for(organization).get(
        "/api/v1/analytics/metrics/", {**WEEK, "campaign": str(foreign.campaign_id)}
    )

    assert response.status_code == 200
    assert response.json()["rows"][0]["metrics"]["spend"] == "0.00"


def test_money_is_given_to_the_currencys_minor_unit(api_client_for, db):
    from tests.adplatform.factories import OrganizationFactory

    yen = OrganizationFactory(slug="tokyo", currency="JPY")
    ad = AdFactory(
        ad_group__campaign__ad_account__organization=yen,
        ad_group__campaign__ad_account__currency="JPY",
    )
    write_ad_day(ad, MARCH_2, clicks=3, spend="1234.50", revenue="5000")

    metrics = (
        api_client_for(yen).get("/api/v1/analytics/metrics/", WEEK).json()["rows"][0]["metrics"]
    )

    assert metrics["spend"] == "1235"
    assert metrics["cpc"] == "412"
    assert metrics["revenue"] == "5000"


def test_insights_list_is_scoped_and_filterable(organization, other_organization, api_client_for):
    mine = InsightFactory(organization=organization, kind="anomaly", severity="high")
    InsightFactory(organization=organization, kind="trend", severity="low")
    theirs = InsightFactory(organization=other_organization)
    client = api_client_for(organization)

    listed = client.get("/api/v1/analytics/insights/", {"severity": "high"}).json()["results"]
    foreign = client.get(f"/api/v1/analytics/insights/{theirs.pk}/")

    assert [i["id"] for i in listed] == [mine.pk]
    assert listed[0]["chart_url"].startswith("/dashboard/?")
    assert foreign.status_code == 404


def test_unknown_insight_kind_is_a_400(organization, api_client_for):
    response = api_client_for(organization).get("/api/v1/analytics/insights/", {"kind": "gossip"})

    assert response.status_code == 400
    assert "anomaly" in response.json()["errors"]["kind"][0]


def test_a_viewer_cannot_trigger_insight_computation(organization, api_client_for):
    response = api_client_for(organization, Role.VIEWER).post("/api/v1/analytics/insights/compute/")

    assert response.status_code == 403
    assert not Insight.objects.exists()


def test_forecast_returns_points_with_intervals(organization, api_client_for):
    ad = AdFactory(ad_group__campaign__ad_account__organization=organization)
    for offset in range(42):
        day = dt.date(2026, 1, 19) + dt.timedelta(days=offset)
        write_ad_day(ad, day, spend=str(100 + 20 * (day.weekday() < 5) + offset % 3))

    response = api_client_for(organization).get(
        "/api/v1/analytics/forecast/", {"metric": "spend", "horizon": "7", "end": "2026-03-01"}
    )

    assert response.status_code == 200
    body = response.json()
    assert len(body["points"]) == 7
    assert body["points"][0]["date"] == "2026-03-02"
    assert all(p["lower"] <= p["mean"] <= p["upper"] for p in body["points"])
    assert body["total"]["lower"] < body["total"]["mean"] < body["total"]["upper"]


def test_forecast_without_history_is_a_400(organization, api_client_for):
    response = api_client_for(organization).get("/api/v1/analytics/forecast/", {"metric": "spend"})

    assert response.status_code == 400
    assert "metric" in response.json()["errors"]


def test_csv_export_has_a_row_per_group(organization, ads, api_client_for):
    response = api_client_for(organization).get(
        "/api/v1/analytics/export/", {**WEEK, "group_by": "platform", "file_format": "csv"}
    )

    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["platform", "Impressions", "Clicks"]
    assert [(r[0], r[3]) for r in rows[1:]] == [("Google Ads", "50.00"), ("Meta", "20.00")]


def test_xlsx_export_opens_with_the_same_rows(organization, ads, api_client_for):
    response = api_client_for(organization).get(
        "/api/v1/analytics/export/", {**WEEK, "group_by": "campaign", "file_format": "xlsx"}
    )

    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][:2] == ("campaign_id", "campaign")
    assert [r[1] for r in rows[2:]] == ["Google search", "Meta prospecting"]
    assert rows[2][4] == 50.0


def test_schema_documents_the_analytics_endpoints(organization, api_client_for):
    response = api_client_for(organization).get("/api/v1/schema/", {"format": "json"})

    paths = response.json()["paths"]
    for path in ("metrics", "insights", "forecast", "export"):
        assert f"/api/v1/analytics/{path}/" in paths
    metrics = paths["/api/v1/analytics/metrics/"]["get"]
    assert {p["name"] for p in metrics["parameters"]} >= {"start", "end", "group_by", "compare"}


def test_scheduling_a_report_through_the_api(organization, api_client_for):
    client = api_client_for(organization)

    response = client.post(
        "/api/v1/analytics/scheduled-reports/",
        {"name": "Weekly", "frequency": "weekly", "format": "pdf", "recipients": ["c@example.com"]},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["recipients"] == ["c@example.com"]
    assert body["next_run_at"] is not None
    assert (
        client.get("/api/v1/analytics/scheduled-reports/").json()["results"][0]["id"] == body["id"]
    )


def test_a_bad_recipient_is_a_400(organization, api_client_for):
    response = api_client_for(organization).post(
        "/api/v1/analytics/scheduled-reports/",
        {"name": "Weekly", "frequency": "weekly", "recipients": ["nope"]},
        format="json",
    )

    assert response.status_code == 400
    assert "recipients" in response.json()["errors"]


def test_another_organizations_scheduled_report_cannot_be_deleted(
    organization, other_organization, api_client_for
):
    from analytics.services.reports import schedule_report

    theirs = schedule_report(
        organization=other_organization,
        name="Theirs",
        frequency="monthly",
        recipients=["x@example.com"],
    )

    response = api_client_for(organization).delete(
        f"/api/v1/analytics/scheduled-reports/{theirs.pk}/"
    )

    assert response.status_code == 404
    assert type(theirs).objects.filter(pk=theirs.pk).exists()


def test_a_viewer_cannot_schedule_reports(organization, api_client_for):
    response = api_client_for(organization, Role.VIEWER).post(
        "/api/v1/analytics/scheduled-reports/",
        {"name": "Weekly", "frequency": "weekly", "recipients": ["c@example.com"]},
        format="json",
    )

    assert response.status_code == 403
