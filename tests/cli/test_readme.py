"""The README's commands work as written: each is checked against the CLI, and run.

`readme_commands` takes every shell line of the README's ```bash blocks. The fast test
parses each `whizzy` line with the real argument parser (a renamed or misspelt flag fails
it) and dry-runs each `make` target. The slow test runs them all, in README order, on a
small generated org in a scratch folder (HOME and the warehouse point there), with these
changes only, each to keep it small or free of clashes, never to a flag's name:

- org sizes come down (`--opportunities 20000` → 400, `--sizes 10000,100000` → 400);
- servers (`whizzy chat`, `whizzy build --every`, `whizzy mcp --http`) get a free port, and
  are stopped once they are up (the chat answers HTTP, the first build is done, the MCP
  server listens); `whizzy mcp` over stdio gets a client that hangs up at once;
- `make` targets must be in the Makefile and are dry-run (`make -n`): `make test` would run
  this test again;
- `~/Downloads/sf-export/` is a CSV export of another small org, made beforehand.
"""

from __future__ import annotations

import contextlib
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from whizzy.cli import build_parser
from whizzy.core.settings import PROJECT_ROOT

README = PROJECT_ROOT / "README.md"
#: Size changes for the run (a pattern and its replacement); flags stay as written.
SMALLER = ((r"--opportunities \d+", "--opportunities 400"),
           (r"--sizes [\d,]+", "--sizes 400"))
#: How long a server may take to come up, and a one-shot command to finish (a busy 2-core CI).
SERVER_START_S = 240
COMMAND_S = 900


def readme_commands(text: str) -> list[str]:
    """Every shell line of the ```bash blocks of `text`, comments removed, in order."""
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.S | re.M):
        for line in block.splitlines():
            words = shlex.split(line, comments=True)
            if words:
                commands.append(shlex.join(words))
    return commands


def check(command: str) -> str | None:
    """Why `command` would not run as written (None when it would)."""
    words = shlex.split(command)
    if words[0] == "whizzy":
        try:
            build_parser().parse_args(words[1:])
        except SystemExit as exc:
            return f"{command!r}: the CLI rejects it (exit {exc.code})"
        return None
    if words[0] == "make":
        makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
        targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, flags=re.M))
        unknown = [t for t in words[1:] if t not in targets]
        if unknown:
            return f"{command!r}: the Makefile has no target {unknown[0]}"
        done = subprocess.run(["make", "-n", *words[1:]], cwd=PROJECT_ROOT,
                              capture_output=True, text=True, check=False)
        return None if done.returncode == 0 else f"{command!r}: {done.stderr.strip()}"
    if words[0] == "source":
        return None if (PROJECT_ROOT / words[1]).name == "activate" else f"{command!r}?"
    return f"{command!r}: not a command this test knows how to check"


def test_the_readme_has_usage_blocks():
    commands = readme_commands(README.read_text(encoding="utf-8"))
    assert "make run" in commands and "whizzy chat" in commands
    assert sum(c.startswith("whizzy ") for c in commands) >= 10


def test_every_readme_command_is_accepted_by_the_cli(capsys):
    problems = [p for c in readme_commands(README.read_text(encoding="utf-8"))
                if (p := check(c))]
    capsys.readouterr()  # argparse's usage text for a rejected line
    assert problems == []


@pytest.mark.parametrize("wrong", [
    ("--seed 42", "--sead 42"),
    ("feedback export feedback.yaml", "feedback export --output feedback.yaml"),
    ("--min-pass 0", "--min-passes 0"),
    ("make test ", "make tests "),
])
def test_a_wrong_flag_in_the_readme_fails_the_check(wrong, capsys):
    old, new = wrong
    text = README.read_text(encoding="utf-8")
    assert old in text
    problems = [p for c in readme_commands(text.replace(old, new, 1)) if (p := check(c))]
    capsys.readouterr()
    assert len(problems) == 1, problems


