"""Which organization an API request acts for, and with which role.

An API key carries its organization. A signed-in user (the browser calling the API)
acts for the organization chosen in the session, or the one named in the
`X-Organization` header (a slug) if they are a member of it; never for one they
are not a member of.
"""

from __future__ import annotations

from dataclasses import dataclass

from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request

from adplatform.middleware import SESSION_KEY
from adplatform.models import ADMIN_ROLES, WRITE_ROLES, ApiKey, Membership, Organization
from adplatform.selectors import get_membership, list_memberships

_CACHE_ATTR = "_adplatform_api_access"


@dataclass(frozen=True)
class ApiAccess:
    organization: Organization
    role: str
    api_key: ApiKey | None = None
    membership: Membership | None = None

    @property
    def can_write(self) -> bool:
        return self.role in WRITE_ROLES

    @property
    def is_admin(self) -> bool:
        return self.role in ADMIN_ROLES

    @property
    def actor_label(self) -> str:
        if self.api_key is not None:
            return f"api_key:{self.api_key.pk}"
        assert self.membership is not None
        return f"user:{self.membership.user_id}"


def resolve_api_access(request: Request) -> ApiAccess | None:
    if hasattr(request, _CACHE_ATTR):
        return getattr(request, _CACHE_ATTR)
    access = _resolve(request)
    setattr(request, _CACHE_ATTR, access)
    return access


def _resolve(request: Request) -> ApiAccess | None:
    if isinstance(request.auth, ApiKey):
        return ApiAccess(
            organization=request.auth.organization, role=request.auth.role, api_key=request.auth
        )
    user = request.user
    if user is None or not user.is_authenticated:
        return None
    slug = request.headers.get("X-Organization")
    if slug:
        membership = list_memberships(user=user).filter(organization__slug=slug).first()
        if membership is None:
            raise PermissionDenied(f"You are not a member of organization {slug!r}.")
    else:
        chosen = request.session.get(SESSION_KEY) if hasattr(request, "session") else None
        membership = get_membership(user=user, organization_id=chosen) if chosen else None
        membership = membership or list_memberships(user=user).first()
    if membership is None:
        return None
    return ApiAccess(
        organization=membership.organization, role=membership.role, membership=membership
    )
