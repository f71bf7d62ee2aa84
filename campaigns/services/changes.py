"""Changes to live campaigns: the one way anyone (user, API key, rule, agent) changes one.

Each change is validated, recorded as a `CampaignChange` (who, what, before), sent to the
platform through the connector, and our row is then updated from the platform's answer
(the platform's word, not our request, is what we store). The record keeps the answer.

Room for the automation work is already here: an idempotency key (a repeated request
returns the first change, and the platform is called once), compare-and-set through
`expected_before`, dry runs, a guardrail verdict and `undoes`.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils import timezone

from adplatform.metrics import ACTIONS_APPLIED
from adplatform.models import ApiKey
from campaigns.models import (
    ActorKind,
    Ad,
    AdAccount,
    AdGroup,
    BidStrategy,
    Campaign,
    CampaignChange,
    ChangeKind,
    ChangeLevel,
    ChangeStatus,
    DeliveryStatus,
    Objective,
)
from campaigns.services.problems import report_sync_problem
from campaigns.services.sync import campaign_values
from integrations.clients.errors import (
    AuthExpired,
    PermanentPlatformError,
    PlatformError,
    RetryablePlatformError,
    UnsupportedTargeting,
)
from integrations.models import ConnectionStatus
from integrations.records import (
    AudienceDimension,
    CampaignSpec,
    CampaignUpdate,
    RemoteAd,
    RemoteAdGroup,
    RemoteCampaign,
    TargetingChange,
)
from integrations.services import build_connector, refresh_connection_token, report_auth_expired

logger = logging.getLogger(__name__)

# Strategies where the platform takes a bid or target amount; automatic bidding takes none.
BIDDABLE_STRATEGIES = frozenset(
    {
        BidStrategy.COST_CAP,
        BidStrategy.BID_CAP,
        BidStrategy.TARGET_CPA,
        BidStrategy.TARGET_ROAS,
        BidStrategy.MANUAL_CPC,
        BidStrategy.MANUAL_CPM,
    }
)
SETTABLE_STATUSES = (DeliveryStatus.ACTIVE, DeliveryStatus.PAUSED)
ACTIVE, PAUSED = DeliveryStatus.ACTIVE.value, DeliveryStatus.PAUSED.value
TRACKED_FIELDS = ["status", "daily_budget", "lifetime_budget", "bid_amount", "name"]
MAX_BUDGET = Decimal("100000000")


@dataclass(frozen=True)
class Actor:
    """Who asked for a change. Build with the class methods."""

    kind: str
    label: str
    user_id: int | None = None
    api_key_id: int | None = None

    @classmethod
    def for_user(cls, user: User) -> Actor:
        return cls(kind=ActorKind.USER, label=f"user:{user.pk}", user_id=user.pk)

    @classmethod
    def for_api_key(cls, api_key: ApiKey) -> Actor:
        return cls(kind=ActorKind.API_KEY, label=f"api_key:{api_key.pk}", api_key_id=api_key.pk)

    @classmethod
    def for_rule(cls, rule_id: int, name: str = "") -> Actor:
        return cls(kind=ActorKind.RULE, label=f"rule:{rule_id}" + (f" {name}" if name else ""))

    @classmethod
    def for_agent(cls, name: str) -> Actor:
        return cls(kind=ActorKind.AGENT, label=f"agent:{name}")

    @classmethod
    def system(cls, name: str) -> Actor:
        return cls(kind=ActorKind.SYSTEM, label=f"system:{name}")


class CampaignChangeError(Exception):
    """The request is invalid; `errors` maps field names to messages (API: 400)."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{key}: {', '.join(msgs)}" for key, msgs in errors.items()))
        self.errors = errors


def _snapshot(campaign: Campaign) -> dict[str, Any]:
    return {field: _plain(getattr(campaign, field)) for field in TRACKED_FIELDS}


