"""Run-time settings of one graph run, passed with ``context_schema`` (house style 4).

Nodes read them from ``runtime.context``; ``configurable`` only carries the thread id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from agents.llm.settings import LLMSettings

Engine = Literal["offline", "llm"]

#: Who is asking (the one list; the chat adds labels and starter questions to each): the
#: angle follow-up suggestions and the LLM's wording take.
PERSONAS: tuple[str, ...] = ("executive", "sales_manager", "account_executive", "revops")
DEFAULT_PERSONA = "sales_manager"


@dataclass(kw_only=True, frozen=True)
class Context:
    """Settings for answering: which warehouse, which engine, how many rows, for whom.

    Every node reads `engine`: with ``llm`` it tries the model first and keeps its offline
    result as the net (`agents.llm.nodes`); with ``offline`` no LLM code runs and nothing
    goes over the network.
    """

    warehouse: Path
    engine: Engine = "offline"
    row_limit: int = 1000
    persona: str = DEFAULT_PERSONA
    model_name: str | None = None
    manifest: Path | None = None
    #: Resolved LLM settings when `engine` is ``llm`` (None: read them from the environment).
    llm: LLMSettings | None = None
