"""Eval reports: summary metrics, a terminal table, `report.json` and a one-page `report.html`.

The HTML page is self-contained: its chart is inline SVG, with no script, font or style sheet
loaded from anywhere.
"""

from __future__ import annotations

import html
import json
from collections import defaultdict
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console
from rich.table import Table
from rich.text import Text

from evals.runner import CaseResult, EvalRun
from whizzy.core.controls import strip_controls
from whizzy.core.jsonable import jsonable
from whizzy.core.stats import percentile


def _rate(results: Sequence[CaseResult], score: str, *, only_refusals: bool | None = None) -> dict:
    scored = [
        r.scores[score].passed
        for r in results
        if score in r.scores and (only_refusals is None or r.case.is_refusal == only_refusals)
    ]
    return {
        "scored": len(scored),
        "passed": sum(scored),
        "rate": (sum(scored) / len(scored)) if scored else None,
    }


def summarise(run: EvalRun) -> dict:
    """The headline figures of a run (what `report.json` holds besides the cases)."""
    results = run.results
    families: dict[str, list[CaseResult]] = defaultdict(list)
    for r in results:
        families[r.case.family].append(r)
    usage: dict[str, float] = defaultdict(float)
    for r in results:
        for key, value in ((r.response or {}).get("usage") or {}).items():
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                usage[key] += value
    latencies = [r.elapsed_ms for r in results]
    passed = sum(r.passed for r in results)
    refusals = _rate(results, "refusal", only_refusals=True)
    others = _rate(results, "refusal", only_refusals=False)
    return {
        "engine": run.engine,
        "warehouse": str(run.warehouse),
        "as_of_date": run.as_of_date,
        "started_at": run.started_at,
        "duration_s": round(run.duration_s, 3),
        "cases": len(results),
        "skipped": len(run.skipped),
        "passed": passed,
        "pass_rate": passed / len(results) if results else None,
        "families": {
            name: {
                "cases": len(rs),
                "passed": sum(r.passed for r in rs),
                "pass_rate": sum(r.passed for r in rs) / len(rs),
            }
            for name, rs in families.items()
        },
        "intent_accuracy": _rate(results, "intent"),
        "model_hit_rate": _rate(results, "models"),
        "answer_correctness": _rate(results, "answer"),
        "refusal_correctness": refusals,
        "false_refusals": others["scored"] - others["passed"],
        "latency_ms": {
            "p50": percentile(latencies, 50),
            "p95": percentile(latencies, 95),
            "max": max(latencies, default=None),
        },
        "usage": dict(usage),
        "warehouse_unchanged": run.warehouse_unchanged,
    }




def case_record(r: CaseResult) -> dict:
    """One case's entry in `report.json`."""
    response = r.response or {}
    return {
        "id": r.case.id,
        "family": r.case.family,
        "file": r.case.file.name,
        "thread": r.case.thread,
        "question": r.case.question,
        "passed": r.passed,
        "failures": r.failures,
        "expected_intent": r.case.intent,
        "intent": response.get("intent"),
        "expected_models": list(r.case.models),
        "models": jsonable(response.get("models") or []),
        "answer": response.get("answer"),
        "sql": jsonable(response.get("sql") or []),
        "error": response.get("error"),
        "exception": r.exception,
        "gold_sql": r.case.gold_sql,
        "gold_columns": list(r.gold.columns) if r.gold else None,
        "gold_rows": jsonable(list(r.gold.rows[:5])) if r.gold else None,
        "elapsed_ms": round(r.elapsed_ms, 2),
        "scores": {n: {"value": s.value, "passed": s.passed, "detail": s.detail}
                   for n, s in r.scores.items()},
        "usage": jsonable(response.get("usage") or {}),
        "llm_fallbacks": jsonable(response.get("llm_fallbacks") or []),
    }


def case_usage_rows(results: list[CaseResult]) -> list[tuple[str, ...]]:
    """Per case: id, pass, latency, LLM calls, tokens in/out, fallbacks (LLM runs).

    >>> from evals.evaluators import _case
    >>> r = CaseResult(case=_case(id="c1"), thread_id="t", response={"usage": {"calls": 3,
    ...     "input_tokens": 900, "output_tokens": 80, "fallbacks": 1}, "llm_fallbacks": [
    ...     {"node": "write_answer", "kind": "ungrounded"}]}, gold=None, scores={},
    ...     elapsed_ms=412.3)
    >>> case_usage_rows([r])
    [('c1', 'pass', '412 ms', '3', '900', '80', 'write_answer: ungrounded')]
    """
    rows = []
    for r in results:
        response = r.response or {}
        usage = response.get("usage") or {}
        fallbacks = ", ".join(f"{f.get('node')}: {f.get('kind')}"
                              for f in response.get("llm_fallbacks") or []) or "–"
        rows.append((r.case.id, "pass" if r.passed else "FAIL", _ms(r.elapsed_ms),
                     str(usage.get("calls", 0)), str(usage.get("input_tokens", 0)),
                     str(usage.get("output_tokens", 0)), fallbacks))
    return rows


