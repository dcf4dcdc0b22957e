import json
import re
import shutil

import pytest

from whizzy.cli import main
from whizzy.cli.ask import _print
from whizzy.warehouse.connection import manifest_path_for


def _copy(built_warehouse, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, path)
    shutil.copyfile(manifest_path_for(built_warehouse), manifest_path_for(path))
    return path


def test_ask_json_one_object_per_question_and_thread_continues(built_warehouse, tmp_path,
                                                                capsys):
    path = _copy(built_warehouse, tmp_path)
    assert main(["ask", "--warehouse", str(path), "--json", "--thread", "t1",
                 "What was our win rate last quarter?", "and this quarter?"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    for key in ("question", "intent", "models", "sql", "columns", "rows", "records", "answer",
                "chart", "follow_ups", "as_of_date", "elapsed_ms"):
        assert key in first
    assert "Q4 2026" in second["answer"]
    # the same id continues the thread across calls (SQLite checkpoints beside the warehouse)
    assert main(["ask", "--warehouse", str(path), "--json", "--thread", "t1", "why?"]) == 0
    third = json.loads(capsys.readouterr().out.strip())
    assert third["intent"] == "analytics" and third["sql"]
    assert (tmp_path / "checkpoints.sqlite").is_file()


def test_ask_plain_text(built_warehouse, tmp_path, capsys):
    path = _copy(built_warehouse, tmp_path)
    assert main(["--warehouse", str(path), "ask", "--sql", "top 3 reps by win rate"]) == 0
    out = capsys.readouterr().out
    assert "SELECT" in out and "Top 3" in out
    assert main(["--warehouse", str(path), "ask", "top 3 reps by win rate"]) == 0
    assert "SELECT" not in capsys.readouterr().out  # the SQL only with --sql


def test_ask_without_a_warehouse_says_how_to_fix(tmp_path, capsys):
    assert main(["ask", "--warehouse", str(tmp_path / "none.duckdb"), "win rate"]) == 2
    assert "whizzy data generate" in capsys.readouterr().err


# --------------------------------------------------------------------------------------
# Data is shown as text (issue 17, finding 7)

HOSTILE = {
    "markup": "Broken [/b] Corp",
    "link": "[link=http://evil.example]Acme[/link]",
    "lowercase": "[red]Globex[/red] and [dim]Initech[/dim]",
    "clear screen": "Umbrella\x1b[2J\x1b[H",
    "title": "Hooli\x1b]0;pwned\x07",
    "osc 8": "\x1b]8;;http://evil.example\x1b\\Vandelay\x1b]8;;\x1b\\",
    "8-bit csi": "Stark\x9b31m",
    "bidi": "Wayne\u202eevil",
}


def hostile_result() -> dict:
    names = list(HOSTILE.values())
    return {
        "question": "who are the [bold]top[/bold] accounts?",
        "answer": "The top accounts are " + ", ".join(names) + ".",
        "columns": ["account_name", "[i]amount[/i]"],
        "rows": [[name, 1000 + k] for k, name in enumerate(names)],
        "sql": ["select '\x1b]0;x\x07' as account_name"],
        "follow_ups": ["and for Broken [/b] Corp?"],
        "intent": "analytics",
        "models": ["m_accounts"],
        "elapsed_ms": 12.0,
    }


SGR = re.compile(r"\x1b\[[0-9;]*m")  # Rich's own colours, when it thinks it is on a terminal


def shown(out: str) -> str:
    """What a terminal shows: Rich's own colours taken out; control characters must not be."""
    text = SGR.sub("", out)
    for forbidden in ("\x1b", "\x07", "\x9b", "\u202e"):
        assert forbidden not in text, (forbidden, text)
    return " ".join(text.split())


#: What each hostile name looks like on screen: itself, less its control characters.
VISIBLE = {
    "markup": "Broken [/b] Corp",
    "link": "[link=http://evil.example]Acme[/link]",
    "lowercase": "[red]Globex[/red] and [dim]Initech[/dim]",
    "clear screen": "Umbrella[2J[H",
    "title": "Hooli]0;pwned",
    "osc 8": "]8;;http://evil.example\\Vandelay]8;;\\",
    "8-bit csi": "Stark31m",
    "bidi": "Wayneevil",
}


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
@pytest.mark.parametrize("kind", list(HOSTILE))
def test_each_hostile_name_prints_as_text(kind, terminal, monkeypatch, capsys):
    if terminal:
        monkeypatch.setenv("FORCE_COLOR", "1")  # Rich styles, and would emit OSC 8 links
    else:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
    name = HOSTILE[kind]
    result = {**hostile_result(), "answer": f"Top account: {name}.", "rows": [[name, 1]],
              "follow_ups": [f"and for {name}?"]}
    _print(result, "t1")
    flat = shown(capsys.readouterr().out)
    assert f"Top account: {VISIBLE[kind]}." in flat
    assert f"and for {VISIBLE[kind]}?" in flat


@pytest.mark.parametrize("terminal", [False, True], ids=["pipe", "terminal"])
def test_every_field_of_an_answer_prints_as_text(terminal, monkeypatch, capsys):
    if terminal:
        monkeypatch.setenv("FORCE_COLOR", "1")
    else:
        monkeypatch.delenv("FORCE_COLOR", raising=False)
    _print(hostile_result(), "t-[b]1")
    flat = shown(capsys.readouterr().out)
    for literal in ("[bold]top[/bold]", "[i]amount[/i]", "and for Broken [/b] Corp?",
                    "t-[b]1", *VISIBLE.values()):
        assert literal in flat, literal


@pytest.fixture()
def hostile_assistant(monkeypatch, tmp_path):
    """`whizzy ask` against an assistant whose every answer is `hostile_result()`."""
    import whizzy.assistant
    import whizzy.warehouse.reader

    class Assistant:
        def __init__(self, *args, **kwargs):
            pass

        def ask(self, question, thread_id):
            return hostile_result()

    monkeypatch.setattr(whizzy.assistant, "Assistant", Assistant)
    monkeypatch.setattr(whizzy.warehouse.reader, "open_warehouse", lambda path: None)
    return ["ask", "--engine", "offline", "--warehouse", str(tmp_path / "w.duckdb")]


def test_whizzy_ask_prints_hostile_answers_as_text(hostile_assistant, capsys):
    assert main([*hostile_assistant, "--thread", "t1", "who?"]) == 0  # MarkupError before
    out = capsys.readouterr().out
    assert "Broken [/b] Corp" in out and "\x1b" not in out and "\x07" not in out


def test_whizzy_ask_json_escapes_every_control_character(hostile_assistant, capsys):
    assert main([*hostile_assistant, "--json", "who?"]) == 0
    line = capsys.readouterr().out.strip()
    assert not re.search("[\x00-\x1f\x7f-\x9f\u202a-\u202e]", line)
    assert json.loads(line)["rows"] == json.loads(json.dumps(hostile_result()["rows"]))


def test_error_messages_carry_no_control_characters(tmp_path, capsys):
    folder = tmp_path / "\x1b]0;pwned\x07export"
    assert main(["data", "import", str(folder), "--warehouse", str(tmp_path / "w.duckdb")]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err and "]0;pwnedexport" in err
