"""The sync: read a connection's accounts through its connector and store what they say.

A run walks the connection's ad accounts in a fixed order; for each it syncs structure
(accounts, campaigns, ad groups, ads, creatives), then daily metrics in day windows, then
segment breakdowns. Every step commits together with the run's cursor, so a run that
stops (crash, platform outage, quota block) continues where it stopped, and since every
write is an upsert that touches only what changed, a repeated or resumed run changes
nothing. Metrics re-read a lookback window, because platforms restate recent days; what
a re-read replaces goes to the restatement log.

Concurrency: one running run per connection, enforced by a unique constraint; a run
whose heartbeat stopped (a killed worker) is taken over by a conditional UPDATE.
"""

from __future__ import annotations

import datetime as dt
import logging
import zoneinfo
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import F, Q
from django.utils import timezone

from adplatform.metrics import SYNC_ROWS
from campaigns.events import MetricsUpdated, emit_metrics_updated
from campaigns.models import (
    Ad,
    AdAccount,
    AdGroup,
    Campaign,
    Creative,
    SyncKind,
    SyncRun,
    SyncStatus,
)
from campaigns.services.metrics import (
    DailyMetricRow,
    SegmentMetricRow,
    upsert_daily_metrics,
    upsert_segment_metrics,
)
from campaigns.services.problems import report_sync_problem
from integrations.clients.errors import (
    AuthExpired,
    NotSupported,
    PermanentPlatformError,
    PlatformError,
    QuotaExhausted,
    RetryablePlatformError,
)
from integrations.connector import AdsConnector
from integrations.models import Connection, ConnectionStatus
from integrations.records import (
    MetricLevel,
    RemoteAccount,
    RemoteAd,
    RemoteAdGroup,
    RemoteCampaign,
    RemoteDailyMetric,
    RemoteSegmentMetric,
    SegmentDimension,
)
from integrations.services import (
    build_connector,
    connector_config,
    ensure_fresh_token,
    is_waiting_for_quota,
    mark_error,
    mark_synced,
    pause_for_quota,
    refresh_connection_token,
    report_auth_expired,
)

logger = logging.getLogger("campaigns.sync")

T = TypeVar("T")

STEPS: dict[str, list[str]] = {
    SyncKind.STRUCTURE: ["structure"],
    SyncKind.METRICS: ["metrics", "segments"],
    SyncKind.FULL: ["structure", "metrics", "segments"],
}
# A running run whose heartbeat is older than this was killed; another may take it over.
STALE_AFTER = dt.timedelta(minutes=15)
# An unfinished run older than this is not continued; a fresh run starts instead.
RESUME_WITHIN = dt.timedelta(hours=24)


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


class SyncBusy(Exception):
    """Another run is working on this connection."""


@dataclass
class SyncOutcome:
    run: SyncRun | None
    skipped: str = ""  # why nothing ran: "quota", "needs_reauth", "busy"


@dataclass
class _Context:
    run: SyncRun
    connection: Connection
    connector: AdsConnector
    refreshed: bool = False
    steps: list[str] = field(default_factory=list)


