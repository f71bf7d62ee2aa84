"""The OAuth web flow's state: bound to the browser session and the organization.

`begin_authorization` stores a random state in the session with the organization and
connector it was issued for; `complete_authorization` accepts a callback only if its
state is in this session, unused, recent, and issued for the same organization and
connector. The tokens go straight into an encrypted `Connection`, never the session.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.utils import timezone

from adplatform.models import Organization
from integrations.models import SANDBOX, Connection
from integrations.registry import get_connector_class
from integrations.services import connector_config, create_connection
from integrations.vocabulary import Platform

SESSION_KEY = "integrations_oauth"
STATE_MAX_AGE = dt.timedelta(minutes=15)


class OAuthStateError(Exception):
    """The callback does not belong to a flow this session started (or it expired)."""


@dataclass(frozen=True)
class PendingAuthorization:
    connector: str
    platform: str
    organization_id: int


def available_connectors() -> list[tuple[str, str]]:
    """(connector slug, label) the UI can offer: platforms with client credentials, and sandbox."""
    from integrations.registry import registered_platforms

    offered = []
    for slug in registered_platforms():
        if slug == SANDBOX:
            continue
        if (
            slug in Platform.values
            and connector_config(Connection(connector=slug, platform=slug)).has_client_credentials
        ):
            offered.append((slug, Platform(slug).label))
    return offered


def begin_authorization(
    *,
    session: MutableMapping[str, Any],
    organization: Organization,
    connector: str,
    platform: str,
    redirect_uri: str,
) -> str:
    """Remember a new state for this session and organization; the platform's consent URL."""
    if platform not in Platform.values:
        raise ValueError(f"Unknown platform {platform!r}.")
    if connector in Platform.values and connector != platform:
        raise ValueError("A platform's connector only connects that platform.")
    cls = get_connector_class(connector)
    config = connector_config(Connection(connector=connector, platform=platform))
    state = secrets.token_urlsafe(32)
    pending = dict(session.get(SESSION_KEY, {}))
    # Drop expired states so the session does not grow.
    cutoff = (timezone.now() - STATE_MAX_AGE).timestamp()
    pending = {key: value for key, value in pending.items() if value["issued"] >= cutoff}
    pending[state] = {
        "connector": connector,
        "platform": platform,
        "organization_id": organization.pk,
        "issued": timezone.now().timestamp(),
    }
    session[SESSION_KEY] = pending
    connector_instance = cls(config=config, extra={"platform": platform})
    return connector_instance.authorization_url(state=state, redirect_uri=redirect_uri)


def consume_state(
    *,
    session: MutableMapping[str, Any],
    state: str,
    organization: Organization,
    connector: str,
) -> PendingAuthorization:
    """Take the state out of the session (one use) after checking what it was issued for."""
    pending = dict(session.get(SESSION_KEY, {}))
    entry = pending.pop(state, None) if state else None
    session[SESSION_KEY] = pending
    if entry is None:
        raise OAuthStateError("This authorization was not started from this browser session.")
    if timezone.now().timestamp() - entry["issued"] > STATE_MAX_AGE.total_seconds():
        raise OAuthStateError("This authorization took too long; start again.")
    if entry["organization_id"] != organization.pk:
        raise OAuthStateError("This authorization was started for another organization.")
    if entry["connector"] != connector:
        raise OAuthStateError("This authorization was started for another platform.")
    return PendingAuthorization(
        connector=entry["connector"],
        platform=entry["platform"],
        organization_id=entry["organization_id"],
    )


def complete_authorization(
    *,
    session: MutableMapping[str, Any],
    organization: Organization,
    connector: str,
    state: str,
    code: str,
    redirect_uri: str,
    user: User | None,
) -> Connection:
    """Verify the state, trade the code for tokens and store them as a new connection."""
    pending = consume_state(
        session=session, state=state, organization=organization, connector=connector
    )
    if not code:
        raise OAuthStateError("The platform sent no authorization code.")
    cls = get_connector_class(connector)
    config = connector_config(Connection(connector=connector, platform=pending.platform))
    token = cls(config=config, extra={"platform": pending.platform}).exchange_code(
        code=code, redirect_uri=redirect_uri
    )
    if connector == SANDBOX:
        from integrations.services import create_sandbox_connection

        return create_sandbox_connection(
            organization=organization, platform=pending.platform, created_by=user
        )
    return create_connection(
        organization=organization,
        platform=pending.platform,
        connector=connector,
        token=token,
        created_by=user,
    )
