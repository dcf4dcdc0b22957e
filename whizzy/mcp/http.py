"""Streamable HTTP for the MCP server: loopback by default, a bearer token beyond it.

When a token is configured (``WHIZZY_MCP_TOKEN``) every HTTP request must carry
``Authorization: Bearer <token>``; without it the answer is 401 and the MCP server never
sees the request. Listening on anything but a loopback address without a token is refused.

>>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1"), is_loopback("0.0.0.0")
(True, True, True, False)
>>> authorized([(b"authorization", b"Bearer s3cret")], "s3cret"), authorized([], "s3cret")
(True, False)
"""

from __future__ import annotations

import hmac
import ipaddress
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from whizzy.core.errors import ConfigError

ASGIApp = Callable[[dict[str, Any], Callable[[], Awaitable[dict[str, Any]]],
                    Callable[[dict[str, Any]], Awaitable[None]]], Awaitable[None]]


def is_loopback(host: str) -> bool:
    """Whether `host` only accepts connections from this machine."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def authorized(headers: Iterable[tuple[bytes, bytes]], token: str) -> bool:
    """Whether the request headers carry ``Authorization: Bearer <token>`` (constant time)."""
    want = f"Bearer {token}".encode()
    given = next((v for k, v in headers if k.lower() == b"authorization"), b"")
    return hmac.compare_digest(given, want)


def check_listen(host: str, token: str | None) -> None:
    """Refuse to listen beyond loopback without a token.

    >>> check_listen("0.0.0.0", None)
    Traceback (most recent call last):
    ...
    whizzy.core.errors.ConfigError: whizzy mcp will not listen on 0.0.0.0 without a token.
    """
    if not is_loopback(host) and not token:
        raise ConfigError(f"whizzy mcp will not listen on {host} without a token.",
                          hint="set WHIZZY_MCP_TOKEN (clients send it as a bearer token), "
                               "or keep the default --host 127.0.0.1")


class BearerToken:
    """ASGI middleware: HTTP requests without the bearer token get 401 (lifespan passes)."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        self.app = app
        self.token = token

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:  # noqa: D102
        if scope["type"] == "http" and not authorized(scope.get("headers") or [], self.token):
            body = json.dumps({"error": "unauthorized",
                               "message": "A bearer token is required."}).encode()
            await send({"type": "http.response.start", "status": 401,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"www-authenticate", b'Bearer realm="whizzy"'),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, send)


def http_app(server: Any, token: str | None) -> ASGIApp:
    """The server's streamable HTTP app (at ``/mcp``), behind the token when there is one."""
    app = server.streamable_http_app()
    return BearerToken(app, token) if token else app


def serve_http(server: Any, *, host: str, port: int, token: str | None) -> None:
    """Serve until interrupted (uvicorn, logging to stderr at warning level)."""
    import uvicorn  # the HTTP transport only

    check_listen(host, token)
    uvicorn.run(http_app(server, token), host=host, port=port, log_level="warning")
