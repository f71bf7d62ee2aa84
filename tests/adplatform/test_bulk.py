"""The set-based writes on PostgreSQL store what `bulk_create`/`update` would store."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection

from adplatform.bulk import in_values, insert_rows, update_rows
from campaigns.models import ActorKind, CampaignChange, ChangeLevel, ChangeStatus
from tests.campaigns.factories import CampaignFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only"),
]


def _row(campaign, key: str, **changes) -> dict:  # type: ignore[no-untyped-def]
    return {
        "organization_id": campaign.organization_id, "ad_account_id": campaign.ad_account_id,
        "campaign_id": campaign.pk, "kind": "pause", "params": {"amount": Decimal("1.50")},
        "expected_before": None, "actor_kind": ActorKind.RULE, "actor_label": "rule:1",
        "idempotency_key": key, "status": ChangeStatus.DRY_RUN, **changes,
    }  # fmt: skip


def test_inserted_rows_take_the_fields_defaults_and_are_returned() -> None:
    campaign = CampaignFactory()

    written = insert_rows(
        CampaignChange, [_row(campaign, "a"), _row(campaign, "b")], unique="idempotency_key",
        returning=("idempotency_key", "id"),
    )  # fmt: skip

    stored = {change.idempotency_key: change for change in CampaignChange.objects.all()}
    assert dict(written) == {"a": stored["a"].pk, "b": stored["b"].pk}
    change = stored["a"]
    assert change.params == {"amount": "1.50"}
    assert change.expected_before is None
    assert change.level == ChangeLevel.CAMPAIGN and change.after == {} and change.error == ""
    assert change.requested_at is not None and change.applied_at is None


def test_a_key_already_taken_keeps_its_row_and_is_not_returned() -> None:
    campaign = CampaignFactory()
    insert_rows(CampaignChange, [_row(campaign, "a", reason="first")], unique="idempotency_key")

    written = insert_rows(
        CampaignChange, [_row(campaign, "a", reason="second"), _row(campaign, "b", reason="")],
        unique="idempotency_key", returning=("idempotency_key",),
    )  # fmt: skip

    assert written == [("b",)]
    assert CampaignChange.objects.get(idempotency_key="a").reason == "first"


def test_with_update_a_taken_key_takes_the_new_values() -> None:
    campaign = CampaignFactory()
    insert_rows(CampaignChange, [_row(campaign, "a", reason="first")], unique="idempotency_key")

    insert_rows(
        CampaignChange, [_row(campaign, "a", reason="second")], unique="idempotency_key",
        update=["reason"],
    )  # fmt: skip

    assert CampaignChange.objects.get(idempotency_key="a").reason == "second"


def test_update_rows_sets_each_rows_own_values() -> None:
    campaign = CampaignFactory()
    ids = dict(
        insert_rows(
            CampaignChange, [_row(campaign, "a"), _row(campaign, "b")],
            unique="idempotency_key", returning=("idempotency_key", "id"),
        )
    )  # fmt: skip

    updated = update_rows(
        CampaignChange,
        [{"id": ids["a"], "status": ChangeStatus.FAILED, "error": "no"},
         {"id": ids["b"], "status": ChangeStatus.APPLIED, "error": ""}],
    )  # fmt: skip

    assert updated == 2
    assert dict(CampaignChange.objects.values_list("idempotency_key", "status")) == {
        "a": ChangeStatus.FAILED, "b": ChangeStatus.APPLIED,
    }  # fmt: skip
    assert CampaignChange.objects.get(idempotency_key="a").error == "no"


def test_in_values_selects_the_listed_keys_and_ids() -> None:
    campaign = CampaignFactory()
    ids = dict(
        insert_rows(
            CampaignChange, [_row(campaign, key) for key in "abc"], unique="idempotency_key",
            returning=("idempotency_key", "id"),
        )
    )  # fmt: skip

    by_key = CampaignChange.objects.filter(idempotency_key__in=in_values(["a", "c", "zz"]))
    by_id = CampaignChange.objects.filter(pk__in=in_values([ids["b"]], cast="bigint"))

    assert sorted(change.idempotency_key for change in by_key) == ["a", "c"]
    assert [change.idempotency_key for change in by_id] == ["b"]
