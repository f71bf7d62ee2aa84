"""System checks for the install-wide LLM settings, so a typo fails at start, not at 3 a.m."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from agents.models import ProviderKind


@register()
def check_install_llm_provider(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    value = (settings.ADPLATFORM_LLM_PROVIDER or ProviderKind.OFFLINE).strip().lower()
    if value not in ProviderKind.values:
        return [
            Error(
                f"ADPLATFORM_LLM_PROVIDER is {value!r}; expected one of "
                f"{', '.join(ProviderKind.values)}.",
                id="agents.E001",
            )
        ]
    errors: list[CheckMessage] = []
    if value != ProviderKind.OFFLINE and not settings.ADPLATFORM_LLM_MODEL:
        errors.append(
            Error("ADPLATFORM_LLM_MODEL is required for that provider.", id="agents.E002")
        )
    needs_key = value not in (ProviderKind.OFFLINE, ProviderKind.OPENAI_COMPATIBLE)
    if needs_key and not settings.ADPLATFORM_LLM_API_KEY:
        errors.append(
            Error("ADPLATFORM_LLM_API_KEY is required for that provider.", id="agents.E003")
        )
    if value == ProviderKind.OPENAI_COMPATIBLE and not settings.ADPLATFORM_LLM_BASE_URL:
        errors.append(
            Error(
                "ADPLATFORM_LLM_BASE_URL is required for an OpenAI-compatible endpoint.",
                id="agents.E004",
            )
        )
    for item in settings.ADPLATFORM_LLM_AGENT_MODELS:
        agent, separator, model = item.partition("=")
        if not (separator and agent.strip() and model.strip()):
            errors.append(
                Error(
                    f"ADPLATFORM_LLM_AGENT_MODELS entries are agent=model, not {item!r}.",
                    id="agents.E005",
                )
            )
    return errors
