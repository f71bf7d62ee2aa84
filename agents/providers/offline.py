"""The offline analyst: the chain's last link, and the whole chain when nothing is configured.

It has no model. Every task brings its own deterministic offline function (numbers from
statistics, text from templates) that returns the same schema an LLM would; this module
only runs it and holds it to that schema, so offline and LLM answers are interchangeable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import BaseModel

OutputT = TypeVar("OutputT", bound=BaseModel)


def answer_offline(offline: Callable[[], OutputT], schema: type[OutputT]) -> OutputT:
    """Run a task's offline function and validate its answer like an LLM's."""
    output = offline()
    # Re-validating catches a template that drifted from the schema (a too-long headline,
    # a missing field) in tests, not in front of a customer.
    return schema.model_validate(output.model_dump())
