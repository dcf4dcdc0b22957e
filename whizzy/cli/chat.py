"""`whizzy chat`: serve the Chainlit chat (`app.py`) on http://HOST:PORT."""

from __future__ import annotations

import argparse
import errno
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from whizzy.cli import terminal
from whizzy.cli.common import add_warehouse_flag, settings_from
from whizzy.cli.terminal import escaped
from whizzy.core.errors import ConfigError, WhizzyError
from whizzy.core.settings import PROJECT_ROOT

console = terminal.console()

#: Seconds a stopping server may take before it is killed.
STOP_GRACE_SECONDS = 20

#: The Chainlit app; Chainlit reads `.chainlit/`, `public/` and `chainlit.md` beside it.
APP = PROJECT_ROOT / "app.py"


def register(sub: argparse._SubParsersAction) -> None:
    """Add `whizzy chat`."""
    p = sub.add_parser(
        "chat",
        help="open the chat on http://127.0.0.1:8000",
        description=(
            "Serve the chat: ask questions in the browser, see each step the assistant takes, "
            "tables and charts. Threads, feedback and the assistant's memory are kept beside the "
            "warehouse (chat.sqlite, checkpoints.sqlite) unless --no-persist. Set "
            "WHIZZY_AUTH_USERS=name:password[,name:password] to require a login; it is needed "
            "to listen beyond this machine (--host)."
        ),
    )
    add_warehouse_flag(p)
    add_host_flags(p)
    p.add_argument(
        "--no-persist",
        action="store_true",
        help="keep nothing: no thread history, feedback or memory across restarts",
    )
    p.add_argument("--open", action="store_true", help="also open the chat in a browser tab")
    p.add_argument("--hash-password", action="store_true",
                   help="read a password and print the salted hash to put in WHIZZY_AUTH_USERS "
                        "instead of it, then exit")
    p.set_defaults(func=run)


def add_host_flags(p: argparse.ArgumentParser) -> None:
    """`--host`, `--port` and `--insecure-no-login` (shared with `whizzy up`)."""
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    p.add_argument(
        "--insecure-no-login",
        action="store_true",
        help="allow a --host other machines can reach without WHIZZY_AUTH_USERS (anyone who "
             "reaches it can ask questions and read the chat's threads)",
    )


def run(args: argparse.Namespace) -> int:
    """Start the chat with the resolved warehouse."""
    if args.hash_password:
        return print_password_hash()
    return start_chat(
        settings_from(args).warehouse,
        host=args.host,
        port=args.port,
        persist=not args.no_persist,
        open_browser=args.open,
        insecure_no_login=args.insecure_no_login,
    )


def print_password_hash() -> int:
    """Read a password (hidden when typed) and print its salted scrypt hash."""
    import getpass

    from whizzy.chat.auth import hash_password

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Again: ") != password:
            raise ConfigError("The two passwords differ.")
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise ConfigError("The password is empty.")
    print(hash_password(password))
    return 0


def check_exposure(host: str, *, login: bool, insecure_no_login: bool) -> None:
    """Refuse to listen beyond this machine without a login, unless told to."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.chat.origins import is_loopback

    if is_loopback(host) or login or insecure_no_login:
        return
    raise ConfigError(
        f"--host {host} lets other machines reach the chat, and no login is set: anyone who "
        "reaches it could ask questions and read every thread.",
        hint="set WHIZZY_AUTH_USERS=name:password[,name:password] (hash the passwords with "
             "`whizzy chat --hash-password`), or pass --insecure-no-login to serve it anyway",
    )


def check_port(host: str, port: int) -> None:
    """Raise a clear error when `host:port` can't be listened on."""
    if not 1 <= port <= 65535:
        raise ConfigError(f"--port must be between 1 and 65535, not {port}.")
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"Port {port} on {host} is already in use.",
                    hint="stop the other server or pick another port with --port",
                ) from None
            raise ConfigError(f"Can't listen on {host}:{port} ({exc.strerror}).") from None


def chat_command(*, host: str, port: int, open_browser: bool = False) -> list[str]:
    """The Chainlit command line that serves `app.py` (through `whizzy.chat.serve`).

    `whizzy.chat.serve` runs Chainlit's own command line, with Literal AI's tracing SDK
    loaded only if something uses it (about 1 s of the server's start-up).
    """
    cmd = [sys.executable, "-m", "whizzy.chat.serve", "run", str(APP), "--host", host,
           "--port", str(port)]
    if not open_browser:
        cmd.append("--headless")
    return cmd


