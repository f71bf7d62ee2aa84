"""Bad input gets a clear 4xx JSON error, never a 500."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from adplatform.models import Organization
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(organization: Organization, api_client_for: Callable[..., APIClient]) -> APIClient:
    CampaignFactory.create_batch(3, ad_account__organization=organization)
    return api_client_for(organization)


def test_unknown_filter_value_is_a_400_listing_the_valid_values(client: APIClient) -> None:
    response = client.get("/api/v1/campaigns/?platform=myspace")

    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "platform" in body["errors"]
    assert "tiktok" in body["errors"]["platform"][0]
    assert "myspace" in body["detail"]


def test_unknown_ordering_is_a_400_listing_the_valid_fields(client: APIClient) -> None:
    response = client.get("/api/v1/campaigns/?ordering=-password")

    assert response.status_code == 400
    assert "daily_budget" in response.json()["errors"]["ordering"][0]


@pytest.mark.parametrize("bad_id", ["abc", "1e3", "-1", "9999999999999999999999"])
def test_malformed_or_unknown_ids_are_a_json_404(client: APIClient, bad_id: str) -> None:
    response = client.get(f"/api/v1/campaigns/{bad_id}/")

    assert response.status_code == 404
    assert response.json()["detail"] == "Not found."


def test_a_bad_cursor_is_a_400(client: APIClient) -> None:
    response = client.get("/api/v1/campaigns/?cursor=not-a-cursor")

    assert response.status_code == 400
    assert response.json()["errors"] == {"cursor": ["Invalid cursor."]}


@pytest.mark.parametrize("size", ["0", "-5", "ten"])
def test_a_bad_page_size_is_a_400(client: APIClient, size: str) -> None:
    response = client.get(f"/api/v1/campaigns/?page_size={size}")

    assert response.status_code == 400
    assert "page_size" in response.json()["errors"]


def test_a_non_numeric_filter_id_is_a_400(client: APIClient) -> None:
    response = client.get("/api/v1/campaigns/?ad_account=xyz")

    assert response.status_code == 400
    assert "ad_account" in response.json()["errors"]


def test_an_unknown_api_path_is_a_json_404(client: APIClient) -> None:
    response = client.get("/api/v1/nothing-here/")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_invalid_organization_update_names_the_field(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    client = api_client_for(organization, "owner")

    response = client.patch(
        f"/api/v1/organizations/{organization.pk}/",
        {"currency": "dollars", "time_zone": "Mars/Olympus"},
        format="json",
    )

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"currency", "time_zone"}
    organization.refresh_from_db()
    assert (organization.currency, organization.time_zone) == ("USD", "UTC")


def test_cursor_pagination_walks_every_row_once(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    created = {c.pk for c in CampaignFactory.create_batch(7, ad_account__organization=organization)}
    client = api_client_for(organization)

    seen: list[int] = []
    url: str | None = "/api/v1/campaigns/?page_size=3&ordering=name"
    while url:
        body = client.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]

    assert len(seen) == len(set(seen)) == 7
    assert set(seen) == created


@pytest.mark.parametrize("value", ["0", "99999999999999999999999", "1.5"])
def test_out_of_range_filter_ids_are_a_400(client: APIClient, value: str) -> None:
    response = client.get(f"/api/v1/campaigns/?ad_account={value}")

    assert response.status_code == 400
    assert "ad_account" in response.json()["errors"]


def test_a_date_time_filter_with_an_extreme_offset_is_answered_not_crashed(
    client: APIClient,
) -> None:
    response = client.get("/api/v1/campaigns/?updated_since=1097-05-19T16:41:38-16:10")

    assert response.status_code == 200


def test_a_list_without_filter_parameters_skips_the_filter_set_and_one_with_them_filters(
    organization: Organization,
    api_client_for: Callable[..., APIClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from campaigns.api.filters import CampaignFilter

    built: list[bool] = []
    original = CampaignFilter.__init__

    def counting(self: CampaignFilter, *args: object, **kwargs: object) -> None:
        built.append(True)
        original(self, *args, **kwargs)

    monkeypatch.setattr(CampaignFilter, "__init__", counting)
    client = api_client_for(organization)

    plain = client.get("/api/v1/campaigns/?page_size=5")
    built_for_plain = len(built)
    filtered = client.get("/api/v1/campaigns/?status=nonsense")

    assert (plain.status_code, built_for_plain) == (200, 0)
    assert (filtered.status_code, len(built)) == (400, 1)
