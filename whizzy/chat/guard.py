"""The chat server's front door: origin check, login throttle, feedback ownership, sign-out.

`ChatGuard` is an ASGI middleware put around Chainlit's app (`install`). It refuses, before
Chainlit sees them:

* any request or WebSocket whose `Origin` is not the chat's own (`whizzy.chat.origins`),
  and state-changing requests a browser marks as coming from another site;
* on a chat bound to this machine, a `Host` that is not one of its names (DNS rebinding);
* a `POST /login` while that user name or client address has failed too often
  (`whizzy.chat.auth.LoginThrottle`);
* a `PUT`/`DELETE /feedback` on a message in another user's thread.

Chainlit's own `allow_origins` (`.chainlit/config.toml`) only decides which origins get CORS
response headers; it refuses nothing, and its socket.io server has origin checks turned
off. Hence this layer.

`install_revocation` makes Chainlit refuse login tokens that were signed out
(`whizzy.chat.auth.RevokedTokens`): Chainlit's logout only clears the cookie.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qs

from whizzy.chat.auth import LoginThrottle, RevokedTokens
from whizzy.chat.origins import OriginPolicy

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Methods that change nothing (a browser sends no Origin with some of them).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: What a failed sign-in says (Chainlit's own answer is the code "credentialssignin").
SIGN_IN_FAILED = "That user name and password don't match. Check both and try again."
#: Largest login or feedback body read (they are a few hundred bytes).
MAX_BODY = 64 * 1024

#: `(user identifier or None, message id, feedback id or None) -> may this user do it?`
FeedbackCheck = Callable[[str | None, str | None, str | None], Awaitable[bool]]


def _headers(scope: Scope) -> dict[str, str]:
    """Request headers, lower-case names (the last of a repeated header wins)."""
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}


def request_token(headers: dict[str, str]) -> str | None:
    """The login token of a request: Chainlit's cookie (maybe chunked), else a Bearer header."""
    from chainlit.auth import get_token_from_cookies

    cookie = SimpleCookie()
    try:
        cookie.load(headers.get("cookie", ""))
    except Exception:  # a malformed cookie header: no token  # noqa: BLE001
        cookie = SimpleCookie()
    if token := get_token_from_cookies({k: m.value for k, m in cookie.items()}):
        return token
    scheme, _, value = headers.get("authorization", "").partition(" ")
    return (value.strip() or None) if scheme.lower() == "bearer" else None


def request_user(headers: dict[str, str]) -> str | None:
    """The signed-in user's identifier, or None (no token, a bad one or a revoked one)."""
    import chainlit.auth

    token = request_token(headers)
    if not token:
        return None
    try:
        return chainlit.auth.decode_jwt(token).identifier
    except Exception:  # expired, forged or signed out  # noqa: BLE001
        return None