# --- Entry point -----------------------------------------------------------------------------
def sync_connection(
    *,
    connection_id: int,
    kind: str = SyncKind.FULL,
    since: dt.date | None = None,
    trigger: str = "manual",
    requested_by: str = "",
) -> SyncOutcome:
    """Sync one connection (continuing its unfinished run if there is one).

    Returns without calling the platform while the connection waits for a quota reset or
    needs re-authorization. Retryable platform errors are re-raised after the run is
    saved (the task retries and continues from the cursor); permanent ones are recorded
    on the run and the connection and reported to the organization.
    """
    connection = Connection.objects.select_related("organization").get(pk=connection_id)
    now = timezone.now()
    if is_waiting_for_quota(connection, now=now):
        return SyncOutcome(run=None, skipped="quota")
    if connection.status == ConnectionStatus.NEEDS_REAUTH:
        return SyncOutcome(run=None, skipped="needs_reauth")
    run = _claim_run(
        connection=connection, kind=kind, since=since, trigger=trigger, requested_by=requested_by
    )
    if run is None:
        return SyncOutcome(run=None, skipped="busy")
    context = _Context(
        run=run, connection=connection, connector=build_connector(connection), steps=STEPS[kind]
    )
    try:
        _call(
            context, lambda: ensure_fresh_token(connection=connection, connector=context.connector)
        )
        _run(context)
    except QuotaExhausted as exc:
        _finish(run, SyncStatus.PAUSED, error=str(exc))
        pause_for_quota(connection=connection, resume_at=exc.resume_at, detail=str(exc))
        logger.info(
            "sync paused by a quota block",
            extra={"connection_id": connection.pk, "resume_at": exc.resume_at.isoformat()},
        )
        return SyncOutcome(run=run)
    except AuthExpired as exc:
        message = report_auth_expired(connection=connection, error=exc)
        _finish(run, SyncStatus.FAILED, error=message, resumable=False)
        report_sync_problem(connection=connection, sync_run=run, message=message, code="auth")
        return SyncOutcome(run=run)
    except RetryablePlatformError as exc:
        _finish(run, SyncStatus.FAILED, error=f"Platform unavailable, will retry: {exc}")
        raise
    except PermanentPlatformError as exc:
        message = f"Sync failed: {exc}"
        _finish(run, SyncStatus.FAILED, error=message, resumable=False)
        mark_error(connection=connection, detail=message)
        report_sync_problem(connection=connection, sync_run=run, message=message)
        return SyncOutcome(run=run)
    except Exception as exc:
        # Our own bug or a crash: keep the cursor so the next run continues from here.
        message = f"Sync stopped by an internal error ({type(exc).__name__}); it will continue."
        _finish(run, SyncStatus.FAILED, error=message)
        report_sync_problem(connection=connection, sync_run=run, message=message, code="crash")
        raise
    _finish(run, SyncStatus.SUCCEEDED)
    mark_synced(connection=connection, at=timezone.now())
    return SyncOutcome(run=run)


# --- Claiming and finishing runs ----------------------------------------------------------------
def _claim_run(
    *, connection: Connection, kind: str, since: dt.date | None, trigger: str, requested_by: str
) -> SyncRun | None:
    now = timezone.now()
    stale = now - STALE_AFTER
    # A killed run of another kind would block this one forever: close it.
    SyncRun.objects.filter(
        connection=connection, status=SyncStatus.RUNNING, heartbeat_at__lt=stale
    ).exclude(kind=kind).update(
        status=SyncStatus.FAILED, error="Stopped without finishing.", finished_at=now
    )
    latest = SyncRun.objects.filter(connection=connection, kind=kind).order_by("-pk").first()
    resumable = (
        latest is not None
        and latest.is_resumable
        and latest.cursor
        and latest.started_at >= now - RESUME_WITHIN
        and (since is None or latest.since == since)
        and (
            latest.status in (SyncStatus.FAILED, SyncStatus.PAUSED)
            or (latest.status == SyncStatus.RUNNING and latest.heartbeat_at < stale)
        )
    )
    try:
        with transaction.atomic():
            if resumable:
                assert latest is not None
                # Conditional UPDATE: only one worker wins the takeover.
                claimed = SyncRun.objects.filter(
                    pk=latest.pk, status=latest.status, heartbeat_at=latest.heartbeat_at
                ).update(
                    status=SyncStatus.RUNNING,
                    heartbeat_at=now,
                    attempts=F("attempts") + 1,
                    finished_at=None,
                    error="",
                )
                if claimed != 1:
                    return None
                latest.refresh_from_db()
                logger.info("continuing sync run", extra={"sync_run_id": latest.pk})
                return latest
            return SyncRun.objects.create(
                organization_id=connection.organization_id,
                connection=connection,
                kind=kind,
                status=SyncStatus.RUNNING,
                trigger=trigger,
                requested_by=requested_by,
                since=since,
                started_at=now,
                heartbeat_at=now,
            )
    except IntegrityError:
        return None  # another run holds the connection


