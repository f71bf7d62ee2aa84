"""The creative studio and competitors pages (server-rendered, htmx actions)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from adplatform.models import Membership, Organization, Role
from agents.limits import limits_for
from agents.models import Competitor, CompetitorNote, CreativeVariant, VariantStatus
from campaigns.models import Campaign
from tests.adplatform.factories import MembershipFactory
from tests.agents.sandbox import build_sandbox_org

pytestmark = pytest.mark.django_db


def logged_in(membership: Membership) -> Client:
    client = Client()
    client.force_login(membership.user)
    return client


def test_the_studio_writes_variants_within_limits_for_a_chosen_campaign_and_keeps_decisions(
    organization: Organization, member: Membership, django_capture_on_commit_callbacks: Any
) -> None:
    build_sandbox_org(organization)
    campaign = Campaign.objects.filter(organization=organization).order_by("pk").first()
    assert campaign is not None
    client = logged_in(member)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/agents/studio/",
            {"campaign": campaign.pk, "platform_format": "google:responsive_search", "count": 4},
        )
    assert response.status_code == 302
    page = client.get(response["Location"])

    variants = list(CreativeVariant.objects.filter(organization=organization).order_by("pk"))
    assert len(variants) == 4
    limits = limits_for("google")
    for variant in variants:
        assert variant.platform == "google" and variant.ad_format == "responsive_search"
        assert variant.campaign_id == campaign.pk and variant.violations == []
        assert all(len(text) <= limits[name] for name, text in variant.fields.items())
        assert variant.grounded_in  # the headlines it learned from, with their CTR
    # Grounding starts with the chosen campaign's own best ad.
    own = {ad.pk for ad in campaign.ads.all()}
    assert variants[0].grounded_in[0]["ad_id"] in own
    content = page.content.decode()
    assert "Grounded in what performed best" in content
    assert content.count('data-status="proposed"') == 4

    saved = client.post(f"/agents/studio/variants/{variants[0].pk}/save/")
    discarded = client.post(f"/agents/studio/variants/{variants[1].pk}/discard/")

    assert saved.status_code == 200 and "Saved" in saved.content.decode()
    assert discarded.status_code == 200
    statuses = dict(CreativeVariant.objects.values_list("pk", "status"))
    assert statuses[variants[0].pk] == VariantStatus.SAVED
    assert statuses[variants[1].pk] == VariantStatus.DISCARDED
    assert statuses[variants[2].pk] == VariantStatus.PROPOSED


def test_a_campaign_of_another_organization_cannot_be_chosen_in_the_studio(
    organization: Organization, other_organization: Organization, member: Membership
) -> None:
    build_sandbox_org(other_organization, platforms=("meta",))
    foreign = Campaign.objects.filter(organization=other_organization).first()
    assert foreign is not None

    response = logged_in(member).post(
        "/agents/studio/",
        {"campaign": foreign.pk, "platform_format": "meta:image_video", "count": 3},
    )

    assert response.status_code == 400
    assert not CreativeVariant.objects.exists()


def test_a_viewer_cannot_ask_for_variants_or_decide_them(organization: Organization) -> None:
    viewer = MembershipFactory(organization=organization, role=Role.VIEWER)
    variant = CreativeVariant.objects.create(
        organization=organization, platform="meta", fields={"headline": "Hi"}
    )
    client = logged_in(viewer)

    asked = client.post("/agents/studio/", {"platform_format": "meta:image_video", "count": 3})
    decided = client.post(f"/agents/studio/variants/{variant.pk}/save/")

    assert asked.status_code == 403 and decided.status_code == 403
    variant.refresh_from_db()
    assert variant.status == VariantStatus.PROPOSED


def test_competitors_can_be_tracked_and_noted_from_the_page(
    organization: Organization, member: Membership
) -> None:
    client = logged_in(member)

    bad = client.post(
        "/agents/competitors/add/", {"name": "Rival", "page_ids": "12x", "countries": "DE"}
    )
    good = client.post(
        "/agents/competitors/add/",
        {"name": "Rival", "page_ids": "123, 456", "search_terms": "", "countries": "de fr"},
    )
    note = client.post(
        "/agents/competitors/notes/",
        {"competitor": "Rival", "text": "Free shipping week", "observed_on": "2026-06-01"},
    )
    page = client.get("/agents/competitors/")

    assert bad.status_code == 400 and "digits" in bad.content.decode()
    assert good.status_code == 302 and note.status_code == 302
    rival = Competitor.objects.get(organization=organization)
    assert rival.page_ids == ["123", "456"] and rival.countries == ["DE", "FR"]
    assert CompetitorNote.objects.get(organization=organization).text == "Free shipping week"
    assert "Free shipping week" in page.content.decode()

    client.post(f"/agents/competitors/{rival.pk}/delete/")
    assert not Competitor.objects.exists()
