"""`whizzy feedback export`: rated answers become eval cases the eval loader accepts."""

from __future__ import annotations

import json
import sqlite3

import duckdb
import pytest
import yaml

from evals.evaluators import gold_values
from evals.loader import load_file
from evals.matching import matches
from whizzy.chat.datalayer import ensure_schema
from whizzy.chat.feedback import cases_for, export_cases, read_turns
from whizzy.cli import main

MAIN_SQL = (
    "select quarter_label, win_rate, won_count from m_pipeline_health "
    "where quarter_label = '2026-Q3'"
)


def _add_thread(con, thread_id, user="local"):
    con.execute('insert into threads ("id", "createdAt", "userIdentifier") values (?, ?, ?)',
                (thread_id, "2026-11-16T10:00:00Z", user))


def _add_answer(con, step_id, thread_id, at, meta, *, rating=None, comment=None):
    """An answer as the chat stores it: a message under the run step of on_message.

    Chainlit 2's thumbs rate the run (the message's parent step), so the rating goes there.
    """
    run_id = f"run-{step_id}"
    con.execute(
        'insert into steps ("id", "name", "type", "threadId", "streaming", "output", '
        '"createdAt", "metadata") values (?, ?, ?, ?, 0, ?, ?, ?)',
        (run_id, "on_message", "run", thread_id, "", at, "{}"),
    )
    con.execute(
        'insert into steps ("id", "name", "type", "threadId", "parentId", "streaming", '
        '"output", "createdAt", "metadata") values (?, ?, ?, ?, ?, 0, ?, ?, ?)',
        (step_id, "Whizzy", "assistant_message", thread_id, run_id, meta.get("answer", ""), at,
         json.dumps({"whizzy": meta})),
    )
    if rating is not None:
        con.execute('insert into feedbacks ("id", "forId", "threadId", "value", "comment") '
                    "values (?, ?, ?, ?, ?)", (f"fb-{step_id}", run_id, thread_id, rating,
                                               comment))


@pytest.fixture
def chat_db(tmp_path):
    db = ensure_schema(tmp_path / "chat.sqlite")
    con = sqlite3.connect(db)
    _add_thread(con, "aaaaaaaa-1111")
    _add_answer(con, "s1-up-0000", "aaaaaaaa-1111", "2026-11-16T10:00:01Z", {
        "question": "What was our win rate in Q3 2026?", "intent": "analytics",
        "models": ["m_pipeline_health"], "sql": [MAIN_SQL],
        "columns": ["quarter_label", "win_rate", "won_count"],
        "first_row": ["2026-Q3", 0.3125, 41],
        "answer": "Win rate in Q3 2026 was 31.3% (41 won). Up 2 points.",
    }, rating=1, comment="right")
    _add_thread(con, "bbbbbbbb-2222")
    _add_answer(con, "s2-ctx-000", "bbbbbbbb-2222", "2026-11-16T11:00:01Z", {
        "question": "How healthy is the pipeline?", "intent": "analytics",
        "models": ["m_pipeline_health"], "sql": ["select 72"], "columns": ["score"],
        "first_row": [72], "answer": "The health score is 72 (Good).",
    })
    _add_answer(con, "s3-down-00", "bbbbbbbb-2222", "2026-11-16T11:00:09Z", {
        "question": "and last quarter?", "intent": "analytics",
        "models": ["m_pipeline_health"], "sql": ["select 65"], "columns": ["score"],
        "first_row": [65], "answer": "The health score was 65 in Q2 2026. It fell.",
    }, rating=0, comment="wrong quarter")
    _add_thread(con, "cccccccc-3333")
    _add_answer(con, "s4-none-00", "cccccccc-3333", "2026-11-16T12:00:00Z", {
        "question": "Unrated question", "intent": "help", "answer": "Help text."})
    con.commit()
    con.close()
    return db