def _finish(run: SyncRun, status: str, *, error: str = "", resumable: bool = True) -> None:
    run.status = status
    run.error = error
    run.is_resumable = resumable
    run.finished_at = timezone.now()
    run.heartbeat_at = run.finished_at
    if status == SyncStatus.SUCCEEDED:
        run.cursor = {**run.cursor, "done": True}
    run.save(
        update_fields=["status", "error", "is_resumable", "finished_at", "heartbeat_at", "cursor"]
    )


def _save_progress(run: SyncRun, **cursor: Any) -> None:
    """Advance the cursor; call inside the transaction that wrote the step's data."""
    run.cursor = {**run.cursor, **cursor}
    run.heartbeat_at = timezone.now()
    SyncRun.objects.filter(pk=run.pk).update(
        cursor=run.cursor, heartbeat_at=run.heartbeat_at, rows=run.rows,
        restated_rows=run.restated_rows,
    )  # fmt: skip


def _call(context: _Context, fn: Callable[[], T]) -> T:
    """Call the platform; on an expired token refresh once (per run) and try again."""
    try:
        return fn()
    except AuthExpired:
        if context.refreshed:
            raise
        context.refreshed = True
        refresh_connection_token(connection=context.connection, connector=context.connector)
        return fn()


# --- The walk --------------------------------------------------------------------------------
def _run(context: _Context) -> None:
    run = context.run
    if "accounts" not in run.cursor:
        accounts = list(
            AdAccount.objects.filter(connection=context.connection)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        with transaction.atomic():
            _save_progress(run, accounts=accounts, position=0, step=context.steps[0])
    while run.cursor["position"] < len(run.cursor["accounts"]):
        account = AdAccount.objects.filter(
            pk=run.cursor["accounts"][run.cursor["position"]]
        ).first()
        if account is not None:
            _sync_account(context, account)
        with transaction.atomic():
            _save_progress(
                run, position=run.cursor["position"] + 1, step=context.steps[0], next=None,
                dimension=0,
            )  # fmt: skip


def _sync_account(context: _Context, account: AdAccount) -> None:
    run = context.run
    steps = context.steps
    while run.cursor["step"] in steps:
        step = run.cursor["step"]
        if step == "structure":
            _sync_structure(context, account)
        elif step == "metrics":
            _sync_metrics(context, account)
        else:
            _sync_segments(context, account)
            _announce(context, account)
        index = steps.index(step)
        if index + 1 == len(steps):
            return
        with transaction.atomic():
            _save_progress(run, step=steps[index + 1], next=None, dimension=0)


def _account_today(context: _Context, account: AdAccount) -> dt.date:
    return context.connector.now().astimezone(zoneinfo.ZoneInfo(account.time_zone)).date()


def _window(context: _Context, account: AdAccount) -> tuple[dt.date, dt.date]:
    """The days this run reads for `account`, fixed at the start so a continuation agrees."""
    windows = dict(context.run.cursor.get("windows") or {})
    stored = windows.get(str(account.pk))
    if stored:
        return dt.date.fromisoformat(stored[0]), dt.date.fromisoformat(stored[1])
    until = _account_today(context, account)
    if context.run.since is not None:
        since = context.run.since
    elif account.metrics_synced_until is not None:
        lookback = connector_config(context.connection).lookback_days
        since = min(account.metrics_synced_until, until) - dt.timedelta(days=lookback - 1)
    else:
        since = until - dt.timedelta(days=_setting("ADPLATFORM_SYNC_INITIAL_DAYS", 30) - 1)
    since = min(since, until)
    windows[str(account.pk)] = [since.isoformat(), until.isoformat()]
    with transaction.atomic():
        _save_progress(context.run, windows=windows)
    return since, until


def _chunks(context: _Context, since: dt.date, until: dt.date) -> Iterable[tuple[dt.date, dt.date]]:
    size = dt.timedelta(days=_setting("ADPLATFORM_SYNC_CHUNK_DAYS", 7) - 1)
    next_day = context.run.cursor.get("next")
    start = dt.date.fromisoformat(next_day) if next_day else since
    while start <= until:
        end = min(start + size, until)
        yield start, end
        start = end + dt.timedelta(days=1)


# --- Structure -------------------------------------------------------------------------------
def _apply(instance: models.Model, values: dict[str, Any]) -> list[str]:
    changed = [name for name, value in values.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, values[name])
    return changed


def _save_if_changed(instance: models.Model, values: dict[str, Any]) -> None:
    changed = _apply(instance, values)
    if changed:
        instance.save(update_fields=[*changed, "updated_at"])


def _sync_structure(context: _Context, account: AdAccount) -> None:
    connector = context.connector
    remote_account: RemoteAccount = _call(
        context, lambda: connector.get_account(account.external_id)
    )
    campaigns: list[RemoteCampaign] = _call(
        context, lambda: list(connector.list_campaigns(account.external_id))
    )
    groups: list[RemoteAdGroup] = _call(
        context, lambda: list(connector.list_ad_groups(account.external_id))
    )
    ads: list[RemoteAd] = _call(context, lambda: list(connector.list_ads(account.external_id)))
    with transaction.atomic():
        store_structure(
            account=account, remote=remote_account, campaigns=campaigns, groups=groups, ads=ads
        )
        _save_progress(context.run)


def store_structure(
    *,
    account: AdAccount,
    remote: RemoteAccount,
    campaigns: list[RemoteCampaign],
    groups: list[RemoteAdGroup],
    ads: list[RemoteAd],
) -> None:
    """Upsert an account's structure by external ids, saving only rows that changed."""
    _save_if_changed(
        account,
        {
            "name": remote.name,
            "currency": remote.currency,
            "time_zone": remote.time_zone,
            "status": remote.status,
        },
    )
    by_campaign = {c.external_id: c for c in Campaign.objects.filter(ad_account=account)}
    for remote_campaign in campaigns:
        values = campaign_values(remote_campaign)
        existing = by_campaign.get(remote_campaign.external_id)
        if existing is None:
            by_campaign[remote_campaign.external_id] = Campaign.objects.create(
                organization_id=account.organization_id,
                ad_account=account,
                external_id=remote_campaign.external_id,
                **values,
            )
        else:
            _save_if_changed(existing, values)
    by_group = {
        (g.campaign_id, g.external_id): g
        for g in AdGroup.objects.filter(campaign__ad_account=account)
    }
    for remote_group in groups:
        campaign = by_campaign.get(remote_group.campaign_external_id)
        if campaign is None:
            continue
        values = {
            "name": remote_group.name,
            "status": remote_group.status,
            "daily_budget": remote_group.daily_budget,
            "bid_amount": remote_group.bid_amount,
            "targeting": remote_group.targeting,
        }
        group = by_group.get((campaign.pk, remote_group.external_id))
        if group is None:
            by_group[(campaign.pk, remote_group.external_id)] = AdGroup.objects.create(
                organization_id=account.organization_id,
                campaign=campaign,
                external_id=remote_group.external_id,
                **values,
            )
        else:
            _save_if_changed(group, values)
    by_creative = {c.external_id: c for c in Creative.objects.filter(ad_account=account)}
    by_ad = {
        (a.ad_group_id, a.external_id): a for a in Ad.objects.filter(campaign__ad_account=account)
    }
    for remote_ad in ads:
        campaign = by_campaign.get(remote_ad.campaign_external_id)
        group = by_group.get((campaign.pk, remote_ad.ad_group_external_id)) if campaign else None
        if campaign is None or group is None:
            continue
        creative = None
        if remote_ad.creative is not None:
            spec = remote_ad.creative
            creative_values = {
                "name": spec.name, "headline": spec.headline, "body": spec.body,
                "call_to_action": spec.call_to_action, "image_url": spec.image_url,
                "video_url": spec.video_url, "format": spec.format,
            }  # fmt: skip
            creative = by_creative.get(spec.external_id)
            if creative is None:
                creative = by_creative[spec.external_id] = Creative.objects.create(
                    organization_id=account.organization_id,
                    ad_account=account,
                    external_id=spec.external_id,
                    **creative_values,
                )
            else:
                _save_if_changed(creative, creative_values)
        values = {
            "name": remote_ad.name,
            "status": remote_ad.status,
            "campaign_id": campaign.pk,
            "creative_id": creative.pk if creative else None,
        }
        ad = by_ad.get((group.pk, remote_ad.external_id))
        if ad is None:
            Ad.objects.create(
                organization_id=account.organization_id,
                ad_group=group,
                external_id=remote_ad.external_id,
                **values,
            )
        else:
            _save_if_changed(ad, values)


def campaign_values(remote: RemoteCampaign) -> dict[str, Any]:
    """Our campaign columns from the platform's answer."""
    return {
        "name": remote.name,
        "status": remote.status,
        "objective": remote.objective,
        "daily_budget": remote.daily_budget,
        "lifetime_budget": remote.lifetime_budget,
        "bid_strategy": remote.bid_strategy,
        "bid_amount": remote.bid_amount,
        "start_date": remote.start_date,
        "end_date": remote.end_date,
    }


# --- Metrics -----------------------------------------------------------------------------------
@dataclass
class _Lookup:
    campaigns: dict[str, int]
    groups: dict[tuple[int, str], int]
    ads: dict[tuple[int, str], tuple[int, int]]  # (campaign id, ad ext) -> (ad id, group id)


def _lookup(account: AdAccount) -> _Lookup:
    campaigns = dict(Campaign.objects.filter(ad_account=account).values_list("external_id", "pk"))
    groups = {
        (campaign_id, ext): pk
        for pk, campaign_id, ext in AdGroup.objects.filter(
            campaign__ad_account=account
        ).values_list("pk", "campaign_id", "external_id")
    }
    ads = {
        (campaign_id, ext): (pk, group_id)
        for pk, campaign_id, group_id, ext in Ad.objects.filter(
            campaign__ad_account=account
        ).values_list("pk", "campaign_id", "ad_group_id", "external_id")
    }
    return _Lookup(campaigns=campaigns, groups=groups, ads=ads)


def metric_rows(
    account: AdAccount, remote_rows: Iterable[RemoteDailyMetric], lookup: _Lookup
) -> Iterable[DailyMetricRow]:
    """Our fact rows for the platform's, skipping rows whose campaign or ad we do not know."""
    unknown = 0
    for remote in remote_rows:
        campaign_id = lookup.campaigns.get(remote.campaign_external_id)
        if campaign_id is None:
            unknown += 1
            continue
        ad_id = group_id = None
        if remote.level == MetricLevel.AD:
            found = lookup.ads.get((campaign_id, remote.ad_external_id or ""))
            if found is None:
                unknown += 1
                continue
            ad_id, group_id = found
        elif remote.ad_group_external_id:
            group_id = lookup.groups.get((campaign_id, remote.ad_group_external_id))
        yield DailyMetricRow(
            organization_id=account.organization_id,
            ad_account_id=account.pk,
            campaign_id=campaign_id,
            ad_group_id=group_id,
            ad_id=ad_id,
            date=remote.date,
            impressions=remote.impressions,
            clicks=remote.clicks,
            spend=remote.spend,
            conversions=remote.conversions,
            conversion_value=remote.conversion_value,
            video_views=remote.video_views,
            reach=remote.reach,
            frequency=remote.frequency,
        )
    if unknown:
        logger.warning(
            "skipped metric rows of unknown campaigns or ads",
            extra={"ad_account_id": account.pk, "rows": unknown},
        )


def _read_metrics(
    connector: AdsConnector, account: AdAccount, start: dt.date, end: dt.date, level: MetricLevel
) -> list[RemoteDailyMetric]:
    return list(connector.daily_metrics(account.external_id, start=start, end=end, level=level))


def _read_segments(
    connector: AdsConnector,
    account: AdAccount,
    start: dt.date,
    end: dt.date,
    dimension: SegmentDimension,
) -> list[RemoteSegmentMetric]:
    return list(
        connector.segment_metrics(account.external_id, start=start, end=end, dimension=dimension)
    )


def _sync_metrics(context: _Context, account: AdAccount) -> None:
    connector = context.connector
    run = context.run
    if not Campaign.objects.filter(ad_account=account).exists():
        _sync_structure(context, account)  # metrics need the structure they belong to
    since, until = _window(context, account)
    lookup = _lookup(account)
    level = run.cursor.get("level", MetricLevel.AD)
    for start, end in _chunks(context, since, until):
        try:
            remote_rows = _call(
                context, partial(_read_metrics, connector, account, start, end, MetricLevel(level))
            )
        except NotSupported:
            if level != MetricLevel.AD:
                raise
            level = MetricLevel.CAMPAIGN  # the platform has no ad-level report
            with transaction.atomic():
                _save_progress(run, level=level)
            remote_rows = _call(
                context, partial(_read_metrics, connector, account, start, end, MetricLevel(level))
            )
        with transaction.atomic():
            result = upsert_daily_metrics(
                metric_rows(account, remote_rows, lookup), sync_run_id=run.pk
            )
            run.rows += result.rows
            run.restated_rows += result.restated
            SYNC_ROWS.labels(account.platform, "metrics").inc(result.rows)
            _save_progress(run, next=(end + dt.timedelta(days=1)).isoformat())
    with transaction.atomic():
        AdAccount.objects.filter(pk=account.pk).filter(
            Q(metrics_synced_until__isnull=True) | Q(metrics_synced_until__lt=until)
        ).update(metrics_synced_until=until)
        _save_progress(run)


def _sync_segments(context: _Context, account: AdAccount) -> None:
    connector = context.connector
    run = context.run
    dimensions = sorted(connector.segment_dimensions)
    since, until = _window(context, account)
    campaigns = dict(Campaign.objects.filter(ad_account=account).values_list("external_id", "pk"))
    while run.cursor.get("dimension", 0) < len(dimensions):
        dimension = dimensions[run.cursor.get("dimension", 0)]
        for start, end in _chunks(context, since, until):
            try:
                remote_rows = _call(
                    context, partial(_read_segments, connector, account, start, end, dimension)
                )
            except NotSupported:
                break
            rows = [
                SegmentMetricRow(
                    organization_id=account.organization_id,
                    ad_account_id=account.pk,
                    campaign_id=campaigns[remote.campaign_external_id],
                    platform=account.platform,
                    date=remote.date,
                    dimension=str(remote.dimension),
                    value=remote.value,
                    impressions=remote.impressions,
                    clicks=remote.clicks,
                    spend=remote.spend,
                    conversions=remote.conversions,
                    conversion_value=remote.conversion_value,
                )
                for remote in remote_rows
                if remote.campaign_external_id in campaigns
            ]
            with transaction.atomic():
                upsert_segment_metrics(rows)
                SYNC_ROWS.labels(account.platform, "segments").inc(len(rows))
                _save_progress(run, next=(end + dt.timedelta(days=1)).isoformat())
        with transaction.atomic():
            _save_progress(run, dimension=run.cursor.get("dimension", 0) + 1, next=None)


def _announce(context: _Context, account: AdAccount) -> None:
    """One "metrics updated" event per account per run, however many chunks were written."""
    since, until = _window(context, account)
    emit_metrics_updated(
        MetricsUpdated(
            organization_id=account.organization_id,
            ad_account_id=account.pk,
            sync_run_id=context.run.pk,
            start=since,
            end=until,
            rows=context.run.rows,
            restated_rows=context.run.restated_rows,
        )
    )


# --- Fan-out for the schedule -------------------------------------------------------------------
def list_connections_due(*, now: dt.datetime | None = None) -> list[int]:
    """Connections a scheduled sync should run: not waiting on a quota, not needing re-auth."""
    now = now or timezone.now()
    return list(
        Connection.objects.exclude(status=ConnectionStatus.NEEDS_REAUTH)
        .exclude(status=ConnectionStatus.PAUSED_QUOTA, resume_at__gt=now)
        .filter(ad_accounts__isnull=False)
        .distinct()
        .order_by("pk")
        .values_list("pk", flat=True)
    )


__all__ = [
    "PlatformError",
    "SyncBusy",
    "SyncOutcome",
    "campaign_values",
    "list_connections_due",
    "store_structure",
    "sync_connection",
]
