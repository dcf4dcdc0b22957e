"""`whizzy ask` in text mode: formatted and fitted on a terminal (a pty), whole lines in a pipe."""

from __future__ import annotations

import fcntl
import os
import pty
import re
import shutil
import struct
import subprocess
import sys
import termios
from pathlib import Path

import pytest

from whizzy.chat.tables import display_table
from whizzy.core.cells import table_text
from whizzy.warehouse.connection import manifest_path_for

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
QUESTION = "how healthy is Q3?"
COLUMNS = 100


@pytest.fixture(scope="module")
def warehouse(built_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("ask-text") / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, path)
    shutil.copyfile(manifest_path_for(built_warehouse), manifest_path_for(path))
    return path


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in {"FORCE_COLOR", "NO_COLOR", "COLUMNS", "LINES", "TERM"}}
    return {**env, "WHIZZY_ENGINE": "offline", "TERM": "xterm-256color"}


def _whizzy(warehouse: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "whizzy.cli", "ask", "--warehouse", str(warehouse),
            "--thread", "t", *args]


def run_in_pty(argv: list[str], columns: int = COLUMNS) -> str:
    """Run `argv` with stdout and stderr on a pseudo-terminal `columns` wide; all it printed."""
    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 50, columns, 0, 0))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=follower, stderr=follower,
                            env=_env(), close_fds=True)
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    assert proc.wait(timeout=300) == 0, b"".join(chunks).decode(errors="replace")
    return b"".join(chunks).decode("utf-8").replace("\r\n", "\n")


def test_ask_on_a_terminal_is_formatted_and_fits_its_width(warehouse):
    out = ANSI.sub("", run_in_pty(_whizzy(warehouse, QUESTION)))
    lines = out.splitlines()
    assert all(len(line.rstrip()) <= COLUMNS for line in lines), max(lines, key=len)
    flat = " ".join(out.split())
    # human labels, no raw column names; a quarter beside its label is not shown twice
    for raw in ("pipeline_health_score", "quarter_label", "health_status", "opportunity_name"):
        assert raw not in out
    rule = next(k for k, line in enumerate(lines) if line.startswith("───"))
    start = max(k for k in range(rule) if not lines[k].strip()) + 1
    header = " ".join(lines[start:rule]).split()  # a header may wrap between its words
    for label in ("Quarter", "Pipeline health score", "Health status", "Risk level",
                  "Key insight"):
        assert all(word in header for word in label.split()), (label, lines[start:rule])
    # the deals behind the number, money formatted as in the chat
    assert "The deals behind the figure" in out
    assert len(re.findall(r"\b\d{4}-\d{2}-\d{2}\b", out)) >= 10  # no column cut off at the edge
    assert re.search(r"\$\d{1,3},\d{3}\b", out), out
    assert not re.search(r"\b\d{5,}\.\d\b", out), "an unformatted amount"
    # no SQL unless asked
    assert "SELECT" not in out and "FROM" not in flat


def test_ask_in_a_pipe_prints_whole_unwrapped_lines(warehouse):
    done = subprocess.run(_whizzy(warehouse, QUESTION), capture_output=True, text=True,
                          env=_env(), timeout=300, check=True)
    out = done.stdout
    assert not ANSI.search(out) and "\x1b" not in out
    lines = out.splitlines()
    answer = lines[1]
    assert answer.startswith("Pipeline health score in Q3") and answer.endswith(".")
    assert len(answer) > 80  # one line, not wrapped at 80 columns
    row = next(line for line in lines if line.startswith("2026-Q3"))
    # the key insight whole (not cut at a width), then the score's four components' points
    assert len(row) > 120 and re.search(r"\(\d+ of 25 points\)\.(\s+\d+){4}$", row.rstrip()), row
    header = lines[lines.index(row) - 2]
    assert header.split("  ")[:2] == ["Quarter", "Pipeline health score"]
    deals = lines.index("The deals behind the figure:")
    assert lines[deals + 1].startswith("Opportunity name")
    assert re.search(r"\$\d{1,3},\d{3}\s+\d{4}-\d{2}-\d{2}$", lines[deals + 3])
    assert "SELECT" not in out


def test_ask_sql_and_no_records_flags(warehouse):
    done = subprocess.run(_whizzy(warehouse, "--sql", "--no-records", QUESTION),
                          capture_output=True, text=True, env=_env(), timeout=300, check=True)
    assert "SQL:" in done.stdout and "SELECT" in done.stdout
    assert "The deals behind" not in done.stdout


def test_ask_json_is_unchanged(warehouse):
    import json

    done = subprocess.run(_whizzy(warehouse, "--json", QUESTION), capture_output=True,
                          text=True, env=_env(), timeout=300, check=True)
    answer = json.loads(done.stdout)
    assert answer["columns"][:2] == ["quarter_label", "pipeline_health_score"]
    assert answer["sql"] and answer["records"]["rows"]


def test_terminal_cells_are_the_chats_cells():
    columns = ["owner_name", "win_rate", "won_amount", "avg_days_in_stage", "won_count",
               "close_date", "quarter_label", "quarter"]
    rows = [["Ann", 0.3125, 1240000.0, 42.36, 12, "2026-07-08", "2026-Q3", "2026-07-01"],
            ["Bo", 0.08, -1500, 7.0, 3, None, "2026-Q2", "2026-04-01"]]
    chat = display_table(columns, rows)
    labels, cells = table_text(columns, rows)
    assert labels == chat.columns.tolist()
    for ours, theirs in zip(cells, chat.itertuples(index=False), strict=True):
        # a missing cell: the chat's table shows pandas' nan, the terminal leaves it blank
        expected = ["" if v is None or v != v else str(v).removesuffix(".0") for v in theirs]
        assert ours == expected
