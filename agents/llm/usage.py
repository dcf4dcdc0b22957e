"""Usage accounting: tokens in/out, latency and attempts of every LLM call, per graph node.

Each call yields one `CallUsage`; the graph state keeps them as plain dicts (a list with an
appending reducer), and `summarize` turns a turn's list into the ``usage`` object of
``whizzy ask --json`` and the eval report. A cost appears only when the user set prices
(``WHIZZY_LLM_PRICE_IN`` / ``_OUT``, USD per million tokens): it is never guessed.

>>> calls = [CallUsage(node="plan_query", model="m", input_tokens=900, output_tokens=60,
...                    latency_ms=410.0).to_state(),
...          CallUsage(node="write_answer", model="m", input_tokens=700, output_tokens=80,
...                    latency_ms=820.5).to_state()]
>>> total = summarize(calls)
>>> total["input_tokens"], total["output_tokens"], total["latency_ms"], total["calls"]
(1600, 140, 1230.5, 2)
>>> summarize(calls, price_in=0.15, price_out=0.6)["cost_usd"]
0.000324
>>> summarize([])
{}
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass(kw_only=True)
class CallUsage:
    """One LLM call (with its retries) made by a node."""

    node: str
    model: str
    input_tokens: int = 0
    output_tokens: int = 0
    latency_ms: float = 0.0
    attempts: int = 1
    ok: bool = True
    error: str | None = None
    kind: str | None = None

    def to_state(self) -> dict[str, Any]:
        """The JSON-friendly form kept in graph state."""
        data = asdict(self)
        data["latency_ms"] = round(self.latency_ms, 1)
        return data


def summarize(calls: list[dict[str, Any]], *, price_in: float | None = None,
              price_out: float | None = None) -> dict[str, Any]:
    """Totals and a per-node breakdown of a turn's calls (empty dict when there were none)."""
    if not calls:
        return {}
    nodes: dict[str, dict[str, Any]] = {}
    for call in calls:
        node = nodes.setdefault(call["node"], {
            "node": call["node"], "calls": 0, "input_tokens": 0, "output_tokens": 0,
            "latency_ms": 0.0, "errors": [],
        })
        node["calls"] += 1
        node["input_tokens"] += int(call.get("input_tokens") or 0)
        node["output_tokens"] += int(call.get("output_tokens") or 0)
        node["latency_ms"] = round(node["latency_ms"] + float(call.get("latency_ms") or 0), 1)
        if not call.get("ok", True) and call.get("error"):
            node["errors"].append(call["error"])
    total: dict[str, Any] = {
        "model": next((c["model"] for c in calls if c.get("model")), None),
        "calls": len(calls),
        "input_tokens": sum(n["input_tokens"] for n in nodes.values()),
        "output_tokens": sum(n["output_tokens"] for n in nodes.values()),
        "latency_ms": round(sum(n["latency_ms"] for n in nodes.values()), 1),
        "nodes": list(nodes.values()),
    }
    if price_in is not None and price_out is not None:
        cost = (total["input_tokens"] * price_in + total["output_tokens"] * price_out) / 1e6
        total["cost_usd"] = round(cost, 6)
    return total
