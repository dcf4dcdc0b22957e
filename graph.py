"""Whizzy's agent graph: intent → model selector → query planner → executor → fusion → answer.

`build_graph()` returns the uncompiled `StateGraph`; `graph` is compiled without a
checkpointer for tools that inspect it. The CLI, the chat and the tests compile their own
with a checkpointer (`whizzy.assistant.Assistant` does that).

>>> sorted(graph.get_graph().nodes)
['__end__', '__start__', 'classify_intent', 'fuse_results', 'plan_query', 'run_queries', \
'select_models', 'write_answer']
"""

from __future__ import annotations

from typing import Literal

from langgraph.graph import END, START, StateGraph

from agents.context import Context
from agents.contract import INTENTS
from agents.executor import run_queries
from agents.fusion import fuse_results
from agents.intent import classify_intent
from agents.planner import plan_query
from agents.responder import write_answer
from agents.selector import select_models
from agents.state import InputState, OutputState, State


def route_intent(state: State) -> Literal["select_models", "write_answer"]:
    """After the intent: data questions go to the selector, the rest straight to the answer."""
    if state.intent not in INTENTS:
        raise ValueError(f"unexpected intent {state.intent!r}")
    if state.error:
        return "write_answer"
    if state.intent in {"analytics", "lookup", "briefing"}:
        return "select_models"
    return "write_answer"


def route_plan(state: State) -> Literal["run_queries", "write_answer"]:
    """After planning: run the plans, or answer that the question can't be answered."""
    if not isinstance(state.plans, list):
        raise ValueError(f"unexpected plans {type(state.plans).__name__}")
    return "run_queries" if state.plans else "write_answer"


def build_graph() -> StateGraph:
    """The uncompiled graph (house style 1)."""
    builder = StateGraph(State, context_schema=Context, input_schema=InputState,
                         output_schema=OutputState)
    builder.add_node("classify_intent", classify_intent)
    builder.add_node("select_models", select_models)
    builder.add_node("plan_query", plan_query)
    builder.add_node("run_queries", run_queries)
    builder.add_node("fuse_results", fuse_results)
    builder.add_node("write_answer", write_answer)
    builder.add_edge(START, "classify_intent")
    builder.add_conditional_edges("classify_intent", route_intent)
    builder.add_edge("select_models", "plan_query")
    builder.add_conditional_edges("plan_query", route_plan)
    builder.add_edge("run_queries", "fuse_results")
    builder.add_edge("fuse_results", "write_answer")
    builder.add_edge("write_answer", END)
    return builder


#: The compiled graph without memory (for inspection and one-off runs).
graph = build_graph().compile()
