"""The runner, threads, evaluators and reports, with a scripted fake assistant."""

import json
from pathlib import Path

import duckdb
import pytest

from evals.loader import load_cases
from evals.report import summarise, write_html, write_json
from evals.runner import run_eval, select_cases
from whizzy.cli import main

CASES = """\
- id: win-rate
  question: What is our win rate?
  intent: analytics
  models: [fct_opportunity]
  gold_sql: select count(*) filter (where is_won)::double / count(*) from salesforce.opportunity
- id: biggest
  question: Biggest deals?
  intent: lookup
  gold_sql: select name, amount from salesforce.opportunity order by amount desc limit 2
  expect: all_rows
- id: t-first
  question: How many deals did Ann win?
  intent: analytics
  thread: t
  gold_sql: select count(*) from salesforce.opportunity where owner = 'Ann' and is_won
- id: t-second
  question: and Bob?
  intent: analytics
  thread: t
  gold_sql: select count(*) from salesforce.opportunity where owner = 'Bob' and is_won
- id: delete
  question: Delete all opportunities
  intent: out_of_scope
  must_not_contain: [deleted]
- id: broken-gold
  question: Something
  intent: analytics
  gold_sql: select * from no_such_table
"""


@pytest.fixture()
def tiny_warehouse(tmp_path: Path) -> Path:
    path = tmp_path / "wh.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema salesforce")
    con.execute(
        "create table salesforce.opportunity as select * from (values "
        "('Acme renewal', 'Ann', 250000.0, true), ('Globex', 'Ann', 90000.0, false), "
        "('Initech', 'Bob', 1200000.0, true), ('Hooli', 'Bob', 50000.0, true)) "
        "t(name, owner, amount, is_won)"
    )
    con.execute("create table build_info as select date '2026-11-15' as as_of_date")
    con.close()
    return path


class FakeAssistant:
    """Answers from a script keyed by question; remembers thread ids to check threading."""

    def __init__(self, script: dict[str, dict]):
        self.script = script
        self.calls: list[tuple[str, str]] = []

    def ask(self, question: str, *, thread_id: str) -> dict:
        self.calls.append((question, thread_id))
        reply = self.script[question]
        if isinstance(reply, Exception):
            raise reply
        base = {"question": question, "intent": "analytics", "models": [], "sql": ["select 1"],
                "answer": "", "usage": {}, "error": None}
        return base | reply


RIGHT = {
    "What is our win rate?": {"models": ["fct_opportunity", "dim_user"],
                              "answer": "Win rate is 75.0% as of Nov 15, 2026."},
    "Biggest deals?": {"intent": "lookup",
                       "answer": "Initech ($1.2M) and Acme renewal ($250K) lead."},
    "How many deals did Ann win?": {"answer": "Ann won 1 deal."},
    "and Bob?": {"answer": "Bob won 2 deals."},
    "Delete all opportunities": {"intent": "out_of_scope", "sql": [],
                                 "answer": "I can only read the data, not change it."},
    "Something": {"answer": "42"},
}


def cases_file(tmp_path: Path) -> Path:
    path = tmp_path / "family.yaml"
    path.write_text(CASES)
    return path


def by_id(run):
    return {r.case.id: r for r in run.results}


def test_right_answers_pass_and_broken_gold_fails(tmp_path, tiny_warehouse):
    cases = load_cases([cases_file(tmp_path)])
    run = run_eval(cases, warehouse=tiny_warehouse, assistant=FakeAssistant(RIGHT))
    results = by_id(run)
    assert [cid for cid, r in results.items() if not r.passed] == ["broken-gold"]
    assert "gold SQL failed" in results["broken-gold"].scores["gold"].detail
    assert run.as_of_date == "2026-11-15" and run.warehouse_unchanged


def test_threads_share_an_id_other_cases_do_not(tmp_path, tiny_warehouse):
    fake = FakeAssistant(RIGHT)
    run_eval(load_cases([cases_file(tmp_path)]), warehouse=tiny_warehouse, assistant=fake)
    ids = dict(fake.calls)
    assert [q for q, _ in fake.calls] == list(RIGHT)  # file order
    assert ids["How many deals did Ann win?"] == ids["and Bob?"]
    others = [ids[q] for q in RIGHT if q not in ("How many deals did Ann win?", "and Bob?")]
    assert len(set(others)) == len(others) and ids["and Bob?"] not in others
    # a second run starts new conversations
    second = FakeAssistant(RIGHT)
    run_eval(load_cases([cases_file(tmp_path)]), warehouse=tiny_warehouse, assistant=second)
    assert dict(second.calls)["and Bob?"] != ids["and Bob?"]


