from __future__ import annotations

import pytest
from pydantic import SecretStr

from agents.checks import check_install_llm_provider
from agents.models import ProviderKind
from agents.providers import ProviderSpec, get_chat_model
from agents.testing import openai_compatible_stub


@pytest.mark.parametrize(
    ("overrides", "expected_ids"),
    [
        ({}, []),
        ({"ADPLATFORM_LLM_PROVIDER": "gpt"}, ["agents.E001"]),
        ({"ADPLATFORM_LLM_PROVIDER": "openai"}, ["agents.E002", "agents.E003"]),
        (
            {"ADPLATFORM_LLM_PROVIDER": "openai_compatible", "ADPLATFORM_LLM_MODEL": "llama3"},
            ["agents.E004"],
        ),
        ({"ADPLATFORM_LLM_AGENT_MODELS": ["summarizer"]}, ["agents.E005"]),
    ],
)
def test_install_settings_are_checked_at_start(settings, overrides, expected_ids):
    for name, value in overrides.items():
        setattr(settings, name, value)

    assert [error.id for error in check_install_llm_provider()] == expected_ids


def test_the_benchmark_stub_answers_like_an_openai_compatible_server():
    with openai_compatible_stub(delay=0.05, content="pong") as server:
        model = get_chat_model(
            ProviderSpec(
                kind=ProviderKind.OPENAI_COMPATIBLE,
                model="bench-model",
                api_key=SecretStr(""),
                base_url=server.url + "/v1",
                max_retries=0,
            )
        )

        reply = model.invoke("ping")

    assert reply.content == "pong"
    assert server.requests[0].header("authorization") == "Bearer not-needed"
    assert server.requests[0].body["max_tokens"] == 2048
