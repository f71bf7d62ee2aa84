"""The Agents page: start a run, read the report, apply or dismiss advice."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from adplatform.models import Membership, Organization, Role
from agents.models import AgentRun, Recommendation, RecommendationStatus
from campaigns.models import CampaignChange
from tests.adplatform.factories import MembershipFactory
from tests.agents.sandbox import build_sandbox_org

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewed(
    organization: Organization,
    member: Membership,
    web_client_for: Callable[..., Client],
    django_capture_on_commit_callbacks: Callable[..., Any],
) -> AgentRun:
    build_sandbox_org(organization)
    client = web_client_for(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/agents/runs/", {"task": "account_review"})
    run = AgentRun.objects.get(organization=organization)
    assert response.status_code == 302
    assert response["Location"] == f"/agents/runs/{run.pk}/"
    return run


def test_a_member_starts_a_review_and_reads_its_report(
    reviewed: AgentRun, member: Membership, web_client_for: Callable[..., Client]
) -> None:
    reviewed.refresh_from_db()
    html = web_client_for(member).get(f"/agents/runs/{reviewed.pk}/").content.decode()

    assert reviewed.status == "succeeded"
    assert reviewed.output["headline"] in html
    pending = Recommendation.objects.filter(run=reviewed, status=RecommendationStatus.PENDING)
    assert pending.exists()
    assert pending.first().title in html  # type: ignore[union-attr]
    listing = web_client_for(member).get("/agents/").content.decode()
    assert "Account review" in listing


def test_applying_from_the_page_changes_the_campaign_through_the_services(
    reviewed: AgentRun, member: Membership, web_client_for: Callable[..., Client]
) -> None:
    recommendation = Recommendation.objects.filter(run=reviewed).first()
    assert recommendation is not None

    response = web_client_for(member).post(
        f"/agents/recommendations/{recommendation.pk}/apply/", headers={"HX-Request": "true"}
    )

    recommendation.refresh_from_db()
    assert response.status_code == 200
    assert response.content.decode().lstrip().startswith(f'<tr id="rec-{recommendation.pk}"')
    assert recommendation.status == RecommendationStatus.APPLIED
    assert CampaignChange.objects.filter(campaign=recommendation.campaign).exists()


def test_viewers_read_but_cannot_start_or_decide(
    reviewed: AgentRun, organization: Organization, web_client_for: Callable[..., Client]
) -> None:
    viewer = web_client_for(MembershipFactory(organization=organization, role=Role.VIEWER))
    recommendation = Recommendation.objects.filter(run=reviewed).first()
    assert recommendation is not None

    assert viewer.get(f"/agents/runs/{reviewed.pk}/").status_code == 200
    assert viewer.post("/agents/runs/", {"task": "forecast"}).status_code == 403
    assert viewer.post(f"/agents/recommendations/{recommendation.pk}/apply/").status_code == 403
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.PENDING
    assert AgentRun.objects.count() == 1


def test_another_organizations_run_and_advice_are_not_found(
    reviewed: AgentRun, other_organization: Organization, web_client_for: Callable[..., Client]
) -> None:
    outsider = web_client_for(MembershipFactory(organization=other_organization, role=Role.OWNER))
    recommendation = Recommendation.objects.filter(run=reviewed).first()
    assert recommendation is not None

    assert outsider.get(f"/agents/runs/{reviewed.pk}/").status_code == 404
    assert outsider.post(f"/agents/recommendations/{recommendation.pk}/apply/").status_code == 404
    recommendation.refresh_from_db()
    assert recommendation.status == RecommendationStatus.PENDING


def test_an_unknown_task_is_refused_with_a_message(
    member: Membership, web_client_for: Callable[..., Client]
) -> None:
    response = web_client_for(member).post("/agents/runs/", {"task": "take_over"}, follow=True)

    assert "Choose one of the listed tasks" in response.content.decode()
    assert not AgentRun.objects.exists()
