"""Local stand-ins for LLM providers: a scripted HTTP server on 127.0.0.1 and wire bodies.

Tests drive the real SDKs (openai, anthropic, google-genai via LangChain) against
`LocalLLMServer`, which answers each route with queued responses in the provider's own
JSON shapes. `openai_compatible_stub` is the same server answering every Chat Completions
request after a fixed delay, for benchmarks.

Wire formats, as documented by each provider:
- OpenAI Chat Completions: https://platform.openai.com/docs/api-reference/chat/create
- Anthropic Messages: https://docs.anthropic.com/en/api/messages
- Gemini generateContent: https://ai.google.dev/api/generate-content
"""

from __future__ import annotations

import itertools
import json
import socket
import threading
from collections import defaultdict, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Json = dict[str, Any]


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: Mapping[str, str]
    body: Json

    def header(self, name: str) -> str | None:
        lowered = name.lower()
        return next((v for k, v in self.headers.items() if k.lower() == lowered), None)


@dataclass(frozen=True)
class StubResponse:
    body: Json | str
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    # Seconds to wait before answering: longer than a client's timeout makes it time out.
    delay: float = 0.0


Responder = Callable[[RecordedRequest], StubResponse]


class LocalLLMServer:
    """A threaded HTTP server on 127.0.0.1 answering scripted responses per path.

    `enqueue(path, ...)` queues responses answered in order for that exact path (no query
    string); `set_responder(path, fn)` answers every further request on it. A request with
    nothing scripted gets a 501 whose body names the path, so a test fails loudly.
    """

    def __init__(self) -> None:
        self.requests: list[RecordedRequest] = []
        self._queues: dict[str, deque[StubResponse]] = defaultdict(deque)
        self._responders: dict[str, Responder] = {}
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalLLMServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        # Wakes handlers sleeping on a delay so shutdown does not wait for them.
        self._stopping.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> LocalLLMServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def enqueue(self, path: str, *responses: StubResponse) -> None:
        with self._lock:
            self._queues[path].extend(responses)

    def set_responder(self, path: str, responder: Responder) -> None:
        with self._lock:
            self._responders[path] = responder

    def requests_to(self, path: str) -> list[RecordedRequest]:
        return [request for request in self.requests if request.path == path]

    def _respond(self, request: RecordedRequest) -> StubResponse:
        with self._lock:
            self.requests.append(request)
            queue = self._queues.get(request.path)
            if queue:
                return queue.popleft()
            responder = self._responders.get(request.path)
        if responder is not None:
            return responder(request)
        return StubResponse({"error": f"nothing scripted for {request.path}"}, status=501)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self) -> None:
                super().setup()
                # Headers and body go out in two writes; without this, Nagle's algorithm and
                # the client's delayed ACK add ~40 ms to every answer.
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                request = RecordedRequest(
                    method="POST",
                    path=urlsplit(self.path).path,
                    headers=dict(self.headers.items()),
                    body=json.loads(raw) if raw else {},
                )
                response = server._respond(request)
                if response.delay and server._stopping.wait(response.delay):
                    return
                payload = (
                    response.body.encode()
                    if isinstance(response.body, str)
                    else json.dumps(response.body).encode()
                )
                try:
                    self.send_response(response.status)
                    self.send_header("content-type", "application/json")
                    self.send_header("content-length", str(len(payload)))
                    for name, value in response.headers.items():
                        self.send_header(name, value)
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (its timeout); nothing left to answer.
                    return

            def log_message(self, format: str, *args: Any) -> None:
                return

        return Handler


_ids = itertools.count(1)


# --- OpenAI Chat Completions ----------------------------------------------------------------

OPENAI_CHAT_PATH = "/v1/chat/completions"


def openai_chat_completion(
    *,
    content: str | None = None,
    tool_calls: Sequence[tuple[str, Json | str]] = (),
    model: str = "gpt-4o-mini",
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
) -> Json:
    """A chat.completion object; tool call arguments given as a str are sent verbatim."""
    message: Json = {"role": "assistant", "content": content, "refusal": None}
    if tool_calls:
        message["tool_calls"] = [
            {
                "id": f"call_{next(_ids)}",
                "type": "function",
                "function": {
                    "name": name,
                    "arguments": arguments if isinstance(arguments, str) else json.dumps(arguments),
                },
            }
            for name, arguments in tool_calls
        ]
    return {
        "id": f"chatcmpl-{next(_ids)}",
        "object": "chat.completion",
        "created": 1_700_000_000,
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": message,
                "logprobs": None,
                "finish_reason": "tool_calls" if tool_calls else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        },
    }


def openai_error(status: int, message: str, *, error_type: str, code: str | None = None) -> Json:
    return {"error": {"message": message, "type": error_type, "param": None, "code": code}}


