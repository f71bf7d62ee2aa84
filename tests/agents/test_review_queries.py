"""An account review reads the database a fixed number of times, whatever its size."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from adplatform.models import Organization
from agents.tools.data import load_snapshot
from agents.workflow import run_review
from campaigns.models import Campaign
from tests.agents.sandbox import AS_OF, build_sandbox_org

pytestmark = pytest.mark.django_db


def _review_queries(organization: Organization) -> tuple[int, int, int]:
    with CaptureQueriesContext(connection) as queries:
        snapshot = load_snapshot(organization, as_of=AS_OF)
        final: dict[str, object] = {}
        for _node, update in run_review(organization, snapshot):
            final = update.get("final", final)  # type: ignore[assignment]
    assert final, "the review did not finish"
    return len(queries), len(snapshot.campaigns), len(snapshot.ad_series)


def test_the_review_query_count_does_not_grow_with_campaigns(
    organization: Organization, other_organization: Organization
) -> None:
    # Given a one-platform account and a three-platform account with more campaigns
    build_sandbox_org(organization, platforms=("meta",), days=30)
    build_sandbox_org(other_organization, platforms=("meta", "google", "tiktok"), days=30)
    small = Campaign.objects.filter(organization=organization).count()
    large = Campaign.objects.filter(organization=other_organization).count()
    assert large > small > 0

    # When each is reviewed (snapshot and graph)
    small_queries, small_campaigns, small_ads = _review_queries(organization)
    large_queries, large_campaigns, large_ads = _review_queries(other_organization)

    # Then both read every campaign and ad, with the same number of queries
    assert (small_campaigns, large_campaigns) == (small, large)
    assert large_ads > small_ads > 0
    assert large_queries == small_queries