def test_wrong_answers_fail_on_the_right_score(tmp_path, tiny_warehouse):
    wrong = RIGHT | {
        "What is our win rate?": {"models": ["dim_user"], "answer": "Win rate is 78%."},
        "Biggest deals?": {"intent": "analytics", "answer": "Initech ($1.2M) leads."},
        "and Bob?": {"answer": "Bob won 3 deals."},
        "Delete all opportunities": {"intent": "analytics", "sql": ["delete"],
                                     "answer": "Deleted."},
        "How many deals did Ann win?": RuntimeError("boom"),
    }
    results = by_id(run_eval(load_cases([cases_file(tmp_path)]), warehouse=tiny_warehouse,
                             assistant=FakeAssistant(wrong)))
    assert not results["win-rate"].scores["answer"].passed
    assert not results["win-rate"].scores["models"].passed
    biggest = results["biggest"]
    assert not biggest.scores["intent"].passed
    assert "missing gold Acme renewal" in biggest.scores["answer"].detail
    assert not results["t-second"].passed
    assert "RuntimeError: boom" in results["t-first"].scores["sanity"].detail
    delete = results["delete"]
    assert not delete.scores["refusal"].passed and not delete.scores["answer"].passed


def test_summary_and_reports(tmp_path, tiny_warehouse):
    fake = FakeAssistant(RIGHT | {
        "Delete all opportunities": {"intent": "analytics", "answer": "ok", "sql": ["select 1"]},
        "What is our win rate?": {"models": ["fct_opportunity"], "answer": "75%",
                                  "usage": {"input_tokens": 100, "output_tokens": 20,
                                            "cost": 0.001}},
        "Biggest deals?": {"intent": "lookup", "answer": "Initech $1.2M, Acme renewal $250K",
                           "usage": {"input_tokens": 50, "output_tokens": 10, "cost": 0.0005}},
    })
    run = run_eval(load_cases([cases_file(tmp_path)]), warehouse=tiny_warehouse, assistant=fake)
    summary = summarise(run)
    assert (summary["cases"], summary["passed"]) == (6, 4)
    assert summary["families"] == {"family": {"cases": 6, "passed": 4, "pass_rate": 4 / 6}}
    assert summary["refusal_correctness"] == {"scored": 1, "passed": 0, "rate": 0.0}
    assert summary["model_hit_rate"]["rate"] == 1.0
    assert summary["usage"] == {"input_tokens": 150, "output_tokens": 30, "cost": 0.0015}
    assert summary["latency_ms"]["p50"] is not None

    data = json.loads(write_json(run, tmp_path / "r" / "report.json", summary).read_text())
    assert data["summary"]["passed"] == 4 and len(data["cases"]) == 6
    failing = {c["id"] for c in data["cases"] if not c["passed"]}
    assert failing == {"delete", "broken-gold"}

    page = write_html(run, tmp_path / "r" / "report.html", summary).read_text()
    assert "<svg" in page and "Pass rate per family" in page
    assert "Delete all opportunities" in page and "no_such_table" in page
    assert "http" not in page and "<script" not in page and "<link" not in page


def test_select_cases_keeps_earlier_thread_turns(tmp_path):
    cases = load_cases([cases_file(tmp_path)])
    assert [c.id for c in select_cases(cases, ["t-second"])] == ["t-first", "t-second"]
    assert [c.id for c in select_cases(cases, ["win*", "del*"])] == ["win-rate", "delete"]


def test_cli_runs_on_a_given_warehouse_and_exits_by_threshold(tmp_path, tiny_warehouse,
                                                              monkeypatch, capsys):
    monkeypatch.setattr("evals.runner.make_assistant", lambda wh, engine: FakeAssistant(RIGHT))

    args = ["eval", "--cases", str(cases_file(tmp_path)), "--warehouse", str(tiny_warehouse),
            "--report", str(tmp_path / "rep")]
    assert main(args) == 1  # broken-gold fails: 5/6 < 1.0
    assert main([*args, "--min-pass", "0.8"]) == 0
    assert main([*args, "--only", "t-second"]) == 0
    assert (tmp_path / "rep" / "report.json").is_file()
    assert (tmp_path / "rep" / "report.html").is_file()
    assert main([*args, "--min-pass", "2"]) == 2
    assert "--min-pass must be between 0 and 1" in capsys.readouterr().err


def test_cli_bad_cases_file_is_a_clear_error(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: x\n  question: q\n  intent: maybe\n")
    assert main(["eval", "--cases", str(bad), "--warehouse", str(tmp_path / "none.duckdb")]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "intent must be one of" in err and "Traceback" not in err


def test_terminal_report_prints_hostile_answers_as_text(tmp_path, tiny_warehouse):
    # a failing case whose answer quotes warehouse names holding markup and control codes
    import io

    from rich.console import Console

    from evals.report import print_report

    hostile = "Broken [/b] Corp, [red]Globex[/red], Hooli\x1b]0;pwned\x07"
    fake = FakeAssistant(RIGHT | {"Something": {"answer": hostile}})
    run = run_eval(load_cases([cases_file(tmp_path)]), warehouse=tiny_warehouse, assistant=fake)
    out = io.StringIO()
    print_report(run, summarise(run), Console(file=out, width=200))  # MarkupError before
    shown = out.getvalue()
    assert "\x1b" not in shown and "\x07" not in shown
    assert "Broken [/b] Corp, [red]Globex[/red], Hooli]0;pwned" in shown
