"""Evaluators: pure functions that score one answer against its case.

Each takes the case, the assistant's response (the `Assistant.ask` dict) and, for the answer,
the gold values; each returns a `Score`, or `None` when it does not apply to the case. A case
passes when every score that applies passes (`score_case`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from evals.loader import EvalCase
from evals.matching import matches


@dataclass(frozen=True)
class Score:
    """One evaluator's verdict: a value in [0, 1], pass/fail and what went wrong."""

    name: str
    value: float
    passed: bool
    detail: str = ""


def gold_values(rows: Sequence[Sequence[object]], expect: str) -> list[object]:
    """The values of a gold result that an answer must state.

    >>> rows = [("Healthcare", 0.41), ("Banking", 0.38)]
    >>> gold_values(rows, "first_value"), gold_values(rows, "first_row")
    (['Healthcare'], ['Healthcare', 0.41])
    >>> gold_values(rows, "all_rows")
    ['Healthcare', 0.41, 'Banking', 0.38]
    """
    if not rows:
        return []
    if expect == "first_value":
        return [rows[0][0]]
    if expect == "first_row":
        return list(rows[0])
    if expect == "all_rows":
        return [v for row in rows for v in row]
    raise ValueError(f"unknown expect {expect!r}")


def score_sanity(case: EvalCase, response: dict | None, exception: str | None = None) -> Score:
    """The assistant answered at all: no exception, some answer text, no traceback in it.

    >>> score_sanity(_case(), {"answer": "Hi there"}).passed
    True
    >>> score_sanity(_case(), None, "KeyError: 'x'").detail
    "ask() raised KeyError: 'x'"
    """
    if exception:
        return Score("sanity", 0.0, False, f"ask() raised {exception}")
    answer = (response or {}).get("answer")
    if not isinstance(answer, str) or not answer.strip():
        return Score("sanity", 0.0, False, "empty answer")
    if "Traceback (most recent call last)" in answer:
        return Score("sanity", 0.0, False, "answer shows a traceback")
    return Score("sanity", 1.0, True)


def score_intent(case: EvalCase, response: dict) -> Score:
    """The assistant classified the question as the case expects.

    >>> score_intent(_case(intent="help"), {"intent": "help"}).passed
    True
    >>> score_intent(_case(intent="help"), {"intent": "analytics"}).detail
    'intent analytics, expected help'
    """
    got = response.get("intent")
    ok = got == case.intent
    return Score("intent", float(ok), ok, "" if ok else f"intent {got}, expected {case.intent}")


def score_models(case: EvalCase, response: dict) -> Score | None:
    """Every model the case names is among the selected models (None if it names none).

    >>> score_models(_case(models=("a", "b")), {"models": ["b", "a", "c"]}).passed
    True
    >>> s = score_models(_case(models=("a", "b")), {"models": ["a"]})
    >>> s.value, s.detail
    (0.5, 'not selected: b (selected: a)')
    """
    if not case.models:
        return None
    selected = set(response.get("models") or [])
    missing = [m for m in case.models if m not in selected]
    value = 1 - len(missing) / len(case.models)
    detail = ""
    if missing:
        detail = f"not selected: {', '.join(missing)} (selected: {', '.join(sorted(selected))})"
    return Score("models", value, not missing, detail)


def score_answer(case: EvalCase, response: dict, gold: Sequence[object] | None) -> Score | None:
    """The answer text states every gold value and honours must_contain / must_not_contain.

    `gold` is None when the case has no gold SQL; an empty list means the gold query returned
    no rows, which fails the case (the case itself is broken for this warehouse).

    >>> c = _case(must_contain=("as of",))
    >>> score_answer(c, {"answer": "Win rate 31.3% as of 2026-11-15"}, [0.3125]).passed
    True
    >>> s = score_answer(c, {"answer": "Win rate 35% (as of today)"}, [0.3125])
    >>> s.passed, s.detail
    (False, 'missing gold 0.3125')
    >>> score_answer(_case(), {"answer": "hi"}, None) is None
    True
    """
    checks: list[tuple[bool, str]] = []
    answer = response.get("answer") or ""
    if gold is not None:
        if not gold:
            checks.append((False, "gold query returned no rows"))
        for value in gold:
            ok = matches(value, answer, tolerance=case.tolerance)
            checks.append((ok, f"missing gold {_show(value)}"))
    lowered = answer.casefold()
    checks += [(s.casefold() in lowered, f"missing text {s!r}") for s in case.must_contain]
    checks += [(s.casefold() not in lowered, f"contains {s!r}") for s in case.must_not_contain]
    if not checks:
        return None
    failed = [why for ok, why in checks if not ok]
    return Score("answer", 1 - len(failed) / len(checks), not failed, "; ".join(failed))


def score_refusal(case: EvalCase, response: dict) -> Score:
    """Refused exactly when it should: out-of-scope → intent out_of_scope and no query run.

    >>> score_refusal(_case(intent="out_of_scope"), {"intent": "out_of_scope", "sql": []}).passed
    True
    >>> score_refusal(_case(intent="out_of_scope"), {"intent": "analytics", "sql": ["select 1"]}
    ...               ).detail
    'answered instead of refusing (ran 1 query)'
    >>> score_refusal(_case(intent="analytics"), {"intent": "out_of_scope", "sql": []}).detail
    'refused a question it should answer'
    """
    refused = response.get("intent") == "out_of_scope"
    queries = len(response.get("sql") or [])
    if case.is_refusal:
        ok = refused and queries == 0
        detail = "" if ok else f"answered instead of refusing (ran {queries} query)"
        if refused and queries:
            detail = f"refused but still ran {queries} query"
        return Score("refusal", float(ok), ok, detail)
    ok = not refused
    return Score("refusal", float(ok), ok, "" if ok else "refused a question it should answer")


def score_status(case: EvalCase, response: dict) -> Score | None:
    """For ``expect: clarify`` / ``unanswerable``: the assistant asked back, or said it can't.

    Such a case is right only when no figure is offered in place of the one asked for: the
    response's ``status`` is ``clarify`` (a question back to the user) or ``unanswerable``
    (the data holds nothing that answers it).

    >>> score_status(_case(expect="clarify"), {"status": "clarify"}).passed
    True
    >>> score_status(_case(expect="unanswerable"), {"status": "answered"}).detail
    'status answered, expected unanswerable'
    >>> score_status(_case(), {"status": "answered"}) is None
    True
    """
    if case.expect not in {"clarify", "unanswerable"}:
        return None
    got = response.get("status")
    ok = got == case.expect
    return Score("status", float(ok), ok, "" if ok else f"status {got}, expected {case.expect}")


def score_case(
    case: EvalCase,
    response: dict | None,
    gold: Sequence[object] | None,
    exception: str | None = None,
) -> dict[str, Score]:
    """Every score that applies to one answered case, by evaluator name."""
    sanity = score_sanity(case, response, exception)
    if response is None:
        return {"sanity": sanity}
    scores = {
        "sanity": sanity,
        "intent": score_intent(case, response),
        "models": score_models(case, response),
        "answer": score_answer(case, response, gold),
        "refusal": score_refusal(case, response),
        "status": score_status(case, response),
    }
    return {name: s for name, s in scores.items() if s is not None}


def _show(value: object) -> str:
    return value.isoformat() if hasattr(value, "isoformat") else str(value)


def _case(**overrides: object) -> EvalCase:
    """A minimal case for the examples above."""
    from pathlib import Path

    fields: dict = {"id": "x", "question": "q", "intent": "analytics", "family": "f",
                    "file": Path("f.yaml")}
    return EvalCase(**(fields | overrides))
