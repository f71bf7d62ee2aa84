from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template import TemplateSyntaxError

from notifications import selectors, services
from notifications.models import (
    Delivery,
    DeliveryStatus,
    Notification,
    NotificationPreference,
    NotificationSettings,
    NotificationTemplate,
    PushSubscription,
    WebhookEndpoint,
)
from notifications.registry import type_choices
from notifications.rendering import validate_template
from notifications.tasks import deliver_notification_task


class DeliveryInline(admin.TabularInline[Delivery, Notification]):
    model = Delivery
    extra = 0
    can_delete = False
    fields = [
        "channel",
        "status",
        "user",
        "webhook",
        "attempts",
        "response_status",
        "error",
        "sent_at",
    ]
    readonly_fields = fields  # type: ignore[assignment]


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin[Notification]):
    list_display = [
        "title",
        "organization",
        "type",
        "priority",
        "recipient",
        "count",
        "created_at",
        "expires_at",
    ]
    list_filter = ["type", "priority", "organization"]
    search_fields = ["title", "body", "subject"]
    date_hierarchy = "created_at"
    readonly_fields = ["created_at", "last_occurred_at", "count", "subject", "source"]
    raw_id_fields = ["recipient"]
    inlines = [DeliveryInline]


@admin.action(description="Retry selected failed deliveries")
def retry_deliveries(modeladmin: Any, request: HttpRequest, queryset: QuerySet[Delivery]) -> None:
    ids = list(
        queryset.filter(status=DeliveryStatus.FAILED, notification__isnull=False).values_list(
            "pk", flat=True
        )
    )
    Delivery.objects.filter(pk__in=ids).update(status=DeliveryStatus.PENDING, attempts=0)
    for delivery_id in ids:
        deliver_notification_task.delay(delivery_id)
    messages.info(request, f"Queued {len(ids)} deliveries again.")


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin[Delivery]):
    list_display = [
        "id",
        "organization",
        "channel",
        "status",
        "attempts",
        "response_status",
        "notification",
        "webhook",
        "user",
        "updated_at",
    ]
    list_filter = ["channel", "status", "organization"]
    readonly_fields = [f.name for f in Delivery._meta.fields]
    actions = [retry_deliveries]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


class NotificationTemplateForm(forms.ModelForm[NotificationTemplate]):
    type = forms.ChoiceField(choices=type_choices)

    class Meta:
        model = NotificationTemplate
        fields = ["organization", "type", "title", "body", "html", "action_url"]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for name in ("title", "body", "html", "action_url"):
            try:
                validate_template(data.get(name) or "")
            except TemplateSyntaxError as exc:
                self.add_error(name, f"Template error: {exc}")
        return data


@admin.register(NotificationTemplate)
class NotificationTemplateAdmin(admin.ModelAdmin[NotificationTemplate]):
    """Per-organization wording. Templates see the event's data; empty fields use the built-in."""

    form = NotificationTemplateForm
    list_display = ["type", "organization"]
    list_filter = ["type", "organization"]

    # notify() caches overrides per process for a few seconds; this process sees edits now.
    def save_model(
        self, request: HttpRequest, obj: NotificationTemplate, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        selectors.clear_template_cache()

    def delete_model(self, request: HttpRequest, obj: NotificationTemplate) -> None:
        super().delete_model(request, obj)
        selectors.clear_template_cache()

    def delete_queryset(
        self, request: HttpRequest, queryset: QuerySet[NotificationTemplate]
    ) -> None:
        super().delete_queryset(request, queryset)
        selectors.clear_template_cache()


@admin.register(NotificationPreference)
class NotificationPreferenceAdmin(admin.ModelAdmin[NotificationPreference]):
    list_display = ["user", "organization", "type", "email", "web_push", "min_priority"]
    list_filter = ["type", "organization"]
    raw_id_fields = ["user"]


@admin.register(NotificationSettings)
class NotificationSettingsAdmin(admin.ModelAdmin[NotificationSettings]):
    list_display = [
        "user",
        "organization",
        "time_zone",
        "quiet_hours_start",
        "quiet_hours_end",
        "email_digest",
    ]
    raw_id_fields = ["user"]


class WebhookEndpointForm(forms.ModelForm[WebhookEndpoint]):
    """URL and secret can be replaced but are never shown back."""

    url = forms.URLField(
        assume_scheme="https",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current URL.",
    )
    secret = forms.CharField(
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="Leave empty to keep the current secret.",
    )

    class Meta:
        model = WebhookEndpoint
        # url and secret are the form's own write-only inputs (the model fields are not
        # editable); save_model stores them.
        fields = [
            "organization",
            "name",
            "format",
            "types",
            "min_priority",
            "is_active",
        ]

    def clean_url(self) -> str:
        url = self.cleaned_data.get("url") or ""
        if not url and not self.instance.pk:
            raise forms.ValidationError("A URL is required.")
        return url


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin[WebhookEndpoint]):
    form = WebhookEndpointForm
    list_display = ["name", "organization", "url_hint", "format", "min_priority", "is_active"]
    list_filter = ["format", "is_active", "organization"]
    actions = ["send_test"]

    def save_model(
        self, request: HttpRequest, obj: WebhookEndpoint, form: Any, change: bool
    ) -> None:
        new_url = form.cleaned_data.get("url")
        new_secret = form.cleaned_data.get("secret")
        if change:
            # Empty inputs keep the stored (encrypted) values.
            obj.refresh_from_db(fields=["url", "secret"])
        if new_url:
            obj.url = new_url
            obj.url_hint = services.url_hint(new_url)
        if new_secret:
            obj.secret = new_secret
        super().save_model(request, obj, form, change)

    @admin.action(description="Send a test payload")
    def send_test(self, request: HttpRequest, queryset: QuerySet[WebhookEndpoint]) -> None:
        for endpoint in queryset:
            delivery = services.send_test_webhook(endpoint)
            level = messages.SUCCESS if delivery.status == DeliveryStatus.SENT else messages.ERROR
            self.message_user(
                request, f"{endpoint.name}: {delivery.status} {delivery.error}", level
            )


@admin.register(PushSubscription)
class PushSubscriptionAdmin(admin.ModelAdmin[PushSubscription]):
    list_display = ["id", "user", "user_agent", "created_at", "last_used_at"]
    fields = ["user", "user_agent", "created_at", "last_used_at"]
    readonly_fields = fields  # type: ignore[assignment]
    raw_id_fields = ["user"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
