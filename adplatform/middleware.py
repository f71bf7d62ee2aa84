"""Resolve the organization the signed-in user is working in, from their session."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from adplatform.models import Membership
from adplatform.observability import bind_organization
from adplatform.selectors import get_membership, list_memberships

SESSION_KEY = "organization_id"


def resolve_current_membership(request: HttpRequest) -> Membership | None:
    """The membership for the session's chosen organization, falling back to the first one.

    The session only stores a preference; membership is checked on every request, so a
    removed member loses access at once.
    """
    user = request.user
    if not user.is_authenticated:
        return None
    chosen = request.session.get(SESSION_KEY)
    membership = get_membership(user=user, organization_id=chosen) if chosen else None
    if membership is None:
        membership = list_memberships(user=user).first()
        if membership is not None:
            request.session[SESSION_KEY] = membership.organization_id
    return membership


class CurrentOrganizationMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        membership = resolve_current_membership(request)
        request.membership = membership  # type: ignore[attr-defined]
        request.organization = membership.organization if membership else None  # type: ignore[attr-defined]
        bind_organization(request.organization)  # type: ignore[attr-defined]
        return self.get_response(request)
