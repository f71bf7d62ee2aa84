from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from adplatform.selectors import list_memberships


def organization(request: HttpRequest) -> dict[str, Any]:
    """The current organization and the others the user may switch to, for the header."""
    if not getattr(request, "user", None) or not request.user.is_authenticated:
        return {}
    return {
        "current_organization": getattr(request, "organization", None),
        "current_membership": getattr(request, "membership", None),
        "user_memberships": list_memberships(user=request.user),
    }
