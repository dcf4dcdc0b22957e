"""Run-time settings of one graph run, passed with ``context_schema`` (house style 4).

Nodes read them from ``runtime.context``; ``configurable`` only carries the thread id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from agents.engine import Engine
from agents.offline import OfflineEngine
from whizzy.core.settings import warehouse_path

#: Who is asking (the one list; the chat adds labels and starter questions to each): the
#: angle follow-up suggestions and the LLM's wording take.
PERSONAS: tuple[str, ...] = ("executive", "sales_manager", "account_executive", "revops")
DEFAULT_PERSONA = "sales_manager"


@dataclass(kw_only=True, frozen=True)
class Context:
    """Settings for answering: which warehouse, which engine, how many rows, for whom.

    `engine` reads questions and words answers (`agents.engine.Engine`): the offline engine
    by default; `whizzy.assistant` passes the LLM engine when one is configured. Nodes call
    it and never ask which one it is. `warehouse` defaults to ``WHIZZY_WAREHOUSE`` (else
    ``.whizzy/warehouse.duckdb``), so a server that builds the context from a run's
    ``context`` object (``langgraph dev``) needs none.
    """

    warehouse: Path = field(default_factory=warehouse_path)
    engine: Engine = field(default_factory=OfflineEngine)
    row_limit: int = 1000
    persona: str = DEFAULT_PERSONA
    manifest: Path | None = None
