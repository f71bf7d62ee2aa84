"""What the provider chain adds on top of a bare LangChain call.

Against a local OpenAI-compatible server (agents.testing.openai_compatible_stub) answering
at once, it times, per call: a structured answer through a chat model built once (baseline),
the same through `run_llm_task` (builds the model, checks budget and cool-down, records an
LLMCall), and an offline-only run. Prints medians and the chain/baseline ratio.

    .venv/bin/python bench/bench_llm_chain.py [calls]
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "adplatform.settings")
# A private in-memory database: the bench never touches the demo's data.
os.environ["DATABASE_URL"] = "sqlite://:memory:"
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from pydantic import BaseModel, SecretStr  # noqa: E402

from adplatform.models import Organization  # noqa: E402
from agents.models import ProviderKind  # noqa: E402
from agents.providers import (  # noqa: E402
    OFFLINE,
    LLMRequest,
    PromptBuilder,
    ProviderSpec,
    get_chat_model,
    invoke_structured,
    run_llm_task,
)
from agents.testing import openai_compatible_stub  # noqa: E402


class Answer(BaseModel):
    label: str
    score: float


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def timed(function, calls: int) -> list[float]:  # type: ignore[no-untyped-def]
    for _ in range(3):  # warm-up: imports, connection pools
        function()
    samples = []
    for _ in range(calls):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return samples


def main() -> None:
    calls = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    call_command("migrate", verbosity=0)
    organization = Organization.objects.create(name="Bench", slug="bench")
    prompt = (
        PromptBuilder(role="You grade ads.")
        .instruction("Grade the ad.")
        .data("ad", {"headline": "Winter sale: 20% off boots"})
        .build()
    )
    request = LLMRequest(
        agent="bench",
        task="grade",
        prompt=prompt,
        output_schema=Answer,
        offline=lambda: Answer(label="offline", score=0.5),
    )
    with openai_compatible_stub(tool_arguments={"label": "ok", "score": 0.5}) as server:
        spec = ProviderSpec(
            kind=ProviderKind.OPENAI_COMPATIBLE,
            model="bench-model",
            api_key=SecretStr(""),
            base_url=server.url + "/v1",
            max_retries=0,
        )
        model = get_chat_model(spec)
        messages = prompt.to_messages()
        baseline = timed(lambda: invoke_structured(model, messages, Answer), calls)
        chained = timed(lambda: run_llm_task(organization, request, chain=[spec]), calls)
    offline = timed(lambda: run_llm_task(organization, request, chain=[OFFLINE]), calls)

    print(f"llm_structured_call_baseline_median: {median_ms(baseline):.2f} ms")
    print(f"llm_chain_call_median: {median_ms(chained):.2f} ms")
    print(f"llm_chain_overhead_median: {median_ms(chained) - median_ms(baseline):.2f} ms")
    print(f"llm_chain_vs_baseline_ratio: {median_ms(chained) / median_ms(baseline):.2f} x")
    print(f"llm_offline_run_median: {median_ms(offline):.2f} ms")
    print(f"llm_bench_calls: {calls} calls")


if __name__ == "__main__":
    main()
