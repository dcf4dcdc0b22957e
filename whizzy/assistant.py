"""The facade the CLI, the eval harness and the chat use: ask a question, get a dict.

``Assistant(warehouse).ask(question, thread_id=...)`` runs the compiled graph with a
checkpointer (in memory unless one is given; the CLI passes a SQLite one beside the
warehouse) and returns exactly the ``whizzy ask --json`` object. ``astream`` yields
``(node_name, update)`` pairs as each node finishes, for the chat's steps (and, when asked,
``("token", {"text": ...})`` pieces of the LLM's answer as they are released).

The engine is chosen per assistant: ``offline`` (the default here), ``llm`` (settings from
the environment or ``.env``, `agents.llm.settings`; a `ConfigError` names the variables to
set when nothing says how to reach a model), or None to follow ``WHIZZY_ENGINE`` (``llm``
when a key is set, else ``offline``).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from langgraph.checkpoint.base import BaseCheckpointSaver
from langgraph.checkpoint.memory import InMemorySaver

from agents.context import Context
from agents.engine import Engine
from agents.llm.settings import ENGINES, LLMSettings, load_llm_settings
from agents.llm.usage import summarize
from agents.offline import OfflineEngine
from graph import build_graph
from whizzy.core.errors import ConfigError

#: Rows of the main result returned in the JSON object.
ROWS_RETURNED = 50


def checkpoints_path(warehouse: Path) -> Path:
    """The SQLite file holding the threads of a warehouse's conversations."""
    return Path(warehouse).resolve().parent / "checkpoints.sqlite"


@contextmanager
def sqlite_checkpointer(path: Path) -> Iterator[BaseCheckpointSaver]:
    """A SQLite checkpointer at `path` (created when missing), closed on exit."""
    from langgraph.checkpoint.sqlite import SqliteSaver

    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), check_same_thread=False)
    try:
        saver = SqliteSaver(conn)
        saver.setup()
        yield saver
    finally:
        conn.close()


class Assistant:
    """Answer questions about one warehouse through the compiled agent graph."""

    def __init__(
        self,
        warehouse: Path,
        *,
        engine: str | None = "offline",
        checkpointer: BaseCheckpointSaver | None = None,
        row_limit: int = 1000,
        persona: str = "sales_manager",
        manifest: Path | None = None,
        model: str | None = None,
        llm: LLMSettings | None = None,
    ) -> None:
        if engine is not None and engine not in ENGINES:
            raise ConfigError(f"Unknown engine {engine!r}; use one of {', '.join(ENGINES)}.")
        if row_limit < 1:
            raise ConfigError("The row limit must be at least 1.")
        if llm is None and engine != "offline":
            # raises a ConfigError naming OPENAI_API_KEY / OPENAI_BASE_URL / AZURE_OPENAI_*
            # when the LLM engine is asked for but not configured
            llm = load_llm_settings(engine, model=model)
        if engine is None:
            engine = llm.engine if llm is not None else "offline"
        if engine == "offline":
            llm = None
        elif not llm.configured:  # never send a request to a default endpoint by accident
            raise ConfigError(
                "The LLM engine needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server, "
                "or AZURE_OPENAI_API_KEY with AZURE_OPENAI_ENDPOINT).",
                hint="set them in the environment or in .env, or use --engine offline")
        self.warehouse = Path(warehouse).expanduser().resolve()
        self.engine = engine
        self.llm = llm
        self.context = Context(warehouse=self.warehouse, engine=make_engine(llm),
                               row_limit=row_limit, persona=persona, manifest=manifest)
        self.checkpointer = checkpointer if checkpointer is not None else InMemorySaver()
        self.graph = build_graph().compile(checkpointer=self.checkpointer)

    def _config(self, thread_id: str) -> dict[str, Any]:
        return {"configurable": {"thread_id": str(thread_id)}}

    def ask(self, question: str, *, thread_id: str) -> dict[str, Any]:
        """Answer one question in a thread; returns the ``--json`` object."""
        started = time.perf_counter()
        try:
            # durability="exit": the thread is saved once, when the answer is complete
            state = self.graph.invoke({"question": question or ""}, self._config(thread_id),
                                      context=self.context, durability="exit")
        except Exception as exc:  # noqa: BLE001 - a bug becomes a clear answer, not a traceback
            state = {"question": question, "intent": "", "answer":
                     f"Sorry, something went wrong answering that ({type(exc).__name__}). "
                     "No figures are shown.", "error": f"{type(exc).__name__}: {exc}"}
        return self.to_json(state, elapsed_ms=(time.perf_counter() - started) * 1000,
                            llm=self.llm)

    async def astream(self, question: str, *, thread_id: str, tokens: bool = False
                      ) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        """Yield ``(node_name, update)`` as each node of the graph finishes.

        With `tokens`, the LLM's answer also arrives piece by piece as ``("token",
        {"text": piece})`` while write_answer runs (each piece a sentence whose figures
        passed the grounding check; the final answer is in write_answer's update).
        """
        modes = ["updates", "custom"] if tokens else ["updates"]
        async for mode, chunk in self.graph.astream({"question": question or ""},
                                                    self._config(thread_id),
                                                    context=self.context, stream_mode=modes):
            if mode == "custom":
                if isinstance(chunk, dict) and chunk.get("token"):
                    yield "token", {"text": str(chunk["token"])}
                continue
            for node, update in chunk.items():
                yield node, update or {}

    def final(self, thread_id: str, *, elapsed_ms: float = 0.0) -> dict[str, Any]:
        """The ``--json`` object of the thread's last answer (after `astream`)."""
        snapshot = self.graph.get_state(self._config(thread_id))
        return self.to_json(snapshot.values, elapsed_ms=elapsed_ms, llm=self.llm)

    def history(self, thread_id: str) -> list[dict[str, Any]]:
        """The finished turns of a thread (question, intent, answer)."""
        snapshot = self.graph.get_state(self._config(thread_id))
        values = snapshot.values or {}
        return list(values.get("history") or [])

    @staticmethod
    def to_json(state: dict[str, Any], *, elapsed_ms: float, llm: LLMSettings | None = None
                ) -> dict[str, Any]:
        """The public answer object from the graph's final state.

        ``usage`` is empty for the offline engine; for the LLM engine it holds the turn's
        calls, tokens in/out and latency in total and per node (`agents.llm.usage`), the
        number of fallbacks, and a cost when prices are configured in `llm`.
        """
        results = state.get("results") or []
        main = next((r for r in results if r.get("purpose") in
                     {"main", "trend", "records", "drivers"}), None)
        errors = [r["error"] for r in results if r.get("error")]
        records = state.get("records")
        return {
            "question": state.get("question", ""),
            "intent": state.get("intent", ""),
            "status": answer_status(state),
            "query": dict(state.get("query") or {}),
            "not_applied": list((state.get("query") or {}).get("not_applied") or []),
            "read_as_context": list((state.get("query") or {}).get("context_words") or []),
            "models": list(state.get("models") or []),
            "model_reasons": dict(state.get("model_reasons") or {}),
            "plan": list(state.get("plans") or []),
            "sql": [r["sql"] for r in results if r.get("sql")],
            "columns": list(main["columns"]) if main else [],
            "rows": list(main["rows"][:ROWS_RETURNED]) if main else [],
            "records": records,
            "answer": state.get("answer", ""),
            "chart": state.get("chart"),
            "follow_ups": list(state.get("follow_ups") or []),
            "citations": list(state.get("citations") or []),
            "as_of_date": state.get("as_of_date"),
            "elapsed_ms": round(elapsed_ms, 1),
            "engine": state.get("engine") or "offline",
            "usage": usage_json(state, llm),
            "llm_fallbacks": list(state.get("llm_fallbacks") or []),
            "error": state.get("error") or (errors[0] if errors else None),
        }


