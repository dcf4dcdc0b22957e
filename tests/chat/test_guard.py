"""The chat's front door (`whizzy.chat.guard`) around a stand-in app: origins, sign-in throttle,
feedback ownership; and `whizzy chat` refusing to listen beyond this machine without a login."""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.testclient import TestClient, WebSocketDenialResponse
from starlette.websockets import WebSocket

from whizzy.chat.auth import LoginThrottle
from whizzy.chat.guard import ChatGuard
from whizzy.chat.origins import OriginPolicy
from whizzy.cli import main

OWN = "http://127.0.0.1:8000"
WS_URL = "ws://127.0.0.1:8000/ws/socket.io/"
FOREIGN = ["http://127.0.0.1:9912", "http://localhost:9912", "http://evil.example", "null",
           "https://127.0.0.1:8000", "http://127.0.0.1:8000.evil.example", "file://"]


async def _login(request: Request) -> PlainTextResponse:
    form = await request.form()
    ok = form.get("password") == "right"
    return PlainTextResponse("ok" if ok else "no", status_code=200 if ok else 401)


async def _echo(request: Request) -> PlainTextResponse:
    return PlainTextResponse((await request.body()).decode() or "ok")


async def _socket(ws: WebSocket) -> None:
    await ws.accept()
    await ws.send_text("hello")
    await ws.close()


def _client(policy: OriginPolicy | None = None, **kwargs) -> TestClient:
    app = Starlette(routes=[Route("/login", _login, methods=["POST"]),
                            Route("/feedback", _echo, methods=["PUT", "DELETE"]),
                            Route("/project/threads", _echo, methods=["GET", "POST"]),
                            WebSocketRoute("/ws/socket.io/", _socket)])
    guard = ChatGuard(app, policy=policy or OriginPolicy.for_server("127.0.0.1", 8000),
                      **kwargs)
    return TestClient(guard, base_url=OWN)


def test_a_foreign_origin_is_refused_on_http_and_on_the_socket():
    client = _client()
    for origin in FOREIGN:
        for method in ("GET", "POST"):
            r = client.request(method, "/project/threads", headers={"Origin": origin})
            assert r.status_code == 403, (origin, method)
            assert "WHIZZY_ALLOWED_ORIGINS" in r.text
        with pytest.raises(WebSocketDenialResponse) as refused, \
                client.websocket_connect(WS_URL, headers={"Origin": origin}) as ws:
            ws.receive_text()
        assert refused.value.status_code == 403, origin
        assert "WHIZZY_ALLOWED_ORIGINS" in refused.value.text


def test_the_chats_own_origin_and_clients_without_one_get_through():
    client = _client()
    for headers in ({"Origin": OWN}, {"Origin": "http://localhost:8000"},
                    {"Origin": "http://[::1]:8000"}, {}):
        assert client.post("/project/threads", headers=headers, content=b"x").text == "x"
        with client.websocket_connect(WS_URL, headers=headers) as ws:
            assert ws.receive_text() == "hello"


def test_a_state_change_a_browser_marks_as_cross_site_is_refused_even_without_origin():
    client = _client()
    for site in ("cross-site", "same-site"):
        r = client.post("/project/threads", headers={"Sec-Fetch-Site": site})
        assert r.status_code == 403
    assert client.post("/project/threads", headers={"Sec-Fetch-Site": "same-origin"}).is_success
    assert client.get("/project/threads", headers={"Sec-Fetch-Site": "cross-site"}).is_success


def test_allowed_origins_and_a_server_on_every_interface():
    client = _client(OriginPolicy.for_server("127.0.0.1", 8000, "https://chat.example.com"))
    assert client.post("/project/threads", headers={"Origin": "https://chat.example.com"}
                       ).is_success
    public = _client(OriginPolicy.for_server("0.0.0.0", 8000))
    # reached as http://10.0.0.5:8000, that is its own origin; another port of it is not
    assert public.post("/project/threads", headers={"Host": "10.0.0.5:8000",
                                                     "Origin": "http://10.0.0.5:8000"}).is_success
    assert public.post("/project/threads", headers={"Host": "10.0.0.5:8000",
                                                     "Origin": "http://10.0.0.5:9912"}
                       ).status_code == 403
    other_loopback = _client(OriginPolicy.for_server("127.0.0.2", 8000))
    for origin in ("http://127.0.0.2:8000", OWN):
        assert other_loopback.post("/project/threads", headers={"Origin": origin,
                                                                 "Host": "127.0.0.2:8000"}
                                   ).is_success
    named = _client(OriginPolicy.for_server("10.0.0.5", 8000))
    assert named.post("/project/threads", headers={"Origin": "http://10.0.0.5:8000"}).is_success
    assert named.post("/project/threads", headers={"Origin": OWN}).status_code == 403