_USAGE_HEADER = ("Case", "Result", "Latency", "LLM calls", "Tokens in", "Tokens out",
                 "Fallbacks")


def write_json(run: EvalRun, path: Path, summary: dict | None = None) -> Path:
    """Write `report.json`: the summary and every case."""
    data = {"summary": summary or summarise(run), "cases": [case_record(r) for r in run.results]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
    return path


def _pct(value: float | None) -> str:
    """A rate for people.

    >>> _pct(0.9876), _pct(None)
    ('98.8%', '–')
    """
    return "–" if value is None else f"{value * 100:.1f}%"


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f} ms"


def _headline(summary: dict) -> list[tuple[str, str]]:
    lat = summary["latency_ms"]
    rows = [
        ("Pass rate", f"{_pct(summary['pass_rate'])} ({summary['passed']}/{summary['cases']})"),
        ("Not applicable on this org", str(summary.get("skipped", 0))),
        ("Intent accuracy", _pct(summary["intent_accuracy"]["rate"])),
        ("Model-selection hit rate", _pct(summary["model_hit_rate"]["rate"])),
        ("Answer correctness", _pct(summary["answer_correctness"]["rate"])),
        ("Refusal correctness", _pct(summary["refusal_correctness"]["rate"])),
        ("False refusals", str(summary["false_refusals"])),
        ("Latency p50 / p95", f"{_ms(lat['p50'])} / {_ms(lat['p95'])}"),
        ("Warehouse unchanged", "yes" if summary["warehouse_unchanged"] else "NO"),
    ]
    rows += [(f"Usage: {k}", f"{v:,.4f}" if "cost" in k else f"{v:,.0f}")
             for k, v in sorted(summary["usage"].items())]
    return rows


def print_report(run: EvalRun, summary: dict, console: Console, *, max_failures: int = 40) -> None:
    """The terminal report: per-family table, headline figures, failing cases."""
    families = Table(title=f"Eval — {summary['engine']} engine, as of {summary['as_of_date']}")
    families.add_column("Family")
    families.add_column("Cases", justify="right")
    families.add_column("Passed", justify="right")
    families.add_column("Pass rate", justify="right")
    for name, f in sorted(summary["families"].items()):
        style = "green" if f["passed"] == f["cases"] else "red"
        families.add_row(name, str(f["cases"]), str(f["passed"]), _pct(f["pass_rate"]),
                         style=style)
    console.print(families)
    headline = Table(show_header=False, box=None)
    for label, value in _headline(summary):
        headline.add_row(label, value)
    console.print(headline)
    if summary["engine"] == "llm":
        per_case = Table(title="Per case (LLM engine)")
        for i, name in enumerate(_USAGE_HEADER):
            per_case.add_column(name, justify="right" if 2 <= i <= 5 else "left")
        for row in case_usage_rows(run.results):
            per_case.add_row(*row, style=None if row[1] == "pass" else "red")
        console.print(per_case)
    failing = [r for r in run.results if not r.passed]
    if failing:
        table = Table(title=f"Failing cases ({len(failing)})", show_lines=True)
        table.add_column("Case", overflow="fold")
        table.add_column("Why", overflow="fold")
        table.add_column("Answer", overflow="fold")
        for r in failing[:max_failures]:
            answer = (r.response or {}).get("answer") or ""
            # answers and failure details quote warehouse values: text, never Rich markup
            table.add_row(*(Text(strip_controls(cell)) for cell in
                            (r.case.id, "\n".join(r.failures), answer[:300])))
        console.print(table)
        if len(failing) > max_failures:
            console.print(f"… and {len(failing) - max_failures} more in report.json")


