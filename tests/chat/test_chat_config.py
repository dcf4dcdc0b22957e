"""Chat settings, login accounts, the offline page and the `whizzy chat` command."""

from __future__ import annotations

import hashlib
import os
import socket
import stat
import tomllib
from pathlib import Path

import pytest

from whizzy.chat import auth, offline
from whizzy.chat.options import ChatOptions
from whizzy.chat.personas import PERSONAS, SettingsSpec
from whizzy.cli import main
from whizzy.core.errors import ConfigError
from whizzy.core.settings import PROJECT_ROOT


def test_options_round_trip_and_reject_bad_values(tmp_path):
    opts = ChatOptions(warehouse=tmp_path / "w.duckdb", persist=True, engine="llm", row_limit=50)
    assert ChatOptions.from_env(opts.to_env()) == opts
    assert opts.chat_db == tmp_path / "chat.sqlite"
    assert opts.checkpoints_db == tmp_path / "checkpoints.sqlite"
    with pytest.raises(ConfigError, match="WHIZZY_ENGINE"):
        ChatOptions.from_env({"WHIZZY_ENGINE": "gpt"})
    with pytest.raises(ConfigError, match="WHIZZY_ROW_LIMIT"):
        ChatOptions.from_env({"WHIZZY_ROW_LIMIT": "lots"})
    with pytest.raises(ConfigError, match="yes/no"):
        ChatOptions.from_env({"WHIZZY_CHAT_PERSIST": "maybe"})


def test_settings_from_the_ui_are_checked():
    spec = SettingsSpec.from_values({"persona": "executive", "engine": "llm", "row_limit": 50.0},
                                    engine="offline", row_limit=1000)
    assert spec == SettingsSpec(persona="executive", engine="llm", row_limit=50)
    assert SettingsSpec.from_values(None, engine="offline", row_limit=7).row_limit == 7
    bad = SettingsSpec.from_values({"row_limit": "x"}, engine="offline", row_limit=9)
    assert bad.row_limit == 9


def test_every_persona_has_starters_with_distinct_questions():
    questions = [s.message for p in PERSONAS for s in p.starters]
    assert len(questions) == len(set(questions))
    for p in PERSONAS:
        assert (PROJECT_ROOT / p.icon.removeprefix("/")).is_file()


def test_auth_users_parse_and_check():
    users = auth.parse_users("ana:pa:ss, bo:" + auth.hash_password("x"))
    assert auth.check_password(users, "ana", "pa:ss")  # colons after the first are the password
    assert auth.check_password(users, "bo", "x")
    assert not auth.check_password(users, "bo", "X")
    for bad, why in [("", "names no user"), ("ana", "not name:password"),
                     ("ana:a,ana:b", "twice"), ("a:scrypt:16384:8:1:zz:00", "scrypt hash"),
                     ("a:scrypt:1024:8:1:" + "00" * 16 + ":" + "00" * 32, "scrypt hash")]:
        with pytest.raises(ConfigError, match=why):
            auth.parse_users(bad)


def test_passwords_are_kept_as_salted_scrypt_never_unsalted_sha256():
    users = auth.parse_users("ana:same-pass,bo:same-pass")
    ana, bo = users["ana"], users["bo"]
    assert ana.salt != bo.salt and ana.digest != bo.digest  # salted: equal passwords differ
    assert ana.digest == hashlib.scrypt(b"same-pass", salt=ana.salt, n=2**14, r=8, p=1,
                                        dklen=32)
    assert hashlib.sha256(b"same-pass").digest() not in (ana.digest, bo.digest)
    # a stored hash round-trips, and an unsalted sha256 digest is refused with a way out
    stored = auth.hash_password("pw")
    assert auth.check_password(auth.parse_users(f"cy:{stored}"), "cy", "pw")
    with pytest.raises(ConfigError, match="unsalted sha256") as caught:
        auth.parse_users("bo:sha256:" + hashlib.sha256(b"x").hexdigest())
    assert "--hash-password" in caught.value.user_message()


def test_hash_password_command_prints_a_hash_that_logs_in(monkeypatch, capsys):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret-pass\n"))
    assert main(["chat", "--hash-password"]) == 0
    printed = capsys.readouterr().out.strip()
    assert printed.startswith("scrypt:") and "s3cret" not in printed
    assert auth.check_password(auth.parse_users(f"ana:{printed}"), "ana", "s3cret-pass")


def test_login_throttle_counts_per_user_and_address_in_bounded_memory():
    now = [0.0]
    t = auth.LoginThrottle(per_user=3, per_address=5, window=60, max_keys=100,
                           clock=lambda: now[0])
    for _ in range(3):
        assert t.allowed("ana", "10.0.0.1")
        t.failed("ana", "10.0.0.1")
    assert not t.allowed("ana", "10.0.0.1") and not t.allowed("ana", "10.0.0.9")  # per user
    assert t.allowed("bo", "10.0.0.1")
    t.failed("bo", "10.0.0.1"), t.failed("cy", "10.0.0.1")
    assert not t.allowed("dee", "10.0.0.1") and t.allowed("dee", "10.0.0.2")  # per address
    now[0] = 61
    assert t.allowed("ana", "10.0.0.1")  # failures are forgotten after the window
    for i in range(10_000):  # a flood of made-up names and addresses
        t.failed(f"user{i}", f"10.1.{i // 256}.{i % 256}")
    assert len(t._failures) <= 100


