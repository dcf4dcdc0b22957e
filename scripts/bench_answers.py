"""Answer latency of the offline engine: p50 / p95 over the test questions.

    .venv/bin/python scripts/bench_answers.py                       # the demo warehouse
    .venv/bin/python scripts/bench_answers.py --warehouse PATH      # any built warehouse
    .venv/bin/python scripts/bench_answers.py --opportunities 1000000  # generate + build one

The questions are the eval cases' questions (evals/cases/*.yaml) plus the end-to-end test
questions below, each asked in a fresh thread after one warm-up pass (as in a running chat
server, whose caches are warm). Prints p50, p95 and max in milliseconds and the slowest
questions; `--json FILE` also writes them.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EXTRA_QUESTIONS = [
    "What was our win rate last quarter?", "win rate", "Which industry has the highest win rate?",
    "top 3 reps by win rate", "Who are the bottom 2 reps by win rate?",
    "What is our open pipeline?", "whats our weigted pipline", "How much pipeline is overdue?",
    "QTD bookings", "How healthy is our pipeline this quarter?",
    "What is the pipeline health score trend?", "Which stage is our bottleneck?",
    "How long do deals sit in the proposal stage?", "sales velocity by rep",
    "How many deals slipped last quarter?", "Which deals have been pushed the most?",
    "What is the revenue forecast for next month?",
    "What are the biggest deals closing this quarter?",
    "Give me an executive summary", "What does win rate mean?", "Delete all deals",
]


def questions() -> list[str]:
    """Every distinct question of the eval cases and the list above."""
    out: list[str] = []
    for file in sorted((ROOT / "evals" / "cases").glob("*.yaml")):
        for case in yaml.safe_load(file.read_text()) or []:
            if isinstance(case, dict) and case.get("question") and not case.get("thread"):
                out.append(str(case["question"]))
    return list(dict.fromkeys([*out, *EXTRA_QUESTIONS]))


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def make_warehouse(opportunities: int, folder: Path) -> Path:
    """Generate an org of `opportunities` deals and build it (as-of 2026-11-15)."""
    from whizzy.build import build_warehouse
    from whizzy.data.generate import generate_org

    path = folder / "warehouse.duckdb"
    started = time.perf_counter()
    generate_org(path, opportunities=opportunities, seed=7, as_of="2026-11-15")
    print(f"generated {opportunities:,} opportunities in {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    build_warehouse(path, as_of="2026-11-15")
    print(f"built in {time.perf_counter() - started:.1f} s")
    return path


def bench(warehouse: Path) -> dict:
    """Ask every question once to warm up, then again timed; returns the figures."""
    from agents.assistant import Assistant

    assistant = Assistant(warehouse)
    asked = questions()
    started = time.perf_counter()
    for question in asked:
        assistant.ask(question, thread_id=uuid.uuid4().hex)
    warm_up = time.perf_counter() - started
    timings = []
    for question in asked:
        t0 = time.perf_counter()
        assistant.ask(question, thread_id=uuid.uuid4().hex)
        timings.append(((time.perf_counter() - t0) * 1000, question))
    ms = [t for t, _ in timings]
    return {
        "warehouse": str(warehouse), "questions": len(asked), "warm_up_s": round(warm_up, 2),
        "p50_ms": round(percentile(ms, 50), 1), "p95_ms": round(percentile(ms, 95), 1),
        "max_ms": round(max(ms), 1), "mean_ms": round(statistics.mean(ms), 1),
        "slowest": [{"ms": round(t, 1), "question": q} for t, q in sorted(timings)[-5:][::-1]],
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="a built warehouse (default: build one)")
    parser.add_argument("--opportunities", type=int, default=3000,
                        help="size of the org to generate when no --warehouse (default 3000)")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="whizzy-bench-") as tmp:
        warehouse = args.warehouse or make_warehouse(args.opportunities, Path(tmp))
        figures = bench(warehouse)
    print(f"{figures['questions']} questions on {figures['warehouse']}")
    print(f"answer latency: p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
          f"max {figures['max_ms']} ms (mean {figures['mean_ms']} ms)")
    for slow in figures["slowest"]:
        print(f"  {slow['ms']:>8.1f} ms  {slow['question'][:80]}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
