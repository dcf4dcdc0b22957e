"""The hostile-input suite through the MCP server: `ask` and `execute_sql` do no harm.

Every generated hostile input of `test_adversarial` is sent to the MCP `ask` tool, and as
SQL to `execute_sql` (with ``--allow-sql``), together with SQL that tries to write, export,
attach, install or read files. In one client session, under the same file audit:

* `ask` answers each (never a tool error, never a traceback), refuses what must be refused,
  and runs only gated SQL with user text inside literals;
* `execute_sql` refuses every one with a plain sentence, never a traceback;
* the warehouse and its manifest keep every byte, and no file outside the allowed folders is
  opened; no process is started and no socket connected.
"""

from __future__ import annotations

import uuid
from pathlib import Path

import anyio
from mcp.shared.memory import create_connected_server_and_client_session
from reliability_support import audited, event_path, sha256
from test_adversarial import INPUTS, MUST_REFUSE, PATH_PAYLOADS, _allowed_dirs, _inside, check_sql

from agents.contract import INTENTS
from whizzy.mcp.server import ServerOptions, build_server
from whizzy.warehouse.reader import open_warehouse

#: SQL a client might send to read files, write, or reach out: all refused by the gate.
HOSTILE_SQL = [
    *(f"select * from read_csv('{p}')" for p in PATH_PAYLOADS),
    "select read_text('/etc/passwd')", "select * from read_text('/etc/passwd')",
    "select * from glob('/etc/*')", "select getenv('HOME')",
    "select current_setting('memory_limit') from fct_opportunity",
    "copy fct_opportunity to '/tmp/whizzy-exfil.csv'", "attach '/tmp/whizzy-evil.duckdb'",
    "install httpfs", "load httpfs", "pragma database_list", "set enable_external_access=true",
    "drop table fct_opportunity", "delete from fct_opportunity",
    "update fct_opportunity set amount = 0", "insert into fct_opportunity select * from "
    "fct_opportunity", "create table x as select 1", "export database '/tmp/whizzy-dump'",
    "select 1; delete from fct_opportunity", "select * from duckdb_settings()",
    "select * from 'https://evil.example.com/x.csv'", "select * from '/etc/passwd'",
    "select * from secrets", "with x as (delete from fct_opportunity returning *) select * from x",
]


def _clear(text: str) -> bool:
    return bool(text.strip()) and "Traceback" not in text and 'File "' not in text


def test_hostile_inputs_through_mcp_ask_and_execute_sql_do_no_harm(served: Path,
                                                                   tmp_path_factory):
    manifest = served.with_name("warehouse.manifest.json")
    before = (sha256(served), sha256(manifest))
    warehouse = open_warehouse(served)
    columns = {c.lower() for m in warehouse.catalog.models.values() for c in m.columns}
    failures: list[str] = []
    server = build_server(ServerOptions(warehouse=served, allow_sql=True))
    sqls = [q for _, q in INPUTS] + HOSTILE_SQL

    async def run():
        async with create_connected_server_and_client_session(server) as session:
            asked = [(c, q, await session.call_tool("ask", {
                "question": q, "thread_id": f"hostile-{i}-{uuid.uuid4().hex[:6]}"}))
                for i, (c, q) in enumerate(INPUTS)]
            ran = [(q, await session.call_tool("execute_sql", {"sql": q})) for q in sqls]
            return asked, ran

    with audited() as events:
        asked, ran = anyio.run(run)

    for category, question, result in asked:
        shown = f"{category} {question[:80]!r}"
        out = result.structuredContent or {}
        if result.isError or out.get("intent") not in INTENTS:
            failures.append(f"ask {shown}: {result.content[0].text[:120]!r}")
            continue
        if not _clear(out.get("answer") or ""):
            failures.append(f"ask {shown}: no sensible answer {out.get('answer', '')[:120]!r}")
        if category in MUST_REFUSE and (out["intent"] != "out_of_scope" or out["sql"]):
            failures.append(f"ask {shown}: not refused")
        for sql in out["sql"]:
            failures += [f"ask {shown}: {p}" for p in check_sql(sql, warehouse.allowed, columns)]
    for sql, result in ran:
        shown = repr(sql[:80])
        text = result.content[0].text if result.content else ""
        if not result.isError:
            failures.append(f"execute_sql {shown}: was not refused: {text[:120]!r}")
        elif not _clear(text):
            failures.append(f"execute_sql {shown}: unclear error {text[:200]!r}")

    dirs = _allowed_dirs(served, tmp_path_factory.getbasetemp())
    opened = sorted({p for e, a in events if e == "open" and (p := event_path(a))})
    outside = [p for p in opened if not _inside(p, dirs)]
    other = sorted({e for e, _ in events if e != "open"})
    assert not failures, "\n".join(failures[:40])
    assert (sha256(served), sha256(manifest)) == before, "the warehouse or its manifest changed"
    assert not outside, f"files opened outside the allowed folders: {outside[:20]}"
    assert not other, f"unexpected file, process or network operations: {other}"
    assert len(asked) == len(INPUTS) >= 300 and len(ran) == len(sqls)
