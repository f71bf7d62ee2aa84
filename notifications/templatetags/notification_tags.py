from __future__ import annotations

from typing import Any

from django import template

from notifications import selectors
from notifications.models import Notification
from notifications.registry import UnknownNotificationType, get_type

register = template.Library()


@register.inclusion_tag("notifications/_bell.html", takes_context=True)
def notification_bell(context: dict[str, Any]) -> dict[str, Any]:
    """The header bell: unread count now, live updates from notifications.js."""
    request = context.get("request")
    organization = getattr(request, "organization", None)
    user = getattr(request, "user", None)
    if organization is None or user is None or not user.is_authenticated:
        return {"show": False}
    # Ids are global, and the socket covers all the user's organizations.
    latest = (
        Notification.objects.filter(organization__memberships__user=user)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
        or 0
    )
    return {
        "show": True,
        "unread_count": selectors.count_unread(organization, user=user),
        "organization": organization,
        # The socket replays from here, so nothing raised between render and connect is lost.
        "last_id": latest,
    }


@register.filter
def notification_type_label(key: str) -> str:
    try:
        return get_type(key).label
    except UnknownNotificationType:
        return key
