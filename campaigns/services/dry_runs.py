"""Many dry-run changes at once, for callers that judge thousands of campaigns per pass.

`record_dry_run_changes` does for each request what `request_campaign_change(dry_run=True)`
does — the same validation, the same `CampaignChange` row (status dry_run, the snapshot
before, the idempotency key scoped by organization) and the same answer for a key already used — in a fixed
number of queries whatever the number of requests: one read of the keys already taken, one
INSERT ... ON CONFLICT DO NOTHING of the rest, one read back. Nothing reaches a platform.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone

from adplatform.bulk import build, in_values, insert_rows, is_postgresql
from campaigns.models import Campaign, CampaignChange, ChangeStatus
from campaigns.services.changes import (
    Actor,
    CampaignChangeError,
    _plain,
    _snapshot,
    validate_change,
)


@dataclass(frozen=True)
class ChangeRequest:
    """One change as `request_campaign_change` takes it; the key is required here."""

    campaign: Campaign
    kind: str
    idempotency_key: str
    params: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    expected_before: dict[str, Any] | None = None
    guardrail_verdict: dict[str, Any] = field(default_factory=dict)
    # Who asks, when one call records changes for several actors (rules of a pass).
    actor: Actor | None = None


def record_dry_run_changes(
    requests: Sequence[ChangeRequest], *, actor: Actor | None = None
) -> dict[str, CampaignChange | CampaignChangeError]:
    """Record every request as a dry run, asked by its own `actor` or else by `actor`;
    returns, by the caller's (unscoped) key, the change — the first one for a key used
    before — or the validation error."""
    scoped = {
        request.idempotency_key: f"{request.campaign.organization_id}:{request.idempotency_key}"
        for request in requests
    }
    keys = list(scoped.values())
    existing = {
        change.idempotency_key: change
        for change in CampaignChange.objects.filter(
            idempotency_key__in=in_values(keys) if is_postgresql() else keys
        )
    }
    answers: dict[str, CampaignChange | CampaignChangeError] = {}
    new: list[CampaignChange] = []
    for request in requests:
        key = scoped[request.idempotency_key]
        if key in existing:
            answers[request.idempotency_key] = existing[key]
            continue
        try:
            validate_change(campaign=request.campaign, kind=request.kind, params=request.params)
        except CampaignChangeError as exc:
            answers[request.idempotency_key] = exc
            continue
        campaign = request.campaign
        asker = request.actor or actor
        if asker is None:
            raise ValueError("record_dry_run_changes needs an actor for every request")
        new.append(
            build(
                CampaignChange,
                {"organization_id": campaign.organization_id,
                 "ad_account_id": campaign.ad_account_id, "campaign_id": campaign.pk,
                 "kind": request.kind,
                 "params": {name: _plain(value) for name, value in request.params.items()},
                 "before": _snapshot(campaign), "expected_before": request.expected_before,
                 "actor_kind": asker.kind, "actor_label": asker.label,
                 "actor_user_id": asker.user_id, "actor_api_key_id": asker.api_key_id,
                 "reason": request.reason, "idempotency_key": key, "is_dry_run": True,
                 "status": ChangeStatus.DRY_RUN, "guardrail_verdict": request.guardrail_verdict},
                campaign=campaign,
            )
        )  # fmt: skip
    if new and is_postgresql():
        _insert_returning(new, answers, {scoped_key: key for key, scoped_key in scoped.items()})
    elif new:
        # A key that raced us in between the read and this insert keeps its first change,
        # as `request_campaign_change` would return it.
        CampaignChange.objects.bulk_create(new, ignore_conflicts=True)
        by_key = {scoped_key: caller_key for caller_key, scoped_key in scoped.items()}
        # Read back only the keys' ids and request times: a row carrying the time we
        # stamped is the one we built (its id is all it lacks), so thousands of changes
        # are not decoded again; only rows another caller wrote first are read whole.
        ours = {change.idempotency_key or "": change for change in new}
        theirs: list[str] = []
        for stored_key, pk, requested_at in CampaignChange.objects.filter(
            idempotency_key__in=list(ours)
        ).values_list("idempotency_key", "pk", "requested_at"):
            change = ours[stored_key or ""]
            if requested_at != change.requested_at:
                theirs.append(stored_key or "")
                continue
            change.pk = pk
            change._state.adding = False
            answers[by_key[stored_key or ""]] = change
        if theirs:
            for change in CampaignChange.objects.filter(idempotency_key__in=theirs):
                answers[by_key[change.idempotency_key or ""]] = change
    return answers


_WRITTEN = ("organization_id", "ad_account_id", "campaign_id", "kind", "params", "before",
            "expected_before", "actor_kind", "actor_label", "actor_user_id", "actor_api_key_id",
            "reason", "idempotency_key", "is_dry_run", "status", "guardrail_verdict",
            "requested_at")  # fmt: skip


def _insert_returning(
    new: list[CampaignChange],
    answers: dict[str, CampaignChange | CampaignChangeError],
    by_key: dict[str, str],
) -> None:
    """The INSERT of `bulk_create(new, ignore_conflicts=True)` in one statement that
    returns the ids of the rows it wrote; a key that raced us in between the read and
    this insert keeps its first change, read whole, as `request_campaign_change` would
    return it."""
    now = timezone.now()
    for change in new:
        change.requested_at = now
    written = dict(
        insert_rows(
            CampaignChange,
            [{name: getattr(change, name) for name in _WRITTEN} for change in new],
            unique="idempotency_key",
            returning=("idempotency_key", "id"),
        )
    )
    theirs: list[str] = []
    for change in new:
        key = change.idempotency_key or ""
        if key not in written:
            theirs.append(key)
            continue
        change.pk = written[key]
        change._state.adding = False
        answers[by_key[key]] = change
    if theirs:
        for change in CampaignChange.objects.filter(idempotency_key__in=theirs):
            answers[by_key[change.idempotency_key or ""]] = change
