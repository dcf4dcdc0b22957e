"""ACCEPTANCE: the whole offline eval suite passes — every committed case, as `whizzy eval` runs it.

This is how `make test` requires every case in `evals/cases/` to pass. It fails until the agent
graph answers every family correctly; the failing cases and why are printed, and the full report
(answers, SQL, gold rows) is written to the test's temporary folder.
"""

import time

import pytest

from evals import CASES_DIR
from evals.loader import load_cases
from evals.report import summarise, write_html, write_json
from evals.runner import run_eval
from evals.warehouse import EvalOrg, ensure_eval_warehouse


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


#: An org the cases were not written on: another seed and size, an as-of date early in the
#: year, and a fiscal year that starts in February (named quarters, halves and "this quarter"
#: are fiscal there).
OTHER_ORG = EvalOrg(seed=7, opportunities=8000, as_of="2026-03-20", fiscal_year_start_month=2)


@pytest.mark.slow
def test_offline_eval_passes_every_case_on_an_org_with_a_february_fiscal_year(tmp_path):
    warehouse = ensure_eval_warehouse(org=OTHER_ORG)
    run = run_eval(load_cases([CASES_DIR]), warehouse=warehouse, engine="offline")
    summary = summarise(run)
    write_json(run, tmp_path / "report.json", summary)
    failing = [f"{r.case.id}: {'; '.join(r.failures)}\n    Q: {r.case.question}\n    A: "
               f"{((r.response or {}).get('answer') or '')[:300]}"
               for r in run.results if not r.passed]
    assert not failing, (f"{len(failing)}/{len(run.results)} cases fail on {OTHER_ORG.key} "
                         f"(report: {tmp_path}/report.json):\n" + "\n".join(failing))
    assert len(run.results) >= 100


#: The development sets: probes written for each comprehension concept (evals/dev). They must
#: keep passing on the eval org and on the February org (held-out sets stay out of tests).
DEV_DIR = CASES_DIR.parent / "dev"


@pytest.mark.slow
@pytest.mark.parametrize("org", [None, OTHER_ORG], ids=["eval-org", "february-org"])
def test_offline_eval_passes_every_development_probe(org, eval_warehouse, tmp_path):
    warehouse = eval_warehouse if org is None else ensure_eval_warehouse(org=org)
    run = run_eval(load_cases([DEV_DIR]), warehouse=warehouse, engine="offline")
    failing = [f"{r.case.id}: {'; '.join(r.failures)}\n    Q: {r.case.question}\n    A: "
               f"{((r.response or {}).get('answer') or '')[:300]}"
               for r in run.results if not r.passed]
    assert len(run.results) >= 250
    assert not failing, f"{len(failing)}/{len(run.results)} development probes fail:\n" + \
        "\n".join(failing)
