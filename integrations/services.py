"""Writes of connections: creating them, their token store, their health.

The connector never touches the database for credentials: `build_connector` hands it the
connection's tokens and a callback (`save_refreshed_token`) that stores a refreshed set,
encrypted. Tokens are refreshed shortly before they expire, and once more when the
platform says one has expired; after that the connection needs re-authorization.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from typing import Any

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from adplatform.audit import record_audit
from adplatform.fields import reveal
from adplatform.models import AuditAction, Organization
from integrations.clients.errors import AuthExpired
from integrations.config import PlatformConfig, get_platform_config
from integrations.connector import AdsConnector
from integrations.models import SANDBOX, Connection, ConnectionStatus
from integrations.records import TokenSet
from integrations.registry import get_connector_class
from integrations.vocabulary import Platform

logger = logging.getLogger(__name__)

# Refresh a token this long before it expires (a sync may run for minutes).
TOKEN_MIN_VALIDITY = dt.timedelta(minutes=10)
SANDBOX_HISTORY_DAYS = 120


def connector_config(connection: Connection) -> PlatformConfig:
    """The connector's settings: its own block (sandbox) or its platform's."""
    from django.conf import settings

    key = (
        connection.connector
        if connection.connector in settings.ADPLATFORM_PLATFORMS
        else connection.platform
    )
    return get_platform_config(key)


def token_set(connection: Connection) -> TokenSet | None:
    if not connection.access_token:
        return None
    # The one place tokens leave their SecretStr wrapper: on their way to the platform.
    return TokenSet(
        access_token=reveal(connection.access_token),
        refresh_token=reveal(connection.refresh_token),
        expires_at=connection.expires_at,
        token_secret=reveal(connection.token_secret),
        scope=connection.scope,
    )


def save_refreshed_token(*, connection: Connection, token: TokenSet) -> None:
    """The token store: keep a refreshed token set (encrypted) on the connection.

    A platform that does not rotate refresh tokens answers without one; the old one stays.
    """
    connection.access_token = token.access_token
    if token.refresh_token:
        connection.refresh_token = token.refresh_token
    if token.token_secret:
        connection.token_secret = token.token_secret
    connection.expires_at = token.expires_at
    if token.scope:
        connection.scope = token.scope
    connection.save(
        update_fields=[
            "access_token",
            "refresh_token",
            "token_secret",
            "expires_at",
            "scope",
            "updated_at",
        ]
    )
    logger.info("stored a refreshed token", extra={"connection_id": connection.pk})


def build_connector(connection: Connection) -> AdsConnector:
    """The connection's connector, holding its token and saving refreshed ones."""
    cls = get_connector_class(connection.connector)
    extra = {str(key): str(value) for key, value in (connection.extra or {}).items()}
    return cls(
        config=connector_config(connection),
        token=token_set(connection),
        on_token_refreshed=lambda token: save_refreshed_token(connection=connection, token=token),
        extra=extra,
    )


def refresh_connection_token(*, connection: Connection, connector: AdsConnector) -> TokenSet:
    """Ask the platform for a fresh token and store it; AuthExpired if it refuses."""
    token = connector.refresh_token()
    connector.token = token
    save_refreshed_token(connection=connection, token=token)
    return token


def ensure_fresh_token(
    *, connection: Connection, connector: AdsConnector, now: dt.datetime | None = None
) -> None:
    """Refresh a token that expires within TOKEN_MIN_VALIDITY; raises AuthExpired if refused."""
    token = connector.token
    now = now or timezone.now()
    if token is None or not token.expires_within(TOKEN_MIN_VALIDITY.total_seconds(), now=now):
        return
    if not token.refresh_token:
        # Nothing to refresh with: the platform will say AuthExpired when it really expires.
        return
    refresh_connection_token(connection=connection, connector=connector)


def mark_needs_reauth(*, connection: Connection, detail: str) -> None:
    Connection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.NEEDS_REAUTH, status_detail=detail, updated_at=timezone.now()
    )
    connection.status = ConnectionStatus.NEEDS_REAUTH
    connection.status_detail = detail


def mark_error(*, connection: Connection, detail: str) -> None:
    Connection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.ERROR, status_detail=detail, updated_at=timezone.now()
    )
    connection.status = ConnectionStatus.ERROR
    connection.status_detail = detail


