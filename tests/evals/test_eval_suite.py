"""ACCEPTANCE: the whole offline eval suite passes — every committed case, as `whizzy eval` runs it.

This is how `make test` requires every case in `evals/cases/` to pass. It fails until the agent
graph answers every family correctly; the failing cases and why are printed, and the full report
(answers, SQL, gold rows) is written to the test's temporary folder.
"""

import time

import pytest

from evals.report import summarise, write_html, write_json


@pytest.mark.slow
def test_offline_eval_passes_every_case(request, tmp_path):
    started = time.perf_counter()
    run = request.getfixturevalue("offline_eval_run")  # builds the eval warehouse if needed
    elapsed = time.perf_counter() - started
    summary = summarise(run)
    write_json(run, tmp_path / "report.json", summary)
    write_html(run, tmp_path / "report.html", summary)

    failing = [r for r in run.results if not r.passed]
    lines = [
        f"{r.case.id} [{r.case.family}]: {'; '.join(r.failures)}\n"
        f"    Q: {r.case.question}\n    A: {((r.response or {}).get('answer') or '')[:400]}"
        for r in failing
    ]
    assert summary["warehouse_unchanged"], "the eval wrote to the warehouse"
    assert not failing, (
        f"{len(failing)}/{len(run.results)} eval cases fail (report: {tmp_path}/report.html):\n"
        + "\n".join(lines)
    )
    assert len(run.results) >= 100
    print(f"offline eval: {len(run.results)} cases passed in {elapsed:.1f} s "
          f"(including the eval warehouse build when it was out of date), "
          f"p50 {summary['latency_ms']['p50']:.0f} ms, p95 {summary['latency_ms']['p95']:.0f} ms")
