"""`whizzy mcp`: the tools, resources and prompts a client sees, in-process and over stdio.

The tool list is compared with the committed snapshot (tests/mcp/tools_snapshot.json): a
renamed tool or argument, or a tool no longer read-only, fails here before a client breaks.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import anyio
import pytest
from mcp import StdioServerParameters
from mcp.client.session import ClientSession
from mcp.client.stdio import stdio_client
from mcp.shared.memory import create_connected_server_and_client_session
from mcp_support import committed_snapshot, listing

from whizzy.assistant import Assistant
from whizzy.core.settings import PROJECT_ROOT
from whizzy.mcp.server import ServerOptions, build_server
from whizzy.warehouse.connection import manifest_path_for

TOOLS = ["ask", "execute_sql", "get_deals", "get_dimensions", "get_model_details",
         "list_metrics", "query_metrics"]
RESOURCES = ["whizzy://catalog", "whizzy://freshness", "whizzy://metrics"]
PROMPTS = ["forecast_call_prep", "pipeline_review", "rep_coaching"]


def copy_of(warehouse: Path, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / "warehouse.duckdb"
    shutil.copyfile(warehouse, target)
    shutil.copyfile(manifest_path_for(warehouse), manifest_path_for(target))
    return target


def in_process(server, work):
    async def run():
        async with create_connected_server_and_client_session(server) as session:
            return await work(session)
    return anyio.run(run)


def test_in_process_session_lists_the_snapshot_tools_resources_and_prompts(built_warehouse):
    server = build_server(ServerOptions(warehouse=built_warehouse, allow_sql=True))
    seen = in_process(server, listing)
    assert seen["tools"] == committed_snapshot()
    assert [t["name"] for t in seen["tools"]] == TOOLS
    assert all(t["annotations"]["readOnlyHint"] for t in seen["tools"])
    assert seen["resources"] == RESOURCES
    assert seen["prompts"] == PROMPTS


def test_execute_sql_is_offered_only_with_allow_sql(built_warehouse):
    seen = in_process(build_server(ServerOptions(warehouse=built_warehouse)), listing)
    assert [t["name"] for t in seen["tools"]] == [n for n in TOOLS if n != "execute_sql"]


@pytest.mark.slow
def test_stdio_session_lists_the_same_and_answers(built_warehouse, tmp_path):
    warehouse = copy_of(built_warehouse, tmp_path / "w")
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("WHIZZY_")},
           "WHIZZY_ENGINE": "offline", "DO_NOT_TRACK": "1"}
    params = StdioServerParameters(
        command=sys.executable, cwd=str(PROJECT_ROOT), env=env,
        args=["-m", "whizzy.cli", "mcp", "--allow-sql", "--warehouse", str(warehouse)])

    async def run():
        with anyio.fail_after(300):  # a busy CI machine: imports and the catalog take a while
            async with stdio_client(params) as (read, write), ClientSession(read, write) as s:
                await s.initialize()
                seen = await listing(s)
                answer = await s.call_tool("ask", {"question": "what is our win rate?",
                                                   "thread_id": "stdio-1"})
                return seen, answer

    seen, answer = anyio.run(run)
    assert seen["tools"] == committed_snapshot()
    assert seen["resources"] == RESOURCES and seen["prompts"] == PROMPTS
    assert not answer.isError
    direct = Assistant(warehouse).ask("what is our win rate?", thread_id="direct")
    assert answer.structuredContent["answer"] == direct["answer"]
    assert answer.structuredContent["rows"] == json.loads(json.dumps(direct["rows"], default=str))
    assert (warehouse.parent / "checkpoints.sqlite").is_file()  # threads kept as `whizzy ask`


def test_ask_returns_the_ask_json_object_and_continues_a_thread(built_warehouse):
    server = build_server(ServerOptions(warehouse=built_warehouse))
    direct = Assistant(built_warehouse)

    async def work(session):
        first = await session.call_tool("ask", {"question": "win rate this quarter",
                                                "thread_id": "t"})
        second = await session.call_tool("ask", {"question": "and by owner?", "thread_id": "t"})
        return first, second

    first, second = in_process(server, work)
    expected = [direct.ask("win rate this quarter", thread_id="d"),
                direct.ask("and by owner?", thread_id="d")]
    for got, want in zip((first, second), expected, strict=True):
        assert not got.isError
        want = json.loads(json.dumps(want, default=str, ensure_ascii=False))
        assert set(got.structuredContent) == set(want)  # the `whizzy ask --json` keys
        for key in ("answer", "columns", "rows", "records", "sql", "as_of_date", "not_applied"):
            assert got.structuredContent[key] == want[key], key
        assert json.loads(got.content[0].text) == got.structuredContent
    assert second.structuredContent["columns"][0] == "owner"  # the follow-up kept the thread
    assert first.meta == {"thread_id": "t"}


def test_catalog_tools_resources_and_prompts_answer(built_warehouse):
    server = build_server(ServerOptions(warehouse=built_warehouse))

    async def work(session):
        metrics = await session.call_tool("list_metrics", {"search": "win rate"})
        dims = await session.call_tool("get_dimensions", {"metrics": ["win_rate"]})
        model = await session.call_tool("get_model_details", {"model_name": "fct_opportunity"})
        fresh = await session.read_resource("whizzy://freshness")
        defs = await session.read_resource("whizzy://metrics")
        catalog = await session.read_resource("whizzy://catalog")
        prompt = await session.get_prompt("rep_coaching", {"owner": "Jane Doe"})
        return metrics, dims, model, fresh, defs, catalog, prompt

    metrics, dims, model, fresh, defs, catalog, prompt = in_process(server, work)
    assert "win_rate" in [m["name"] for m in metrics.structuredContent["metrics"]]
    assert "owner" in [d["name"] for d in dims.structuredContent["dimensions"]]
    assert "win_rate" in [m["name"] for m in model.structuredContent["metrics"]]
    assert json.loads(fresh.contents[0].text)["as_of_date"] == "2026-11-15"
    assert defs.contents[0].text.startswith("# Metric definitions")
    assert "fct_opportunity" in [m["name"] for m in json.loads(catalog.contents[0].text)["models"]]
    assert "Jane Doe" in prompt.messages[0].content.text


def test_query_metrics_and_get_deals_use_the_typed_contract(built_warehouse):
    server = build_server(ServerOptions(warehouse=built_warehouse, allow_sql=True))

    async def work(session):
        ranked = await session.call_tool("query_metrics", {
            "metrics": ["win_rate"], "group_by": ["owner"],
            "order_by": [{"name": "win_rate", "descending": True}], "limit": 3})
        deals = await session.call_tool("get_deals", {
            "filters": [{"field": "open", "op": "is_true"}],
            "order": {"field": "amount", "desc": True}, "limit": 5})
        check = await session.call_tool("execute_sql", {
            "sql": "select max(amount) from fct_opportunity where not is_closed"})
        return ranked, deals, check

    ranked, deals, check = in_process(server, work)
    main = ranked.structuredContent["results"][0]
    assert main["columns"][:2] == ["owner", "win_rate"] and len(main["rows"]) == 3
    assert [r[1] for r in main["rows"]] == sorted((r[1] for r in main["rows"]), reverse=True)
    listed = deals.structuredContent["results"][0]
    amounts = [r[listed["columns"].index("amount")] for r in listed["rows"]]
    assert len(amounts) == 5 and amounts == sorted(amounts, reverse=True)
    assert amounts[0] == check.structuredContent["rows"][0][0]


@pytest.mark.parametrize(("tool", "arguments", "message"), [
    ("get_model_details", {"model_name": "nope"}, "The catalog has no model 'nope'."),
    ("get_dimensions", {"metrics": ["bogus"]}, "The catalog has no metric 'bogus'."),
    ("query_metrics", {"metrics": []}, "Name at least one metric."),
    ("query_metrics", {"metrics": ["win_rate"],
                       "period": {"start": "2026-09-30", "end": "2026-07-01"}},
     "The period ends (2026-07-01) before it starts (2026-09-30)."),
    ("execute_sql", {"sql": "delete from fct_opportunity"},
     "Only SELECT queries are allowed (got DELETE)."),
    ("execute_sql", {"sql": "select * from read_csv('/etc/passwd')"},
     "The table function read_csv() is not allowed."),
])
def test_errors_are_tool_errors_with_plain_sentences(built_warehouse, tool, arguments, message):
    server = build_server(ServerOptions(warehouse=built_warehouse, allow_sql=True))
    result = in_process(server, lambda s: s.call_tool(tool, arguments))
    assert result.isError
    text = result.content[0].text
    assert text.startswith(message), text
    assert "Traceback" not in text and 'File "' not in text


def test_a_missing_warehouse_is_the_clis_sentence(tmp_path):
    server = build_server(ServerOptions(warehouse=tmp_path / "none.duckdb"))
    for tool, args in (("ask", {"question": "win rate?"}), ("list_metrics", {})):
        result = in_process(server, lambda s, t=tool, a=args: s.call_tool(t, a))
        assert result.isError
        assert result.content[0].text.startswith(f"No warehouse at {tmp_path / 'none.duckdb'}.")
