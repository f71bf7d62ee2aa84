"""Writes of tenancy data: organizations, memberships, API keys."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from adplatform.models import ApiKey, Membership, Organization, Role

API_KEY_PREFIX = "adp_"


def hash_api_key(raw_key: str) -> str:
    # Keys carry 256 bits of randomness, so a fast hash is enough (no password stretching).
    return hashlib.sha256(raw_key.encode()).hexdigest()


@dataclass(frozen=True)
class IssuedApiKey:
    api_key: ApiKey
    raw_key: str  # shown once, never stored


def create_api_key(
    *,
    organization: Organization,
    name: str,
    role: str = Role.MEMBER,
    created_by: User | None = None,
) -> IssuedApiKey:
    """Create a key for `organization`; the raw key is returned once and only its hash kept."""
    if role not in Role.values:
        raise ValueError(f"Unknown role {role!r}; choose one of {', '.join(Role.values)}.")
    raw_key = API_KEY_PREFIX + secrets.token_urlsafe(32)
    api_key = ApiKey.objects.create(
        organization=organization,
        name=name,
        role=role,
        prefix=raw_key[: len(API_KEY_PREFIX) + 6],
        key_hash=hash_api_key(raw_key),
        created_by=created_by,
    )
    return IssuedApiKey(api_key=api_key, raw_key=raw_key)


def revoke_api_key(*, api_key: ApiKey) -> ApiKey:
    if api_key.revoked_at is None:
        api_key.revoked_at = timezone.now()
        api_key.save(update_fields=["revoked_at"])
    return api_key


def touch_api_key(*, api_key: ApiKey) -> None:
    """Record use, at most once a minute per key so busy partners do not write on every call."""
    now = timezone.now()
    if api_key.last_used_at is None or (now - api_key.last_used_at).total_seconds() > 60:
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


@transaction.atomic
def create_organization(
    *,
    name: str,
    slug: str,
    owner: User | None = None,
    currency: str = "USD",
    time_zone: str = "UTC",
) -> Organization:
    organization = Organization(name=name, slug=slug, currency=currency, time_zone=time_zone)
    organization.full_clean()
    organization.save()
    if owner is not None:
        Membership.objects.create(user=owner, organization=organization, role=Role.OWNER)
    return organization


def add_member(*, organization: Organization, user: User, role: str) -> Membership:
    membership, _ = Membership.objects.update_or_create(
        user=user, organization=organization, defaults={"role": role}
    )
    return membership


def update_organization(*, organization: Organization, **changes: str) -> Organization:
    """Change name, currency or time zone; validated like any other write."""
    allowed = {"name", "currency", "time_zone"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValueError(f"Cannot change {', '.join(sorted(unknown))}.")
    for field, value in changes.items():
        setattr(organization, field, value)
    organization.full_clean()
    organization.save(update_fields=list(changes))
    return organization