def pause_for_quota(*, connection: Connection, resume_at: dt.datetime, detail: str) -> None:
    """The platform blocked us until `resume_at`: no call goes out before then."""
    Connection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.PAUSED_QUOTA,
        resume_at=resume_at,
        status_detail=detail,
        updated_at=timezone.now(),
    )
    connection.status = ConnectionStatus.PAUSED_QUOTA
    connection.resume_at = resume_at
    connection.status_detail = detail


def mark_synced(*, connection: Connection, at: dt.datetime) -> None:
    """A sync finished: the connection is healthy again."""
    Connection.objects.filter(pk=connection.pk).update(
        status=ConnectionStatus.ACTIVE,
        status_detail="",
        resume_at=None,
        last_synced_at=at,
    )
    connection.status = ConnectionStatus.ACTIVE
    connection.status_detail = ""
    connection.resume_at = None
    connection.last_synced_at = at


def is_waiting_for_quota(connection: Connection, *, now: dt.datetime | None = None) -> bool:
    return (
        connection.status == ConnectionStatus.PAUSED_QUOTA
        and connection.resume_at is not None
        and connection.resume_at > (now or timezone.now())
    )


@transaction.atomic
def create_connection(
    *,
    organization: Organization,
    platform: str,
    connector: str,
    token: TokenSet | None,
    created_by: User | None = None,
    extra: dict[str, Any] | None = None,
    name: str = "",
) -> Connection:
    """Store a new authorization (tokens encrypted)."""
    if platform not in Platform.values:
        raise ValueError(f"Unknown platform {platform!r}.")
    get_connector_class(connector)  # refuse an unknown connector before storing anything
    connection = Connection(
        organization=organization,
        platform=platform,
        connector=connector,
        name=name,
        extra=extra or {},
        created_by=created_by,
    )
    if token is not None:
        connection.access_token = token.access_token
        connection.refresh_token = token.refresh_token
        connection.token_secret = token.token_secret
        connection.expires_at = token.expires_at
        connection.scope = token.scope
    connection.save()
    record_audit(
        action=AuditAction.CONNECTION_ADDED,
        organization=organization,
        user=created_by,
        target=f"{connection.get_platform_display()} ({connector})",
        data={"connection_id": connection.pk},
    )
    return connection


def create_sandbox_connection(
    *,
    organization: Organization,
    platform: str,
    seed: int = 1,
    created_by: User | None = None,
    history_days: int = SANDBOX_HISTORY_DAYS,
    clock: dt.datetime | None = None,
) -> Connection:
    """A sandbox connection imitating `platform`: a fresh simulated world from `seed`."""
    today = (clock or timezone.now()).astimezone(_zone(organization.time_zone)).date()
    extra: dict[str, Any] = {
        "platform": platform,
        "seed": str(seed),
        "world": secrets.token_hex(8),
        "epoch": (today - dt.timedelta(days=history_days)).isoformat(),
        "time_zone": organization.time_zone,
        "currency": organization.currency,
        "account_name": f"{organization.name} · {Platform(platform).label}",
    }
    if clock is not None:
        extra["clock"] = clock.isoformat()
    return create_connection(
        organization=organization,
        platform=platform,
        connector=SANDBOX,
        token=TokenSet(access_token="sandbox"),  # noqa: S106 - the sandbox takes any token
        created_by=created_by,
        extra=extra,
        name=Platform(platform).label,
    )


def set_sandbox_clock(*, connection: Connection, at: dt.datetime | None) -> None:
    """Pin (or, with None, release) a sandbox connection's simulated clock."""
    if not connection.is_sandbox:
        raise ValueError("Only sandbox connections have a simulated clock.")
    extra = dict(connection.extra)
    if at is None:
        extra.pop("clock", None)
    else:
        extra["clock"] = at.isoformat()
    connection.extra = extra
    connection.save(update_fields=["extra", "updated_at"])


def disconnect(*, connection: Connection, by_user: User | None = None) -> None:
    """Forget the authorization and its tokens; imported accounts and their data stay."""
    record_audit(
        action=AuditAction.CONNECTION_REMOVED,
        organization=connection.organization,
        user=by_user,
        target=f"{connection.get_platform_display()} ({connection.connector})",
        data={"connection_id": connection.pk},
    )
    connection.delete()


def report_auth_expired(*, connection: Connection, error: AuthExpired) -> str:
    detail = (
        f"{Platform(connection.platform).label} no longer accepts this connection's "
        "authorization; connect it again."
    )
    mark_needs_reauth(connection=connection, detail=detail)
    return detail


def _zone(name: str) -> dt.tzinfo:
    import zoneinfo

    return zoneinfo.ZoneInfo(name)