def test_a_loopback_chat_answers_only_to_its_own_names():
    client = _client(OriginPolicy.for_server("127.0.0.1", 8000, "https://chat.example.com"))
    for host in ("127.0.0.1:8000", "localhost:8000", "[::1]:8000", "chat.example.com"):
        assert client.get("/project/threads", headers={"Host": host}).is_success, host
    # a name a DNS rebinding points at 127.0.0.1: the browser sends no Origin on a GET
    for host in ("rebound.evil.example:8000", "127.0.0.1.evil.example", "[::2]:8000"):
        assert client.get("/project/threads", headers={"Host": host}).status_code == 403, host
    public = _client(OriginPolicy.for_server("0.0.0.0", 8000))  # reached by any name
    assert public.get("/project/threads", headers={"Host": "chat.lan:8000"}).is_success


def test_sign_ins_are_throttled_per_user_and_address():
    client = _client(throttle=LoginThrottle(per_user=3, per_address=10))
    for _ in range(3):
        assert client.post("/login", data={"username": "ana", "password": "no"}
                           ).status_code == 401
    r = client.post("/login", data={"username": "ana", "password": "right"})
    assert r.status_code == 429 and "Too many failed sign-ins" in r.text
    assert client.post("/login", data={"username": "bo", "password": "right"}).text == "ok"


def test_feedback_on_a_message_of_someone_elses_is_refused():
    seen = []

    async def allowed(user, for_id, feedback_id):
        seen.append((user, for_id, feedback_id))
        return for_id == "mine" or feedback_id == "my-feedback"

    client = _client(feedback_allowed=allowed)
    ok = client.put("/feedback", json={"feedback": {"forId": "mine", "value": 1},
                                       "sessionId": "s"})
    assert ok.status_code == 200 and '"forId":"mine"' in ok.text  # the body reaches the app
    assert client.put("/feedback", json={"feedback": {"forId": "theirs", "value": 1},
                                         "sessionId": "s"}).status_code == 403
    assert client.request("DELETE", "/feedback", json={"feedbackId": "their-feedback"}
                          ).status_code == 403
    assert client.request("DELETE", "/feedback", json={"feedbackId": "my-feedback"}).is_success
    assert seen[0] == (None, "mine", None)  # no login token: no user


# --------------------------------------------------------------------------- whizzy chat --host


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.5", "::"])
def test_chat_refuses_a_host_beyond_this_machine_without_a_login(tmp_path, monkeypatch, capsys,
                                                                host):
    from whizzy.cli import chat as chat_cli

    monkeypatch.setattr(chat_cli, "check_port", lambda host, port: None)
    monkeypatch.setattr(chat_cli, "serve", lambda cmd, env: 0)  # it must not get this far
    monkeypatch.delenv("WHIZZY_AUTH_USERS", raising=False)
    code = main(["chat", "--warehouse", str(tmp_path / "w.duckdb"), "--host", host,
                 "--port", "8123"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"--host {host} lets other machines reach the chat" in err
    assert "--insecure-no-login" in err and "WHIZZY_AUTH_USERS" in err


def test_chat_on_a_public_host_starts_with_a_login_or_when_told_to(tmp_path, monkeypatch):
    from whizzy.cli import chat as chat_cli

    started = []
    monkeypatch.setattr(chat_cli, "check_port", lambda host, port: None)
    monkeypatch.setattr(chat_cli, "serve", lambda cmd, env: started.append(env) or 0)
    monkeypatch.delenv("WHIZZY_AUTH_USERS", raising=False)
    wh = str(tmp_path / "w.duckdb")
    assert main(["chat", "--warehouse", wh, "--host", "0.0.0.0", "--no-persist",
                 "--insecure-no-login"]) == 0
    monkeypatch.setenv("WHIZZY_AUTH_USERS", "ana:s3cret-pass")
    assert main(["chat", "--warehouse", wh, "--host", "0.0.0.0", "--no-persist"]) == 0
    assert main(["chat", "--warehouse", wh, "--no-persist"]) == 0  # loopback needs neither
    assert [e["WHIZZY_CHAT_HOST"] for e in started] == ["0.0.0.0", "0.0.0.0", "127.0.0.1"]


def test_up_refuses_a_public_host_before_building(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("WHIZZY_AUTH_USERS", raising=False)
    wh = tmp_path / "w.duckdb"
    assert main(["up", "--warehouse", str(wh), "--host", "0.0.0.0"]) == 2
    assert "--insecure-no-login" in capsys.readouterr().err
    assert not wh.exists()  # nothing generated or built


def test_a_bad_allowed_origin_is_refused_before_the_server_starts(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WHIZZY_ALLOWED_ORIGINS", "*")
    assert main(["chat", "--warehouse", str(tmp_path / "w.duckdb"), "--port", "1"]) == 2
    assert "WHIZZY_ALLOWED_ORIGINS entry 1" in capsys.readouterr().err


def test_a_failed_sign_in_says_so_in_plain_words():
    client = _client(throttle=LoginThrottle(per_user=3, per_address=10))
    r = client.post("/login", data={"username": "ana", "password": "no"})
    assert r.status_code == 401
    assert r.json() == {"detail": "That user name and password don't match. Check both and "
                                  "try again."}
    assert r.headers["content-length"] == str(len(r.content))
    assert client.post("/login", data={"username": "ana", "password": "right"}).text == "ok"
