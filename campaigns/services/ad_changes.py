"""Changes one level below a campaign: pausing or activating an ad, widening an ad group's
audience. The same path as campaign changes: validated here, recorded as a `CampaignChange`
(with `level` ad / ad_group and the ad or ad group it is about, `campaign` the parent),
applied by `apply_campaign_change` through the connector, idempotency key, compare-and-set
on `expected_before` against our stored values, dry runs, the guardrail verdict.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from campaigns.models import (
    Ad,
    AdGroup,
    Campaign,
    CampaignChange,
    ChangeKind,
    ChangeLevel,
    ChangeStatus,
    DeliveryStatus,
)
from campaigns.services.changes import (
    Actor,
    CampaignChangeError,
    _plain,
    _scoped_key,
    ad_group_snapshot,
    ad_snapshot,
    apply_campaign_change,
)
from integrations.records import AudienceDimension
from integrations.registry import get_connector_class
from integrations.vocabulary import Platform

GONE = (DeliveryStatus.ARCHIVED, DeliveryStatus.DELETED)
# Largest widening in one change: years on each side of the age range, lookalike points.
MAX_STEP = {AudienceDimension.AGE_RANGE: 20, AudienceDimension.LOOKALIKE: 9}


def _record_and_apply(
    *,
    campaign: Campaign,
    level: str,
    kind: str,
    actor: Actor,
    before: dict[str, Any],
    params: dict[str, Any] | None = None,
    ad: Ad | None = None,
    ad_group: AdGroup | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
    expected_before: dict[str, Any] | None = None,
    dry_run: bool = False,
    guardrail_verdict: dict[str, Any] | None = None,
) -> CampaignChange:
    key = _scoped_key(campaign.organization_id, idempotency_key)
    if key and (existing := CampaignChange.objects.filter(idempotency_key=key).first()):
        return existing
    try:
        with transaction.atomic():
            change = CampaignChange.objects.create(
                organization_id=campaign.organization_id,
                ad_account_id=campaign.ad_account_id,
                campaign=campaign,
                level=level,
                ad=ad,
                ad_group=ad_group,
                kind=kind,
                params={name: _plain(value) for name, value in (params or {}).items()},
                before=before,
                expected_before=expected_before,
                actor_kind=actor.kind,
                actor_label=actor.label,
                actor_user_id=actor.user_id,
                actor_api_key_id=actor.api_key_id,
                reason=reason,
                idempotency_key=key,
                is_dry_run=dry_run,
                guardrail_verdict=guardrail_verdict or {},
                status=ChangeStatus.DRY_RUN if dry_run else ChangeStatus.PENDING,
            )
    except IntegrityError:
        # The same key raced us in; its change is the answer.
        return CampaignChange.objects.get(idempotency_key=key)
    if not dry_run:
        apply_campaign_change(change_id=change.pk)
        change.refresh_from_db()
    return change


def _set_ad_status(
    *, ad: Ad, kind: str, actor: Actor, reason: str = "", **options: Any
) -> CampaignChange:
    campaign = ad.campaign
    errors: dict[str, list[str]] = {}
    if campaign.status in GONE:
        errors["campaign"] = [f"The ad's campaign is {campaign.status}; it cannot be changed."]
    if ad.status in GONE:
        errors["status"] = [f"The ad is {ad.status}; it cannot be changed."]
    if errors:
        raise CampaignChangeError(errors)
    return _record_and_apply(
        campaign=campaign, level=ChangeLevel.AD, kind=kind, actor=actor, ad=ad,
        ad_group=ad.ad_group, before=ad_snapshot(ad), reason=reason, **options,
    )  # fmt: skip


def pause_ad(*, ad: Ad, actor: Actor, reason: str = "", **options: Any) -> CampaignChange:
    """Ask the platform to pause one ad (its ad group and campaign keep delivering).

    `options`: idempotency_key, expected_before (e.g. {"status": "active"}), dry_run,
    guardrail_verdict."""
    return _set_ad_status(ad=ad, kind=ChangeKind.AD_PAUSE, actor=actor, reason=reason, **options)


def activate_ad(*, ad: Ad, actor: Actor, reason: str = "", **options: Any) -> CampaignChange:
    """Ask the platform to (re)start delivering one ad."""
    return _set_ad_status(ad=ad, kind=ChangeKind.AD_ACTIVATE, actor=actor, reason=reason, **options)


def audience_dimensions_for(ad_group: AdGroup) -> frozenset[AudienceDimension]:
    """What the ad group's platform connector can widen (empty without a connection)."""
    connection = ad_group.campaign.ad_account.connection
    if connection is None:
        return frozenset()
    return get_connector_class(connection.connector).audience_dimensions


def expand_ad_group_audience(
    *,
    ad_group: AdGroup,
    dimension: str,
    actor: Actor,
    step: int = 0,
    reason: str = "",
    **options: Any,
) -> CampaignChange:
    """Widen the ad group's audience along one dimension: `age_range` (`step` years on each
    side), `lookalike` (`step` percentage points) or `interests` (the platform's own
    expansion switched on). A dimension the platform cannot widen is refused with a field
    error naming the platform; one the platform refuses at apply time fails the change
    with error code "unsupported"."""
    campaign = ad_group.campaign
    errors: dict[str, list[str]] = {}
    try:
        wanted = AudienceDimension(dimension)
    except ValueError:
        raise CampaignChangeError(
            {"dimension": [f"Choose one of {', '.join(d.value for d in AudienceDimension)}."]}
        ) from None
    if campaign.status in GONE:
        errors["campaign"] = [f"The campaign is {campaign.status}; it cannot be changed."]
    if ad_group.status in GONE:
        errors["status"] = [f"The ad group is {ad_group.status}; it cannot be changed."]
    limit = MAX_STEP.get(wanted)
    if limit is not None and not 1 <= step <= limit:
        errors["step"] = [f"Widen {wanted.value.replace('_', ' ')} by 1 to {limit}."]
    if wanted not in audience_dimensions_for(ad_group):
        platform = Platform(campaign.ad_account.platform).label
        errors.setdefault("dimension", []).append(
            f"{platform} cannot widen {wanted.value.replace('_', ' ')} through its API."
        )
    if errors:
        raise CampaignChangeError(errors)
    return _record_and_apply(
        campaign=campaign, level=ChangeLevel.AD_GROUP, kind=ChangeKind.EXPAND_AUDIENCE,
        actor=actor, ad_group=ad_group, before=ad_group_snapshot(ad_group),
        params={"dimension": wanted.value, "step": step}, reason=reason, **options,
    )  # fmt: skip
