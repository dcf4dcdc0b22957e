"""Cases that hold on any org: bind placeholders, the gold macros, skipped cases, status."""

import datetime as dt

import duckdb
import pytest

from evals.checkgold import check
from evals.loader import load_cases
from evals.runner import bind_case, gold_connection, run_eval
from whizzy.core.errors import EvalCaseError

CASES = """\
- id: rep-wins
  question: How many deals did {{rep}} win?
  intent: analytics
  bind:
    rep: select owner from salesforce.opportunity group by owner order by count(*) desc limit 1
  gold_sql: select count(*) from salesforce.opportunity where owner = '{{rep}}' and is_won
- id: nobody
  question: And {{ghost}}?
  intent: analytics
  thread: t
  bind:
    ghost: select owner from salesforce.opportunity where owner = 'Nobody'
  gold_sql: select 1
- id: nobody-follow-up
  question: and last quarter?
  intent: analytics
  thread: t
- id: ask-back
  question: How is Linda doing?
  intent: analytics
  expect: clarify
"""


@pytest.fixture
def warehouse(tmp_path):
    path = tmp_path / "w.duckdb"
    con = duckdb.connect(str(path))
    con.execute("create schema salesforce")
    con.execute("create table salesforce.opportunity (owner varchar, is_won boolean)")
    con.execute("insert into salesforce.opportunity values ('Ann O''Hara', true), "
                "('Ann O''Hara', true), ('Bob', false)")
    con.execute("create table build_info as select date '2026-01-15' as as_of_date, "
                "2 as fiscal_year_start_month")
    con.close()
    return path


@pytest.fixture
def cases(tmp_path):
    file = tmp_path / "cases.yaml"
    file.write_text(CASES)
    return load_cases([file])


def test_bind_fills_question_and_quoted_gold(warehouse, cases):
    con = gold_connection(warehouse)
    bound = bind_case(con, cases[0])
    assert bound.question == "How many deals did Ann O'Hara win?"
    assert "owner = 'Ann O''Hara'" in bound.gold_sql
    assert con.execute(bound.gold_sql).fetchone()[0] == 2


def test_macros_follow_the_fiscal_start(warehouse):
    con = gold_connection(warehouse)
    row = con.execute("select q_start(as_of()), rel_q_start(-1), fy_of(as_of()), "
                      "q_name(rel_q_start(1)), rel_h_start(0), overall_start()").fetchone()
    assert row == (dt.date(2025, 11, 1), dt.date(2025, 8, 1), 2026, "Q1 FY2027",
                   dt.date(2025, 8, 1), dt.date(2024, 11, 1))


class Scripted:
    def ask(self, question, *, thread_id):
        status = "clarify" if "Linda" in question else "answered"
        return {"answer": "They won 2 deals.", "intent": "analytics", "sql": ["select 1"],
                "status": status}


def test_a_bind_with_no_value_skips_its_whole_thread(warehouse, cases):
    run = run_eval(cases, warehouse=warehouse, assistant=Scripted())
    assert [r.case.id for r in run.results] == ["rep-wins", "ask-back"]
    assert set(run.skipped) == {"nobody", "nobody-follow-up"}
    assert all(r.passed for r in run.results), [r.failures for r in run.results]


def test_clarify_expectation_fails_a_confident_answer(warehouse, cases):
    class Confident(Scripted):
        def ask(self, question, *, thread_id):
            return {**super().ask(question, thread_id=thread_id), "status": "answered"}

    run = run_eval(cases[3:], warehouse=warehouse, assistant=Confident())
    assert run.results[0].failures == ["status: status answered, expected clarify"]


def test_checkgold_reports_missing_values_and_errors(warehouse, tmp_path):
    file = tmp_path / "bad.yaml"
    file.write_text("- id: broken\n  question: q\n  intent: analytics\n"
                    "  gold_sql: select nope from salesforce.opportunity\n")
    lines = check([file], [warehouse])
    assert len(lines) == 1 and "gold SQL failed" in lines[0]


def test_loader_rejects_an_unbound_placeholder(tmp_path):
    file = tmp_path / "c.yaml"
    file.write_text("- id: x\n  question: How is {{rep}}?\n  intent: analytics\n")
    with pytest.raises(EvalCaseError, match="placeholder"):
        load_cases([file])
