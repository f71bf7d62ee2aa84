"""`record_dry_run_changes` records what `request_campaign_change(dry_run=True)` records."""

from __future__ import annotations

from decimal import Decimal

import pytest

from campaigns.models import CampaignChange, DeliveryStatus
from campaigns.services import (
    Actor,
    CampaignChangeError,
    ChangeRequest,
    record_dry_run_changes,
    request_campaign_change,
)
from tests.campaigns.factories import CampaignFactory

pytestmark = pytest.mark.django_db

FIELDS = ("organization_id", "ad_account_id", "campaign_id", "kind", "params", "before",
          "expected_before", "actor_kind", "actor_label", "reason", "is_dry_run", "status")  # fmt: skip


def test_the_bulk_path_records_the_same_change_as_the_one_by_one_path() -> None:
    campaign = CampaignFactory(daily_budget=Decimal("80.00"))
    actor = Actor.for_rule(7, "Scale")
    one = request_campaign_change(
        campaign=campaign, kind="daily_budget", actor=actor,
        params={"daily_budget": Decimal("96.00")}, reason="why", idempotency_key="one",
        expected_before={"daily_budget": "80.00"}, dry_run=True,
    )  # fmt: skip

    answers = record_dry_run_changes(
        [ChangeRequest(campaign=campaign, kind="daily_budget", idempotency_key="bulk",
                       params={"daily_budget": Decimal("96.00")}, reason="why",
                       expected_before={"daily_budget": "80.00"},
                       guardrail_verdict={"allowed": True})],
        actor=actor,
    )  # fmt: skip

    bulk = answers["bulk"]
    assert isinstance(bulk, CampaignChange)
    assert [getattr(bulk, f) for f in FIELDS] == [getattr(one, f) for f in FIELDS]
    assert bulk.idempotency_key == f"{campaign.organization_id}:bulk"
    assert bulk.guardrail_verdict == {"allowed": True}


def test_a_used_key_answers_with_the_first_change_and_a_refused_request_with_its_error() -> None:
    campaign = CampaignFactory()
    archived = CampaignFactory(status=DeliveryStatus.ARCHIVED)
    actor = Actor.for_rule(7)
    first = request_campaign_change(
        campaign=campaign, kind="pause", actor=actor, idempotency_key="k", dry_run=True
    )

    answers = record_dry_run_changes(
        [ChangeRequest(campaign=campaign, kind="pause", idempotency_key="k"),
         ChangeRequest(campaign=archived, kind="pause", idempotency_key="refused")],
        actor=actor,
    )  # fmt: skip

    assert answers["k"] == first
    assert isinstance(answers["refused"], CampaignChangeError)
    assert "status" in answers["refused"].errors
    assert CampaignChange.objects.count() == 1
