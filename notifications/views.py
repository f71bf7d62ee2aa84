"""The notification centre, preferences, the bell's count, and the service worker."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from adplatform.web import OrganizationRequest, organization_view
from notifications import selectors, services
from notifications.channels import DeliveryError
from notifications.channels.webhook import check_destination
from notifications.forms import NotificationFilterForm, SettingsForm
from notifications.models import Notification
from notifications.registry import Priority, all_types

if TYPE_CHECKING:
    from django.contrib.auth.models import User

PAGE_SIZE = 30


def _user(request: OrganizationRequest) -> User:
    # organization_view has already turned away anonymous visitors.
    return cast("User", request.user)


@require_GET
@organization_view()
def notification_centre(request: OrganizationRequest) -> HttpResponse:
    form = NotificationFilterForm(request.GET)
    params = form.cleaned_data if form.is_valid() else {}
    state = params.get("state") or ""
    notifications = selectors.list_notifications_for_user(
        request.organization,
        user=_user(request),
        type=params.get("type") or None,
        priority=params.get("priority") or None,
        is_read={"read": True, "unread": False}.get(state),
    )
    page = Paginator(notifications, PAGE_SIZE).get_page(request.GET.get("page") or 1)
    context = {
        "form": form,
        "page": page,
        "unread_count": selectors.count_unread(request.organization, user=_user(request)),
    }
    template = "notifications/centre.html#list" if request.htmx else "notifications/centre.html"
    return render(request, template, context)


def _get_visible(request: OrganizationRequest, notification_id: int) -> Notification:
    try:
        return selectors.get_notification_for_user(
            request.organization, user=_user(request), notification_id=notification_id
        )
    except Notification.DoesNotExist:
        raise Http404("No such notification.") from None


def _after_change(request: OrganizationRequest) -> HttpResponse:
    if request.htmx:
        # The centre re-fetches its list; the bell updates from the socket event.
        response = HttpResponse(status=204)
        response["HX-Trigger"] = "notifications-changed"
        return response
    return redirect("notifications:centre")


@require_POST
@organization_view()
def mark_read(request: OrganizationRequest, notification_id: int) -> HttpResponse:
    notification = _get_visible(request, notification_id)
    services.mark_read(request.organization, user=_user(request), notification=notification)
    return _after_change(request)


@require_POST
@organization_view()
def mark_all_read(request: OrganizationRequest) -> HttpResponse:
    services.mark_all_read(request.organization, user=_user(request))
    return _after_change(request)


@require_POST
@organization_view()
def dismiss(request: OrganizationRequest, notification_id: int) -> HttpResponse:
    notification = _get_visible(request, notification_id)
    services.dismiss(request.organization, user=_user(request), notification=notification)
    return _after_change(request)


@require_GET
@organization_view()
def unread_count(request: OrganizationRequest) -> JsonResponse:
    return JsonResponse(
        {"unread_count": selectors.count_unread(request.organization, user=_user(request))}
    )


@require_http_methods(["GET", "POST"])
@organization_view()
def preferences(request: OrganizationRequest) -> HttpResponse:
    organization, user = request.organization, _user(request)
    current = selectors.get_settings(organization, user=user)
    saved = selectors.list_preferences(organization, user=user)
    if request.method == "POST":
        form = SettingsForm(request.POST)
        if form.is_valid():
            services.update_settings(organization, user=user, **form.cleaned_data)
            for notification_type in all_types():
                key = notification_type.key
                minimum = request.POST.get(f"{key}-min_priority", Priority.MEDIUM)
                services.set_preference(
                    organization,
                    user=user,
                    type=key,
                    email=request.POST.get(f"{key}-email") == "on",
                    web_push=request.POST.get(f"{key}-web_push") == "on",
                    min_priority=minimum if minimum in Priority.values else Priority.MEDIUM,
                )
            return redirect("notifications:preferences")
    else:
        form = SettingsForm(
            initial={
                "time_zone": current.time_zone,
                "quiet_hours_start": current.quiet_hours_start,
                "quiet_hours_end": current.quiet_hours_end,
                "email_digest": current.email_digest,
            }
        )
    rows = []
    for notification_type in all_types():
        preference = saved.get(notification_type.key)
        rows.append(
            {
                "type": notification_type,
                "email": preference.email if preference else True,
                "web_push": preference.web_push if preference else True,
                "min_priority": preference.min_priority if preference else Priority.MEDIUM,
            }
        )
    public_key, _ = services.get_vapid_keys()
    context = {
        "form": form,
        "rows": rows,
        "priorities": Priority.choices,
        "vapid_public_key": public_key,
        "push_subscription_count": selectors.list_push_subscriptions(user=user).count(),
    }
    return render(request, "notifications/preferences.html", context)


@require_POST
@organization_view()
def push_subscribe(request: OrganizationRequest) -> JsonResponse:
    import json

    try:
        payload = json.loads(request.body)
        endpoint = str(payload["endpoint"])
        keys = payload["keys"]
        p256dh, auth = str(keys["p256dh"]), str(keys["auth"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": "Send the browser's PushSubscription as JSON."}, status=400)
    try:
        check_destination(endpoint, allow_private=settings.NOTIFICATIONS_ALLOW_PRIVATE_DESTINATIONS)
    except DeliveryError as exc:
        return JsonResponse({"detail": str(exc)}, status=400)
    services.save_push_subscription(
        user=_user(request),
        endpoint=endpoint,
        p256dh=p256dh,
        auth=auth,
        user_agent=request.headers.get("User-Agent", ""),
    )
    return JsonResponse({"status": "subscribed"}, status=201)


@require_POST
@organization_view()
def push_unsubscribe(request: OrganizationRequest) -> JsonResponse:
    import json

    try:
        endpoint = str(json.loads(request.body)["endpoint"])
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"detail": 'Send {"endpoint": ...}.'}, status=400)
    deleted = services.delete_push_subscription(user=_user(request), endpoint=endpoint)
    return JsonResponse({"status": "unsubscribed", "deleted": deleted})


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from the app (not /static/) so it may control every page of the site."""
    path = finders.find("notifications/sw.js")
    if not path or isinstance(path, list):
        raise Http404
    with open(path, encoding="utf-8") as handle:
        response = HttpResponse(handle.read(), content_type="text/javascript")
    response["Service-Worker-Allowed"] = "/"
    response["Cache-Control"] = "no-cache"
    return response
