"""A small task on the provider layer: summarise how a set of metrics moved.

It shows the shape every agent follows: plain inputs, a pydantic answer schema, a
deterministic offline answer computed from the numbers, a prompt whose outside data sits in
data blocks, and a confidence the model may lower but never raise.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from pydantic import BaseModel, Field

from adplatform.models import Organization
from agents.providers import (
    LLMRequest,
    LLMResult,
    PromptBuilder,
    Scrubber,
    combine_confidence,
    run_llm_task,
)

AGENT = "summarizer"
TASK = "summarize_metrics"


@dataclass(frozen=True)
class MetricMovement:
    """One metric in two periods, e.g. spend this week and last week."""

    name: str
    current: Decimal
    previous: Decimal
    higher_is_better: bool = True

    @property
    def change_ratio(self) -> Decimal | None:
        if self.previous == 0:
            return None
        return (self.current - self.previous) / abs(self.previous)


class MetricsSummary(BaseModel):
    headline: str = Field(max_length=200, description="One sentence, the most important move.")
    points: list[str] = Field(
        min_length=1, max_length=6, description="One short sentence per notable metric."
    )
    confidence: float = Field(
        ge=0, le=1, description="How sure you are the summary is right, from 0 to 1."
    )


def _describe(movement: MetricMovement) -> str:
    ratio = movement.change_ratio
    if ratio is None:
        return f"{movement.name} is {movement.current:,.2f} (nothing in the previous period)."
    if ratio == 0:
        return f"{movement.name} held at {movement.current:,.2f}."
    direction = "rose" if ratio > 0 else "fell"
    return (
        f"{movement.name} {direction} {abs(ratio) * 100:.1f}% "
        f"({movement.previous:,.2f} to {movement.current:,.2f})."
    )


def offline_summary(
    *, subject: str, movements: Sequence[MetricMovement], statistical_confidence: float
) -> MetricsSummary:
    """The template answer: biggest relative move first; confidence from the statistics."""
    ranked = sorted(
        movements,
        key=lambda movement: abs(movement.change_ratio or Decimal(0)),
        reverse=True,
    )
    points = [_describe(movement) for movement in ranked[:6]] or ["No metrics to compare."]
    headline = f"{subject}: {points[0]}" if ranked else f"{subject}: no metrics to compare."
    return MetricsSummary(headline=headline[:200], points=points, confidence=statistical_confidence)


def summarize_metrics(
    organization: Organization,
    *,
    subject: str,
    movements: Sequence[MetricMovement],
    statistical_confidence: float,
    people: Sequence[str] = (),
) -> LLMResult[MetricsSummary]:
    """Summarise `movements` of `subject` (a campaign or account name, untrusted).

    `people` are names that may appear in the data and must not reach a provider.
    """
    prompt = (
        PromptBuilder(
            role="You are an analyst at an advertising agency. You write short, factual "
            "performance summaries for account managers.",
            scrubber=Scrubber(names=tuple(people)),
        )
        .instruction(
            "Summarise how the metrics in the data moved between the previous and the current "
            "period. Lead with the most important move, quote the numbers you use, and say "
            "how confident you are."
        )
        .data("subject", {"name": subject})
        .data(
            "metrics",
            [
                {
                    "metric": movement.name,
                    "previous": movement.previous,
                    "current": movement.current,
                    "higher_is_better": movement.higher_is_better,
                }
                for movement in movements
            ],
        )
        .build()
    )
    request = LLMRequest(
        agent=AGENT,
        task=TASK,
        prompt=prompt,
        output_schema=MetricsSummary,
        offline=lambda: offline_summary(
            subject=subject, movements=movements, statistical_confidence=statistical_confidence
        ),
    )
    result = run_llm_task(organization, request)
    capped = combine_confidence(statistical_confidence, result.output.confidence)
    return dataclasses.replace(
        result, output=result.output.model_copy(update={"confidence": capped})
    )
