from __future__ import annotations

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient


def test_openapi_schema_generates_without_warnings() -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")


@pytest.mark.django_db
def test_schema_and_docs_are_served() -> None:
    client = APIClient()

    schema = client.get("/api/v1/schema/")
    docs = client.get("/api/v1/docs/")

    assert schema.status_code == 200
    assert b"/api/v1/campaigns/" in schema.content
    assert docs.status_code == 200


@pytest.mark.django_db
def test_docs_page_loads_nothing_from_other_hosts() -> None:
    html = APIClient().get("/api/v1/docs/").content.decode()

    assert "cdn" not in html.lower()
    assert "/static/drf_spectacular_sidecar/" in html