def make_engine(llm: LLMSettings | None) -> Engine:
    """The engine of an assistant: offline, or the LLM one falling back to it."""
    if llm is None:
        return OfflineEngine()
    from agents.llm.engine import LLMEngine  # imports langchain: only when the LLM is used

    return LLMEngine.for_settings(llm)


def answer_status(state: dict[str, Any]) -> str:
    """What kind of answer a turn gave.

    ``answered`` (figures or records from queries), ``clarify`` (a question back: a name
    that matches several people or nothing known), ``unanswerable`` (the data holds nothing
    that answers it), ``refused`` (out of scope), or ``error``.

    >>> answer_status({"intent": "out_of_scope"}), answer_status({"intent": "analytics"})
    ('refused', 'answered')
    >>> answer_status({"intent": "analytics", "facts": {"unanswerable": "no model"}})
    'unanswerable'
    """
    facts = state.get("facts") or {}
    if state.get("intent") == "out_of_scope":
        return "refused"
    if facts.get("clarify"):
        return "clarify"
    if facts.get("unanswerable"):
        return "unanswerable"
    if state.get("error"):
        return "error"
    return "answered"


def usage_json(state: dict[str, Any], llm: LLMSettings | None = None) -> dict[str, Any]:
    """The ``usage`` object of an answer: empty offline, totals and per node with the LLM.

    >>> usage_json({"engine": "offline"})
    {}
    >>> u = usage_json({"engine": "llm", "usage": [{"node": "plan_query", "model": "m",
    ...     "input_tokens": 10, "output_tokens": 2, "latency_ms": 5.0}],
    ...     "llm_fallbacks": [{"node": "write_answer", "kind": "ungrounded"}]})
    >>> u["input_tokens"], u["output_tokens"], u["fallbacks"], u["nodes"][0]["node"]
    (10, 2, 1, 'plan_query')
    """
    if (state.get("engine") or "offline") != "llm":
        return {}

    calls = list(state.get("usage") or [])
    summary = summarize(calls, price_in=llm.price_in if llm else None,
                        price_out=llm.price_out if llm else None)
    if not summary:
        summary = {"model": llm.model if llm else None, "calls": 0, "input_tokens": 0,
                   "output_tokens": 0, "latency_ms": 0.0, "nodes": []}
    summary["fallbacks"] = len(state.get("llm_fallbacks") or [])
    return summary
