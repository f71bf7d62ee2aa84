"""The campaign serializer writes its JSON by hand; it must say exactly what DRF would."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone
from rest_framework import serializers

from campaigns import selectors
from campaigns.api.serializers import CampaignSerializer, campaign_rows
from campaigns.models import Campaign
from tests.campaigns.factories import AdAccountFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def _drf_representation(campaign: Campaign) -> dict[str, Any]:
    # DRF's generic field-by-field walk over the same declared fields.
    return dict(serializers.ModelSerializer.to_representation(CampaignSerializer(), campaign))


@pytest.fixture
def campaigns() -> list[Campaign]:
    account = AdAccountFactory(platform="tiktok", currency="EUR")
    full = CampaignFactory(
        ad_account=account,
        objective="leads",
        status="paused",
        daily_budget=Decimal("12.5"),
        lifetime_budget=Decimal("1234567890.1234"),
        bid_strategy="cost_cap",
        bid_amount=Decimal("0.0001"),
        start_date=dt.date(2026, 1, 31),
        end_date=dt.date(2026, 12, 1),
    )
    empty = CampaignFactory(
        ad_account=account, daily_budget=None, lifetime_budget=None, bid_amount=None
    )
    return [
        selectors.list_campaigns(account.organization).get(pk=campaign.pk)
        for campaign in (full, empty)
    ]


def test_a_campaign_reads_as_drf_would_write_it(campaigns: list[Campaign]) -> None:
    for campaign in campaigns:
        assert CampaignSerializer(campaign).data == _drf_representation(campaign)


def test_money_is_written_to_four_places_as_drf_does(campaigns: list[Campaign]) -> None:
    campaign = campaigns[0]
    campaign.daily_budget = Decimal("7.1")  # not reloaded, so not yet in the column's scale

    assert CampaignSerializer(campaign).data["daily_budget"] == "7.1000"
    assert CampaignSerializer(campaign).data == _drf_representation(campaign)


def test_a_campaign_row_reads_as_its_instance(campaigns: list[Campaign]) -> None:
    organization = campaigns[0].organization
    rows = {row["id"]: row for row in campaign_rows(selectors.list_campaigns(organization))}

    for campaign in campaigns:
        assert CampaignSerializer(rows[campaign.pk]).data == _drf_representation(campaign)


def test_a_page_of_rows_reads_as_its_instances(campaigns: list[Campaign]) -> None:
    organization = campaigns[0].organization
    rows = campaign_rows(selectors.list_campaigns(organization).order_by("pk"))

    with timezone.override(dt.timezone(dt.timedelta(hours=9))):
        assert CampaignSerializer(rows, many=True).data == [
            _drf_representation(campaign) for campaign in campaigns
        ]


def test_date_times_follow_the_current_time_zone(campaigns: list[Campaign]) -> None:
    campaign = campaigns[0]
    with timezone.override(dt.timezone(dt.timedelta(hours=-5))):
        data = CampaignSerializer(campaign).data
        assert data == _drf_representation(campaign)
    assert data["created_at"].endswith("-05:00")
    assert CampaignSerializer(campaign).data["created_at"].endswith("Z")
