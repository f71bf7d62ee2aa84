"""The back office shows whether a key is set, never the key."""

from __future__ import annotations

from django.urls import reverse
from pydantic import SecretStr

from agents.models import LLMProviderConfig
from tests.agents.factories import LLMCallFactory, LLMProviderConfigFactory

SECRET = "sk-admin-visible-never-0123456789"


def test_the_change_page_never_renders_the_stored_key(admin_client, organization):
    config = LLMProviderConfigFactory(organization=organization, api_key=SecretStr(SECRET))

    page = admin_client.get(reverse("admin:agents_llmproviderconfig_change", args=[config.pk]))
    listing = admin_client.get(reverse("admin:agents_llmproviderconfig_changelist"))

    assert page.status_code == 200
    assert SECRET not in page.content.decode()
    assert SECRET not in listing.content.decode()
    assert "set" in listing.content.decode()


def form_data(config: LLMProviderConfig, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "organization": config.organization_id,
        "provider": config.provider,
        "model": config.model,
        "base_url": config.base_url,
        "priority": config.priority,
        "is_active": "on",
        "timeout_seconds": config.timeout_seconds,
        "monthly_token_budget": "",
        "agent_models": "{}",
        "input_price_per_million": "",
        "output_price_per_million": "",
        "new_api_key": "",
    }
    data.update(changes)
    return data


def test_saving_without_a_new_key_keeps_the_old_one(admin_client, organization):
    config = LLMProviderConfigFactory(organization=organization, api_key=SecretStr(SECRET))
    url = reverse("admin:agents_llmproviderconfig_change", args=[config.pk])

    response = admin_client.post(url, form_data(config, model="gpt-4o"))

    assert response.status_code == 302
    config.refresh_from_db()
    assert (config.model, config.api_key.get_secret_value()) == ("gpt-4o", SECRET)


def test_a_new_key_replaces_the_old_one(admin_client, organization):
    config = LLMProviderConfigFactory(organization=organization, api_key=SecretStr(SECRET))
    url = reverse("admin:agents_llmproviderconfig_change", args=[config.pk])

    admin_client.post(url, form_data(config, new_api_key="sk-rotated-0123456789"))

    config.refresh_from_db()
    assert config.api_key.get_secret_value() == "sk-rotated-0123456789"


def test_an_openai_compatible_config_needs_a_base_url(admin_client, organization):
    url = reverse("admin:agents_llmproviderconfig_add")
    config = LLMProviderConfig(
        organization=organization, provider="openai_compatible", model="llama3"
    )

    response = admin_client.post(url, form_data(config, priority=0))

    assert response.status_code == 200
    assert "needs a base URL" in response.content.decode()
    assert not LLMProviderConfig.objects.exists()


def test_the_call_ledger_is_read_only(admin_client, organization):
    call = LLMCallFactory(organization=organization, error="")

    change = admin_client.post(
        reverse("admin:agents_llmcall_change", args=[call.pk]), {"prompt_tokens": 1}
    )
    add = admin_client.get(reverse("admin:agents_llmcall_add"))

    assert change.status_code == 403
    assert add.status_code == 403
