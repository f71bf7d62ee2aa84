"""Writes of the agents app."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

from pydantic import SecretStr

from adplatform.metrics import AGENT_TOKENS
from adplatform.models import Organization
from agents.models import CallStatus, LLMCall, LLMProviderConfig, ProviderKind


def record_llm_call(
    *,
    organization: Organization,
    run_id: uuid.UUID,
    attempt: int,
    agent: str,
    task: str,
    provider: ProviderKind | str,
    model: str,
    status: CallStatus,
    config_id: int | None = None,
    requests: int = 0,
    prompt_tokens: int = 0,
    completion_tokens: int = 0,
    cost_estimate: Decimal | None = None,
    latency_ms: int = 0,
    retry_after_seconds: float | None = None,
    error: str = "",
) -> LLMCall:
    """Store one provider attempt. `error` must already be scrubbed by the caller."""
    AGENT_TOKENS.labels(provider, "prompt").inc(prompt_tokens)
    AGENT_TOKENS.labels(provider, "completion").inc(completion_tokens)
    return LLMCall.objects.create(
        organization=organization,
        config_id=config_id,
        run_id=run_id,
        attempt=attempt,
        agent=agent,
        task=task,
        provider=provider,
        model=model,
        status=status,
        requests=requests,
        prompt_tokens=prompt_tokens,
        completion_tokens=completion_tokens,
        cost_estimate=cost_estimate,
        latency_ms=latency_ms,
        retry_after_seconds=retry_after_seconds,
        error=error[:2000],
    )


def set_provider_api_key(*, config: LLMProviderConfig, api_key: str) -> LLMProviderConfig:
    """Replace the stored API key of `config` (encrypted on save); an empty key clears it."""
    config.api_key = SecretStr(api_key.strip())
    config.save(update_fields=["api_key", "updated_at"])
    return config


def record_llm_calls(rows: list[dict[str, Any]]) -> None:
    """Store attempts collected by `run_llm_task(records=...)` (errors already scrubbed)."""
    LLMCall.objects.bulk_create(
        LLMCall(**(row | {"error": str(row.get("error", ""))[:2000]})) for row in rows
    )