# --------------------------------------------------------------------------------------
# Running them


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def smaller(command: str) -> str:
    for pattern, replacement in SMALLER:
        command = re.sub(pattern, replacement, command)
    return command


def wait_until(condition, timeout: float, proc: subprocess.Popen, log: Path) -> None:
    """Poll `condition` until it holds; fail when the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while not condition():
        if proc.poll() is not None:
            pytest.fail(f"exited {proc.returncode} before it was up:\n{log.read_text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"not up after {timeout} s:\n{log.read_text()}")
        time.sleep(0.5)


def http_ok(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5) as response:
            return response.status == 200
    except OSError:
        return False


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(2)
        return s.connect_ex(("127.0.0.1", port)) == 0


def run_server(argv: list[str], env: dict, cwd: Path, log: Path, ready) -> None:
    with log.open("w") as out:
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_until(ready, SERVER_START_S, proc, log)
    finally:
        with contextlib.suppress(ProcessLookupError):  # it may have exited already
            os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.slow
def test_every_readme_command_runs(tmp_path: Path):
    home, work = tmp_path / "home", tmp_path / "work"
    work.mkdir()
    (work / "evals").symlink_to(PROJECT_ROOT / "evals")  # `--cases evals/heldout`
    bin_dir = Path(sys.executable).parent
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WHIZZY_")},
           "HOME": str(home), "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
           "WHIZZY_WAREHOUSE": str(work / "warehouse.duckdb"), "WHIZZY_ENGINE": "offline",
           "DO_NOT_TRACK": "1", "NO_COLOR": "1"}
    # the "real Salesforce export" the README imports: another small org, as CSV
    subprocess.run(["whizzy", "data", "generate", "--opportunities", "300", "--seed", "3",
                    "--warehouse", str(tmp_path / "other.duckdb")], env=env, check=True,
                   capture_output=True)
    subprocess.run(["whizzy", "data", "export", str(home / "Downloads" / "sf-export"),
                    "--warehouse", str(tmp_path / "other.duckdb")], env=env, check=True,
                   capture_output=True)
    ran = []
    for k, command in enumerate(readme_commands(README.read_text(encoding="utf-8"))):
        words = shlex.split(smaller(command).replace("~/", f"{home}/"))
        log = tmp_path / f"{k:02d}.log"
        if words[0] in {"source", "make"}:
            assert check(command) is None
            continue
        if words[:2] == ["whizzy", "chat"] and "--hash-password" in words:
            done = subprocess.run(words, cwd=work, env=env, input="s3cret\n",
                                  capture_output=True, text=True, timeout=COMMAND_S, check=False)
            assert done.returncode == 0 and done.stdout.startswith("scrypt:"), done.stderr
        elif words[:2] == ["whizzy", "chat"]:
            port = free_port()
            run_server([*words, "--port", str(port)], env, work, log, lambda p=port: http_ok(p))
        elif words[:2] == ["whizzy", "mcp"] and "--http" in words:
            port = free_port()
            run_server([*words, "--port", str(port)], env, work, log,
                       lambda p=port: port_open(p))
        elif words[:2] == ["whizzy", "mcp"]:  # stdio: the client hangs up at once
            done = subprocess.run(words, cwd=work, env=env, input="", capture_output=True,
                                  text=True, timeout=COMMAND_S, check=False)
            assert done.returncode == 0 and done.stdout == "", done.stderr
        elif words[:2] == ["whizzy", "build"] and "--every" in words:
            run_server(words, env, work, log, lambda log=log: "next build at" in log.read_text())
        else:
            done = subprocess.run(words, cwd=work, env=env, capture_output=True, text=True,
                                  timeout=COMMAND_S, check=False)
            assert done.returncode == 0, (command, done.stdout[-3000:], done.stderr[-3000:])
        ran.append(command)
    assert (work / "out" / "Opportunity.csv").is_file()  # whizzy data export out/
    assert (work / "feedback.yaml").is_file()  # whizzy feedback export feedback.yaml
    assert len(ran) >= 14, ran
