"""Reads of the agents app; the organization always comes first."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from django.db.models import F, QuerySet, Sum
from django.utils import timezone

from adplatform.models import Organization
from agents.models import LLMCall, LLMProviderConfig, ProviderKind


def list_active_provider_configs(organization: Organization) -> QuerySet[LLMProviderConfig]:
    """The organization's fallback chain, first provider first."""
    return LLMProviderConfig.objects.filter(organization=organization, is_active=True).order_by(
        "priority", "pk"
    )


def start_of_month(organization: Organization, *, now: dt.datetime | None = None) -> dt.datetime:
    """Midnight on the first of the current month in the organization's time zone."""
    local_now = (now or timezone.now()).astimezone(zoneinfo.ZoneInfo(organization.time_zone))
    return local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def tokens_used_this_month(
    organization: Organization, *, config_id: int | None, now: dt.datetime | None = None
) -> int:
    """Prompt + completion tokens spent this month on one chain link.

    `config_id=None` means the install-wide provider (calls recorded without a config).
    """
    calls = LLMCall.objects.filter(
        organization=organization, created_at__gte=start_of_month(organization, now=now)
    ).exclude(provider=ProviderKind.OFFLINE)
    calls = (
        calls.filter(config__isnull=True) if config_id is None else calls.filter(config=config_id)
    )
    total = calls.aggregate(total=Sum(F("prompt_tokens") + F("completion_tokens")))["total"]
    return int(total or 0)


def list_llm_calls(organization: Organization, *, run_id: str | None = None) -> QuerySet[LLMCall]:
    calls = LLMCall.objects.filter(organization=organization)
    if run_id is not None:
        calls = calls.filter(run_id=run_id)
    return calls.order_by("-created_at", "-pk")
