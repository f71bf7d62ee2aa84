"""The LLM provider layer: what agents call to ask a model, and what answers offline.

An agent builds a prompt with `PromptBuilder` (untrusted data in delimited blocks, personal
data scrubbed), wraps it in an `LLMRequest` with its output schema and its deterministic
offline function, and calls `run_llm_task(organization, request)`. The organization's
fallback chain (its provider configs, else the install-wide provider, then offline) does
the rest and records every attempt as an `LLMCall`.
"""

from __future__ import annotations

from agents.providers.chain import AttemptOutcome, LLMRequest, LLMResult, run_llm_task
from agents.providers.config import OFFLINE, ProviderSpec, resolve_chain
from agents.providers.errors import (
    LLMError,
    LLMOutputError,
    ProviderConfigurationError,
    ToolLoopError,
)
from agents.providers.prompts import Prompt, PromptBuilder, render_data_block
from agents.providers.registry import get_chat_model, register_provider
from agents.providers.safety import Scrubber, combine_confidence, names_of_users
from agents.providers.structured import invoke_structured, run_tool_loop

__all__ = [
    "OFFLINE",
    "AttemptOutcome",
    "LLMError",
    "LLMOutputError",
    "LLMRequest",
    "LLMResult",
    "Prompt",
    "PromptBuilder",
    "ProviderConfigurationError",
    "ProviderSpec",
    "Scrubber",
    "ToolLoopError",
    "combine_confidence",
    "get_chat_model",
    "invoke_structured",
    "names_of_users",
    "register_provider",
    "render_data_block",
    "resolve_chain",
    "run_llm_task",
    "run_tool_loop",
]
