"""Answers that match a schema, and bounded tool-calling loops, on any LangChain chat model."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, ToolMessage
from langchain_core.runnables import RunnableConfig
from langchain_core.tools import BaseTool, ToolException
from pydantic import BaseModel, ValidationError

from agents.providers.errors import LLMOutputError, ToolLoopError
from agents.providers.prompts import render_data_block, to_json_value
from agents.providers.registry import StructuredMethod
from agents.providers.safety import Scrubber

OutputT = TypeVar("OutputT", bound=BaseModel)


def _describe(error: BaseException | None, schema: type[BaseModel]) -> str:
    """The validator's complaint in a few lines, without echoing the model's input back."""
    if isinstance(error, ValidationError):
        problems = [
            f"{'.'.join(str(part) for part in item['loc']) or '(root)'}: {item['msg']}"
            for item in error.errors(include_input=False, include_url=False)
        ]
        return "; ".join(problems)
    if error is not None:
        # Bad JSON in the tool arguments and the like; the parser's message names the spot.
        return f"{type(error).__name__}: {str(error)[:300]}"
    return f"The answer did not call {schema.__name__} with the result."


def _feedback(raw: BaseMessage, problem: str, schema: type[BaseModel]) -> list[BaseMessage]:
    """Messages that hand the validation error back so the model can correct itself."""
    request = (
        f"Your answer did not match the {schema.__name__} schema: {problem}. "
        f"Call {schema.__name__} again with arguments that satisfy the schema."
    )
    call_ids: list[str] = []
    if isinstance(raw, AIMessage):
        for call in [*raw.tool_calls, *raw.invalid_tool_calls]:
            if call.get("id"):
                call_ids.append(str(call["id"]))
    if not call_ids:
        return [raw, HumanMessage(content=request)]
    # Every tool call must be answered before the next turn (OpenAI and Anthropic insist).
    return [
        raw,
        *(ToolMessage(content=request, tool_call_id=cid, status="error") for cid in call_ids),
    ]


def invoke_structured(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    schema: type[OutputT],
    *,
    method: StructuredMethod = "function_calling",
    config: RunnableConfig | None = None,
    retries: int = 1,
) -> OutputT:
    """Ask `model` for an answer matching `schema`, validated by pydantic.

    A malformed answer (no call, bad JSON, failed validation) is retried `retries` times with
    the validation error fed back; then `LLMOutputError` is raised. Provider errors (timeouts,
    429s) propagate unchanged for the fallback chain to handle.
    """
    structured = model.with_structured_output(schema, method=method, include_raw=True)
    history = list(messages)
    problems: list[str] = []
    for _ in range(retries + 1):
        result: dict[str, Any] = structured.invoke(history, config=config)  # type: ignore[assignment]
        parsed = result.get("parsed")
        error = result.get("parsing_error")
        if error is None and isinstance(parsed, schema):
            return parsed
        problem = _describe(error, schema)
        problems.append(problem)
        history += _feedback(result["raw"], problem, schema)
    raise LLMOutputError(
        f"The model's answer did not match {schema.__name__} after {len(problems)} attempts: "
        f"{problems[-1]}",
        schema_name=schema.__name__,
        validation_errors=problems,
    )


def _tool_result_message(
    call: dict[str, Any], tools: dict[str, BaseTool], scrubber: Scrubber
) -> ToolMessage:
    name = str(call.get("name", ""))
    call_id = str(call.get("id") or "")
    tool = tools.get(name)
    if tool is None:
        known = ", ".join(sorted(tools))
        return ToolMessage(
            content=f"Unknown tool {name!r}; available tools: {known}.",
            tool_call_id=call_id,
            status="error",
        )
    try:
        output = tool.invoke(call.get("args") or {})
    except (ToolException, ValidationError) as exc:
        # Bad arguments or a tool's own refusal: the model can fix it on the next step.
        # Anything else is our bug and propagates.
        return ToolMessage(
            content=f"Tool {name} failed: {scrubber.text(str(exc))[:500]}",
            tool_call_id=call_id,
            status="error",
        )
    # Tool results are data from outside (campaign names, ad texts): same delimiting and
    # scrubbing as the prompt's own data blocks.
    block = render_data_block(f"tool.{name.lower()}", scrubber.data(to_json_value(output)))
    return ToolMessage(content=block, tool_call_id=call_id, name=name)


def run_tool_loop(
    model: BaseChatModel,
    messages: Sequence[BaseMessage],
    tools: Sequence[BaseTool],
    *,
    max_steps: int,
    scrubber: Scrubber | None = None,
    config: RunnableConfig | None = None,
) -> list[BaseMessage]:
    """Let the model call `tools` until it answers without a call; at most `max_steps` turns.

    Returns the whole conversation, ending with the model's final message. Raises
    `ToolLoopError` when the model still asks for tools after `max_steps` turns.
    """
    scrubber = scrubber or Scrubber()
    bound = model.bind_tools(list(tools))
    by_name = {tool.name: tool for tool in tools}
    history = list(messages)
    for _ in range(max_steps):
        reply = bound.invoke(history, config=config)
        history.append(reply)
        if not isinstance(reply, AIMessage) or not (reply.tool_calls or reply.invalid_tool_calls):
            return history
        for call in reply.tool_calls:
            history.append(_tool_result_message(dict(call), by_name, scrubber))
        for invalid in reply.invalid_tool_calls:
            history.append(
                ToolMessage(
                    content=f"The arguments of {invalid.get('name')} were not valid JSON.",
                    tool_call_id=str(invalid.get("id") or ""),
                    status="error",
                )
            )
    raise ToolLoopError(
        f"The model still asked for tools after {max_steps} steps.",
        schema_name="",
        validation_errors=[],
    )
