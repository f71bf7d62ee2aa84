"""The user audit log: one function records, one selector reads."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User
from django.db.models import QuerySet
from django.http import HttpRequest

from adplatform.models import ApiKey, AuditEntry, Organization


def record_audit(
    *,
    action: str,
    organization: Organization | None = None,
    user: User | AnonymousUser | None = None,
    api_key: ApiKey | None = None,
    target: str = "",
    data: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Append an entry. `data` must hold no secrets: it is shown to owners as is."""
    actor_user = user if user is not None and user.is_authenticated else None
    if api_key is not None:
        label = f"API key {api_key.name} ({api_key.prefix}…)"
    elif actor_user is not None:
        label = actor_user.email or actor_user.get_username()
    else:
        label = "system"
    return AuditEntry.objects.create(
        organization=organization,
        action=action,
        actor_user=actor_user,
        actor_api_key=api_key,
        actor_label=label[:200],
        target=target[:200],
        data=data or {},
        ip_address=request.META.get("REMOTE_ADDR") if request is not None else None,
    )


def list_audit_entries(organization: Organization) -> QuerySet[AuditEntry]:
    return AuditEntry.objects.filter(organization=organization).select_related("actor_user")
