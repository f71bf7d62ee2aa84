"""The web UI's tenancy guard: the htmx counterpart of the API's scoped base view."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django_htmx.middleware import HtmxDetails

from adplatform.models import Membership, Organization


class OrganizationRequest(HttpRequest):
    """What an `organization_view` receives: a signed-in member of `organization`."""

    htmx: HtmxDetails
    organization: Organization
    membership: Membership


ViewFunc = Callable[..., HttpResponseBase]


def organization_view(*, write: bool = False) -> Callable[[ViewFunc], ViewFunc]:
    """Require a signed-in member of the current organization (and a writer when `write`)."""

    def decorator(view: ViewFunc) -> ViewFunc:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership: Membership | None = getattr(request, "membership", None)
            if membership is None:
                return render(request, "adplatform/no_organization.html", status=403)
            if write and not membership.can_write:
                raise PermissionDenied("Viewers cannot make changes.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
