"""Every committed eval case asked through the MCP server's `ask` tool: the same figures as
`Assistant.ask`, and `whizzy eval --via mcp` reports the same pass rate as `whizzy eval`."""

from __future__ import annotations

import json

import pytest

from evals import CASES_DIR
from evals.loader import load_cases
from evals.report import summarise
from evals.runner import run_eval
from whizzy.cli import main
from whizzy.mcp.client import McpAssistant
from whizzy.mcp.server import ServerOptions, build_server

#: What differs between two askings of the same question (the time it took).
TIMING = {"elapsed_ms"}


def _same_json(response: dict) -> dict:
    """A response as `whizzy ask --json` prints it, without timing."""
    data = json.loads(json.dumps(response, default=str, ensure_ascii=False))
    return {k: v for k, v in data.items() if k not in TIMING}


@pytest.mark.slow
def test_every_eval_case_through_mcp_ask_matches_assistant_ask(offline_eval_run, eval_warehouse):
    server = build_server(ServerOptions(warehouse=eval_warehouse))
    via_mcp = run_eval(load_cases([CASES_DIR]), warehouse=eval_warehouse,
                       assistant=McpAssistant(server))
    assert [r.case.id for r in via_mcp.results] == [r.case.id for r in offline_eval_run.results]
    assert len(via_mcp.results) >= 100
    for mcp_result, direct in zip(via_mcp.results, offline_eval_run.results, strict=True):
        assert mcp_result.exception is None, (mcp_result.case.id, mcp_result.exception)
        got, want = _same_json(mcp_result.response), _same_json(direct.response)
        for key in ("answer", "columns", "rows", "records", "sql", "as_of_date", "not_applied",
                    "status", "intent"):
            assert got[key] == want[key], (mcp_result.case.id, key)
        assert got == want, mcp_result.case.id
        assert mcp_result.passed == direct.passed, mcp_result.case.id
    assert via_mcp.warehouse_unchanged
    assert summarise(via_mcp)["pass_rate"] == summarise(offline_eval_run)["pass_rate"]


@pytest.mark.slow
def test_whizzy_eval_via_mcp_reports_the_same_pass_rate(eval_warehouse, tmp_path, capsys):
    only = ["win-rate-*", "thread-*", "smalltalk-*", "refuse-*"]
    rates = {}
    for via in ("graph", "mcp"):
        code = main(["eval", "--via", via, "--warehouse", str(eval_warehouse), "--only", *only,
                     "--report", str(tmp_path / via)])
        captured = capsys.readouterr()
        out = captured.out + captured.err
        assert code == 0, out[-3000:]
        assert ("Asked through the MCP server's ask tool." in out) == (via == "mcp")
        report = json.loads((tmp_path / via / "report.json").read_text())
        rates[via] = (report["summary"]["pass_rate"], len(report["cases"]))
    assert rates["mcp"] == rates["graph"]
    assert rates["mcp"][1] >= 10
