"""Lists cost a fixed number of queries, however many rows they show."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from adplatform.models import Membership, Organization
from tests.campaigns.factories import AdFactory, CampaignFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("rows", [3, 30])
def test_campaign_api_list_queries_do_not_grow_with_rows(
    rows: int,
    organization: Organization,
    api_client_for: Callable[..., APIClient],
    django_assert_max_num_queries: Any,
) -> None:
    CampaignFactory.create_batch(rows, ad_account__organization=organization)
    client = api_client_for(organization)
    client.get("/api/v1/campaigns/")  # records the key's first use

    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/campaigns/?page_size=50")

    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [2, 20])
def test_ads_api_list_queries_do_not_grow_with_rows(
    rows: int,
    organization: Organization,
    api_client_for: Callable[..., APIClient],
    django_assert_max_num_queries: Any,
) -> None:
    for _ in range(rows):
        AdFactory(ad_group__campaign__ad_account__organization=organization)
    client = api_client_for(organization)
    client.get("/api/v1/ads/")

    with django_assert_max_num_queries(2):
        response = client.get("/api/v1/ads/?page_size=50")

    assert len(response.json()["results"]) == rows


@pytest.mark.parametrize("rows", [3, 30])
def test_campaigns_page_queries_do_not_grow_with_rows(
    rows: int,
    organization: Organization,
    member: Membership,
    web_client_for: Callable[..., Client],
    django_assert_max_num_queries: Any,
) -> None:
    CampaignFactory.create_batch(rows, ad_account__organization=organization)
    client = web_client_for(member)

    with django_assert_max_num_queries(10):
        response = client.get("/campaigns/")

    assert response.status_code == 200
