"""An assistant that answers through the MCP server's `ask` tool (for `whizzy eval --via mcp`).

Each question opens an in-process client session on the server (the SDK's in-memory
transport: the real protocol, no socket) and calls ``ask``; the tool's structured content
is the answer object. A tool error raises, so the eval counts it against the case.
"""

from __future__ import annotations

from typing import Any

import anyio
from mcp.shared.memory import create_connected_server_and_client_session


class McpToolError(RuntimeError):
    """The server answered a tool call with an error."""


async def call_tool(server: Any, name: str, arguments: dict[str, Any]) -> Any:
    """Call one tool of `server` in a fresh in-process session; the raw result."""
    async with create_connected_server_and_client_session(server) as session:
        return await session.call_tool(name, arguments)


class McpAssistant:
    """`ask(question, *, thread_id)` through the server's ``ask`` tool."""

    def __init__(self, server: Any) -> None:
        self.server = server

    def ask(self, question: str, *, thread_id: str) -> dict[str, Any]:
        """The ``ask`` tool's answer object (raises `McpToolError` on a tool error)."""
        result = anyio.run(call_tool, self.server, "ask",
                           {"question": question, "thread_id": thread_id})
        if result.isError:
            raise McpToolError(" ".join(getattr(c, "text", "") for c in result.content))
        return dict(result.structuredContent or {})