def openai_rate_limited(*, retry_after: int = 20) -> StubResponse:
    return StubResponse(
        openai_error(
            429,
            "Rate limit reached for requests",
            error_type="requests",
            code="rate_limit_exceeded",
        ),
        status=429,
        headers={"retry-after": str(retry_after), "x-ratelimit-remaining-requests": "0"},
    )


# --- Anthropic Messages ----------------------------------------------------------------------

ANTHROPIC_MESSAGES_PATH = "/v1/messages"


def anthropic_message(
    *,
    text: str | None = None,
    tool_uses: Sequence[tuple[str, Json]] = (),
    model: str = "claude-3-5-haiku-20241022",
    input_tokens: int = 12,
    output_tokens: int = 6,
) -> Json:
    content: list[Json] = []
    if text is not None:
        content.append({"type": "text", "text": text})
    content.extend(
        {"type": "tool_use", "id": f"toolu_{next(_ids):06d}", "name": name, "input": arguments}
        for name, arguments in tool_uses
    )
    return {
        "id": f"msg_{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": "tool_use" if tool_uses else "end_turn",
        "stop_sequence": None,
        "usage": {"input_tokens": input_tokens, "output_tokens": output_tokens},
    }


def anthropic_error(status: int, message: str, *, error_type: str) -> StubResponse:
    return StubResponse(
        {"type": "error", "error": {"type": error_type, "message": message}}, status=status
    )


def anthropic_rate_limited(*, retry_after: int = 20) -> StubResponse:
    return StubResponse(
        {
            "type": "error",
            "error": {"type": "rate_limit_error", "message": "Number of requests has exceeded"},
        },
        status=429,
        headers={"retry-after": str(retry_after)},
    )


# --- Gemini generateContent ------------------------------------------------------------------


def gemini_path(model: str, *, api_version: str = "v1beta") -> str:
    return f"/{api_version}/models/{model}:generateContent"


def gemini_generate_content(
    *,
    text: str | None = None,
    function_calls: Sequence[tuple[str, Json]] = (),
    model: str = "gemini-2.0-flash",
    prompt_tokens: int = 14,
    candidates_tokens: int = 7,
) -> Json:
    parts: list[Json] = []
    if text is not None:
        parts.append({"text": text})
    parts.extend({"functionCall": {"name": name, "args": args}} for name, args in function_calls)
    return {
        "candidates": [
            {"content": {"role": "model", "parts": parts}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": candidates_tokens,
            "totalTokenCount": prompt_tokens + candidates_tokens,
        },
        "modelVersion": model,
    }


def gemini_error(code: int, message: str, *, status: str) -> StubResponse:
    return StubResponse(
        {"error": {"code": code, "message": message, "status": status}}, status=code
    )


def gemini_rate_limited(*, retry_delay_seconds: int = 20) -> StubResponse:
    """Gemini's 429: the wait is a google.rpc.RetryInfo in the body, not a header."""
    return StubResponse(
        {
            "error": {
                "code": 429,
                "message": "You exceeded your current quota, please check your plan.",
                "status": "RESOURCE_EXHAUSTED",
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                        "violations": [
                            {
                                "quotaMetric": "generativelanguage.googleapis.com/"
                                "generate_content_free_tier_requests",
                                "quotaId": "GenerateRequestsPerMinutePerProjectPerModel-FreeTier",
                            }
                        ],
                    },
                    {
                        "@type": "type.googleapis.com/google.rpc.RetryInfo",
                        "retryDelay": f"{retry_delay_seconds}s",
                    },
                ],
            }
        },
        status=429,
    )


# --- Benchmarks ------------------------------------------------------------------------------


@contextmanager
def openai_compatible_stub(
    *,
    delay: float = 0.0,
    content: str = "ok",
    tool_arguments: Json | None = None,
    prompt_tokens: int = 10,
    completion_tokens: int = 5,
) -> Iterator[LocalLLMServer]:
    """An OpenAI-compatible server answering every chat completion after `delay` seconds.

    Its `url + "/v1"` is the base URL to configure (as for Ollama or vLLM). A request that
    forces a tool (structured output) gets a call of that tool with `tool_arguments`.
    """

    def answer(request: RecordedRequest) -> StubResponse:
        tools = request.body.get("tools") or []
        forced = request.body.get("tool_choice")
        if tools and isinstance(forced, dict):
            name = forced["function"]["name"]
            body = openai_chat_completion(
                tool_calls=[(name, tool_arguments or {})],
                model=str(request.body.get("model", "")),
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
        else:
            body = openai_chat_completion(
                content=content,
                model=str(request.body.get("model", "")),
                prompt_tokens=prompt_tokens,
                completion_tokens=completion_tokens,
            )
        return StubResponse(body, delay=delay)

    with LocalLLMServer() as server:
        server.set_responder(OPENAI_CHAT_PATH, answer)
        yield server
