"""A local OpenAI-compatible chat-completions server that replays scripted responses.

Tests point the real `ChatOpenAI` (or `AzureChatOpenAI`) client at it. It speaks just enough
of the API for what Whizzy sends: ``POST .../chat/completions`` with plain completions,
``response_format`` JSON-schema structured output (JSON in ``message.content``), tool calls
(``method="function_calling"`` → ``message.tool_calls``) and streaming (SSE ``data: {chunk}``
lines then ``data: [DONE]``). Scripted failures: an HTTP status (500, 429, 401), a response
that arrives after the client's timeout, a slow drip (a few bytes at a time, each gap under
the client's timeout), malformed JSON, schema-invalid output.

Each request takes the next scripted reply in order; with nothing scripted the server answers
500 with "no scripted response", so a test that calls the model more often than it planned
fails loudly. Every request is recorded (path, headers, JSON body) for assertions.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    """One scripted response.

    kind:
        ``text``: an assistant message with `content` (streamed when the request streams).
        ``json``: structured output `payload` — JSON in ``content`` for ``response_format``
            requests, a tool call for tool requests.
        ``raw``: `content` sent verbatim as the message content (e.g. malformed JSON).
        ``status``: an HTTP error `status` with an OpenAI-style error body (`content`).
        ``drop``: closes the connection without answering.
    """

    kind: str
    content: str = ""
    payload: Any = None
    status: int = 200
    delay: float = 0.0
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    #: Seconds between the pieces of a streamed answer, or between the 16-byte pieces of a
    #: JSON body: a server that never pauses long enough to trip a per-read timeout.
    drip: float = 0.0


def text(content: str, **kw: Any) -> Reply:
    """A plain answer (streamed token by token when the client streams)."""
    return Reply("text", content=content, **kw)


def structured(payload: Any, **kw: Any) -> Reply:
    """Structured output: JSON content or a tool call, whichever the request asked for."""
    return Reply("json", payload=payload, **kw)


def raw(content: str, **kw: Any) -> Reply:
    """Content sent as is (malformed JSON, prose where JSON was expected, ...)."""
    return Reply("raw", content=content, **kw)


def fail(status: int, message: str = "scripted failure", **kw: Any) -> Reply:
    """An HTTP error with an OpenAI-style error body."""
    return Reply("status", status=status, content=message, **kw)


def hang(seconds: float, then: Reply | None = None) -> Reply:
    """A reply that arrives only after `seconds` (past the client's timeout)."""
    reply = then or text("too late")
    reply.delay = seconds
    return reply


def drip(reply: Reply, seconds: float) -> Reply:
    """`reply`, sent a little at a time with `seconds` between the pieces."""
    reply.drip = seconds
    return reply


def _tokens(text_: str) -> int:
    return max(1, len(text_) // 4)


def _chunks(content: str) -> list[str]:
    """Split text into small token-like pieces (words with their spaces)."""
    pieces, current = [], ""
    for char in content:
        current += char
        if char == " " or len(current) >= 6:
            pieces.append(current)
            current = ""
    if current:
        pieces.append(current)
    return pieces


class StubLLM:
    """The server and its script. Use as a context manager or call `start`/`stop`."""

    def __init__(self) -> None:
        self.script: deque[Reply | Callable[[dict[str, Any]], Reply]] = deque()
        self.requests: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ control

    def start(self) -> StubLLM:
        """Listen on a free port of 127.0.0.1 in a daemon thread."""
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                return

            def handle(self) -> None:
                try:
                    super().handle()
                except (BrokenPipeError, ConnectionResetError):  # a client that gave up
                    self.close_connection = True

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                try:
                    stub._handle(self)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the client gave up (timeout test)

            def do_GET(self) -> None:  # noqa: N802
                self.send_error(404)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Shut the server down."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> StubLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The port it listens on."""
        assert self._server is not None
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        """What `OPENAI_BASE_URL` / ``ChatOpenAI(base_url=...)`` should be."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def endpoint(self) -> str:
        """What ``AZURE_OPENAI_ENDPOINT`` should be."""
        return f"http://127.0.0.1:{self.port}"

    def queue(self, *replies: Reply | Callable[[dict[str, Any]], Reply]) -> StubLLM:
        """Append replies to the script (a callable gets the request body)."""
        with self._lock:
            self.script.extend(replies)
        return self

    def reset(self) -> None:
        """Forget the script and the recorded requests."""
        with self._lock:
            self.script.clear()
            self.requests.clear()

    @property
    def pending(self) -> int:
        """Scripted replies not used yet."""
        return len(self.script)

    # ------------------------------------------------------------------ serving

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body_bytes = handler.rfile.read(length) if length else b""
        try:
            body = json.loads(body_bytes or b"{}")
        except json.JSONDecodeError:
            body = {}
        with self._lock:
            self.requests.append({
                "path": handler.path,
                "headers": {k.lower(): v for k, v in handler.headers.items()},
                "body": body,
            })
            item = self.script.popleft() if self.script else None
        if not handler.path.split("?")[0].endswith("/chat/completions"):
            self._error(handler, 404, f"unknown path {handler.path}")
            return
        if item is None:
            self._error(handler, 500, "no scripted response")
            return
        reply = item(body) if callable(item) else item
        if reply.delay:
            time.sleep(reply.delay)
        if reply.kind == "drop":
            handler.close_connection = True
            return
        if reply.kind == "status":
            self._error(handler, reply.status, reply.content, reply.headers)
            return
        message, finish = self._message(reply, body)
        content = message.get("content") or ""
        usage = {
            "prompt_tokens": reply.prompt_tokens
            if reply.prompt_tokens is not None else _tokens(json.dumps(body.get("messages"))),
            "completion_tokens": reply.completion_tokens
            if reply.completion_tokens is not None
            else _tokens(content or json.dumps(message.get("tool_calls"))),
        }
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        if body.get("stream"):
            self._stream(handler, body, message, finish, usage, reply.drip)
        else:
            self._json(handler, 200, {
                "id": f"chatcmpl-stub{len(self.requests)}",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body.get("model", "stub"),
                "choices": [{"index": 0, "message": message, "finish_reason": finish,
                             "logprobs": None}],
                "usage": usage,
            }, drip=reply.drip)

    @staticmethod
    def _message(reply: Reply, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
        if reply.kind == "json":
            tools = body.get("tools") or []
            if tools:
                name = tools[0]["function"]["name"]
                return {
                    "role": "assistant",
                    "content": None,
                    "tool_calls": [{
                        "id": "call_stub_1",
                        "type": "function",
                        "function": {"name": name, "arguments": json.dumps(reply.payload)},
                    }],
                }, "tool_calls"
            return {"role": "assistant", "content": json.dumps(reply.payload)}, "stop"
        return {"role": "assistant", "content": reply.content}, "stop"

    @staticmethod
    def _json(handler: BaseHTTPRequestHandler, status: int, payload: dict[str, Any],
              headers: dict[str, str] | None = None, drip: float = 0.0) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        if not drip:
            handler.wfile.write(data)
            return
        for start in range(0, len(data), 16):
            handler.wfile.write(data[start:start + 16])
            handler.wfile.flush()
            time.sleep(drip)

    def _error(self, handler: BaseHTTPRequestHandler, status: int, message: str,
               headers: dict[str, str] | None = None) -> None:
        self._json(handler, status, {"error": {"message": message, "type": "stub_error",
                                               "code": str(status)}}, headers)

    @staticmethod
    def _stream(handler: BaseHTTPRequestHandler, body: dict[str, Any], message: dict[str, Any],
                finish: str, usage: dict[str, int], drip: float = 0.0) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/event-stream")
        handler.send_header("Cache-Control", "no-cache")
        handler.send_header("Connection", "close")
        handler.end_headers()
        handler.close_connection = True
        base = {"id": "chatcmpl-stub-stream", "object": "chat.completion.chunk",
                "created": int(time.time()), "model": body.get("model", "stub")}

        def send(payload: dict[str, Any] | str) -> None:
            data = payload if isinstance(payload, str) else json.dumps(payload)
            handler.wfile.write(f"data: {data}\n\n".encode())
            handler.wfile.flush()

        send({**base, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""},
                                   "finish_reason": None}]})
        for piece in _chunks(message.get("content") or ""):
            send({**base, "choices": [{"index": 0, "delta": {"content": piece},
                                       "finish_reason": None}]})
            if drip:
                time.sleep(drip)
        send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (body.get("stream_options") or {}).get("include_usage"):
            send({**base, "choices": [], "usage": usage})
        send("[DONE]")
