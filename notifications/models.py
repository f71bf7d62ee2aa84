"""Notifications, their per-user state, deliveries, preferences, and delivery targets."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.db.models import Q

from adplatform.fields import EncryptedTextField
from adplatform.models import Organization, validate_time_zone
from notifications.registry import Priority


class Notification(models.Model):
    """One event an organization hears about, for one member or (recipient empty) all of them."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="notifications"
    )
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="notifications",
        help_text="Empty: every member of the organization.",
    )
    # A key of notifications.registry; not a DB choice so new types need no migration.
    type = models.CharField(max_length=64)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)
    title = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    body_html = models.TextField(blank=True)
    action_url = models.CharField(max_length=500, blank=True)
    data = models.JSONField(default=dict, blank=True)
    # What the event is about (from the type's subject keys); repeats bump `count`.
    subject = models.CharField(max_length=300, blank=True)
    count = models.PositiveIntegerField(default=1)
    source = models.CharField(
        max_length=100, blank=True, help_text="Who raised it: an app, 'api_key:<id>', ..."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_occurred_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    # 1 + the priority rank outbound deliveries were last planned for (0: not yet): the
    # planning task claims it with a conditional UPDATE, so a repeated task sends nothing
    # twice while an escalation plans again.
    planned_priority_rank = models.PositiveSmallIntegerField(default=0, editable=False)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["organization", "-id"], name="notif_org_id"),
            models.Index(
                fields=["organization", "type", "subject", "last_occurred_at"],
                name="notif_dedup",
            ),
            models.Index(fields=["expires_at"], name="notif_expiry"),
        ]

    def __str__(self) -> str:
        return self.title

    def is_expired(self, now: dt.datetime) -> bool:
        return self.expires_at is not None and self.expires_at <= now


class NotificationState(models.Model):
    """Whether one user has read or dismissed one notification (no row: unread)."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    notification = models.ForeignKey(Notification, on_delete=models.CASCADE, related_name="states")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    read_at = models.DateTimeField(null=True, blank=True)
    dismissed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["notification", "user"], name="unique_notif_state"),
        ]
        indexes = [models.Index(fields=["organization", "user"], name="notif_state_org_user")]

    def __str__(self) -> str:
        return f"{self.user} on #{self.notification_id}"


class Channel(models.TextChoices):
    WEBSOCKET = "websocket", "Live (WebSocket)"
    EMAIL = "email", "Email"
    WEB_PUSH = "web_push", "Web push"
    WEBHOOK = "webhook", "Webhook"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENDING = "sending", "Sending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"
    DIGEST = "digest", "Waiting for the daily digest"
    HELD = "held", "Held until the member's quiet hours end"
    EXPIRED = "expired", "Expired before delivery"


class Delivery(models.Model):
    """One attempt plan to carry a notification through one channel to one target."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    # Empty for a webhook's "send test".
    notification = models.ForeignKey(
        Notification, null=True, blank=True, on_delete=models.CASCADE, related_name="deliveries"
    )
    channel = models.CharField(max_length=16, choices=Channel.choices)
    status = models.CharField(
        max_length=16, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    webhook = models.ForeignKey(
        "WebhookEndpoint",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="deliveries",
    )
    push_subscription = models.ForeignKey(
        "PushSubscription", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # For status "held": when the member's quiet hours end and it becomes pending.
    hold_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["organization", "channel", "-id"], name="delivery_org_channel"),
            models.Index(
                fields=["channel", "status", "user"],
                name="delivery_digest",
                condition=Q(status="digest"),
            ),
            models.Index(fields=["hold_until"], name="delivery_held", condition=Q(status="held")),
        ]

    def __str__(self) -> str:
        return f"{self.channel} #{self.pk} ({self.status})"


class NotificationSettings(models.Model):
    """A member's delivery settings in one organization that apply across types."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    quiet_hours_start = models.TimeField(null=True, blank=True)
    quiet_hours_end = models.TimeField(null=True, blank=True)
    email_digest = models.BooleanField(
        default=True, help_text="Collect low-priority emails into one daily digest."
    )
    last_digest_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "notification settings"
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="unique_notif_settings"),
        ]

    def __str__(self) -> str:
        return f"Settings of {self.user} in {self.organization}"


class NotificationPreference(models.Model):
    """Which outbound channels one member wants for one type, and from which priority."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64)
    email = models.BooleanField(default=True)
    web_push = models.BooleanField(default=True)
    min_priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.MEDIUM)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "user", "type"], name="unique_notif_preference"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user}: {self.type}"


class NotificationTemplate(models.Model):
    """An organization's own wording for one type; empty fields fall back to the built-in."""

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64)
    title = models.TextField(blank=True)
    body = models.TextField(blank=True)
    html = models.TextField(blank=True, help_text="Extra HTML for the email body.")
    action_url = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "type"], name="unique_notif_template"),
        ]

    def __str__(self) -> str:
        return f"{self.type} for {self.organization}"


class WebhookFormat(models.TextChoices):
    JSON = "json", "JSON (signed)"
    SLACK = "slack", "Slack incoming webhook"


class WebhookEndpoint(models.Model):
    """An organization's outgoing webhook. URL and secret are encrypted (Slack URLs are secrets)."""

    organization = models.ForeignKey(
        Organization, on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    name = models.CharField(max_length=100)
    url = EncryptedTextField()
    # Shown in lists instead of the URL: scheme and host only.
    url_hint = models.CharField(max_length=200, blank=True)
    secret = EncryptedTextField(blank=True)
    format = models.CharField(
        max_length=8, choices=WebhookFormat.choices, default=WebhookFormat.JSON
    )
    types = models.JSONField(default=list, blank=True, help_text="Empty: every type.")
    min_priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.LOW)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return f"{self.name} ({self.url_hint})"


class PushSubscription(models.Model):
    """One browser's Web Push subscription for one user.

    It belongs to the user, not an organization: a browser has one push endpoint, and the
    notifications it carries are already filtered by organization membership.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="push_subscriptions"
    )
    endpoint = models.URLField(max_length=1000, unique=True)
    p256dh = models.CharField(max_length=200)
    auth = EncryptedTextField()
    user_agent = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Push subscription #{self.pk} of {self.user}"


class VapidKey(models.Model):
    """The server's VAPID key pair when none is configured: made once, private half encrypted."""

    public_key = models.CharField(max_length=200)
    private_key = EncryptedTextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "VAPID key"

    def __str__(self) -> str:
        return f"VAPID key {self.public_key[:12]}…"
