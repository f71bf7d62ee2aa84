"""Run one LLM task through an organization's fallback chain, recording every attempt.

For each provider in order: skip it when it is over its monthly token budget or cooling
down after a 429; otherwise ask it (tools first if the task has any, then a schema-checked
answer). A timeout, rate limit, provider error or malformed answer moves on to the next
provider; the offline analyst at the end always answers. Every attempt, skipped ones
included, becomes an `LLMCall` row.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from langchain_core.messages import HumanMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool
from langsmith import tracing_context
from pydantic import BaseModel

from adplatform.models import Organization
from agents.models import CallStatus, ProviderKind
from agents.providers.config import OFFLINE, ProviderSpec, resolve_chain
from agents.providers.errors import classify_failure, is_provider_failure
from agents.providers.offline import answer_offline
from agents.providers.pricing import estimate_cost
from agents.providers.prompts import Prompt
from agents.providers.registry import get_chat_model, get_provider
from agents.providers.safety import redact_secrets
from agents.providers.structured import invoke_structured, run_tool_loop
from agents.providers.usage import UsageCollector
from agents.selectors import tokens_used_this_month
from agents.services import record_llm_call

logger = logging.getLogger(__name__)

OutputT = TypeVar("OutputT", bound=BaseModel)

# A provider's Retry-After is honoured up to this; beyond it the next run tries again.
MAX_COOLDOWN_SECONDS = 3600


@dataclass(frozen=True)
class LLMRequest(Generic[OutputT]):
    """One task for the chain: the prompt, the answer's schema and the offline answer.

    `agent` selects per-agent model overrides and labels the usage records; `offline` must
    be deterministic and need no network (statistics and templates).
    """

    agent: str
    task: str
    prompt: Prompt
    output_schema: type[OutputT]
    offline: Callable[[], OutputT]
    tools: Sequence[BaseTool] = ()
    max_tool_steps: int | None = None


@dataclass(frozen=True)
class AttemptOutcome:
    provider: ProviderKind
    model: str
    status: CallStatus


@dataclass(frozen=True)
class LLMResult(Generic[OutputT]):
    output: OutputT
    provider: ProviderKind
    model: str
    run_id: uuid.UUID
    attempts: tuple[AttemptOutcome, ...]

    @property
    def is_offline(self) -> bool:
        return self.provider == ProviderKind.OFFLINE


def _cooldown_key(organization: Organization, spec: ProviderSpec) -> str:
    return f"agents:llm-cooldown:{organization.pk}:{spec.link_key}"


def _skip_reason(organization: Organization, spec: ProviderSpec) -> CallStatus | None:
    if cache.get(_cooldown_key(organization, spec)) is not None:
        return CallStatus.COOLING_DOWN
    if spec.monthly_token_budget is not None:
        used = tokens_used_this_month(organization, config_id=spec.config_id)
        # Checked before the call, so concurrent calls can overshoot by one call each.
        if used >= spec.monthly_token_budget:
            return CallStatus.OVER_BUDGET
    return None


def _ask(spec: ProviderSpec, request: LLMRequest[OutputT], collector: UsageCollector) -> OutputT:
    # LangSmith tracing (switched on by LANGSMITH_TRACING in the environment) would copy
    # prompts, client data included, to a third party; only an explicit setting allows it.
    with tracing_context(enabled=None if settings.ADPLATFORM_LLM_TRACING else False):
        return _ask_untraced(spec, request, collector)


def _ask_untraced(
    spec: ProviderSpec, request: LLMRequest[OutputT], collector: UsageCollector
) -> OutputT:
    model = get_chat_model(spec)
    config: RunnableConfig = {
        "callbacks": [collector],
        "run_name": f"{request.agent}.{request.task}",
    }
    messages = request.prompt.to_messages()
    if request.tools:
        max_steps = request.max_tool_steps or settings.ADPLATFORM_LLM_MAX_TOOL_STEPS
        conversation = run_tool_loop(
            model,
            messages,
            request.tools,
            max_steps=max_steps,
            scrubber=request.prompt.scrubber,
            config=config,
        )
        # End on a user turn: Anthropic reads a trailing assistant turn as a prefill, which
        # does not mix with a forced tool choice.
        final_turn = f"Give your final answer now by calling {request.output_schema.__name__}."
        messages = [*conversation, HumanMessage(content=final_turn)]
    return invoke_structured(
        model,
        messages,
        request.output_schema,
        method=get_provider(spec.kind).structured_method,
        config=config,
    )


@dataclass(frozen=True)
class _AttemptUsage:
    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_estimate: Decimal | None = None
    latency_ms: int = 0


def _usage(spec: ProviderSpec, collector: UsageCollector, started: float) -> _AttemptUsage:
    return _AttemptUsage(
        requests=collector.requests,
        prompt_tokens=collector.prompt_tokens,
        completion_tokens=collector.completion_tokens,
        cost_estimate=estimate_cost(
            kind=spec.kind,
            model=spec.model,
            prompt_tokens=collector.prompt_tokens,
            completion_tokens=collector.completion_tokens,
            input_price_per_million=spec.input_price_per_million,
            output_price_per_million=spec.output_price_per_million,
        ),
        latency_ms=_elapsed_ms(started),
    )


def _elapsed_ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _with_offline_last(specs: Sequence[ProviderSpec]) -> list[ProviderSpec]:
    for position, spec in enumerate(specs):
        if spec.is_offline:
            return list(specs[: position + 1])
    return [*specs, OFFLINE]


def run_llm_task(
    organization: Organization,
    request: LLMRequest[OutputT],
    *,
    chain: Sequence[ProviderSpec] | None = None,
    records: list[dict[str, Any]] | None = None,
) -> LLMResult[OutputT]:
    """Answer `request` with the first provider of the chain that can, offline at the latest.

    `chain` defaults to the organization's (`resolve_chain`); offline is appended to an
    explicit chain that lacks it. Writes one `LLMCall` per attempt, or, given `records`,
    appends its fields there for the caller to write (`record_llm_calls`): parallel review
    branches run in worker threads that should not hold database connections. Only a
    failing offline function raises: that is a bug in the task.
    """
    run_id = uuid.uuid4()
    specs = _with_offline_last(
        chain if chain is not None else resolve_chain(organization, agent=request.agent)
    )
    attempts: list[AttemptOutcome] = []

    def record(
        position: int,
        spec: ProviderSpec,
        status: CallStatus,
        usage: _AttemptUsage,
        *,
        retry_after_seconds: float | None = None,
        error: str = "",
    ) -> None:
        attempts.append(AttemptOutcome(provider=spec.kind, model=spec.model, status=status))
        row: dict[str, Any] = {
            "organization": organization,
            "run_id": run_id,
            "attempt": position,
            "agent": request.agent,
            "task": request.task,
            "provider": spec.kind,
            "model": spec.model,
            "status": status,
            "config_id": spec.config_id,
            "requests": usage.requests,
            "prompt_tokens": usage.prompt_tokens,
            "completion_tokens": usage.completion_tokens,
            "cost_estimate": usage.cost_estimate,
            "latency_ms": usage.latency_ms,
            "retry_after_seconds": retry_after_seconds,
            "error": error,
        }
        if records is not None:
            records.append(row)
        else:
            record_llm_call(**row)

    *providers, offline = specs
    for position, spec in enumerate(providers, start=1):
        skip = _skip_reason(organization, spec)
        if skip is not None:
            record(position, spec, skip, _AttemptUsage())
            continue

        started = time.monotonic()
        collector = UsageCollector()
        try:
            output = _ask(spec, request, collector)
        except Exception as exc:  # any failure of this provider means: try the next one
            failure = classify_failure(exc)
            if failure.status == CallStatus.RATE_LIMITED:
                _start_cooldown(organization, spec, failure.retry_after_seconds)
            logger.warning(
                "LLM provider attempt failed; trying the next provider",
                extra={
                    "provider": spec.kind,
                    "model": spec.model,
                    "status": failure.status,
                    "error_type": type(exc).__name__,
                    "agent": request.agent,
                },
                # A failure that is not the provider's is a bug of ours: keep its traceback.
                exc_info=not is_provider_failure(exc),
            )
            error = redact_secrets(
                request.prompt.scrubber.text(f"{type(exc).__name__}: {exc}"),
                [spec.api_key.get_secret_value()],
            )
            record(
                position,
                spec,
                failure.status,
                _usage(spec, collector, started),
                retry_after_seconds=failure.retry_after_seconds,
                error=error,
            )
            continue
        record(position, spec, CallStatus.OK, _usage(spec, collector, started))
        return LLMResult(output, spec.kind, spec.model, run_id, tuple(attempts))

    started = time.monotonic()
    output = answer_offline(request.offline, request.output_schema)
    usage = _AttemptUsage(cost_estimate=Decimal(0), latency_ms=_elapsed_ms(started))
    record(len(specs), offline, CallStatus.OK, usage)
    return LLMResult(output, offline.kind, offline.model, run_id, tuple(attempts))


def _start_cooldown(
    organization: Organization, spec: ProviderSpec, retry_after_seconds: float | None
) -> None:
    seconds = retry_after_seconds or settings.ADPLATFORM_LLM_RATE_LIMIT_COOLDOWN
    seconds = min(seconds, MAX_COOLDOWN_SECONDS)
    if seconds > 0:
        cache.set(_cooldown_key(organization, spec), True, timeout=math.ceil(seconds))
