"""Estimated cost of a call from its token counts.

List prices in USD per million tokens (input, output) of the hosted providers, as published
when this table was written; they change, so a config can override them
(`LLMProviderConfig.input_price_per_million` / `output_price_per_million`). The longest
matching prefix wins, so dated snapshots ("gpt-4o-mini-2024-07-18") find their family.
Unknown models give no estimate rather than a wrong one.
"""

from __future__ import annotations

from decimal import Decimal

from agents.models import ProviderKind

_D = Decimal
PRICES_PER_MILLION: dict[ProviderKind, dict[str, tuple[Decimal, Decimal]]] = {
    ProviderKind.OPENAI: {
        "gpt-4o": (_D("2.50"), _D("10.00")),
        "gpt-4o-mini": (_D("0.15"), _D("0.60")),
        "gpt-4.1": (_D("2.00"), _D("8.00")),
        "gpt-4.1-mini": (_D("0.40"), _D("1.60")),
        "gpt-4.1-nano": (_D("0.10"), _D("0.40")),
        "gpt-5": (_D("1.25"), _D("10.00")),
        "gpt-5-mini": (_D("0.25"), _D("2.00")),
        "gpt-5-nano": (_D("0.05"), _D("0.40")),
        "o3-mini": (_D("1.10"), _D("4.40")),
        "o4-mini": (_D("1.10"), _D("4.40")),
    },
    ProviderKind.ANTHROPIC: {
        "claude-3-5-haiku": (_D("0.80"), _D("4.00")),
        "claude-haiku-4-5": (_D("1.00"), _D("5.00")),
        "claude-3-5-sonnet": (_D("3.00"), _D("15.00")),
        "claude-3-7-sonnet": (_D("3.00"), _D("15.00")),
        "claude-sonnet-4": (_D("3.00"), _D("15.00")),
        "claude-opus-4": (_D("15.00"), _D("75.00")),
    },
    ProviderKind.GOOGLE_GENAI: {
        "gemini-2.0-flash": (_D("0.10"), _D("0.40")),
        "gemini-2.0-flash-lite": (_D("0.075"), _D("0.30")),
        "gemini-2.5-flash": (_D("0.30"), _D("2.50")),
        "gemini-2.5-flash-lite": (_D("0.10"), _D("0.40")),
        "gemini-2.5-pro": (_D("1.25"), _D("10.00")),
    },
    ProviderKind.OFFLINE: {"": (_D("0"), _D("0"))},
}
_MILLION = Decimal(1_000_000)
_QUANTUM = Decimal("0.000001")


def list_price(kind: ProviderKind, model: str) -> tuple[Decimal, Decimal] | None:
    table = PRICES_PER_MILLION.get(kind, {})
    name = model.removeprefix("models/")
    matches = [prefix for prefix in table if name.startswith(prefix)]
    return table[max(matches, key=len)] if matches else None


def estimate_cost(
    *,
    kind: ProviderKind,
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    input_price_per_million: Decimal | None = None,
    output_price_per_million: Decimal | None = None,
) -> Decimal | None:
    """USD for the tokens, from the config's prices if set, else the list price."""
    listed: tuple[Decimal | None, Decimal | None] = list_price(kind, model) or (None, None)
    input_price = listed[0] if input_price_per_million is None else input_price_per_million
    output_price = listed[1] if output_price_per_million is None else output_price_per_million
    if input_price is None or output_price is None:
        return None
    cost = (prompt_tokens * input_price + completion_tokens * output_price) / _MILLION
    return cost.quantize(_QUANTUM)