def family_chart_svg(families: dict[str, dict]) -> str:
    """An inline SVG bar chart of pass rate per family.

    >>> svg = family_chart_svg({"win_rate": {"cases": 4, "passed": 3, "pass_rate": 0.75}})
    >>> svg.startswith("<svg") and "win_rate" in svg and "75.0%" in svg
    True
    """
    bar_h, gap, label_w, bar_w = 20, 6, 170, 420
    names = sorted(families)
    height = len(names) * (bar_h + gap) + gap
    parts = [
        f'<svg width="{label_w + bar_w + 150}" '
        f'height="{height}" role="img" aria-label="Pass rate per family">'
    ]
    for i, name in enumerate(names):
        f = families[name]
        y = gap + i * (bar_h + gap)
        w = round(bar_w * (f["pass_rate"] or 0), 1)
        color = "#2e7d32" if f["passed"] == f["cases"] else "#c62828"
        parts += [
            f'<text x="{label_w - 8}" y="{y + bar_h * 0.72}" text-anchor="end" '
            f'font-size="13">{html.escape(name)}</text>',
            f'<rect x="{label_w}" y="{y}" width="{bar_w}" height="{bar_h}" fill="#eee"/>',
            f'<rect x="{label_w}" y="{y}" width="{w}" height="{bar_h}" fill="{color}"/>',
            f'<text x="{label_w + bar_w + 8}" y="{y + bar_h * 0.72}" font-size="13">'
            f'{_pct(f["pass_rate"])} ({f["passed"]}/{f["cases"]})</text>',
        ]
    parts.append("</svg>")
    return "\n".join(parts)


_CSS = """
body{font-family:system-ui,sans-serif;margin:2rem;max-width:1100px;color:#222}
table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;
text-align:left;vertical-align:top}pre{background:#f6f6f6;padding:.5rem;white-space:pre-wrap;
margin:.2rem 0}.fail{color:#c62828}.ok{color:#2e7d32}h2{margin-top:2rem}
"""


def _failing_html(r: CaseResult) -> str:
    e = html.escape
    response = r.response or {}
    sql = "\n\n".join(response.get("sql") or []) or "(no query)"
    gold = ""
    if r.gold is not None:
        rows = "\n".join(", ".join(map(str, row)) for row in r.gold.rows[:5])
        gold = (f"<p><b>Gold SQL</b></p><pre>{e(r.case.gold_sql or '')}</pre>"
                f"<p><b>Gold rows</b> ({e(', '.join(r.gold.columns))})</p>"
                f"<pre>{e(r.gold.error or rows or '(no rows)')}</pre>")
    return (
        f"<h3 id='{e(r.case.id)}'>{e(r.case.id)} <small>({e(r.case.family)})</small></h3>"
        f"<p><b>Question:</b> {e(r.case.question)}</p>"
        f"<p class='fail'>{'<br>'.join(e(f) for f in r.failures)}</p>"
        f"<p><b>Intent:</b> {e(str(response.get('intent')))} (expected {e(r.case.intent)}); "
        f"<b>models:</b> {e(', '.join(response.get('models') or []) or '–')}</p>"
        f"<p><b>Answer</b></p><pre>{e(str(response.get('answer') or r.exception or ''))}</pre>"
        f"<p><b>SQL</b></p><pre>{e(sql)}</pre>{gold}"
    )


def write_html(run: EvalRun, path: Path, summary: dict | None = None) -> Path:
    """Write the one-page `report.html` (chart of pass rate per family, failing cases)."""
    summary = summary or summarise(run)
    e = html.escape
    failing = [r for r in run.results if not r.passed]
    headline = "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>" for k, v in _headline(summary))
    status = "ok" if not failing else "fail"
    body = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        "<title>Whizzy eval report</title>",
        f"<style>{_CSS}</style></head><body>",
        "<h1>Whizzy eval report</h1>",
        f"<p class='{status}'><b>{summary['passed']}/{summary['cases']} cases passed</b> — "
        f"{e(summary['engine'])} engine, warehouse as of {e(str(summary['as_of_date']))}, "
        f"run {e(summary['started_at'])} in {summary['duration_s']:.1f} s.</p>",
        f"<table>{headline}</table>",
        "<h2>Pass rate per family</h2>",
        family_chart_svg(summary["families"]),
        f"<h2>Failing cases ({len(failing)})</h2>",
    ]
    body += [_failing_html(r) for r in failing] or ["<p class='ok'>None.</p>"]
    if summary["engine"] == "llm":
        head = "".join(f"<th>{e(h)}</th>" for h in _USAGE_HEADER)
        cells = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>"
                        for row in case_usage_rows(run.results))
        body += ["<h2>Per case: latency and LLM usage</h2>",
                 f"<table><tr>{head}</tr>{cells}</table>"]
    body.append("</body></html>")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(body), encoding="utf-8")
    return path
