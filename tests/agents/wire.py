"""Each provider's wire protocol, behind one shape, so tests run across all of them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from pydantic import SecretStr

from agents import testing
from agents.models import ProviderKind
from agents.providers import ProviderSpec
from agents.testing import LocalLLMServer, RecordedRequest, StubResponse


@dataclass(frozen=True)
class Wire:
    kind: ProviderKind
    model: str

    @property
    def path(self) -> str:
        if self.kind == ProviderKind.ANTHROPIC:
            return testing.ANTHROPIC_MESSAGES_PATH
        if self.kind == ProviderKind.GOOGLE_GENAI:
            return testing.gemini_path(self.model)
        return testing.OPENAI_CHAT_PATH

    def base_url(self, server: LocalLLMServer) -> str:
        # OpenAI SDKs expect the /v1 in the base URL; Anthropic and Google add their own.
        openai_like = self.kind in (ProviderKind.OPENAI, ProviderKind.OPENAI_COMPATIBLE)
        return server.url + ("/v1" if openai_like else "")

    def spec(self, server: LocalLLMServer, **overrides: Any) -> ProviderSpec:
        options: dict[str, Any] = {
            "kind": self.kind,
            "model": self.model,
            "api_key": SecretStr(f"sk-test-{self.kind}-secret-0123456789"),
            "base_url": self.base_url(server),
            "timeout_seconds": 5.0,
            "max_retries": 0,
        }
        options.update(overrides)
        return ProviderSpec(**options)

    def text(
        self, text: str, *, prompt_tokens: int = 10, completion_tokens: int = 5
    ) -> StubResponse:
        if self.kind == ProviderKind.ANTHROPIC:
            body = testing.anthropic_message(
                text=text,
                model=self.model,
                input_tokens=prompt_tokens,
                output_tokens=completion_tokens,
            )
        elif self.kind == ProviderKind.GOOGLE_GENAI:
            body = testing.gemini_generate_content(
                text=text,
                model=self.model,
                prompt_tokens=prompt_tokens,
                candidates_tokens=completion_tokens,
            )
        else:
            body = testing.openai_chat_completion(
                content=text,
                model=self.model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
        return StubResponse(body)

    def tool_call(
        self,
        name: str,
        arguments: dict[str, Any],
        *,
        prompt_tokens: int = 10,
        completion_tokens: int = 5,
    ) -> StubResponse:
        if self.kind == ProviderKind.ANTHROPIC:
            body = testing.anthropic_message(
                tool_uses=[(name, arguments)],
                model=self.model,
                input_tokens=prompt_tokens,
                output_tokens=completion_tokens,
            )
        elif self.kind == ProviderKind.GOOGLE_GENAI:
            body = testing.gemini_generate_content(
                function_calls=[(name, arguments)],
                model=self.model,
                prompt_tokens=prompt_tokens,
                candidates_tokens=completion_tokens,
            )
        else:
            body = testing.openai_chat_completion(
                tool_calls=[(name, arguments)],
                model=self.model,
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
        return StubResponse(body)

    def rate_limited(self, *, retry_after: int) -> StubResponse:
        if self.kind == ProviderKind.ANTHROPIC:
            return testing.anthropic_rate_limited(retry_after=retry_after)
        if self.kind == ProviderKind.GOOGLE_GENAI:
            return testing.gemini_rate_limited(retry_delay_seconds=retry_after)
        return testing.openai_rate_limited(retry_after=retry_after)

    def slow(self, response: StubResponse, *, delay: float) -> StubResponse:
        return StubResponse(
            response.body, status=response.status, headers=response.headers, delay=delay
        )

    def unauthorized(self, echoed_key: str) -> StubResponse:
        message = f"Incorrect API key provided: {echoed_key}."
        if self.kind == ProviderKind.ANTHROPIC:
            return testing.anthropic_error(401, message, error_type="authentication_error")
        if self.kind == ProviderKind.GOOGLE_GENAI:
            return testing.gemini_error(401, message, status="UNAUTHENTICATED")
        return StubResponse(
            testing.openai_error(
                401, message, error_type="invalid_request_error", code="invalid_api_key"
            ),
            status=401,
        )

    # --- reading what the SDK sent ---------------------------------------------------------

    def system_text(self, request: RecordedRequest) -> str:
        body = request.body
        if self.kind == ProviderKind.ANTHROPIC:
            system = body.get("system", "")
            return (
                system if isinstance(system, str) else " ".join(b.get("text", "") for b in system)
            )
        if self.kind == ProviderKind.GOOGLE_GENAI:
            parts = (body.get("systemInstruction") or {}).get("parts", [])
            return " ".join(part.get("text", "") for part in parts)
        return " ".join(
            str(message.get("content"))
            for message in body["messages"]
            if message["role"] == "system"
        )

    def non_system_text(self, request: RecordedRequest) -> str:
        """Everything else the request carries as conversation, JSON-encoded."""
        body = request.body
        if self.kind == ProviderKind.GOOGLE_GENAI:
            return json.dumps(body.get("contents", []))
        messages = [message for message in body["messages"] if message.get("role") != "system"]
        return json.dumps(messages)

    def api_key_sent(self, request: RecordedRequest) -> str | None:
        if self.kind == ProviderKind.GOOGLE_GENAI:
            return request.header("x-goog-api-key")
        if self.kind == ProviderKind.ANTHROPIC:
            return request.header("x-api-key") or (
                request.header("authorization") or ""
            ).removeprefix("Bearer ")
        return (request.header("authorization") or "").removeprefix("Bearer ")


WIRES = [
    Wire(ProviderKind.OPENAI, "gpt-4o-mini"),
    Wire(ProviderKind.ANTHROPIC, "claude-3-5-haiku-20241022"),
    Wire(ProviderKind.GOOGLE_GENAI, "gemini-2.0-flash"),
    Wire(ProviderKind.OPENAI_COMPATIBLE, "llama3.1:8b"),
]
WIRE_IDS = [str(wire.kind) for wire in WIRES]
