"""`whizzy ask --engine llm --json` and `whizzy eval --engine llm` against the local stub,
configured only through environment variables, as a user would.
"""

from __future__ import annotations

import json
import shutil

import pytest
from llm_replay import OfflineReplay
from llm_support import SECRET
from openai_stub import fail, text

from whizzy.cli import main
from whizzy.core.formatting import format_percent
from whizzy.warehouse.connection import connect_readonly, manifest_path_for

pytestmark = pytest.mark.slow  # needs the built demo org

EVAL_CASES = ["win-rate-last-quarter", "reps-top-3-win-rate", "health-this-quarter",
              "lookup-largest-open-deal", "refuse-weather", "smalltalk-hi", "hostile-drop-table"]


@pytest.fixture
def warehouse(built_warehouse, tmp_path):
    """A copy: `whizzy ask` keeps its threads beside the warehouse."""
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, path)
    shutil.copyfile(manifest_path_for(built_warehouse), manifest_path_for(path))
    return path


@pytest.fixture
def llm_env(monkeypatch, tmp_path, llm_stub):
    """The environment of a user pointing Whizzy at an OpenAI-compatible server."""
    for name in ("AZURE_OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT", "WHIZZY_ENGINE",
                 "WHIZZY_MODEL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WHIZZY_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    monkeypatch.setenv("OPENAI_BASE_URL", llm_stub.base_url)
    monkeypatch.setenv("WHIZZY_LLM_TIMEOUT", "3")
    monkeypatch.setenv("WHIZZY_LLM_RETRIES", "0")
    return llm_stub


@pytest.fixture(scope="module")
def last_quarter_gold(built_warehouse) -> str:
    con = connect_readonly(built_warehouse)
    value = con.execute(
        "select count(*) filter (where is_won)::double / count(*) from salesforce.opportunity "
        "where not is_deleted and is_closed and close_date between date '2026-07-01' "
        "and date '2026-09-30'").fetchone()[0]
    con.close()
    return format_percent(value)


def _lines(capsys) -> tuple[list[dict], str]:
    captured = capsys.readouterr()
    return [json.loads(line) for line in captured.out.strip().splitlines()], captured.err


def test_ask_engine_llm_json(warehouse, llm_env, capsys, last_quarter_gold):
    replay = OfflineReplay(warehouse)
    llm_env.queue(*[replay] * 3, *[replay] * 2, text("The three reps are in the table below."))
    assert main(["ask", "--warehouse", str(warehouse), "--engine", "llm", "--json",
                 "--thread", "t1", "What was our win rate last quarter?",
                 "top 3 reps by win rate"]) == 0
    (first, second), err = _lines(capsys)
    assert first["engine"] == "llm" and first["llm_fallbacks"] == []
    assert last_quarter_gold in first["answer"]
    usage = first["usage"]
    assert usage["calls"] == 3 and usage["input_tokens"] > 0 and usage["output_tokens"] > 0
    assert [n["node"] for n in usage["nodes"]] == ["classify_intent", "plan_query",
                                                   "write_answer"]
    assert all(n["latency_ms"] > 0 for n in usage["nodes"])
    # the LLM's own wording is shown when every figure in it is grounded (here: none)
    assert second["answer"] == "The three reps are in the table below."
    assert second["rows"] and len(second["rows"]) >= 3
    assert SECRET not in json.dumps([first, second]) + err


def test_ask_uses_the_llm_when_a_key_is_set(warehouse, llm_env, capsys, last_quarter_gold):
    llm_env.queue(*[OfflineReplay(warehouse)] * 3)
    assert main(["ask", "--warehouse", str(warehouse), "--json",
                 "What was our win rate last quarter?"]) == 0
    (out,), _ = _lines(capsys)
    assert out["engine"] == "llm" and last_quarter_gold in out["answer"]
    assert main(["ask", "--warehouse", str(warehouse), "--json", "--engine", "offline",
                 "What was our win rate last quarter?"]) == 0
    (out,), _ = _lines(capsys)
    assert out["engine"] == "offline" and out["usage"] == {} and len(llm_env.requests) == 3


def test_ask_engine_llm_when_the_endpoint_fails(warehouse, llm_env, capsys, last_quarter_gold):
    llm_env.queue(fail(500, "upstream exploded"))
    assert main(["ask", "--warehouse", str(warehouse), "--engine", "llm", "--json",
                 "What was our win rate last quarter?"]) == 0
    (out,), _ = _lines(capsys)
    assert last_quarter_gold in out["answer"]
    assert "(The LLM was unavailable — its endpoint returned an error" in out["answer"]
    assert out["llm_fallbacks"][0]["kind"] == "server_error"
    assert out["usage"]["fallbacks"] == 1 and out["error"] is None


def test_ask_engine_llm_plain_text(warehouse, llm_env, capsys, last_quarter_gold):
    llm_env.queue(*[OfflineReplay(warehouse)] * 3)
    assert main(["ask", "--warehouse", str(warehouse), "--engine", "llm", "--sql",
                 "What was our win rate last quarter?"]) == 0
    out = capsys.readouterr().out
    assert last_quarter_gold in out and "SELECT" in out and "LLM 3 call(s)" in out


def test_ask_engine_llm_without_configuration(warehouse, monkeypatch, tmp_path, capsys):
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY",
                 "AZURE_OPENAI_ENDPOINT", "WHIZZY_ENGINE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WHIZZY_DOTENV", str(tmp_path / "no.env"))
    assert main(["ask", "--warehouse", str(warehouse), "--engine", "llm", "win rate"]) == 2
    err = capsys.readouterr().err
    assert "OPENAI_API_KEY" in err and "OPENAI_BASE_URL" in err and "AZURE_OPENAI_API_KEY" in err
    assert not (warehouse.parent / "checkpoints.sqlite").exists()
    # offline needs nothing
    assert main(["ask", "--warehouse", str(warehouse), "--json", "win rate"]) == 0
    assert json.loads(capsys.readouterr().out)["engine"] == "offline"