def _plain(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _remote_snapshot(remote: RemoteCampaign | RemoteAd | RemoteAdGroup) -> dict[str, Any]:
    data = dataclasses.asdict(remote)
    data.pop("raw", None)
    return {key: _plain(value) if not hasattr(value, "isoformat") else value.isoformat()
            for key, value in data.items()}  # fmt: skip


# --- Validation ------------------------------------------------------------------------------
def _check_amount(errors: dict[str, list[str]], field: str, value: Decimal | None) -> None:
    if value is None:
        return
    if value < 0:
        errors.setdefault(field, []).append("Must not be negative.")
    elif value > MAX_BUDGET:
        errors.setdefault(field, []).append("Is larger than any platform accepts.")


def validate_change(*, campaign: Campaign, kind: str, params: dict[str, Any]) -> None:
    """Refuse what the platform would refuse, with field errors, before calling it."""
    errors: dict[str, list[str]] = {}
    if campaign.status in (DeliveryStatus.ARCHIVED, DeliveryStatus.DELETED):
        errors["status"] = [f"The campaign is {campaign.status}; it cannot be changed."]
    if kind == ChangeKind.DAILY_BUDGET:
        _check_amount(errors, "daily_budget", params.get("daily_budget"))
        if campaign.lifetime_budget is not None and campaign.daily_budget is None:
            errors.setdefault("daily_budget", []).append(
                "This campaign has a lifetime budget; set lifetime_budget instead."
            )
    elif kind == ChangeKind.LIFETIME_BUDGET:
        _check_amount(errors, "lifetime_budget", params.get("lifetime_budget"))
        if campaign.lifetime_budget is None:
            errors.setdefault("lifetime_budget", []).append(
                "This campaign has a daily budget; set daily_budget instead."
            )
    elif kind == ChangeKind.BID:
        _check_amount(errors, "bid_amount", params.get("bid_amount"))
        if campaign.bid_strategy not in BIDDABLE_STRATEGIES:
            errors.setdefault("bid_amount", []).append(
                f"The bid strategy {campaign.get_bid_strategy_display()!r} takes no bid amount."
            )
    if errors:
        raise CampaignChangeError(errors)


# --- The path every change takes -------------------------------------------------------------
def _scoped_key(organization_id: int, key: str | None) -> str | None:
    return f"{organization_id}:{key}" if key else None


def request_campaign_change(
    *,
    campaign: Campaign,
    kind: str,
    actor: Actor,
    params: dict[str, Any] | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
    expected_before: dict[str, Any] | None = None,
    dry_run: bool = False,
) -> CampaignChange:
    """Record and apply one change to `campaign`; returns the change (check its status).

    Raises CampaignChangeError for invalid requests (nothing is recorded). Platform
    failures are recorded on the change (status failed, error_code) rather than raised.
    """
    params = params or {}
    return record_and_apply_change(
        campaign=campaign, kind=kind, actor=actor, params=params, before=_snapshot(campaign),
        validate=lambda: validate_change(campaign=campaign, kind=kind, params=params),
        reason=reason, idempotency_key=idempotency_key, expected_before=expected_before,
        dry_run=dry_run,
    )  # fmt: skip


def record_and_apply_change(
    *,
    campaign: Campaign,
    kind: str,
    actor: Actor,
    params: dict[str, Any],
    before: dict[str, Any],
    validate: Callable[[], None] | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
    expected_before: dict[str, Any] | None = None,
    dry_run: bool = False,
    **target: Any,
) -> CampaignChange:
    """The path every change to an existing campaign, ad group or ad takes: a repeated key
    returns the first change; `validate` may refuse (CampaignChangeError, nothing recorded);
    the change is recorded, then applied unless it is a dry run. `target` carries the
    change's level, ad / ad_group and guardrail verdict."""
    key = _scoped_key(campaign.organization_id, idempotency_key)
    if key and (existing := CampaignChange.objects.filter(idempotency_key=key).first()):
        return existing
    if validate is not None:
        validate()
    try:
        with transaction.atomic():
            change = CampaignChange.objects.create(
                organization_id=campaign.organization_id,
                ad_account_id=campaign.ad_account_id,
                campaign=campaign,
                kind=kind,
                params={name: _plain(value) for name, value in params.items()},
                before=before,
                expected_before=expected_before,
                actor_kind=actor.kind,
                actor_label=actor.label,
                actor_user_id=actor.user_id,
                actor_api_key_id=actor.api_key_id,
                reason=reason,
                idempotency_key=key,
                is_dry_run=dry_run,
                status=ChangeStatus.DRY_RUN if dry_run else ChangeStatus.PENDING,
                **target,
            )
    except IntegrityError:
        # The same key raced us in; its change is the answer.
        return CampaignChange.objects.get(idempotency_key=key)
    if not dry_run:
        apply_campaign_change(change_id=change.pk)
        change.refresh_from_db()
    return change


def _update_for(change: CampaignChange) -> CampaignUpdate:
    params = change.params
    if change.kind == ChangeKind.PAUSE:
        return CampaignUpdate(status=DeliveryStatus.PAUSED)
    if change.kind == ChangeKind.ACTIVATE:
        return CampaignUpdate(status=DeliveryStatus.ACTIVE)
    if change.kind == ChangeKind.DAILY_BUDGET:
        return CampaignUpdate(daily_budget=Decimal(params["daily_budget"]))
    if change.kind == ChangeKind.LIFETIME_BUDGET:
        return CampaignUpdate(lifetime_budget=Decimal(params["lifetime_budget"]))
    if change.kind == ChangeKind.BID:
        return CampaignUpdate(bid_amount=Decimal(params["bid_amount"]))
    raise ValueError(f"No update for a {change.kind} change.")


def _fail(change: CampaignChange, code: str, message: str) -> None:
    change.status = ChangeStatus.FAILED
    change.error_code = code
    change.error = message
    change.save(update_fields=["status", "error_code", "error"])
    ACTIONS_APPLIED.labels(change.actor_kind, change.kind, ChangeStatus.FAILED).inc()


def _same(live: Any, expected: Any) -> bool:
    if isinstance(live, dict | list) or isinstance(expected, dict | list):
        return json.dumps(live, sort_keys=True, default=str) == json.dumps(
            expected, sort_keys=True, default=str
        )
    return str(live) == str(expected)


def _live_snapshot(change: CampaignChange) -> dict[str, Any] | None:
    """Our current values of what the change is about (None: nothing to compare with)."""
    if change.level == ChangeLevel.AD:
        return None if change.ad is None else ad_snapshot(change.ad)
    if change.level == ChangeLevel.AD_GROUP:
        return None if change.ad_group is None else ad_group_snapshot(change.ad_group)
    return None if change.campaign is None else _snapshot(change.campaign)


def apply_campaign_change(*, change_id: int) -> None:
    """Send a pending change to the platform and store its answer. Safe to call twice:
    the change is claimed with a conditional UPDATE, so only one call reaches the platform.
    Campaign, ad-group and ad changes all come through here."""
    claimed = CampaignChange.objects.filter(pk=change_id, status=ChangeStatus.PENDING).update(
        status=ChangeStatus.APPLYING
    )
    if claimed != 1:
        return
    change = CampaignChange.objects.select_related(
        "campaign", "ad_account", "ad_account__connection", "ad_group", "ad__ad_group"
    ).get(pk=change_id)
    account = change.ad_account
    connection = account.connection
    live = _live_snapshot(change)
    if change.expected_before is not None and live is not None:
        mismatched = {
            field: live.get(field)
            for field, value in change.expected_before.items()
            if not _same(live.get(field), value)
        }
        if mismatched:
            change.status = ChangeStatus.CONFLICT
            change.error_code = "conflict"
            change.error = f"The live values differ from the expected ones: {mismatched}."
            change.save(update_fields=["status", "error_code", "error"])
            ACTIONS_APPLIED.labels(change.actor_kind, change.kind, ChangeStatus.CONFLICT).inc()
            return
    if connection is None:
        _fail(change, "no_connection", "This ad account has no platform connection.")
        return
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        _fail(change, "needs_reauth", "The platform connection needs re-authorization.")
        return
    connector = build_connector(connection)

    def call() -> RemoteCampaign | RemoteAd | RemoteAdGroup:
        if change.kind == ChangeKind.CREATE:
            return connector.create_campaign(account.external_id, _spec(change.params))
        if change.level == ChangeLevel.AD:
            assert change.ad is not None
            status = ACTIVE if change.kind == ChangeKind.AD_ACTIVATE else PAUSED
            return connector.update_ad_status(
                account.external_id, change.ad.external_id, status,
                ad_group_id=change.ad.ad_group.external_id,
            )  # fmt: skip
        if change.level == ChangeLevel.AD_GROUP:
            assert change.ad_group is not None
            return connector.update_ad_group_targeting(
                account.external_id, change.ad_group.external_id, _targeting_change(change.params)
            )
        assert change.campaign is not None
        if change.kind == ChangeKind.ARCHIVE:
            return connector.archive_campaign(account.external_id, change.campaign.external_id)
        return connector.update_campaign(
            account.external_id, change.campaign.external_id, _update_for(change)
        )

    try:
        try:
            remote = call()
        except AuthExpired:
            refresh_connection_token(connection=connection, connector=connector)
            remote = call()
    except AuthExpired as exc:
        message = report_auth_expired(connection=connection, error=exc)
        report_sync_problem(connection=connection, message=message, code="auth")
        _fail(change, "needs_reauth", message)
        return
    except UnsupportedTargeting as exc:
        # Not a failure of the platform: it has no way to widen this dimension.
        _fail(change, "unsupported", str(exc))
        return
    except RetryablePlatformError as exc:
        _fail(change, "platform_unavailable", str(exc))
        return
    except PermanentPlatformError as exc:
        _fail(change, "platform_rejected", str(exc))
        return
    except PlatformError as exc:
        _fail(change, "platform_error", str(exc))
        return
    with transaction.atomic():
        if isinstance(remote, RemoteAd):
            assert change.ad is not None
            change.after = _store_ad_answer(ad=change.ad, remote=remote)
        elif isinstance(remote, RemoteAdGroup):
            assert change.ad_group is not None
            change.after = _store_ad_group_answer(ad_group=change.ad_group, remote=remote)
        else:
            campaign = _store_answer(account=account, campaign=change.campaign, remote=remote)
            change.campaign = campaign
            change.after = _snapshot(campaign)
        change.platform_response = _remote_snapshot(remote)
        change.status = ChangeStatus.APPLIED
        change.applied_at = timezone.now()
        change.save(
            update_fields=["campaign", "after", "platform_response", "status", "applied_at"]
        )
    ACTIONS_APPLIED.labels(change.actor_kind, change.kind, ChangeStatus.APPLIED).inc()
    logger.info(
        "campaign change applied",
        extra={"change_id": change.pk, "campaign_id": change.campaign_id, "kind": change.kind,
               "level": change.level},
    )  # fmt: skip


def _spec(params: dict[str, Any]) -> CampaignSpec:
    def money(name: str) -> Decimal | None:
        value = params.get(name)
        return None if value in (None, "") else Decimal(str(value))

    return CampaignSpec(
        name=params["name"],
        objective=params.get("objective") or Objective.OTHER,
        status=params.get("status") or DeliveryStatus.PAUSED,
        daily_budget=money("daily_budget"),
        lifetime_budget=money("lifetime_budget"),
        bid_strategy=params.get("bid_strategy") or BidStrategy.LOWEST_COST,
        bid_amount=money("bid_amount"),
    )


def _store_answer(
    *, account: AdAccount, campaign: Campaign | None, remote: RemoteCampaign
) -> Campaign:
    values = campaign_values(remote)
    if campaign is None:
        campaign, _ = Campaign.objects.update_or_create(
            ad_account=account,
            external_id=remote.external_id,
            defaults={"organization_id": account.organization_id, **values},
        )
        return campaign
    for name, value in values.items():
        setattr(campaign, name, value)
    campaign.save(update_fields=[*values, "updated_at"])
    return campaign


def ad_snapshot(ad: Ad) -> dict[str, Any]:
    return {"status": ad.status}


def ad_group_snapshot(ad_group: AdGroup) -> dict[str, Any]:
    return {"status": ad_group.status, "targeting": ad_group.targeting}


def _targeting_change(params: dict[str, Any]) -> TargetingChange:
    return TargetingChange(
        dimension=AudienceDimension(params["dimension"]), step=int(params.get("step") or 0)
    )


def _store_ad_answer(*, ad: Ad, remote: RemoteAd) -> dict[str, Any]:
    ad.status = remote.status
    ad.save(update_fields=["status", "updated_at"])
    return ad_snapshot(ad)


def _store_ad_group_answer(*, ad_group: AdGroup, remote: RemoteAdGroup) -> dict[str, Any]:
    ad_group.status = remote.status
    ad_group.targeting = remote.targeting
    ad_group.save(update_fields=["status", "targeting", "updated_at"])
    return ad_group_snapshot(ad_group)


# --- One function per verb -------------------------------------------------------------------
def pause_campaign(
    *, campaign: Campaign, actor: Actor, reason: str = "", **options: Any
) -> CampaignChange:
    """Ask the platform to pause `campaign`."""
    return request_campaign_change(
        campaign=campaign, kind=ChangeKind.PAUSE, actor=actor, reason=reason, **options
    )


def activate_campaign(
    *, campaign: Campaign, actor: Actor, reason: str = "", **options: Any
) -> CampaignChange:
    """Ask the platform to (re)start delivering `campaign`."""
    return request_campaign_change(
        campaign=campaign, kind=ChangeKind.ACTIVATE, actor=actor, reason=reason, **options
    )


def set_daily_budget(
    *, campaign: Campaign, amount: Decimal, actor: Actor, reason: str = "", **options: Any
) -> CampaignChange:
    """Ask the platform for a new daily budget (account currency units)."""
    return request_campaign_change(
        campaign=campaign,
        kind=ChangeKind.DAILY_BUDGET,
        params={"daily_budget": amount},
        actor=actor,
        reason=reason,
        **options,
    )


def set_lifetime_budget(
    *, campaign: Campaign, amount: Decimal, actor: Actor, reason: str = "", **options: Any
) -> CampaignChange:
    """Ask the platform for a new lifetime budget (account currency units)."""
    return request_campaign_change(
        campaign=campaign,
        kind=ChangeKind.LIFETIME_BUDGET,
        params={"lifetime_budget": amount},
        actor=actor,
        reason=reason,
        **options,
    )


def set_bid(
    *, campaign: Campaign, amount: Decimal, actor: Actor, reason: str = "", **options: Any
) -> CampaignChange:
    """Ask the platform for a new bid (or target) under the campaign's bid strategy."""
    return request_campaign_change(
        campaign=campaign,
        kind=ChangeKind.BID,
        params={"bid_amount": amount},
        actor=actor,
        reason=reason,
        **options,
    )


def archive_campaign(
    *, campaign: Campaign, actor: Actor, reason: str = "", **options: Any
) -> CampaignChange:
    """Ask the platform to archive `campaign` (it stops for good; data stays)."""
    return request_campaign_change(
        campaign=campaign, kind=ChangeKind.ARCHIVE, actor=actor, reason=reason, **options
    )


def create_campaign(
    *,
    ad_account: AdAccount,
    name: str,
    objective: str,
    actor: Actor,
    status: str = DeliveryStatus.PAUSED,
    daily_budget: Decimal | None = None,
    lifetime_budget: Decimal | None = None,
    bid_strategy: str = BidStrategy.LOWEST_COST,
    bid_amount: Decimal | None = None,
    reason: str = "",
    idempotency_key: str | None = None,
) -> CampaignChange:
    """Create a campaign on the platform and import it; the change holds the new campaign."""
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = ["This field may not be blank."]
    if status not in SETTABLE_STATUSES:
        errors["status"] = ["A new campaign is active or paused."]
    if (daily_budget is None) == (lifetime_budget is None):
        errors["daily_budget"] = ["Give either a daily or a lifetime budget."]
    _check_amount(errors, "daily_budget", daily_budget)
    _check_amount(errors, "lifetime_budget", lifetime_budget)
    _check_amount(errors, "bid_amount", bid_amount)
    if bid_amount is not None and bid_strategy not in BIDDABLE_STRATEGIES:
        errors.setdefault("bid_amount", []).append(
            f"The bid strategy {bid_strategy!r} takes no bid amount."
        )
    if errors:
        raise CampaignChangeError(errors)
    key = _scoped_key(ad_account.organization_id, idempotency_key)
    if key and (existing := CampaignChange.objects.filter(idempotency_key=key).first()):
        return existing
    params = {
        "name": name, "objective": objective, "status": status, "daily_budget": daily_budget,
        "lifetime_budget": lifetime_budget, "bid_strategy": bid_strategy,
        "bid_amount": bid_amount,
    }  # fmt: skip
    try:
        change = CampaignChange.objects.create(
            organization_id=ad_account.organization_id,
            ad_account=ad_account,
            kind=ChangeKind.CREATE,
            params={k: _plain(v) for k, v in params.items()},
            actor_kind=actor.kind,
            actor_label=actor.label,
            actor_user_id=actor.user_id,
            actor_api_key_id=actor.api_key_id,
            reason=reason,
            idempotency_key=key,
        )
    except IntegrityError:
        return CampaignChange.objects.get(idempotency_key=key)
    apply_campaign_change(change_id=change.pk)
    change.refresh_from_db()
    return change
