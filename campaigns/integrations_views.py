"""The Integrations page and the OAuth web flow (connect, callback, account picker).

These pages live in campaigns because they import accounts and start syncs, which are
campaigns' work; the OAuth state handling itself is `integrations.oauth`.
"""

from __future__ import annotations

import contextlib
from functools import partial

from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adplatform.web import OrganizationRequest, organization_view
from campaigns import selectors
from campaigns.services.connections import import_ad_accounts, list_reachable_accounts
from campaigns.tasks import sync_connection_task
from integrations import oauth
from integrations.clients.errors import PlatformError
from integrations.models import SANDBOX, Connection
from integrations.registry import registered_platforms
from integrations.services import disconnect
from integrations.vocabulary import Platform


def _connection(request: OrganizationRequest, connection_id: int) -> Connection:
    try:
        return selectors.get_connection(request.organization, connection_id=connection_id)
    except Connection.DoesNotExist:
        raise Http404("No such connection.") from None


def _queue_sync(request: OrganizationRequest, connection: Connection, trigger: str) -> None:
    transaction.on_commit(
        partial(
            sync_connection_task.delay,
            connection.pk,
            trigger=trigger,
            requested_by=f"user:{request.user.pk}",
        )
    )


@require_GET
@organization_view()
def integration_list(request: OrganizationRequest) -> HttpResponse:
    connections = list(selectors.list_connections(request.organization))
    latest = selectors.latest_sync_runs(request.organization)
    for connection in connections:
        connection.latest_run = latest.get(connection.pk)  # type: ignore[attr-defined]
    return render(
        request,
        "campaigns/integrations.html",
        {
            "connections": connections,
            "connectable": oauth.available_connectors(),
            "sandbox_available": SANDBOX in registered_platforms(),
            "platforms": Platform.choices,
        },
    )


@require_POST
@organization_view(write=True)
def connect(request: OrganizationRequest, connector: str) -> HttpResponse:
    """Start the platform's authorization: remember the state, send the user there."""
    platform = request.POST.get("platform") or connector
    if connector not in registered_platforms() or platform not in Platform.values:
        raise Http404("No such platform.")
    if connector in Platform.values and connector not in dict(oauth.available_connectors()):
        messages.error(
            request, f"{Platform(connector).label} has no client credentials configured."
        )
        return redirect("integrations:list")
    url = oauth.begin_authorization(
        session=request.session,
        organization=request.organization,
        connector=connector,
        platform=platform,
        redirect_uri=request.build_absolute_uri(reverse("integrations:callback", args=[connector])),
    )
    return HttpResponseRedirect(url)


@require_GET
@organization_view(write=True)
def callback(request: OrganizationRequest, connector: str) -> HttpResponse:
    """The platform sends the user back here with a code (or an error) and our state."""
    if connector not in registered_platforms():
        raise Http404("No such platform.")
    if request.GET.get("error"):
        # The user declined, or the platform refused; the state is spent either way.
        with contextlib.suppress(oauth.OAuthStateError):
            oauth.consume_state(
                session=request.session,
                state=request.GET.get("state", ""),
                organization=request.organization,
                connector=connector,
            )
        messages.error(request, "The platform did not grant access; nothing was connected.")
        return redirect("integrations:list")
    try:
        connection = oauth.complete_authorization(
            session=request.session,
            organization=request.organization,
            connector=connector,
            state=request.GET.get("state", ""),
            code=request.GET.get("code", ""),
            redirect_uri=request.build_absolute_uri(
                reverse("integrations:callback", args=[connector])
            ),
            user=request.user,  # type: ignore[arg-type]
        )
    except oauth.OAuthStateError as exc:
        return render(request, "campaigns/oauth_error.html", {"message": str(exc)}, status=400)
    except PlatformError as exc:
        return render(
            request,
            "campaigns/oauth_error.html",
            {"message": f"The platform refused the authorization: {exc.message}"},
            status=400,
        )
    return redirect("integrations:accounts", connection_id=connection.pk)


@require_http_methods(["GET", "POST"])
@organization_view(write=True)
def pick_accounts(request: OrganizationRequest, connection_id: int) -> HttpResponse:
    """Which of the reachable ad accounts to import; importing starts the first sync."""
    connection = _connection(request, connection_id)
    try:
        reachable = list_reachable_accounts(connection=connection)
    except PlatformError as exc:
        messages.error(request, f"Could not list the ad accounts: {exc.message}")
        return redirect("integrations:list")
    if request.method == "POST":
        chosen = request.POST.getlist("account")
        if not chosen:
            messages.error(request, "Choose at least one ad account.")
        else:
            try:
                accounts = import_ad_accounts(
                    connection=connection, external_ids=chosen, reachable=reachable
                )
            except ValueError as exc:
                messages.error(request, str(exc))
            else:
                _queue_sync(request, connection, trigger="connect")
                messages.success(request, f"Imported {len(accounts)} ad account(s); syncing now.")
                return redirect("integrations:list")
    imported = set(connection.ad_accounts.values_list("external_id", flat=True))
    return render(
        request,
        "campaigns/pick_accounts.html",
        {"connection": connection, "reachable": reachable, "imported": imported},
    )


@require_POST
@organization_view(write=True)
def sync_now(request: OrganizationRequest, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    _queue_sync(request, connection, trigger="manual")
    messages.success(request, f"Sync of {connection.label} started.")
    return redirect("integrations:list")


@require_POST
@organization_view(write=True)
def disconnect_view(request: OrganizationRequest, connection_id: int) -> HttpResponse:
    connection = _connection(request, connection_id)
    label = connection.label
    disconnect(
        connection=connection, by_user=request.user if request.user.is_authenticated else None
    )
    messages.success(request, f"Disconnected {label}. Its accounts and their data are kept.")
    return redirect("integrations:list")
