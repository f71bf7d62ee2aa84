from __future__ import annotations

from collections.abc import Callable

import pytest
from rest_framework.test import APIClient

from adplatform.models import Organization, Role
from agents.models import AgentRun, Recommendation, RecommendationStatus
from campaigns.models import CampaignChange
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _recommendation(org: Organization) -> Recommendation:
    campaign = CampaignFactory(organization=org, ad_account__organization=org)
    run = AgentRun.objects.create(organization=org, task="account_review")
    return Recommendation.objects.create(
        organization=org, run=run, agent="performance_optimizer", campaign=campaign,
        action="pause", title="Pause it", confidence=0.9,
    )  # fmt: skip


def test_another_organizations_recommendation_cannot_be_applied_or_dismissed(
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    foreign = _recommendation(other_organization)
    client = api_client_for(organization, Role.OWNER)
    for verb in ("apply", "dismiss"):
        response = client.post(f"/api/v1/recommendations/{foreign.pk}/{verb}/")
        assert response.status_code == 404
    foreign.refresh_from_db()
    assert foreign.status == RecommendationStatus.PENDING
    assert CampaignChange.objects.count() == 0


def test_a_bad_task_name_is_a_400_with_field_errors(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    client = api_client_for(organization, Role.OWNER)
    response = client.post("/api/v1/agents/runs/", {"task": "take_over"}, format="json")
    assert response.status_code == 400
    assert "task" in str(response.json())
    assert not AgentRun.objects.exists()


def test_dismissing_twice_is_a_400(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    rec = _recommendation(organization)
    client = api_client_for(organization, Role.OWNER)
    assert client.post(f"/api/v1/recommendations/{rec.pk}/dismiss/").status_code == 200
    assert client.post(f"/api/v1/recommendations/{rec.pk}/dismiss/").status_code == 400
