"""Changes one level below a campaign: pausing or activating an ad, widening an ad group's
audience. The same path as campaign changes: validated here, recorded as a `CampaignChange`
(with `level` ad / ad_group and the ad or ad group it is about, `campaign` the parent),
applied by `apply_campaign_change` through the connector, idempotency key, compare-and-set
on `expected_before` against our stored values, dry runs, the guardrail verdict.
"""

from __future__ import annotations

from typing import Any

from campaigns.models import (
    Ad,
    AdGroup,
    CampaignChange,
    ChangeKind,
    ChangeLevel,
    DeliveryStatus,
)
from campaigns.services.changes import (
    Actor,
    CampaignChangeError,
    ad_group_snapshot,
    ad_snapshot,
    record_and_apply_change,
)
from integrations.records import AudienceDimension
from integrations.registry import get_connector_class
from integrations.vocabulary import Platform

GONE = (DeliveryStatus.ARCHIVED, DeliveryStatus.DELETED)
# Largest widening in one change: years on each side of the age range, lookalike points.
MAX_STEP = {AudienceDimension.AGE_RANGE: 20, AudienceDimension.LOOKALIKE: 9}


def _set_ad_status(
    *, ad: Ad, kind: str, actor: Actor, reason: str = "", **options: Any
) -> CampaignChange:
    campaign = ad.campaign

    def validate() -> None:
        errors: dict[str, list[str]] = {}
        if campaign.status in GONE:
            errors["campaign"] = [f"The ad's campaign is {campaign.status}; it cannot be changed."]
        if ad.status in GONE:
            errors["status"] = [f"The ad is {ad.status}; it cannot be changed."]
        if errors:
            raise CampaignChangeError(errors)

    return record_and_apply_change(
        campaign=campaign, kind=kind, actor=actor, params={}, before=ad_snapshot(ad),
        validate=validate, reason=reason, level=ChangeLevel.AD, ad=ad, ad_group=ad.ad_group,
        **options,
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
    try:
        wanted = AudienceDimension(dimension)
    except ValueError:
        raise CampaignChangeError(
            {"dimension": [f"Choose one of {', '.join(d.value for d in AudienceDimension)}."]}
        ) from None

    def validate() -> None:
        errors: dict[str, list[str]] = {}
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

    return record_and_apply_change(
        campaign=campaign, kind=ChangeKind.EXPAND_AUDIENCE, actor=actor,
        params={"dimension": wanted.value, "step": step}, before=ad_group_snapshot(ad_group),
        validate=validate, reason=reason, level=ChangeLevel.AD_GROUP, ad_group=ad_group,
        **options,
    )  # fmt: skip
