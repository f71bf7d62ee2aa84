"""Every API route, walked as a caller from another organization, with real ids.

The walk is generic: it finds each viewset under /api/v1/, the model it serves, and an
object of that model owned by organization B, then calls it with organization A's key.
New endpoints are covered as soon as they are routed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.db.models import Model
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.test import APIClient

from adplatform.audit import record_audit
from adplatform.models import AuditAction, Organization, Role
from agents.models import AgentRun, Competitor, CompetitorNote, Recommendation
from analytics.models import ScheduledReport
from notifications.services import notify
from tests.analytics.factories import InsightFactory
from tests.automation.factories import rule_with_proposal
from tests.campaigns.factories import AdFactory, CampaignChangeFactory, SyncRunFactory
from tests.integrations.factories import FakeConnectionFactory
from tests.notifications.factories import WebhookEndpointFactory

pytestmark = pytest.mark.django_db


def _api_patterns() -> Iterator[tuple[str, Any]]:
    def walk(patterns: list[Any], prefix: str) -> Iterator[tuple[str, Any]]:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    for route, callback in walk(get_resolver().url_patterns, ""):
        if route.startswith("api/v1/") and hasattr(callback, "cls"):
            queryset = getattr(callback.cls, "queryset", None)
            if queryset is not None:
                yield route, callback


def _object_of(model: type[Model], organization: Organization) -> Model | None:
    if model is Organization:
        return organization
    return model._default_manager.filter(organization=organization).first()


def _concrete(route: str, pk: int | None) -> str:
    path = route.replace("^", "").replace("$", "").replace("\\.(?P<format>[a-z0-9]+)/?", "")
    if pk is not None:
        path = path.replace("(?P<pk>[0-9]+)", str(pk)).replace("<int:pk>", str(pk))
    return "/" + path


@pytest.fixture
def two_tenants(organization: Organization, other_organization: Organization) -> None:
    for org in (organization, other_organization):
        record_audit(action=AuditAction.MEMBER_ADDED, organization=org, target="someone")
        ad = AdFactory(organization=org, ad_group__campaign__ad_account__organization=org)
        CampaignChangeFactory(campaign=ad.campaign)
        SyncRunFactory(connection=FakeConnectionFactory(organization=org))
        InsightFactory(organization=org, campaign=ad.campaign)
        WebhookEndpointFactory(organization=org)
        notify(org, "system_update", {"message": f"Hello {org.slug}"})
        ScheduledReport.objects.create(
            organization=org,
            name="Weekly",
            frequency="weekly",
            recipients=["client@example.com"],
            next_run_at=timezone.now(),
        )
        run = AgentRun.objects.create(organization=org, task="account_review")
        Recommendation.objects.create(
            organization=org, run=run, agent="budget_manager", campaign=ad.campaign,
            action="pause", title="Pause", confidence=0.9,
        )  # fmt: skip
        Competitor.objects.create(organization=org, name="Rival", page_ids=["1"], countries=["DE"])
        CompetitorNote.objects.create(
            organization=org, competitor="Rival", text="20% off", observed_on=timezone.localdate()
        )

        rule_with_proposal(ad.campaign)


def test_every_detail_route_hides_other_organizations_objects(
    two_tenants: None,
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    client = api_client_for(organization, Role.OWNER)
    checked = 0
    for route, callback in _api_patterns():
        if "(?P<pk>" not in route or "format" in route:
            continue
        model = callback.cls.queryset.model
        foreign = _object_of(model, other_organization)
        assert foreign is not None, f"no {model.__name__} of organization B for {route}"
        before = model._default_manager.filter(pk=foreign.pk).values().get()
        url = _concrete(route, foreign.pk)
        for method in ("get", "patch", "put", "delete"):
            response = getattr(client, method)(url, {}, format="json")
            assert response.status_code in (404, 405), (method, url, response.status_code)
            assert str(foreign.pk) not in response.content.decode() or response.status_code == 405
        assert model._default_manager.filter(pk=foreign.pk).values().get() == before
        checked += 1
    assert checked >= 5


def test_every_list_route_returns_only_the_callers_rows(
    two_tenants: None,
    organization: Organization,
    other_organization: Organization,
    api_client_for: Callable[..., APIClient],
) -> None:
    client = api_client_for(organization, Role.OWNER)
    checked = 0
    for route, callback in _api_patterns():
        if "(?P<pk>" in route or "format" in route:
            continue
        model = callback.cls.queryset.model
        foreign = _object_of(model, other_organization)
        own = _object_of(model, organization)
        response = client.get(_concrete(route, None))
        if response.status_code == 405:
            continue  # an action route (e.g. POST .../compute/), not a list
        if response.status_code == 403 and "signed-in user" in response.json()["detail"]:
            continue  # per-user settings; their isolation is tested with sessions
        assert response.status_code == 200, (route, response.content)
        if "rules/export/" in route:
            # A rule file names rules (ids are not portable across organizations).
            names = {rule["name"] for rule in response.json()["rules"]}
            assert str(own) in names and str(foreign) not in names, route
            checked += 1
            continue
        ids = {row["id"] for row in response.json()["results"]}
        assert own is not None and own.pk in ids, route
        assert foreign is not None and foreign.pk not in ids, route
        checked += 1
    assert checked >= 5


def test_viewer_key_cannot_write_and_nothing_changes(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    client = api_client_for(organization, Role.VIEWER)

    response = client.patch(
        f"/api/v1/organizations/{organization.pk}/", {"name": "Renamed"}, format="json"
    )

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    organization.refresh_from_db()
    assert organization.name == "Acme Retail"


def test_member_key_cannot_change_the_organization_but_an_admin_can(
    organization: Organization, api_client_for: Callable[..., APIClient]
) -> None:
    member = api_client_for(organization, Role.MEMBER)
    admin = api_client_for(organization, Role.ADMIN)

    denied = member.patch(f"/api/v1/organizations/{organization.pk}/", {"name": "X"}, format="json")
    allowed = admin.patch(
        f"/api/v1/organizations/{organization.pk}/",
        {"name": "Acme Retail EU", "currency": "eur"},
        format="json",
    )

    assert denied.status_code == 403
    assert allowed.status_code == 200
    assert allowed.json()["currency"] == "EUR"
    organization.refresh_from_db()
    assert (organization.name, organization.currency) == ("Acme Retail EU", "EUR")


def test_session_user_cannot_pick_an_organization_they_do_not_belong_to(
    member: Any, other_organization: Organization
) -> None:
    client = APIClient()
    client.force_login(member.user)

    response = client.get("/api/v1/campaigns/", HTTP_X_ORGANIZATION=other_organization.slug)

    assert response.status_code == 403
