"""`whizzy mcp`: serve the assistant to MCP clients (Claude Desktop, IDEs, agent frameworks).

Over stdio by default (the client starts ``whizzy mcp``); with ``--http``, over streamable
HTTP at ``http://127.0.0.1:PORT/mcp``. A bearer token (``WHIZZY_MCP_TOKEN``) is required
whenever ``--host`` is not a loopback address, and when one is set every request needs it.
Every tool is read-only; ``execute_sql`` is offered only with ``--allow-sql``. Threads are
kept in ``checkpoints.sqlite`` beside the warehouse, as for ``whizzy ask``. Logs go to
stderr: stdout belongs to the stdio transport.
"""

from __future__ import annotations

import argparse

from whizzy.cli.common import add_answering_flags, add_warehouse_flag, settings_from

#: Default port of the HTTP transport.
DEFAULT_PORT = 8765


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `mcp` command."""
    parser = subparsers.add_parser(
        "mcp",
        help="serve the assistant to MCP clients (stdio, or streamable HTTP with --http)",
        description="Serve Whizzy as a Model Context Protocol server: read-only tools (ask, "
                    "list_metrics, get_dimensions, get_model_details, query_metrics, "
                    "get_deals, execute_sql with --allow-sql), resources and prompts.",
    )
    parser.add_argument("--http", action="store_true",
                        help="serve streamable HTTP at /mcp instead of stdio")
    parser.add_argument("--host", default="127.0.0.1",
                        help="HTTP address (default 127.0.0.1; any other needs "
                             "WHIZZY_MCP_TOKEN)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"HTTP port (default {DEFAULT_PORT})")
    parser.add_argument("--allow-sql", action="store_true",
                        help="offer execute_sql (a SELECT through the SQL gate, read-only)")
    add_answering_flags(parser)
    add_warehouse_flag(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Check the settings, then serve until the client disconnects or Ctrl-C."""
    # imported when this command runs, so `whizzy --help` and the other commands start
    # without the MCP SDK, LangGraph and the agents (about 3 s)
    from agents.llm.settings import load_llm_settings
    from whizzy.assistant import checkpoints_path, sqlite_checkpointer
    from whizzy.core.settings import setting
    from whizzy.mcp.http import check_listen, serve_http
    from whizzy.mcp.server import ServerOptions, build_server
    from whizzy.warehouse.reader import open_warehouse

    settings = settings_from(args)
    token = setting("WHIZZY_MCP_TOKEN") or None
    if args.http:
        check_listen(args.host, token)  # before anything is loaded or opened
    llm = load_llm_settings(args.engine, model=args.model)
    open_warehouse(settings.warehouse)  # missing / unbuilt → a WhizzyError with the fix
    options = ServerOptions(warehouse=settings.warehouse, allow_sql=args.allow_sql,
                            row_limit=args.row_limit, engine=llm.engine, model=args.model)
    with sqlite_checkpointer(checkpoints_path(settings.warehouse)) as saver:
        server = build_server(options, checkpointer=saver, host=args.host, port=args.port)
        if args.http:
            serve_http(server, host=args.host, port=args.port, token=token)
        else:
            server.run("stdio")
    return 0