def test_eval_engine_llm_reports_accuracy_latency_and_tokens(built_warehouse, llm_env, tmp_path,
                                                             capsys):
    llm_env.queue(*[OfflineReplay(built_warehouse)] * 40)
    report = tmp_path / "report"
    code = main(["eval", "--engine", "llm", "--warehouse", str(built_warehouse), "--only",
                 *EVAL_CASES, "--report", str(report), "--min-pass", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    data = json.loads((report / "report.json").read_text())
    summary, cases = data["summary"], data["cases"]
    assert summary["engine"] == "llm" and summary["pass_rate"] == 1.0
    assert summary["cases"] == len(EVAL_CASES)
    assert summary["usage"]["input_tokens"] > 0 and summary["usage"]["calls"] >= 10
    assert summary["usage"]["fallbacks"] == 0
    by_id = {c["id"]: c for c in cases}
    for case_id in ("win-rate-last-quarter", "reps-top-3-win-rate", "health-this-quarter",
                    "lookup-largest-open-deal"):
        usage = by_id[case_id]["usage"]
        assert usage["calls"] == 3 and usage["input_tokens"] > 0 and usage["output_tokens"] > 0
        assert by_id[case_id]["elapsed_ms"] > 0 and by_id[case_id]["llm_fallbacks"] == []
    # hostile input never reaches the LLM
    assert by_id["hostile-drop-table"]["usage"]["calls"] == 0
    assert "Per case (LLM engine)" in out and "Tokens in" in out
    assert "Per case: latency and LLM usage" in (report / "report.html").read_text()


def test_eval_engine_llm_with_a_dead_endpoint_still_answers(built_warehouse, llm_env, tmp_path,
                                                            capsys):
    llm_env.queue(*[fail(503, "down")] * 40)
    report = tmp_path / "report"
    code = main(["eval", "--engine", "llm", "--warehouse", str(built_warehouse), "--only",
                 "win-rate-last-quarter", "reps-top-3-win-rate", "refuse-weather",
                 "--report", str(report), "--min-pass", "1"])
    assert code == 0, capsys.readouterr().out
    cases = json.loads((report / "report.json").read_text())["cases"]
    for case in cases:
        assert case["passed"] and case["llm_fallbacks"][0]["kind"] == "server_error"
        assert "(The LLM was unavailable" in case["answer"]
        assert case["usage"]["calls"] == 1 and case["usage"]["fallbacks"] == 1


def test_chat_engine_follows_the_key_and_refuses_an_unconfigured_llm(monkeypatch, tmp_path):
    from whizzy.chat.options import ChatOptions
    from whizzy.cli.chat import chat_env
    from whizzy.core.errors import ConfigError

    assert ChatOptions.from_env({"OPENAI_API_KEY": SECRET}).engine == "llm"
    assert ChatOptions.from_env({}).engine == "offline"
    assert ChatOptions.from_env({"OPENAI_API_KEY": SECRET,
                                 "WHIZZY_ENGINE": "offline"}).engine == "offline"
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY",
                 "AZURE_OPENAI_ENDPOINT", "WHIZZY_AUTH_USERS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("WHIZZY_DOTENV", str(tmp_path / "no.env"))
    monkeypatch.setenv("WHIZZY_ENGINE", "llm")
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        chat_env(tmp_path / "w.duckdb", persist=False)
