"""The example task: offline template by default, model answer with capped confidence."""

from __future__ import annotations

from decimal import Decimal

from agents.models import ProviderKind
from agents.summaries import MetricMovement, MetricsSummary, offline_summary, summarize_metrics
from tests.agents.factories import LLMProviderConfigFactory
from tests.agents.wire import Wire

MOVEMENTS = [
    MetricMovement("Spend", current=Decimal("1120.00"), previous=Decimal("1000.00")),
    MetricMovement("Conversions", current=Decimal("30"), previous=Decimal("50")),
    MetricMovement("Clicks", current=Decimal("400"), previous=Decimal("400")),
]


def test_offline_summary_leads_with_the_biggest_move():
    summary = offline_summary(subject="Boots FR", movements=MOVEMENTS, statistical_confidence=0.7)

    assert summary == MetricsSummary(
        headline="Boots FR: Conversions fell 40.0% (50.00 to 30.00).",
        points=[
            "Conversions fell 40.0% (50.00 to 30.00).",
            "Spend rose 12.0% (1,000.00 to 1,120.00).",
            "Clicks held at 400.00.",
        ],
        confidence=0.7,
    )


def test_without_a_provider_the_summary_comes_from_the_template(organization):
    result = summarize_metrics(
        organization, subject="Boots FR", movements=MOVEMENTS, statistical_confidence=0.7
    )

    assert result.is_offline
    assert result.output == offline_summary(
        subject="Boots FR", movements=MOVEMENTS, statistical_confidence=0.7
    )


def test_a_models_overconfident_summary_is_capped_by_the_statistics(organization, llm_server):
    wire = Wire(ProviderKind.GOOGLE_GENAI, "gemini-2.0-flash")
    LLMProviderConfigFactory(
        organization=organization,
        provider="google_genai",
        model=wire.model,
        base_url=llm_server.url,
    )
    llm_server.enqueue(
        wire.path,
        wire.tool_call(
            "MetricsSummary",
            {"headline": "Conversions dropped.", "points": ["Down 40%."], "confidence": 0.99},
        ),
    )

    result = summarize_metrics(
        organization,
        subject="Boots FR (owner: ana@agency.test)",
        movements=MOVEMENTS,
        statistical_confidence=0.7,
        people=["Ana Ruiz"],
    )

    assert result.provider == ProviderKind.GOOGLE_GENAI
    assert result.output.headline == "Conversions dropped."
    assert result.output.confidence == 0.7
    assert "ana@agency.test" not in str(llm_server.requests[0].body)
