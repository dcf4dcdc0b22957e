"""`whizzy ask`'s warm worker: a background process that keeps the assistant loaded.

A cold `whizzy ask` spends most of its time importing LangGraph and loading the warehouse's
catalog and value index before it answers in tens of milliseconds. So the first `whizzy ask`
on a warehouse answers in its own process, then starts a worker (``python -m
whizzy.cli.worker WAREHOUSE``) that listens on a Unix socket named after the warehouse and
exits after ``WHIZZY_ASK_WORKER_IDLE`` seconds (default 600) without a question. The next
`whizzy ask` sends its questions there and only prints the answers.

A worker never answers from a stale warehouse or from other code: the client sends what it
sees (the versions of the warehouse file and its manifest, `identity`, and a stamp of the
code and the ``WHIZZY_*`` settings, `code_stamp`); the worker answers only when it sees the
same, and otherwise says so (and exits when its code is old) while the client answers
in-process. Answers follow a swapped warehouse exactly as the chat's do (`agents` re-open
the file per version). Only the offline engine uses a worker; ``WHIZZY_ASK_WORKER=0`` turns
it off.

>>> socket_path(Path("/x/warehouse.duckdb")).parent.name == f"whizzy-{os.getuid()}"
True
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from whizzy.cli.terminal import json_line
from whizzy.core.settings import PROJECT_ROOT

#: Seconds a worker waits for a question before it exits.
DEFAULT_IDLE_SECONDS = 600.0
#: Seconds the client waits for a worker to accept its connection.
CONNECT_TIMEOUT = 2.0
#: Seconds the client waits for all the answers (then it answers in-process).
ANSWER_TIMEOUT = 300.0
#: The project's code a worker's answers depend on (a change makes the worker stale).
CODE_DIRS = ("agents", "whizzy", "evals")


def enabled() -> bool:
    """Whether `whizzy ask` may use (and start) a worker: ``WHIZZY_ASK_WORKER`` not ``0``."""
    flag = os.environ.get("WHIZZY_ASK_WORKER", "1").strip().lower()
    return flag not in {"0", "false", "no", "off"} and hasattr(socket, "AF_UNIX")


def idle_seconds() -> float:
    """``WHIZZY_ASK_WORKER_IDLE``: seconds a worker stays up without a question."""
    try:
        value = float(os.environ.get("WHIZZY_ASK_WORKER_IDLE", DEFAULT_IDLE_SECONDS))
    except ValueError:
        return DEFAULT_IDLE_SECONDS
    return value if value > 0 else DEFAULT_IDLE_SECONDS


def socket_path(warehouse: Path) -> Path:
    """The worker's socket for `warehouse`: in this user's folder of the temp folder.

    (A socket's path is limited to about 100 bytes, so it is not beside the warehouse.)
    """
    key = hashlib.sha256(os.path.abspath(warehouse).encode()).hexdigest()[:20]
    return Path(tempfile.gettempdir()) / f"whizzy-{os.getuid()}" / f"ask-{key}.sock"


def _own_folder(path: Path) -> bool:
    """Make the socket's folder (only this user may enter it); False if it is not ours."""
    folder = path.parent
    with contextlib.suppress(FileExistsError):
        folder.mkdir(mode=0o700)
    stat = os.lstat(folder)
    return os.path.isdir(folder) and not os.path.islink(folder) and \
        stat.st_uid == os.getuid() and stat.st_mode & 0o077 == 0


def identity(warehouse: Path) -> list[int]:
    """The versions (inode, mtime, size) of the warehouse file and its manifest.

    Raises:
        OSError: when either is missing (the in-process path then says what to do).
    """
    from whizzy.warehouse.connection import manifest_path_for

    out: list[int] = []
    for path in (Path(warehouse), manifest_path_for(Path(warehouse))):
        stat = os.stat(path)
        out += [stat.st_ino, stat.st_mtime_ns, stat.st_size]
    return out


def code_stamp() -> str:
    """A stamp of the code answering and of the ``WHIZZY_*`` settings it reads."""
    digest = hashlib.sha256(sys.version.encode())
    files = [PROJECT_ROOT / "graph.py"]
    for name in CODE_DIRS:
        files += sorted((PROJECT_ROOT / name).rglob("*.py"))
    for path in files:
        with contextlib.suppress(OSError):
            stat = path.stat()
            digest.update(f"{path}:{stat.st_mtime_ns}:{stat.st_size}\n".encode())
    for key in sorted(k for k in os.environ if k.startswith("WHIZZY_")
                      and not k.startswith("WHIZZY_ASK_WORKER")):  # these change no answer
        digest.update(f"{key}={os.environ[key]}\n".encode())
    return digest.hexdigest()


# ---------------------------------------------------------------------------------- client


def ask_worker(warehouse: Path, request: dict[str, Any], *, path: Path | None = None
               ) -> list[dict[str, Any]] | None:
    """The answers of a running worker, or None: no worker, a stale one, or it failed.

    `request` holds ``questions``, ``thread``, ``persona`` and ``row_limit``; the warehouse's
    `identity` and the `code_stamp` are added here.
    """
    path = path or socket_path(warehouse)
    try:
        if not _own_folder(path) or os.stat(path).st_uid != os.getuid():
            return None  # someone else's folder or socket: never talk to it
        message = dict(request, identity=identity(warehouse), code=code_stamp())
    except OSError:
        return None
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        sock.connect(str(path))
        sock.settimeout(ANSWER_TIMEOUT)
        sock.sendall((json.dumps(message) + "\n").encode())
        answers: list[dict[str, Any]] = []
        for line in _lines(sock):
            reply = json.loads(line)
            if "result" in reply:
                answers.append(reply["result"])
            elif reply.get("done"):
                return answers if len(answers) == len(request["questions"]) else None
            else:  # {"stale": why}
                return None
        return None
    except (OSError, ValueError):
        return None
    finally:
        sock.close()


def _lines(sock: socket.socket) -> Iterator[bytes]:
    buffer = b""
    while True:
        chunk = sock.recv(1 << 16)
        if not chunk:
            return
        buffer += chunk
        while b"\n" in buffer:
            line, buffer = buffer.split(b"\n", 1)
            yield line


def start_worker(warehouse: Path) -> subprocess.Popen[bytes] | None:
    """Start a worker for `warehouse` in the background (it exits by itself when idle)."""
    try:
        return subprocess.Popen(
            [sys.executable, "-m", "whizzy.cli.worker", os.path.abspath(warehouse)],
            cwd=PROJECT_ROOT, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True)
    except OSError:
        return None


# ---------------------------------------------------------------------------------- worker


class Worker:
    """Answers the questions sent to one socket until it has been idle too long."""

    def __init__(self, warehouse: Path, *, path: Path | None = None,
                 idle: float | None = None) -> None:
        self.warehouse = Path(os.path.abspath(warehouse))
        self.path = path or socket_path(self.warehouse)
        self.idle = idle or idle_seconds()
        self.code = code_stamp()
        self._assistants: dict[tuple[str, int], Any] = {}
        self._stack = contextlib.ExitStack()
        self._saver: Any = None
        self._listener: socket.socket | None = None

    def lock(self) -> bool:
        """Become this warehouse's worker; False when another one already is."""
        import fcntl

        if not _own_folder(self.path):
            return False
        lock = open(f"{self.path}.lock", "a")  # noqa: SIM115 - held for the worker's life
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            lock.close()
            return False
        self._stack.callback(lock.close)
        # removed while still held (a worker starting meanwhile may run too: harmless)
        self._stack.callback(lambda: Path(f"{self.path}.lock").unlink(missing_ok=True))
        return True

    def listen(self) -> None:
        """Open the socket (after `lock`): from now on clients connect here."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()  # left by a worker that died: the lock says none runs
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        old = os.umask(0o077)  # only this user may connect
        try:
            listener.bind(str(self.path))
        finally:
            os.umask(old)
        listener.listen(8)
        self._listener = listener
        self._stack.callback(self._close_listener)

    def _close_listener(self) -> None:
        if self._listener is not None:
            self._listener.close()
        with contextlib.suppress(OSError):
            if self.path.exists():
                self.path.unlink()

    def _assistant(self, persona: str, row_limit: int) -> Any:
        from whizzy.assistant import Assistant, checkpoints_path, sqlite_checkpointer

        if self._saver is None:
            self._saver = self._stack.enter_context(
                sqlite_checkpointer(checkpoints_path(self.warehouse)))
        key = (persona, row_limit)
        if key not in self._assistants:
            self._assistants[key] = Assistant(self.warehouse, engine="offline",
                                              checkpointer=self._saver, row_limit=row_limit,
                                              persona=persona)
        return self._assistants[key]

    def warm(self) -> None:
        """Load what a first answer needs: the graph, catalog, value index and connection."""
        from agents.values import value_index
        from whizzy.warehouse.reader import open_warehouse

        self._assistant("sales_manager", 1000)
        with contextlib.suppress(Exception):  # an unbuilt warehouse: each ask says so
            value_index(open_warehouse(self.warehouse))

    def serve(self) -> None:
        """Answer connections one at a time until idle for `idle` seconds (or stale)."""
        assert self._listener is not None, "listen() first"
        self._listener.settimeout(self.idle)
        try:
            while True:
                try:
                    conn, _ = self._listener.accept()
                except TimeoutError:
                    return
                with conn:
                    if not self.handle(conn):
                        return
        finally:
            self.close()

    def handle(self, conn: socket.socket) -> bool:
        """Answer one client; False when this worker must stop (its code is old)."""
        conn.settimeout(ANSWER_TIMEOUT)
        try:
            line = next(_lines(conn), b"")
            request = json.loads(line)
            questions = [str(q) for q in request["questions"]]
        except (OSError, ValueError, KeyError, TypeError):
            return True
        if request.get("code") != self.code:
            self._send(conn, {"stale": "code"})
            return False
        try:
            seen = identity(self.warehouse)
        except OSError:
            seen = None
        if request.get("identity") != seen:
            self._send(conn, {"stale": "warehouse"})
            return True
        try:
            assistant = self._assistant(str(request.get("persona") or "sales_manager"),
                                        int(request.get("row_limit") or 1000))
            for question in questions:
                result = assistant.ask(question, thread_id=str(request["thread"]))
                self._send(conn, {"result": result})
            self._send(conn, {"done": True})
        except Exception as exc:  # noqa: BLE001 - the client answers in-process instead
            self._send(conn, {"stale": f"error: {type(exc).__name__}"})
        return True

    @staticmethod
    def _send(conn: socket.socket, message: dict[str, Any]) -> None:
        with contextlib.suppress(OSError):
            conn.sendall((json_line(message) + "\n").encode())

    def close(self) -> None:
        """Release the socket, its lock and the checkpointer."""
        self._stack.close()


def wait_for_worker(warehouse: Path, *, timeout: float = 120.0,
                    path: Path | None = None) -> bool:
    """Wait until a worker accepts connections for `warehouse` (for tests and the bench)."""
    path = path or socket_path(warehouse)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(path))
            sock.sendall(b"{}\n")  # not a request: the worker drops it
            return True
        except OSError:
            time.sleep(0.05)
        finally:
            sock.close()
    return False


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m whizzy.cli.worker [--wait] WAREHOUSE``: serve `whizzy ask` until idle.

    With ``--wait`` it only waits until a worker for WAREHOUSE listens (exit 1 if none
    does within two minutes): what the bench runs before timing asks through a worker.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) == 2 and args[0] == "--wait":
        return 0 if wait_for_worker(Path(args[1])) else 1
    if len(args) != 1:
        print("usage: python -m whizzy.cli.worker [--wait] WAREHOUSE", file=sys.stderr)
        return 2
    import signal

    # `terminate()` (SIGTERM) ends the worker through its cleanup: socket and lock removed
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    worker = Worker(Path(args[0]))
    if not worker.lock():
        return 0  # another worker serves this warehouse
    try:
        worker.warm()  # before listening: a client that connects gets a warm answer
        worker.listen()
        worker.serve()
    finally:
        worker.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
