"""Which providers to try, in which order: the fallback chain of an organization.

The chain is the organization's active `LLMProviderConfig` rows by priority or, when it has
none, the install-wide provider from the environment; the offline analyst always closes it.
An organization that wants no data sent anywhere adds an offline config first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.conf import settings
from pydantic import SecretStr

from adplatform.models import Organization
from agents.models import LLMProviderConfig, ProviderKind
from agents.providers.errors import ProviderConfigurationError
from agents.selectors import list_active_provider_configs


@dataclass(frozen=True)
class ProviderSpec:
    """Everything needed to build one chat model; the key stays a `SecretStr` until then."""

    kind: ProviderKind
    model: str = ""
    api_key: SecretStr = field(default_factory=lambda: SecretStr(""))
    base_url: str = ""
    timeout_seconds: float = 30.0
    max_retries: int = 1
    max_output_tokens: int = 2048
    monthly_token_budget: int | None = None
    # None for the install-wide provider and for offline.
    config_id: int | None = None
    input_price_per_million: Decimal | None = None
    output_price_per_million: Decimal | None = None

    @property
    def is_offline(self) -> bool:
        return self.kind == ProviderKind.OFFLINE

    @property
    def link_key(self) -> str:
        """Names this chain link for budgets and cool-downs."""
        return f"config-{self.config_id}" if self.config_id is not None else f"install-{self.kind}"

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.model}" if self.model else str(self.kind)


OFFLINE = ProviderSpec(kind=ProviderKind.OFFLINE)

# Per-provider endpoint overrides from the environment, used when a config sets no base URL.
_BASE_URL_SETTINGS: dict[ProviderKind, str] = {
    ProviderKind.OPENAI: "ADPLATFORM_OPENAI_BASE_URL",
    ProviderKind.ANTHROPIC: "ADPLATFORM_ANTHROPIC_BASE_URL",
    ProviderKind.GOOGLE_GENAI: "ADPLATFORM_GOOGLE_GENAI_BASE_URL",
}


def default_base_url(kind: ProviderKind) -> str:
    setting = _BASE_URL_SETTINGS.get(kind)
    return str(getattr(settings, setting, "") or "") if setting else ""


def parse_provider_kind(value: str) -> ProviderKind:
    try:
        return ProviderKind(value.strip().lower())
    except ValueError:
        choices = ", ".join(kind.value for kind in ProviderKind)
        raise ProviderConfigurationError(
            f"Unknown LLM provider {value!r}; expected one of: {choices}."
        ) from None


def install_agent_models() -> dict[str, str]:
    """ADPLATFORM_LLM_AGENT_MODELS, "agent=model,agent=model", as a mapping."""
    overrides: dict[str, str] = {}
    for item in settings.ADPLATFORM_LLM_AGENT_MODELS:
        agent, separator, model = item.partition("=")
        if not separator or not agent.strip() or not model.strip():
            raise ProviderConfigurationError(
                f"ADPLATFORM_LLM_AGENT_MODELS entries are agent=model, not {item!r}."
            )
        overrides[agent.strip()] = model.strip()
    return overrides


def install_provider_spec(*, agent: str = "") -> ProviderSpec | None:
    """The install-wide provider from ADPLATFORM_LLM_*; None when it is offline."""
    kind = parse_provider_kind(settings.ADPLATFORM_LLM_PROVIDER or ProviderKind.OFFLINE)
    if kind == ProviderKind.OFFLINE:
        return None
    budget = settings.ADPLATFORM_LLM_MONTHLY_TOKEN_BUDGET
    return ProviderSpec(
        kind=kind,
        model=install_agent_models().get(agent) or settings.ADPLATFORM_LLM_MODEL,
        api_key=SecretStr(settings.ADPLATFORM_LLM_API_KEY),
        base_url=settings.ADPLATFORM_LLM_BASE_URL or default_base_url(kind),
        timeout_seconds=settings.ADPLATFORM_LLM_TIMEOUT,
        max_retries=settings.ADPLATFORM_LLM_MAX_RETRIES,
        max_output_tokens=settings.ADPLATFORM_LLM_MAX_OUTPUT_TOKENS,
        monthly_token_budget=budget or None,
    )


def spec_for_config(config: LLMProviderConfig, *, agent: str = "") -> ProviderSpec:
    """The spec of one organization config, with the agent's model override applied."""
    kind = ProviderKind(config.provider)
    return ProviderSpec(
        kind=kind,
        model=config.model_for(agent),
        api_key=config.api_key,
        base_url=config.base_url or default_base_url(kind),
        timeout_seconds=config.timeout_seconds,
        max_retries=settings.ADPLATFORM_LLM_MAX_RETRIES,
        max_output_tokens=settings.ADPLATFORM_LLM_MAX_OUTPUT_TOKENS,
        monthly_token_budget=config.monthly_token_budget,
        config_id=config.pk,
        input_price_per_million=config.input_price_per_million,
        output_price_per_million=config.output_price_per_million,
    )


def resolve_chain(organization: Organization, *, agent: str = "") -> list[ProviderSpec]:
    """The providers to try for `agent`, in order; always ends with the offline analyst."""
    chain = [
        spec_for_config(config, agent=agent)
        for config in list_active_provider_configs(organization)
    ]
    if not chain:
        install = install_provider_spec(agent=agent)
        chain = [install] if install is not None else []
    # Nothing after an offline link can run, so cut the chain there.
    for position, spec in enumerate(chain):
        if spec.is_offline:
            return chain[: position + 1]
    return [*chain, OFFLINE]
