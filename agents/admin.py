from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.http import HttpRequest

from agents.models import LLMCall, LLMProviderConfig
from agents.services import set_provider_api_key


class LLMProviderConfigForm(forms.ModelForm[LLMProviderConfig]):
    base_url = forms.URLField(
        required=False,
        max_length=500,
        assume_scheme="https",
        help_text=LLMProviderConfig._meta.get_field("base_url").help_text,
    )
    # Write-only: the stored key is never rendered back, not even masked.
    new_api_key = forms.CharField(
        label="API key",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="Leave empty to keep the current key. Stored encrypted.",
    )
    clear_api_key = forms.BooleanField(label="Remove the stored key", required=False)

    class Meta:
        model = LLMProviderConfig
        fields = [
            "organization",
            "provider",
            "model",
            "base_url",
            "priority",
            "is_active",
            "timeout_seconds",
            "monthly_token_budget",
            "agent_models",
            "input_price_per_million",
            "output_price_per_million",
        ]


@admin.register(LLMProviderConfig)
class LLMProviderConfigAdmin(admin.ModelAdmin[LLMProviderConfig]):
    form = LLMProviderConfigForm
    list_display = [
        "organization",
        "priority",
        "provider",
        "model",
        "key_status",
        "monthly_token_budget",
        "is_active",
        "updated_at",
    ]
    list_filter = ["provider", "is_active", "organization"]
    search_fields = ["organization__name", "model"]
    autocomplete_fields = ["organization"]
    readonly_fields = ["key_status", "created_at", "updated_at"]

    @admin.display(description="API key")
    def key_status(self, config: LLMProviderConfig) -> str:
        return "set" if config.has_api_key else "—"

    def save_model(
        self, request: HttpRequest, obj: LLMProviderConfig, form: Any, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        new_key = form.cleaned_data.get("new_api_key") or ""
        if new_key or form.cleaned_data.get("clear_api_key"):
            set_provider_api_key(config=obj, api_key=new_key)


@admin.register(LLMCall)
class LLMCallAdmin(admin.ModelAdmin[LLMCall]):
    """The usage ledger: read-only, written by the provider chain only."""

    list_display = [
        "created_at",
        "organization",
        "agent",
        "task",
        "provider",
        "model",
        "status",
        "prompt_tokens",
        "completion_tokens",
        "cost_estimate",
        "latency_ms",
    ]
    list_filter = ["status", "provider", "agent", "organization"]
    search_fields = ["organization__name", "agent", "task", "model", "run_id"]
    date_hierarchy = "created_at"
    list_select_related = ["organization"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LLMCall | None = None) -> bool:
        return False
