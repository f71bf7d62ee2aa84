"""Which providers the chain tries, in which order, and what it records."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.utils import timezone
from langchain_core.tools import tool
from pydantic import BaseModel, SecretStr

from agents.models import CallStatus, LLMCall, ProviderKind
from agents.providers import OFFLINE, LLMRequest, PromptBuilder, resolve_chain, run_llm_task
from agents.providers.config import install_provider_spec
from agents.providers.errors import ProviderConfigurationError
from agents.testing import anthropic_error
from tests.agents.factories import LLMCallFactory, LLMProviderConfigFactory
from tests.agents.wire import Wire


class Note(BaseModel):
    text: str


def note_request(agent: str = "summarizer") -> LLMRequest[Note]:
    prompt = PromptBuilder(role="You write notes.").instruction("Write a note.").build()
    return LLMRequest(
        agent=agent,
        task="note",
        prompt=prompt,
        output_schema=Note,
        offline=lambda: Note(text="from the template"),
    )


OPENAI = Wire(ProviderKind.OPENAI, "gpt-4o-mini")
ANTHROPIC = Wire(ProviderKind.ANTHROPIC, "claude-3-5-haiku-20241022")


def test_with_nothing_configured_the_offline_analyst_answers(organization):
    # Given no provider config and the install-wide provider left at its default
    assert resolve_chain(organization) == [OFFLINE]

    # When a task runs
    result = run_llm_task(organization, note_request())

    # Then the offline function answers and the run is on record, free
    assert result.output == Note(text="from the template")
    assert result.is_offline
    call = LLMCall.objects.get(run_id=result.run_id)
    assert (call.provider, call.status, call.total_tokens, str(call.cost_estimate)) == (
        ProviderKind.OFFLINE,
        CallStatus.OK,
        0,
        "0.000000",
    )


def test_the_install_wide_provider_serves_organizations_without_configs(
    organization, llm_server, settings
):
    settings.ADPLATFORM_LLM_PROVIDER = "openai"
    settings.ADPLATFORM_LLM_MODEL = "gpt-4o-mini"
    settings.ADPLATFORM_LLM_API_KEY = "sk-install-key-0123456789"
    # The per-provider base URL override is how tests (and proxies) point the SDK elsewhere.
    settings.ADPLATFORM_OPENAI_BASE_URL = llm_server.url + "/v1"
    llm_server.enqueue(OPENAI.path, OPENAI.tool_call("Note", {"text": "from the model"}))

    result = run_llm_task(organization, note_request())

    assert result.output == Note(text="from the model")
    assert [spec.kind for spec in resolve_chain(organization)] == ["openai", "offline"]
    assert LLMCall.objects.get(run_id=result.run_id, attempt=1).config is None


def test_install_wide_per_agent_models_pick_the_model(settings):
    settings.ADPLATFORM_LLM_PROVIDER = "anthropic"
    settings.ADPLATFORM_LLM_MODEL = "claude-3-5-haiku-latest"
    settings.ADPLATFORM_LLM_API_KEY = "sk-ant-key"
    settings.ADPLATFORM_LLM_AGENT_MODELS = ["creative_reviewer=claude-sonnet-4-5"]

    assert install_provider_spec(agent="creative_reviewer").model == "claude-sonnet-4-5"
    assert install_provider_spec(agent="budget_pacer").model == "claude-3-5-haiku-latest"


def test_an_unknown_install_provider_is_a_clear_error(settings):
    settings.ADPLATFORM_LLM_PROVIDER = "opnai"

    with pytest.raises(ProviderConfigurationError, match="Unknown LLM provider 'opnai'"):
        install_provider_spec()


def test_organization_configs_replace_the_install_provider_in_priority_order(
    organization, other_organization, settings
):
    settings.ADPLATFORM_LLM_PROVIDER = "openai"
    settings.ADPLATFORM_LLM_MODEL = "gpt-4o"
    settings.ADPLATFORM_LLM_API_KEY = "sk-install"
    LLMProviderConfigFactory(organization=organization, provider="openai", priority=5)
    LLMProviderConfigFactory(
        organization=organization, provider="anthropic", model="claude-3-5-haiku-latest", priority=1
    )
    LLMProviderConfigFactory(
        organization=organization, provider="google_genai", is_active=False, priority=0
    )
    LLMProviderConfigFactory(organization=other_organization, provider="google_genai", priority=0)

    chain = resolve_chain(organization)

    assert [(spec.kind, spec.model) for spec in chain] == [
        ("anthropic", "claude-3-5-haiku-latest"),
        ("openai", "gpt-4o-mini"),
        ("offline", ""),
    ]


def test_an_offline_config_keeps_the_organizations_data_at_home(organization, llm_server):
    LLMProviderConfigFactory(organization=organization, provider="offline", model="", priority=0)
    LLMProviderConfigFactory(organization=organization, base_url=llm_server.url + "/v1", priority=1)

    result = run_llm_task(organization, note_request())

    assert result.is_offline
    assert llm_server.requests == []


def test_the_per_agent_model_override_is_the_model_requested(organization, llm_server):
    LLMProviderConfigFactory(
        organization=organization,
        model="gpt-4o-mini",
        agent_models={"creative_reviewer": "gpt-4o"},
        base_url=llm_server.url + "/v1",
    )
    llm_server.enqueue(OPENAI.path, OPENAI.tool_call("Note", {"text": "a"}))
    llm_server.enqueue(OPENAI.path, OPENAI.tool_call("Note", {"text": "b"}))

    run_llm_task(organization, note_request(agent="creative_reviewer"))
    run_llm_task(organization, note_request(agent="budget_pacer"))

    assert [request.body["model"] for request in llm_server.requests] == ["gpt-4o", "gpt-4o-mini"]


def test_fallback_goes_from_anthropic_to_openai_to_offline(
    organization, llm_server, second_llm_server
):
    # Given Anthropic answering 500 and OpenAI rate limited
    anthropic = LLMProviderConfigFactory(
        organization=organization,
        provider="anthropic",
        model="claude-3-5-haiku-latest",
        base_url=llm_server.url,
        priority=0,
    )
    openai = LLMProviderConfigFactory(
        organization=organization, base_url=second_llm_server.url + "/v1", priority=1
    )
    llm_server.enqueue(
        ANTHROPIC.path, anthropic_error(500, "Internal server error", error_type="api_error")
    )
    second_llm_server.enqueue(OPENAI.path, OPENAI.rate_limited(retry_after=3))

    # When a task runs
    result = run_llm_task(organization, note_request())

    # Then every link was tried in order and the offline analyst answered
    assert result.output == Note(text="from the template")
    assert [(a.provider, a.status) for a in result.attempts] == [
        ("anthropic", CallStatus.ERROR),
        ("openai", CallStatus.RATE_LIMITED),
        ("offline", CallStatus.OK),
    ]
    records = LLMCall.objects.filter(run_id=result.run_id).order_by("attempt")
    assert [(r.attempt, r.config_id) for r in records] == [
        (1, anthropic.pk),
        (2, openai.pk),
        (3, None),
    ]


def test_a_provider_over_its_monthly_budget_is_skipped(organization, llm_server, second_llm_server):
    # Given a first provider whose 1,000-token budget is spent this month
    capped = LLMProviderConfigFactory(
        organization=organization,
        base_url=llm_server.url + "/v1",
        monthly_token_budget=1_000,
        priority=0,
    )
    LLMCallFactory(
        organization=organization, config=capped, prompt_tokens=900, completion_tokens=100
    )
    LLMProviderConfigFactory(
        organization=organization,
        provider="anthropic",
        model="claude-3-5-haiku-latest",
        base_url=second_llm_server.url,
        priority=1,
    )
    second_llm_server.enqueue(
        ANTHROPIC.path, ANTHROPIC.tool_call("Note", {"text": "from anthropic"})
    )

    # When a task runs
    result = run_llm_task(organization, note_request())

    # Then the capped provider got no request and the skip is on record
    assert llm_server.requests == []
    assert result.output == Note(text="from anthropic")
    assert [a.status for a in result.attempts] == [CallStatus.OVER_BUDGET, CallStatus.OK]
    skipped = LLMCall.objects.get(run_id=result.run_id, attempt=1)
    assert (skipped.config_id, skipped.requests, skipped.total_tokens) == (capped.pk, 0, 0)


def test_last_months_usage_and_other_organizations_do_not_count_against_the_budget(
    organization, other_organization, llm_server
):
    capped = LLMProviderConfigFactory(
        organization=organization, base_url=llm_server.url + "/v1", monthly_token_budget=1_000
    )
    old = LLMCallFactory(organization=organization, config=capped, prompt_tokens=5_000)
    LLMCall.objects.filter(pk=old.pk).update(created_at=timezone.now() - dt.timedelta(days=40))
    LLMCallFactory(organization=other_organization, prompt_tokens=5_000)
    llm_server.enqueue(OPENAI.path, OPENAI.tool_call("Note", {"text": "within budget"}))

    result = run_llm_task(organization, note_request())

    assert result.output == Note(text="within budget")


def test_a_provider_without_a_key_is_skipped_as_an_error(organization, llm_server):
    config = LLMProviderConfigFactory(organization=organization, base_url=llm_server.url + "/v1")
    config.api_key = SecretStr("")
    config.save()

    result = run_llm_task(organization, note_request())

    assert result.is_offline
    failed = LLMCall.objects.get(run_id=result.run_id, attempt=1)
    assert (failed.status, failed.error) == (
        CallStatus.ERROR,
        "ProviderConfigurationError: No API key is set for openai.",
    )
    assert llm_server.requests == []


def test_a_bug_in_a_tool_falls_back_offline_and_logs_its_traceback(
    organization, llm_server, caplog
):
    @tool
    def broken() -> str:
        """A tool with a bug."""
        raise KeyError("missing")

    LLMProviderConfigFactory(organization=organization, base_url=llm_server.url + "/v1")
    llm_server.enqueue(OPENAI.path, OPENAI.tool_call("broken", {}))
    request = dataclasses.replace(note_request(), tools=[broken])

    result = run_llm_task(organization, request)

    assert result.is_offline
    assert [a.status for a in result.attempts] == [CallStatus.ERROR, CallStatus.OK]
    [warning] = [r for r in caplog.records if r.name == "agents.providers.chain"]
    assert warning.exc_info is not None
    assert warning.exc_info[0] is KeyError


@pytest.mark.parametrize(
    ("wire", "setting"),
    [
        (OPENAI, "ADPLATFORM_OPENAI_BASE_URL"),
        (ANTHROPIC, "ADPLATFORM_ANTHROPIC_BASE_URL"),
        (Wire(ProviderKind.GOOGLE_GENAI, "gemini-2.5-flash"), "ADPLATFORM_GOOGLE_GENAI_BASE_URL"),
    ],
    ids=["openai", "anthropic", "google_genai"],
)
def test_a_config_without_a_base_url_uses_the_providers_endpoint_setting(
    organization, llm_server, settings, wire, setting
):
    setattr(settings, setting, wire.base_url(llm_server))
    LLMProviderConfigFactory(organization=organization, provider=wire.kind, model=wire.model)
    llm_server.enqueue(wire.path, wire.tool_call("Note", {"text": "via the override"}))

    result = run_llm_task(organization, note_request())

    assert result.output == Note(text="via the override")
    assert [request.path for request in llm_server.requests] == [wire.path]
