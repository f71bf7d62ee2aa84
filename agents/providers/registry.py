"""Provider kind -> LangChain chat model: one registered builder per provider, no if-chains.

Builders import their LangChain package lazily: starting Django (admin, web) should not pay
for loading four SDKs, and an install that only runs offline never loads them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from pydantic import SecretStr

from agents.models import ProviderKind
from agents.providers.config import ProviderSpec
from agents.providers.errors import ProviderConfigurationError

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

StructuredMethod = Literal["function_calling", "json_schema", "json_mode"]
ChatModelBuilder = Callable[[ProviderSpec], "BaseChatModel"]

# Local OpenAI-compatible servers (Ollama, vLLM, LM Studio) ignore the key, but the openai
# SDK refuses to start without one.
UNUSED_API_KEY = "not-needed"


@dataclass(frozen=True)
class ProviderEntry:
    kind: ProviderKind
    build: ChatModelBuilder
    # Tool calling is the one structured-output method all four providers (and most
    # OpenAI-compatible servers) support the same way.
    structured_method: StructuredMethod = "function_calling"
    requires_api_key: bool = True
    requires_base_url: bool = False


_REGISTRY: dict[ProviderKind, ProviderEntry] = {}


def register_provider(
    kind: ProviderKind,
    *,
    structured_method: StructuredMethod = "function_calling",
    requires_api_key: bool = True,
    requires_base_url: bool = False,
) -> Callable[[ChatModelBuilder], ChatModelBuilder]:
    def decorator(build: ChatModelBuilder) -> ChatModelBuilder:
        _REGISTRY[kind] = ProviderEntry(
            kind=kind,
            build=build,
            structured_method=structured_method,
            requires_api_key=requires_api_key,
            requires_base_url=requires_base_url,
        )
        return build

    return decorator


def get_provider(kind: ProviderKind) -> ProviderEntry:
    try:
        return _REGISTRY[kind]
    except KeyError:
        if kind == ProviderKind.OFFLINE:
            raise ProviderConfigurationError(
                "The offline analyst has no chat model; the chain answers with the task's "
                "offline function."
            ) from None
        raise ProviderConfigurationError(f"No chat model is registered for {kind!r}.") from None


def get_chat_model(spec: ProviderSpec) -> BaseChatModel:
    """Build the LangChain chat model for `spec`, after checking it is complete."""
    entry = get_provider(spec.kind)
    if not spec.model:
        raise ProviderConfigurationError(f"No model name is set for {spec.kind}.")
    if entry.requires_api_key and not spec.api_key.get_secret_value():
        raise ProviderConfigurationError(f"No API key is set for {spec.kind}.")
    if entry.requires_base_url and not spec.base_url:
        raise ProviderConfigurationError(f"No base URL is set for {spec.kind}.")
    return entry.build(spec)


@register_provider(ProviderKind.OPENAI)
def build_openai(spec: ProviderSpec) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=spec.model,
        api_key=spec.api_key,
        base_url=spec.base_url or None,
        timeout=spec.timeout_seconds,
        max_retries=spec.max_retries,
        max_completion_tokens=spec.max_output_tokens,
        # We speak Chat Completions everywhere, so OpenAI and compatible servers behave alike.
        use_responses_api=False,
    )


@register_provider(ProviderKind.OPENAI_COMPATIBLE, requires_api_key=False, requires_base_url=True)
def build_openai_compatible(spec: ProviderSpec) -> BaseChatModel:
    # BaseChatOpenAI, not ChatOpenAI: it sends the classic `max_tokens`, which local servers
    # understand, where ChatOpenAI rewrites it to OpenAI's newer `max_completion_tokens`.
    from langchain_openai.chat_models.base import BaseChatOpenAI

    return BaseChatOpenAI(
        model=spec.model,
        api_key=spec.api_key if spec.api_key.get_secret_value() else SecretStr(UNUSED_API_KEY),
        base_url=spec.base_url,
        timeout=spec.timeout_seconds,
        max_retries=spec.max_retries,
        max_tokens=spec.max_output_tokens,
        use_responses_api=False,
    )


@register_provider(ProviderKind.ANTHROPIC)
def build_anthropic(spec: ProviderSpec) -> BaseChatModel:
    from langchain_anthropic import ChatAnthropic

    # Field names, not aliases: the stubs of ChatAnthropic only know "model_name" and
    # "max_tokens_to_sample", which read worse than the names used everywhere else.
    options: dict[str, Any] = {
        "model": spec.model,
        "api_key": spec.api_key,
        "base_url": spec.base_url or None,
        "timeout": spec.timeout_seconds,
        "max_retries": spec.max_retries,
        "max_tokens": spec.max_output_tokens,
    }
    return ChatAnthropic(**options)


@register_provider(ProviderKind.GOOGLE_GENAI)
def build_google_genai(spec: ProviderSpec) -> BaseChatModel:
    from langchain_google_genai import ChatGoogleGenerativeAI

    return ChatGoogleGenerativeAI(
        model=spec.model,
        google_api_key=spec.api_key,
        # google-genai's HttpOptions.base_url; the SDK appends /v1beta/models/<model>:...
        base_url=spec.base_url or None,
        timeout=spec.timeout_seconds,
        # google-genai counts attempts, not retries, and reads 0 as "its default" (5).
        max_retries=spec.max_retries + 1,
        max_output_tokens=spec.max_output_tokens,
    )
