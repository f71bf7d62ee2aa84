from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from integrations.models import SandboxEvent

# The Connection admin lives in campaigns/admin.py: its "sync now" action runs the sync,
# which belongs to campaigns (integrations never imports campaigns).


@admin.register(SandboxEvent)
class SandboxEventAdmin(admin.ModelAdmin[SandboxEvent]):
    """Changes made to sandbox worlds; the simulator replays them. Read-only."""

    list_display = ["occurred_at", "world", "kind", "campaign_external_id"]
    list_filter = ["kind"]
    search_fields = ["world", "campaign_external_id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
