"""The model client: a `ChatOpenAI` / `AzureChatOpenAI` factory and calls that never storm.

`LLMClient` wraps one chat model with what every node needs: bounded retries with
exponential backoff (only for timeouts, connection errors, 429 and 5xx — never for a bad
key or bad output), structured output into a pydantic schema, streaming, and a `CallUsage`
for each call (tokens in/out, latency, attempts). Every failure becomes an
`LLMUnavailableError` whose message says what happened and holds no secret; callers then
let the offline engine answer.

The SDK's own retries are switched off (``max_retries=0``) so that the count here is the
only one. Each attempt has hard limits (`agents.llm.transport`): ``WHIZZY_LLM_TIMEOUT``
bounds its total time, not only the gap between bytes, and ``WHIZZY_LLM_MAX_BYTES`` the size
of the response.
"""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from langchain_core.language_models import BaseChatModel
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from pydantic import BaseModel, ValidationError

from agents.llm.settings import LLMSettings
from agents.llm.transport import ResponseTooLarge, bounded_http_client, budget
from agents.llm.usage import CallUsage
from whizzy.core.errors import LLMUnavailableError

log = logging.getLogger("whizzy.llm")

T = TypeVar("T", bound=BaseModel)

#: Longest wait honoured from a ``Retry-After`` header (seconds).
MAX_RETRY_AFTER = 10.0
#: Failure kinds worth another attempt.
RETRYABLE = frozenset({"timeout", "connection", "rate_limit", "server_error"})


def make_chat_model(settings: LLMSettings) -> BaseChatModel:
    """The LangChain chat model for `settings` (nothing is sent until it is called).

    OpenAI-compatible servers (``OPENAI_BASE_URL``) go through `ChatOpenAI` on the Chat
    Completions API; Azure through `AzureChatOpenAI` with the deployment name.
    """
    key = settings.api_key.get_secret_value() if settings.api_key else "not-needed"
    common: dict[str, Any] = {
        "temperature": settings.temperature,
        "timeout": settings.timeout,
        "max_retries": 0,
        "http_client": bounded_http_client(settings.timeout),
    }
    if settings.provider == "azure":
        from langchain_openai import AzureChatOpenAI

        return AzureChatOpenAI(
            azure_endpoint=settings.azure_endpoint,
            azure_deployment=settings.azure_deployment or settings.model,
            api_version=settings.api_version,
            api_key=key,
            model=settings.model,
            **common,
        )
    from langchain_openai import ChatOpenAI

    return ChatOpenAI(
        model=settings.model,
        base_url=settings.base_url,
        api_key=key,
        # Chat Completions is what every OpenAI-compatible server speaks.
        use_responses_api=False,
        stream_usage=settings.stream_usage,
        **common,
    )


@dataclass(frozen=True)
class Failure:
    """A classified failure: its kind, a message for people, and whether to retry."""

    kind: str
    message: str
    retry_after: float | None = None

    @property
    def retryable(self) -> bool:
        """Whether another attempt may succeed."""
        return self.kind in RETRYABLE


def classify_failure(exc: BaseException, settings: LLMSettings) -> Failure:
    """Name what went wrong, without secrets.

    >>> s = LLMSettings(timeout=5)
    >>> classify_failure(json.JSONDecodeError("Expecting value", "x", 0), s).kind
    'malformed'
    >>> classify_failure(RuntimeError("boom sk-abcdefgh"), s).message
    'the LLM call failed (RuntimeError: boom ***)'
    """
    import httpx
    import openai
    from langchain_core.exceptions import OutputParserException

    def text(value: object) -> str:
        return settings.redact(str(value).splitlines()[0] if str(value) else "")[:300]

    if isinstance(exc, LLMUnavailableError):
        return Failure(exc.kind, str(exc))
    cause = exc.__cause__ or exc.__context__
    while cause is not None:  # the SDK may wrap the size limit in a connection error
        if isinstance(cause, ResponseTooLarge):
            return Failure(cause.kind, str(cause))
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, openai.APITimeoutError | httpx.TimeoutException | TimeoutError):
        return Failure("timeout", f"the LLM did not answer within {settings.timeout:g}s")
    if isinstance(exc, openai.RateLimitError):
        return Failure("rate_limit", "the LLM endpoint is rate limiting (HTTP 429)",
                       _retry_after(exc))
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        kind = "server_error" if status >= 500 or status in (408, 409) else "http_error"
        detail = text(getattr(exc, "message", "") or exc)
        return Failure(kind, f"the LLM endpoint returned HTTP {status} ({detail})",
                       _retry_after(exc))
    if isinstance(exc, openai.APIConnectionError | httpx.TransportError | ConnectionError):
        return Failure("connection", "the LLM endpoint could not be reached")
    if isinstance(exc, openai.LengthFinishReasonError):
        return Failure("malformed", "the LLM's output was cut off (length limit)")
    if isinstance(exc, json.JSONDecodeError):
        return Failure("malformed", "the LLM returned malformed JSON")
    if isinstance(exc, ValidationError):
        if any(e.get("type") == "json_invalid" for e in exc.errors()):
            return Failure("malformed", "the LLM returned malformed JSON")
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ())) or "output"
        return Failure("schema_invalid", "the LLM's output did not match the expected "
                       f"schema ({where}: {text(first.get('msg', ''))})")
    if isinstance(exc, OutputParserException):
        return Failure("malformed", f"the LLM's output could not be parsed ({text(exc)})")
    return Failure("error", f"the LLM call failed ({type(exc).__name__}: {text(exc)})")