def test_chat_files_left_readable_by_an_older_version_become_private(tmp_path):
    from whizzy.chat.datalayer import ensure_schema

    old = [tmp_path / "chat.sqlite", tmp_path / "checkpoints.sqlite",
           tmp_path / "checkpoints.sqlite-wal"]  # a journal left by a crash
    for path in old:
        path.write_bytes(b"")
        path.chmod(0o644)
    ensure_schema(old[0])
    auth.create_private(old[1])
    for path in old:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path


def test_revoked_tokens_are_refused_until_they_expire_and_survive_a_restart(tmp_path):
    now = [1000.0]
    path = tmp_path / "chat.sqlite"
    revoked = auth.RevokedTokens(path, clock=lambda: now[0])
    revoked.revoke("tok-1", expires_at=2000.0)
    assert "tok-1" in revoked and "tok-2" not in revoked
    assert "tok-1" in auth.RevokedTokens(path)  # after a restart
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    now[0] = 3000.0
    revoked.revoke("tok-2", expires_at=4000.0)  # expired ones are dropped meanwhile
    assert "tok-1" not in revoked and "tok-2" in revoked


def test_auth_secret_is_generated_once_and_private(tmp_path, monkeypatch):
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET", raising=False)
    path = tmp_path / "secret"
    first = auth.ensure_secret(path)
    assert os.environ["CHAINLIT_AUTH_SECRET"] == first
    monkeypatch.delenv("CHAINLIT_AUTH_SECRET")
    assert auth.ensure_secret(path) == first  # survives a restart
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    monkeypatch.setenv("CHAINLIT_AUTH_SECRET", "from-env")
    assert auth.ensure_secret(path) == "from-env"


def test_page_html_of_the_installed_chainlit_loads_nothing_remote():
    import chainlit.server as server

    html = offline.page_html(server.get_html_template(""))
    assert "googleapis" not in html and "jsdelivr" not in html and "gstatic" not in html
    assert "Content-Security-Policy" in html
    assert '<script type="module" crossorigin src="/assets/' in html


def test_markdown_placeholders_are_filled():
    text = (PROJECT_ROOT / "chainlit.md").read_text()
    assert "{{as_of_date}}" in text
    filled = offline.fill_markdown(text, {"as_of_date": "2026-11-15", "built_at": "x",
                                          "warehouse": "w"})
    assert "Data as of 2026-11-15" in filled and "{{" not in filled


def test_committed_chainlit_config_is_ours():
    cfg = tomllib.loads((PROJECT_ROOT / ".chainlit" / "config.toml").read_text())
    assert cfg["UI"]["name"] == "Whizzy"
    assert cfg["UI"]["custom_css"] == "/public/whizzy.css"
    assert cfg["UI"]["custom_js"] == "/public/whizzy.js"  # opens a thread's URL after sign-in
    assert (PROJECT_ROOT / "public" / "whizzy.js").is_file()
    assert cfg["features"]["spontaneous_file_upload"]["enabled"] is False
    assert cfg["features"]["latex"] is False
    assert cfg["project"]["allow_origins"] == []
    assert (PROJECT_ROOT / "public" / "whizzy.css").is_file()
    assert '"custom_fonts": []' in (PROJECT_ROOT / "public" / "theme.json").read_text()


def test_chat_command_refuses_a_busy_port(tmp_path, capsys):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        code = main(["chat", "--warehouse", str(tmp_path / "w.duckdb"), "--port", str(port)])
    assert code == 2
    assert f"Port {port} on 127.0.0.1 is already in use" in capsys.readouterr().err


def test_chat_command_rejects_bad_auth_users(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("WHIZZY_AUTH_USERS", "nobody")
    assert main(["chat", "--warehouse", str(tmp_path / "w.duckdb"), "--port", "1"]) == 2
    assert "WHIZZY_AUTH_USERS entry 1" in capsys.readouterr().err


def test_chat_command_line_and_environment(tmp_path):
    from whizzy.cli.chat import APP, chat_command, chat_env

    cmd = chat_command(host="0.0.0.0", port=8123)
    assert cmd[1:4] == ["-m", "whizzy.chat.serve", "run"] and Path(cmd[4]) == APP
    assert cmd[-1] == "--headless" and "8123" in cmd
    env = chat_env(tmp_path / "w.duckdb", persist=False)
    assert env["WHIZZY_WAREHOUSE"] == str(tmp_path / "w.duckdb")
    assert env["WHIZZY_CHAT_PERSIST"] == "0"


def test_each_chat_server_has_its_own_app_root(tmp_path, monkeypatch, built_warehouse):
    """Chainlit deletes `<app root>/.files` on exit: two servers must not share one."""
    from whizzy.cli import chat as chat_cli

    roots = []

    def fake_serve(cmd, env):
        root = Path(env["CHAINLIT_APP_ROOT"])
        assert (root / ".chainlit" / "config.toml").is_file()  # the project's settings
        assert (root / "chainlit.md").resolve() == (chat_cli.PROJECT_ROOT / "chainlit.md")
        (root / ".files").mkdir()  # what the server writes there
        roots.append(root)
        return 0

    monkeypatch.setattr(chat_cli, "check_port", lambda host, port: None)
    monkeypatch.setattr(chat_cli, "serve", fake_serve)
    for port in (8301, 8302):
        assert chat_cli.start_chat(built_warehouse, port=port, persist=False) == 0
    assert len(roots) == 2 and roots[0] != roots[1]
    assert not any(r.exists() for r in roots)  # removed when the server stopped
