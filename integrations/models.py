"""Connections to ad platforms (with their encrypted credentials) and the sandbox's memory.

A `Connection` is one authorization: an organization's grant on one platform, used by
one connector. `platform` is what the imported accounts are (meta, tiktok...);
`connector` is the code that talks to it: the platform's own, or `sandbox`, which
simulates that platform.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models

from adplatform.fields import EncryptedTextField
from adplatform.models import Organization
from integrations.vocabulary import Platform

SANDBOX = "sandbox"


class ConnectionStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    NEEDS_REAUTH = "needs_reauth", "Needs re-authorization"
    ERROR = "error", "Error"
    PAUSED_QUOTA = "paused_quota", "Paused (platform quota)"


class Connection(models.Model):
    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="connections"
    )
    platform = models.CharField(max_length=16, choices=Platform.choices)
    # A registered connector slug: the platform itself, or "sandbox".
    connector = models.CharField(max_length=32)
    name = models.CharField(max_length=255, blank=True)
    # Secrets: encrypted at rest; never rendered by the admin, the API or log lines.
    access_token = EncryptedTextField(blank=True, default="")
    refresh_token = EncryptedTextField(blank=True, default="")
    token_secret = EncryptedTextField(blank=True, default="")
    expires_at = models.DateTimeField(null=True, blank=True)
    scope = models.TextField(blank=True, default="")
    # Platform-specific, non-secret connection data (Google's login-customer-id, the
    # sandbox's seed and world).
    extra = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.ACTIVE
    )
    # A message safe to show the user (never a token), for needs_reauth / error.
    status_detail = models.TextField(blank=True, default="")
    resume_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_synced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["organization", "status"])]
        ordering = ["platform", "name", "pk"]

    def __str__(self) -> str:
        return self.label

    @property
    def is_sandbox(self) -> bool:
        return self.connector == SANDBOX

    @property
    def label(self) -> str:
        platform = (
            Platform(self.platform).label if self.platform in Platform.values else self.platform
        )
        suffix = " (sandbox)" if self.is_sandbox else ""
        return f"{self.name or platform}{suffix}"


class SandboxEvent(models.Model):
    """A change made through the sandbox connector, replayed by its simulator.

    The simulated world is derived from a seed; what people (or rules, or agents) did to
    it is this log, so a later sync sees a pause or a budget change from the moment it
    was made. `world` is the connection's sandbox world key.
    """

    world = models.CharField(max_length=64)
    account_external_id = models.CharField(max_length=64)
    campaign_external_id = models.CharField(max_length=64)
    kind = models.CharField(max_length=16)  # create / update / archive
    payload = models.JSONField(default=dict)
    # On the simulator's clock (the real clock unless the connection pins one).
    occurred_at = models.DateTimeField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [models.Index(fields=["world", "occurred_at"])]
        ordering = ["occurred_at", "pk"]

    def __str__(self) -> str:
        return f"{self.world} {self.kind} {self.campaign_external_id} at {self.occurred_at}"
