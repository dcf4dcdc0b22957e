"""The FastMCP server: governed, read-only tools, resources and prompts on one warehouse.

Tools (all annotated read-only; names and arguments follow dbt-mcp's where it has a tool for
the same job, so prompts written for dbt-mcp carry over):

* ``ask(question, thread_id?)``: the assistant's answer, exactly the ``whizzy ask --json``
  object (`whizzy.assistant.Assistant.ask`);
* ``list_metrics(search?)``, ``get_dimensions(metrics, search?)`` and
  ``get_model_details(model_name)``: the catalog;
* ``query_metrics(metrics, group_by, where, order_by, limit, period)``: the typed query
  contract (no free SQL);
* ``get_deals(filters, order, limit, period)``: the deals behind the figures;
* ``execute_sql(sql)``: a SELECT through the SQL gate on the read-only connection, offered
  only with ``--allow-sql``.

Resources: ``whizzy://catalog``, ``whizzy://metrics`` (docs/metrics.md) and
``whizzy://freshness``. Prompts: ``pipeline_review``, ``forecast_call_prep`` and
``rep_coaching`` (prompts/mcp.md).

A problem the user can cause comes back as an MCP tool error carrying the sentence the CLI
and the chat give (`WhizzyError.user_message`); a bug comes back as one plain sentence,
never a traceback (the details go to the log on stderr).
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.types import CallToolResult, TextContent, ToolAnnotations
from pydantic import Field, ValidationError

from agents.contract import Condition
from agents.llm.prompts import load_prompt
from whizzy.core.errors import WhizzyError
from whizzy.core.jsonable import jsonable
from whizzy.core.settings import PROJECT_ROOT
from whizzy.mcp import catalog as cat
from whizzy.mcp.queries import (
    DealOrder,
    OrderBy,
    Period,
    deals_query,
    metrics_query,
    run_query,
    run_sql,
)
from whizzy.warehouse.reader import Warehouse, open_warehouse

log = logging.getLogger("whizzy.mcp")

#: The metric definitions served as ``whizzy://metrics``.
METRICS_DOC = PROJECT_ROOT / "docs" / "metrics.md"
#: Every tool only reads: MCP clients may call them without asking the user each time.
READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=True,
                            openWorldHint=False)
#: `ask` is read-only too, but a thread remembers the turn (so not idempotent).
ASK = ToolAnnotations(readOnlyHint=True, destructiveHint=False, idempotentHint=False,
                      openWorldHint=False)
INSTRUCTIONS = (
    "Whizzy answers questions about a Salesforce sales pipeline from a local, read-only "
    "warehouse. Prefer `ask` for questions in words; every figure comes from the dbt "
    "catalog through a SQL gate. Quote figures with their as-of date."
)


@dataclass(frozen=True, kw_only=True)
class ServerOptions:
    """How the server answers: which warehouse, engine, row limit, and whether SQL is on."""

    warehouse: Path
    allow_sql: bool = False
    row_limit: int = 1000
    engine: str | None = "offline"
    model: str | None = None
    persona: str = "sales_manager"


def tool_result(value: Any) -> CallToolResult:
    """A tool's JSON value as text and as structured content (the same data).

    >>> tool_result({"a": 1}).content[0].text
    '{"a": 1}'
    """
    data = jsonable(json.loads(json.dumps(value, default=str, ensure_ascii=False)))
    return CallToolResult(content=[TextContent(type="text",
                                               text=json.dumps(data, ensure_ascii=False))],
                          structuredContent=data if isinstance(data, dict) else {"result": data})


def tool_error(message: str) -> CallToolResult:
    """An MCP tool error carrying one plain sentence.

    >>> r = tool_error("No warehouse at x.")
    >>> r.isError, r.content[0].text
    (True, 'No warehouse at x.')
    """
    return CallToolResult(content=[TextContent(type="text", text=message)], isError=True)


def error_text(exc: BaseException) -> str:
    r"""What a client is told about an exception: a user's problem in words, a bug briefly.

    >>> error_text(WhizzyError("The period is empty.", hint="name two dates"))
    'The period is empty.\n  → name two dates'
    >>> error_text(KeyError("x"))
    'Sorry, something went wrong answering that (KeyError). No figures are shown.'
    """
    if isinstance(exc, WhizzyError):
        return exc.user_message()
    if isinstance(exc, ValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'input'}: {e['msg']}"
                             for e in exc.errors()[:5])
        return f"The arguments are not valid: {problems}."
    return (f"Sorry, something went wrong answering that ({type(exc).__name__}). "
            "No figures are shown.")


async def _run(work: Callable[[], Any]) -> CallToolResult:
    """Run blocking `work` on a worker thread; its value or its error as a tool result."""
    try:
        return tool_result(await anyio.to_thread.run_sync(work))
    except Exception as exc:  # noqa: BLE001 - every error becomes a sentence, never a traceback
        if not isinstance(exc, WhizzyError | ValidationError):
            log.exception("MCP tool failed")  # stderr: stdout is the stdio transport
        return tool_error(error_text(exc))


class Answers:
    """The warehouse and one assistant, made on first use and shared by every session."""

    def __init__(self, options: ServerOptions, assistant: Any | None = None,
                 checkpointer: Any | None = None) -> None:
        self.options = options
        self._assistant = assistant
        self._checkpointer = checkpointer
        self._lock = threading.Lock()

    def warehouse(self) -> Warehouse:
        """The built warehouse (a clear error when it is missing or not built)."""
        return open_warehouse(self.options.warehouse)

    def assistant(self) -> Any:
        """The assistant answering `ask` (built once: it imports and compiles the graph)."""
        with self._lock:
            if self._assistant is None:
                # imported on the first `ask`: the catalog tools answer without LangGraph
                from whizzy.assistant import Assistant

                self.warehouse()  # missing / unbuilt → a WhizzyError with the fix
                self._assistant = Assistant(
                    self.options.warehouse, engine=self.options.engine,
                    checkpointer=self._checkpointer, row_limit=self.options.row_limit,
                    persona=self.options.persona, model=self.options.model)
            return self._assistant


def build_server(options: ServerOptions, *, assistant: Any | None = None,
                 checkpointer: Any | None = None, host: str = "127.0.0.1",
                 port: int = 8000) -> FastMCP:
    """The MCP server for `options` (`assistant`/`checkpointer` default to the product's)."""
    answers = Answers(options, assistant, checkpointer)
    server = FastMCP("whizzy", instructions=INSTRUCTIONS, host=host, port=port,
                     log_level="WARNING")
    limit = options.row_limit

    @server.tool(title="Ask Whizzy", annotations=ASK)
    async def ask(
        question: Annotated[str, Field(description="The question, in words.")],
        thread_id: Annotated[str | None, Field(
            description="A conversation id of your choosing: the same id continues the "
                        "conversation (follow-ups such as 'and by owner?').")] = None,
    ) -> CallToolResult:
        """Answer a question about the sales pipeline, exactly as `whizzy ask --json` does.

        Returns the answer text, the result's columns and rows, the deals behind the figure
        (records), the SQL that ran, the as-of date and the constraints not applied.
        """
        thread = thread_id or f"mcp-{uuid.uuid4().hex[:12]}"
        result = await _run(lambda: answers.assistant().ask(question, thread_id=thread))
        result.meta = {"thread_id": thread}
        return result

    @server.tool(title="List metrics", annotations=READ_ONLY)
    async def list_metrics(
        search: Annotated[str | None, Field(description="Only metrics whose name, label, "
                                                        "description or synonyms hold it")] = None,
    ) -> CallToolResult:
        """List the metrics the catalog defines, with the models that compute them."""
        return await _run(lambda: {"metrics": cat.list_metrics(answers.warehouse().catalog,
                                                               search)})

    @server.tool(title="Get dimensions", annotations=READ_ONLY)
    async def get_dimensions(
        metrics: Annotated[list[str], Field(description="Metric names (from list_metrics)")],
        search: Annotated[str | None, Field(description="Only dimensions matching it")] = None,
    ) -> CallToolResult:
        """List the dimensions and flags the given metrics can be grouped or filtered by."""
        return await _run(lambda: {"dimensions": cat.get_dimensions(
            answers.warehouse().catalog, metrics, search)})

    @server.tool(title="Get model details", annotations=READ_ONLY)
    async def get_model_details(
        model_name: Annotated[str, Field(description="A model name (whizzy://catalog)")],
    ) -> CallToolResult:
        """Describe one dbt model: columns, metrics, dimensions, grain and parents."""
        return await _run(lambda: cat.get_model_details(answers.warehouse().catalog,
                                                        model_name))

    @server.tool(title="Query metrics", annotations=READ_ONLY)
    async def query_metrics(
        metrics: Annotated[list[str], Field(description="Metric names (from list_metrics)")],
        group_by: Annotated[list[str], Field(
            description="Dimension names (from get_dimensions)")] = [],  # noqa: B006
        where: Annotated[list[Condition], Field(
            description="Conditions: field (a dimension, flag or number), op (eq, in, "
                        "not_in, gt, gte, lt, lte, between, is_true, is_false, is_null, not_null), "
                        "values; op weekday keeps rows whose date (field: a time name, '' the "
                        "default date) falls on the ISO days in values (1 Monday ... 7 Sunday)")
        ] = [],  # noqa: B006
        order_by: Annotated[list[OrderBy], Field(
            description="Order by a metric; with limit, the top (descending) or bottom N")
        ] = [],  # noqa: B006
        limit: Annotated[int | None, Field(ge=1, description="Most groups returned")] = None,
        period: Annotated[Period | None, Field(
            description="A date range (start, end; time: which date of a row)")] = None,
    ) -> CallToolResult:
        """Compute metrics through the typed query contract (the catalog picks the model)."""
        return await _run(lambda: run_query(
            metrics_query(metrics, group_by, where, order_by, limit, period),
            answers.warehouse(), row_limit=limit or answers.options.row_limit))

    @server.tool(title="Get deals", annotations=READ_ONLY)
    async def get_deals(
        filters: Annotated[list[Condition], Field(
            description="Conditions on the deals (as query_metrics' where)")] = [],  # noqa: B006
        order: Annotated[DealOrder | None, Field(
            description="field (a number such as amount) and desc")] = None,
        limit: Annotated[int, Field(ge=1, le=1000, description="Most deals listed")] = 20,
        period: Annotated[Period | None, Field(description="A date range")] = None,
    ) -> CallToolResult:
        """List the opportunities (deals) matching the filters, largest first by default."""
        return await _run(lambda: run_query(deals_query(filters, order, limit, period),
                                            answers.warehouse(), row_limit=limit))

    if options.allow_sql:
        @server.tool(title="Execute SQL", annotations=READ_ONLY)
        async def execute_sql(
            sql: Annotated[str, Field(description="One SELECT on the catalog's models or "
                                                  "the raw salesforce tables")],
        ) -> CallToolResult:
            """Run one read-only SELECT through Whizzy's SQL gate (no writes, no files)."""
            return await _run(lambda: run_sql(sql, answers.warehouse(), row_limit=limit))

    @server.resource("whizzy://catalog", name="catalog", mime_type="application/json",
                     description="The models that answer questions, their metrics and "
                                 "dimensions")
    def catalog_resource() -> str:
        return json.dumps(cat.catalog_summary(answers.warehouse().catalog), ensure_ascii=False)

    @server.resource("whizzy://metrics", name="metric definitions", mime_type="text/markdown",
                     description="One definition per business term (docs/metrics.md)")
    def metrics_resource() -> str:
        return METRICS_DOC.read_text(encoding="utf-8")

    @server.resource("whizzy://freshness", name="data freshness", mime_type="application/json",
                     description="The as-of date and build time of the data")
    def freshness_resource() -> str:
        return json.dumps(cat.freshness(answers.warehouse()), ensure_ascii=False)

    prompts = load_prompt("mcp")

    @server.prompt(title="Pipeline review")
    def pipeline_review(period: str = "this quarter") -> str:
        """Review the pipeline for a period: health, overdue deals, bottlenecks, slippage."""
        return prompts.render("pipeline_review", period=period)

    @server.prompt(title="Forecast call prep")
    def forecast_call_prep(period: str = "this quarter") -> str:
        """Prepare the forecast call: the number, commit and best case, big deals, pushes."""
        return prompts.render("forecast_call_prep", period=period)

    @server.prompt(title="Rep coaching")
    def rep_coaching(owner: str) -> str:
        """Prepare a coaching conversation with one rep from their figures and deals."""
        return prompts.render("rep_coaching", owner=owner)

    return server
