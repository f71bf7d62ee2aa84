"""Counting what a provider attempt used: requests and tokens, from LangChain callbacks."""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import BaseCallbackHandler
from langchain_core.messages import BaseMessage
from langchain_core.outputs import LLMResult


class UsageCollector(BaseCallbackHandler):
    """Adds up requests and token usage over every model call it is attached to.

    Attached through `config={"callbacks": [...]}`, it sees each round trip of a tool loop
    and of a structured-output retry, including answers that later fail validation.
    """

    def __init__(self) -> None:
        self.requests = 0
        self.prompt_tokens = 0
        self.completion_tokens = 0

    def on_chat_model_start(
        self, serialized: dict[str, Any], messages: list[list[BaseMessage]], **kwargs: Any
    ) -> None:
        self.requests += 1

    def on_llm_end(self, response: LLMResult, **kwargs: Any) -> None:
        # Each generation of one response carries the same usage; count it once.
        for generations in response.generations:
            for generation in generations:
                usage = getattr(getattr(generation, "message", None), "usage_metadata", None)
                if usage:
                    self.prompt_tokens += int(usage.get("input_tokens", 0))
                    self.completion_tokens += int(usage.get("output_tokens", 0))
                    return
