"""Hard limits on one LLM request: total time and response size, down to the socket.

The HTTP client's timeout bounds each read, so a server that sends a byte every few
seconds holds a request for ever, and an endless answer costs CPU to parse and check. The
client built here (`bounded_http_client`) reads through a network stream that knows the
current request's budget (`budget`, set around each attempt by `agents.llm.client`):

- every read and write gets at most the time left before the deadline, and fails with a
  read timeout once none is left (headers, body, or streamed events alike);
- the bytes received are counted, and the request fails with `ResponseTooLarge` once they
  pass the limit.

The budget lives in a context variable, so requests in other threads keep their own.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from whizzy.core.errors import LLMUnavailableError


class ResponseTooLarge(LLMUnavailableError):
    """The LLM's response passed the size limit; it was cut off (never retried)."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"the LLM's answer was larger than {limit:,} bytes and was cut off",
                         kind="too_large")


@dataclass
class Budget:
    """What one request may still use: a deadline (monotonic seconds) and bytes."""

    deadline: float
    max_bytes: int
    received: int = 0

    def remaining(self) -> float:
        """Seconds left; at most 0."""
        return self.deadline - time.monotonic()


_BUDGET: ContextVar[Budget | None] = ContextVar("whizzy_llm_budget", default=None)


@contextlib.contextmanager
def budget(seconds: float, max_bytes: int) -> Iterator[Budget]:
    """Inside the block, requests of this context end by `seconds` and read ≤ `max_bytes`.

    >>> with budget(5, 100) as b:
    ...     0 < b.remaining() <= 5
    True
    """
    current = Budget(time.monotonic() + seconds, max_bytes)
    token = _BUDGET.set(current)
    try:
        yield current
    finally:
        _BUDGET.reset(token)


def _timeout(timeout: float | None) -> float | None:
    """The read/write timeout to use: the client's, cut to the budget's time left."""
    current = _BUDGET.get()
    if current is None:
        return timeout
    left = current.remaining()
    if left <= 0:
        import httpcore2

        raise httpcore2.ReadTimeout("the LLM request ran past its total time limit")
    return left if timeout is None else min(timeout, left)


class _BoundedStream:
    """A network stream whose reads and writes respect the current budget."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        data = self._inner.read(max_bytes, _timeout(timeout))
        current = _BUDGET.get()
        if current is not None:
            current.received += len(data)
            if current.received > current.max_bytes:
                raise ResponseTooLarge(current.max_bytes)
        return data

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _timeout(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> _BoundedStream:
        return _BoundedStream(self._inner.start_tls(ssl_context, server_hostname,
                                                    _timeout(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _BoundedBackend:
    """Opens connections whose streams respect the current budget."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None, socket_options: Any = None) -> Any:
        return _BoundedStream(self._inner.connect_tcp(
            host, port, _timeout(timeout), local_address=local_address,
            socket_options=socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Any = None) -> Any:
        return _BoundedStream(self._inner.connect_unix_socket(
            path, _timeout(timeout), socket_options=socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def bounded_http_client(timeout: float) -> Any:
    """An HTTP client (the OpenAI SDK's own kind) whose connections respect the budget.

    Proxies from the environment are kept: every transport the client mounts is bounded.
    """
    import httpx2

    client = httpx2.Client(timeout=timeout)
    transports = [client._transport, *client._mounts.values()]  # noqa: SLF001
    for transport in filter(None, transports):
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if backend is None:  # an httpcore that no longer has the seam: fail loudly
            raise RuntimeError("cannot bound the LLM client's connections")
        pool._network_backend = _BoundedBackend(backend)  # noqa: SLF001
    return client