def test_only_rated_answers_and_their_thread_context_are_exported(chat_db):
    cases = [c.case for c in cases_for(read_turns(chat_db))]
    assert [c["question"] for c in cases] == [
        "What was our win rate in Q3 2026?", "How healthy is the pipeline?", "and last quarter?",
    ]
    assert "thread" not in cases[0]
    assert cases[1]["thread"] == cases[2]["thread"] == "chat-bbbbbbbb"
    assert cases[1]["id"].startswith("context-") and cases[2]["id"].startswith("fb-down-")


def test_thumbs_up_pins_the_stated_values_through_gold_sql(chat_db):
    up = cases_for(read_turns(chat_db))[0].case
    assert up["intent"] == "analytics" and up["models"] == ["m_pipeline_health"]
    assert up["expect"] == "first_row"
    con = duckdb.connect()
    con.execute("create table m_pipeline_health as select '2026-Q3' as quarter_label, "
                "0.3125 as win_rate, 41 as won_count, 0 as other union all "
                "select '2026-Q2', 0.2, 30, 1")
    rows = con.execute(up["gold_sql"]).fetchall()
    gold = gold_values(rows, up["expect"])
    assert gold == ["2026-Q3", 0.3125, 41]
    answer = "Win rate in Q3 2026 was 31.3% (41 won). Up 2 points."
    assert all(matches(g, answer) for g in gold)


def test_thumbs_down_forbids_the_rejected_answer_and_asks_for_gold(chat_db):
    item = cases_for(read_turns(chat_db))[2]
    assert item.case["must_not_contain"] == ["The health score was 65 in Q2 2026."]
    assert "gold_sql" not in item.case and "expect" not in item.case
    text = " ".join(item.comments)
    assert "thumbs down" in text and "wrong quarter" in text and "Write gold_sql" in text


def test_export_is_valid_for_the_eval_loader(chat_db, tmp_path):
    text, count = export_cases(chat_db)
    assert count == 3
    out = tmp_path / "feedback.yaml"
    out.write_text(text)
    loaded = load_file(out)
    assert [c.intent for c in loaded] == ["analytics"] * 3
    assert loaded[0].gold_sql.startswith('select "quarter_label", "win_rate", "won_count"')
    raw = yaml.safe_load(text)
    allowed = {"id", "question", "intent", "models", "gold_sql", "expect", "tolerance", "thread",
               "must_contain", "must_not_contain"}
    assert all(set(c) <= allowed for c in raw)
    assert "# thumbs up on 2026-11-16 by local: right" in text


def test_cli_writes_the_file(chat_db, tmp_path, capsys):
    out = tmp_path / "cases" / "feedback.yaml"
    assert main(["feedback", "export", "--chat-db", str(chat_db), "--out", str(out)]) == 0
    assert len(load_file(out)) == 3
    assert "wrote 3 case(s)" in capsys.readouterr().err


def test_cli_finds_the_chat_db_beside_the_warehouse(chat_db, capsys):
    wh = chat_db.parent / "warehouse.duckdb"
    assert main(["feedback", "export", "--warehouse", str(wh)]) == 0
    assert capsys.readouterr().out.count("question:") == 3


def test_cli_explains_a_missing_chat_db(tmp_path, capsys):
    assert main(["feedback", "export", "--chat-db", str(tmp_path / "none.sqlite")]) == 2
    err = capsys.readouterr().err
    assert "No chat database" in err and "whizzy chat" in err


def test_an_empty_chat_db_exports_no_cases(tmp_path):
    text, count = export_cases(ensure_schema(tmp_path / "chat.sqlite"))
    assert count == 0 and yaml.safe_load(text) is None


def test_a_rating_on_the_message_itself_counts_too(tmp_path):
    db = ensure_schema(tmp_path / "chat.sqlite")
    con = sqlite3.connect(db)
    _add_thread(con, "dddddddd-4444")
    _add_answer(con, "s5-msg-000", "dddddddd-4444", "2026-11-16T13:00:00Z",
                {"question": "Hi", "intent": "smalltalk", "answer": "Hello!"})
    con.execute('insert into feedbacks ("id", "forId", "value") values (?, ?, ?)',
                ("f5", "s5-msg-000", 0))
    con.commit()
    con.close()
    turns = read_turns(db)
    assert [(t.question, t.rating) for t in turns] == [("Hi", 0)]
