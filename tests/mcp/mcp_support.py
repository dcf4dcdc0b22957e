"""Helpers of the MCP tests: the tool list as a comparable snapshot, sessions, free ports."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

#: The committed tool list (names, titles, annotations, argument schemas).
SNAPSHOT = Path(__file__).with_name("tools_snapshot.json")


def tool_snapshot(tools: list[Any]) -> list[dict[str, Any]]:
    """What a client sees of each tool, in a stable, comparable form."""
    return [{"name": t.name, "title": t.title,
             "annotations": t.annotations.model_dump(exclude_none=True) if t.annotations else {},
             "inputSchema": t.inputSchema} for t in sorted(tools, key=lambda t: t.name)]


def committed_snapshot() -> list[dict[str, Any]]:
    return json.loads(SNAPSHOT.read_text(encoding="utf-8"))


async def listing(session: Any) -> dict[str, Any]:
    """Tools, resources and prompts a session lists."""
    tools = (await session.list_tools()).tools
    resources = (await session.list_resources()).resources
    prompts = (await session.list_prompts()).prompts
    return {"tools": tool_snapshot(tools), "resources": sorted(str(r.uri) for r in resources),
            "prompts": sorted(p.name for p in prompts)}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