def chat_env(warehouse: Path, *, persist: bool, host: str = "127.0.0.1", port: int = 8000,
             insecure_no_login: bool = False) -> dict[str, str]:
    """The environment `app.py` runs with (options travel as variables)."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.chat.auth import parse_users
    from whizzy.chat.options import ChatOptions, allowed_origins_setting, auth_users_setting
    from whizzy.chat.origins import parse_allowed_origins

    base = ChatOptions.from_env()
    if base.engine == "llm":  # not configured: say which variables to set, before serving
        # imported when this command runs, so `whizzy --help` and the other commands start
        # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
        from agents.llm.settings import load_llm_settings

        load_llm_settings("llm")
    users = auth_users_setting()
    if users:
        parse_users(users)  # a bad WHIZZY_AUTH_USERS fails here, before the server starts
    parse_allowed_origins(allowed_origins_setting())  # and so does a bad origin
    check_exposure(host, login=bool(users), insecure_no_login=insecure_no_login)
    opts = ChatOptions(warehouse=warehouse, persist=persist, engine=base.engine,
                       row_limit=base.row_limit, host=host, port=port)
    env = dict(os.environ)
    env.update(opts.to_env())
    env.setdefault("DO_NOT_TRACK", "1")
    return env


#: What Chainlit reads from its app root: its settings, the welcome page, the static files.
APP_ROOT_FILES = (".chainlit", "chainlit.md", "public")


@contextmanager
def app_root() -> Iterator[Path]:
    """A Chainlit app root of this server's own, removed when it stops.

    Chainlit keeps uploaded and generated element files in ``<app root>/.files`` and deletes
    that folder when a server exits, so two servers started from the project folder (two
    `whizzy chat` on other ports, a test run beside a chat) would delete each other's charts
    and tables. Each server gets a folder linking to the project's settings instead.
    """
    with tempfile.TemporaryDirectory(prefix="whizzy-chat-") as tmp:
        root = Path(tmp)
        for name in APP_ROOT_FILES:
            if (PROJECT_ROOT / name).exists():
                (root / name).symlink_to(PROJECT_ROOT / name)
        yield root


def start_chat(
    warehouse: Path,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    persist: bool = True,
    open_browser: bool = False,
    insecure_no_login: bool = False,
) -> int:
    """Serve the chat until interrupted; returns the server's exit status."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.chat.freshness import warehouse_freshness

    env = chat_env(warehouse, persist=persist, host=host, port=port,
                   insecure_no_login=insecure_no_login)
    check_port(host, port)
    try:
        fresh = warehouse_freshness(warehouse)
        console.print(
            f"[green]✓[/] warehouse {escaped(warehouse)} — data as of "
            f"{escaped(fresh.as_of_date)}, built {escaped(fresh.built_label)}"
        )
    except WhizzyError as exc:  # the chat still starts and explains the same thing
        console.print(f"[yellow]![/] {escaped(exc.user_message())}")
    where = "kept beside the warehouse" if persist else "not kept (--no-persist)"
    console.print(f"Chat threads and memory: {where}.")
    console.print(f"[bold]Starting the chat on http://{host}:{port}[/] (ready in a few seconds; "
                  "Ctrl+C stops it)")
    with app_root() as root:
        return serve(chat_command(host=host, port=port, open_browser=open_browser),
                     {**env, "CHAINLIT_APP_ROOT": str(root)})


def serve(cmd: list[str], env: dict[str, str]) -> int:
    """Run the server until it exits; Ctrl+C, SIGTERM or SIGHUP stop it, then return.

    The server never outlives this process: a stop signal is passed on (and the server
    killed if it has not stopped 20 s later), and the server itself exits when this
    process dies in any other way (`whizzy.chat.runtime.exit_with_parent`).
    """
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without it (about 0.5 s instead of 4-6 s with LangGraph, dbt and pandas loaded)
    from whizzy.chat.options import PARENT_PID_VAR

    stopping: list[threading.Timer] = []
    proc: subprocess.Popen | None = None

    def stop(signum: int, frame: object) -> None:
        if proc is None:  # not started yet: don't start it
            raise SystemExit(0)
        proc.terminate()  # the server shuts down (and cleans up); we return after it
        if not stopping:
            timer = threading.Timer(STOP_GRACE_SECONDS, proc.kill)
            timer.daemon = True
            timer.start()
            stopping.append(timer)

    handled = (signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, stop) for s in handled}
    try:
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT,
                                env={**env, PARENT_PID_VAR: str(os.getpid())})
        while True:
            try:
                code = proc.wait()
                if code in (0, -signal.SIGTERM, -signal.SIGINT):
                    return 0
                return 0 if stopping and code == -signal.SIGKILL else code
            except KeyboardInterrupt:  # Ctrl+C reached the server too: wait for it to stop
                try:
                    proc.wait(timeout=STOP_GRACE_SECONDS)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                return 0
    finally:
        for timer in stopping:
            timer.cancel()
        for s, handler in previous.items():
            signal.signal(s, handler)