def _retry_after(exc: Any) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return min(float(value), MAX_RETRY_AFTER) if value else None
    except ValueError:
        return None


def _usage_of(message: BaseMessage | None) -> tuple[int, int]:
    meta = getattr(message, "usage_metadata", None) or {}
    return int(meta.get("input_tokens") or 0), int(meta.get("output_tokens") or 0)


class LLMClient:
    """One chat model plus retries, usage accounting and failure classification.

    Args:
        settings: resolved settings.
        model: a chat model to use instead of `make_chat_model(settings)`.
        sleep: how to wait between attempts (tests pass a recorder).
    """

    def __init__(self, settings: LLMSettings, *, model: BaseChatModel | None = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.model = model if model is not None else make_chat_model(settings)
        self._sleep = sleep

    def __repr__(self) -> str:
        return f"LLMClient(provider={self.settings.provider!r}, model={self.settings.model!r})"

    # ------------------------------------------------------------------ calls

    def structured(self, node: str, messages: Sequence[BaseMessage], schema: type[T]
                   ) -> tuple[T, CallUsage]:
        """Ask for output matching `schema`; returns the parsed object and the call's usage.

        Raises:
            LLMUnavailableError: on any failure (after the bounded retries).
        """
        runnable = self.model.with_structured_output(
            schema, method=self.settings.structured_method, include_raw=True
        )

        def call() -> tuple[T, BaseMessage]:
            out = runnable.invoke(list(messages))
            if out.get("parsing_error") is not None:
                raise out["parsing_error"]
            parsed = out.get("parsed")
            if parsed is None:
                raise LLMUnavailableError("the LLM returned no structured output",
                                          kind="malformed")
            if not isinstance(parsed, schema):
                parsed = schema.model_validate(parsed)
            return parsed, out.get("raw")

        parsed, usage = self._with_retries(node, call)
        return parsed, usage

    def complete(self, node: str, messages: Sequence[BaseMessage]) -> tuple[str, CallUsage]:
        """Plain text completion."""

        def call() -> tuple[str, BaseMessage]:
            message = self.model.invoke(list(messages))
            return _text_of(message), message

        return self._with_retries(node, call)

    def stream(self, node: str, messages: Sequence[BaseMessage],
               on_token: Callable[[str], None] | None = None) -> tuple[str, CallUsage]:
        """Stream a completion, calling `on_token` with each piece; returns the full text.

        A retry happens only if the failure came before the first token (a half-streamed
        answer is never restarted behind the reader's back).
        """
        emitted = False
        limit = self.settings.max_response_bytes

        def call() -> tuple[str, BaseMessage | None]:
            nonlocal emitted
            total: AIMessageChunk | None = None
            pieces: list[str] = []
            size = 0
            for chunk in self.model.stream(list(messages)):
                total = chunk if total is None else total + chunk
                piece = _text_of(chunk)
                if piece:
                    size += len(piece.encode())
                    if size > limit:  # any model, HTTP or not
                        raise ResponseTooLarge(limit)
                    emitted = True
                    pieces.append(piece)
                    if on_token is not None:
                        on_token(piece)
            return "".join(pieces), total

        return self._with_retries(node, call, retry_if=lambda: not emitted)

    def _with_retries(self, node: str, call: Callable[[], tuple[Any, BaseMessage | None]],
                      *, retry_if: Callable[[], bool] = lambda: True) -> tuple[Any, CallUsage]:
        attempts = 0
        started = time.perf_counter()
        tokens_in = tokens_out = 0
        while True:
            attempts += 1
            try:
                with budget(self.settings.timeout, self.settings.max_response_bytes):
                    value, message = call()
            except Exception as exc:  # noqa: BLE001 - every failure is classified
                failure = classify_failure(exc, self.settings)
                if failure.retryable and attempts <= self.settings.retries and retry_if():
                    delay = failure.retry_after or self._backoff(attempts)
                    log.info("LLM %s attempt %d failed (%s); retrying in %.2fs",
                             node, attempts, failure.message, delay)
                    self._sleep(delay)
                    continue
                usage = CallUsage(node=node, model=self.settings.model, input_tokens=tokens_in,
                                  output_tokens=tokens_out,
                                  latency_ms=(time.perf_counter() - started) * 1000,
                                  attempts=attempts, ok=False, error=failure.message,
                                  kind=failure.kind)
                log.warning("LLM %s failed after %d attempt(s): %s", node, attempts,
                            failure.message)
                error = LLMUnavailableError(failure.message, kind=failure.kind)
                error.usage = usage  # type: ignore[attr-defined]
                raise error from None
            tokens_in, tokens_out = _usage_of(message)
            usage = CallUsage(node=node, model=self.settings.model, input_tokens=tokens_in,
                              output_tokens=tokens_out,
                              latency_ms=(time.perf_counter() - started) * 1000,
                              attempts=attempts)
            return value, usage

    def _backoff(self, attempt: int) -> float:
        """Exponential backoff with jitter: base, 2×base, 4×base, ... (+ up to 25%)."""
        base = self.settings.backoff * (2 ** (attempt - 1))
        return base * (1 + random.random() / 4)


def _text_of(message: BaseMessage | AIMessage | None) -> str:
    if message is None:
        return ""
    content = message.content
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") if isinstance(part, dict) else str(part)
                   for part in content)