class ChatGuard:
    """ASGI middleware around Chainlit's app (see the module docstring)."""

    def __init__(self, app: ASGIApp, *, policy: OriginPolicy, root_path: str = "",
                 throttle: LoginThrottle | None = None,
                 feedback_allowed: FeedbackCheck | None = None) -> None:
        self.app = app
        self.policy = policy
        self.root = root_path.rstrip("/")
        self.throttle = throttle
        self.feedback_allowed = feedback_allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Check the request, then hand it to Chainlit (or answer it with a refusal)."""
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        headers = _headers(scope)
        if not self.policy.allows_host(headers.get("host")):
            await _refuse(scope, receive, send, 403,
                          "Refused: this chat answers only to this machine's own names "
                          "(WHIZZY_ALLOWED_ORIGINS adds names).")
            return
        origin = headers.get("origin")
        if origin is not None and not self.policy.allows(origin, headers.get("host")):
            await _refuse(scope, receive, send, 403,
                          f"Refused: requests from {origin[:200]} are not allowed. Only the "
                          "chat's own page may call it (WHIZZY_ALLOWED_ORIGINS adds origins).")
            return
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        if (method not in SAFE_METHODS and origin is None
                and headers.get("sec-fetch-site") in ("cross-site", "same-site")):
            await _refuse(scope, receive, send, 403, "Refused: a request from another site.")
            return
        if method == "POST" and path == self.root + "/login" and self.throttle is not None:
            await self._login(scope, receive, send)
            return
        if method in ("PUT", "DELETE") and path == self.root + "/feedback" \
                and self.feedback_allowed is not None:
            await self._feedback(scope, receive, send, headers)
            return
        await self.app(scope, receive, send)

    async def _login(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert self.throttle is not None
        body = await _read_body(receive)
        if body is None:
            await _refuse(scope, receive, send, 413, "Refused: the request is too large.")
            return
        form = parse_qs(body.decode("utf-8", "replace"))
        user = (form.get("username") or [""])[0][:200]
        address = (scope.get("client") or ("unknown",))[0]
        if not self.throttle.allowed(user, address):
            await _refuse(scope, receive, send, 429, "Too many failed sign-ins: wait a few "
                          "minutes before trying again.")
            return
        status: list[int] = []

        async def watch(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
                if message["status"] == 401:  # Chainlit's body is the code "credentialssignin"
                    return
            if message["type"] == "http.response.body" and status and status[0] == 401:
                await _refuse(scope, receive, send, 401, SIGN_IN_FAILED, as_json=True)
                return
            await send(message)

        await self.app(scope, _replay(body, receive), watch)
        if status and status[0] == 401:
            self.throttle.failed(user, address)

    async def _feedback(self, scope: Scope, receive: Receive, send: Send,
                        headers: dict[str, str]) -> None:
        assert self.feedback_allowed is not None
        body = await _read_body(receive)
        if body is None:
            await _refuse(scope, receive, send, 413, "Refused: the request is too large.")
            return
        try:
            payload = json.loads(body or b"{}")
        except ValueError:
            payload = None
        if isinstance(payload, dict):  # anything else: Chainlit rejects it (422)
            if scope["method"] == "PUT":
                feedback = payload.get("feedback") if isinstance(payload.get("feedback"),
                                                                 dict) else {}
                for_id, feedback_id = feedback.get("forId"), feedback.get("id")
            else:
                for_id, feedback_id = None, payload.get("feedbackId")
            ids = [v if isinstance(v, str) or v is None else str(v)
                   for v in (for_id, feedback_id)]
            if not await self.feedback_allowed(request_user(headers), ids[0], ids[1]):
                await _refuse(scope, receive, send, 403,
                              "Refused: that message is not in one of your threads.")
                return
        await self.app(scope, _replay(body, receive), send)


async def _read_body(receive: Receive) -> bytes | None:
    """The whole request body, or None when it is larger than MAX_BODY."""
    chunks, size = [], 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then the client's own events."""
    sent = False

    async def replay() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # waits for the disconnect, as the server's would

    return replay


async def _refuse(scope: Scope, receive: Receive, send: Send, status: int, text: str, *,
                  as_json: bool = False) -> None:
    """Answer with `status` and a plain sentence (a WebSocket is refused before it opens).

    `as_json` sends it as `{"detail": text}`, the shape Chainlit's page shows in its toast.
    """
    body = json.dumps({"detail": text}).encode() if as_json else (text + "\n").encode()
    kind = b"application/json" if as_json else b"text/plain; charset=utf-8"
    headers = [(b"content-type", kind), (b"content-length", str(len(body)).encode())]
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        if "websocket.http.response" not in (scope.get("extensions") or {}):
            await send({"type": "websocket.close", "code": 1008})  # the server says 403
            return
        await send({"type": "websocket.http.response.start", "status": status,
                    "headers": headers})
        await send({"type": "websocket.http.response.body", "body": body})
        return
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install_revocation(revoked: RevokedTokens) -> None:
    """Make Chainlit refuse signed-out tokens everywhere it checks one (idempotent)."""
    import chainlit.auth
    import chainlit.server
    from jwt import InvalidTokenError

    if getattr(chainlit.auth.decode_jwt, "_whizzy", False):
        chainlit.auth.decode_jwt._revoked = revoked  # type: ignore[attr-defined]
        return
    original = chainlit.auth.decode_jwt

    def decode_jwt(token: str):  # noqa: ANN202 - chainlit.user.User
        if token in decode_jwt._revoked:  # type: ignore[attr-defined]
            raise InvalidTokenError("signed out")
        return original(token)

    decode_jwt._whizzy = True  # type: ignore[attr-defined]
    decode_jwt._revoked = revoked  # type: ignore[attr-defined]
    chainlit.auth.decode_jwt = decode_jwt
    chainlit.server.decode_jwt = decode_jwt


def token_expiry(token: str) -> float | None:
    """When a (valid) login token expires, as a Unix time; None when it is not valid."""
    import jwt

    secret = os.environ.get("CHAINLIT_AUTH_SECRET")
    if not secret:
        return None
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"])
    except jwt.InvalidTokenError:
        return None
    return float(claims.get("exp", 0)) or None


def install(app: Any, *, policy: OriginPolicy, root_path: str = "",
            throttle: LoginThrottle | None = None,
            feedback_allowed: FeedbackCheck | None = None) -> None:
    """Put `ChatGuard` outermost around Chainlit's FastAPI app (before the server starts)."""
    app.add_middleware(ChatGuard, policy=policy, root_path=root_path, throttle=throttle,
                       feedback_allowed=feedback_allowed)
