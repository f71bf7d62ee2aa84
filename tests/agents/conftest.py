from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache

from agents.testing import LocalLLMServer
from tests.agents.wire import WIRE_IDS, WIRES, Wire

# Port 9 (discard) on loopback refuses connections: a provider a test forgot to point at its
# local server fails at once instead of reaching the internet.
NOWHERE = "http://127.0.0.1:9"


@pytest.fixture(autouse=True)
def _llm_settings(settings: Any) -> Iterator[None]:
    settings.ADPLATFORM_LLM_PROVIDER = "offline"
    settings.ADPLATFORM_LLM_MODEL = ""
    settings.ADPLATFORM_LLM_API_KEY = ""
    settings.ADPLATFORM_LLM_BASE_URL = ""
    settings.ADPLATFORM_LLM_AGENT_MODELS = []
    settings.ADPLATFORM_LLM_MONTHLY_TOKEN_BUDGET = 0
    settings.ADPLATFORM_LLM_MAX_RETRIES = 0
    settings.ADPLATFORM_LLM_TIMEOUT = 5.0
    settings.ADPLATFORM_OPENAI_BASE_URL = NOWHERE + "/v1"
    settings.ADPLATFORM_ANTHROPIC_BASE_URL = NOWHERE
    settings.ADPLATFORM_GOOGLE_GENAI_BASE_URL = NOWHERE
    # Rate-limit cool-downs live in the cache; a previous test's must not leak in.
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def llm_server() -> Iterator[LocalLLMServer]:
    with LocalLLMServer() as server:
        yield server


@pytest.fixture
def second_llm_server() -> Iterator[LocalLLMServer]:
    with LocalLLMServer() as server:
        yield server


@pytest.fixture(params=WIRES, ids=WIRE_IDS)
def wire(request: pytest.FixtureRequest) -> Wire:
    return request.param
