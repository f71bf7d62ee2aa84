"""Saved dashboards: create or replace by name, choose the default, delete."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from adplatform.models import Organization
from analytics.models import SavedDashboard


@transaction.atomic
def save_dashboard(
    *,
    organization: Organization,
    name: str,
    config: dict[str, Any],
    is_default: bool = False,
    user: Any = None,
) -> SavedDashboard:
    """Save the choices under `name` (replacing a dashboard of that name); optionally make
    it the organization's default, which un-defaults the previous one."""
    name = name.strip()[:100]
    if not name:
        raise ValueError("A saved dashboard needs a name.")
    if is_default:
        SavedDashboard.objects.filter(organization=organization, is_default=True).exclude(
            name=name
        ).update(is_default=False)
    dashboard, created = SavedDashboard.objects.update_or_create(
        organization=organization,
        name=name,
        defaults={"config": config, "is_default": is_default},
        create_defaults={
            "config": config,
            "is_default": is_default,
            "created_by": user if getattr(user, "is_authenticated", False) else None,
        },
    )
    return dashboard


@transaction.atomic
def set_default_dashboard(*, dashboard: SavedDashboard) -> SavedDashboard:
    SavedDashboard.objects.filter(
        organization_id=dashboard.organization_id, is_default=True
    ).exclude(pk=dashboard.pk).update(is_default=False)
    dashboard.is_default = True
    dashboard.save(update_fields=["is_default", "updated_at"])
    return dashboard


def delete_dashboard(*, dashboard: SavedDashboard) -> None:
    dashboard.delete()
