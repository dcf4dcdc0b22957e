"""A deliberately broken model makes the eval fail on the right cases, and only those.

The dbt project is copied and every count-based win rate in it is turned into a win rate by
amount: the YAML `expr` of each `win_rate` measure, the `ratio(won_count, won + lost)` of the
models whose counts come with won and lost amounts, and the executive dashboard's overall
won/closed counts. It follows the project's current SQL: when the project is restructured, the
asserts below say which pattern was not found. The copy
is run (`dbt run`: its unit tests would rightly fail) on a copy of the eval warehouse, and the
whole offline eval is asked again. Cases that newly fail must all be win-rate cases, and the
plain win-rate cases must all newly fail — while "win rate by amount" keeps passing.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
import yaml

from evals import CASES_DIR
from evals.loader import load_cases
from evals.runner import run_eval
from whizzy.build import run_dbt
from whizzy.core.settings import DBT_PROJECT_DIR
from whizzy.warehouse.connection import manifest_path_for

#: Plain win-rate questions: each must fail on the broken build.
WIN_RATE_CORE = {
    "win-rate-overall", "win-rate-last-quarter", "win-rate-named-quarter", "win-rate-year-2025",
    "win-rate-healthcare", "win-rate-owner-full-name", "win-rate-trend-2026",
    "reps-top-3-win-rate", "thread-win-rate-1",
}
#: Its answer is by amount already: it must keep passing.
BY_AMOUNT = "win-rate-by-amount"

COUNT_EXPR = re.compile(r"then 1 else 0")
#: The dashboard counts the overall window's won and closed deals for its overall win rate.
OVERALL_COUNTS = re.compile(
    r"count\(\*\)(?P<rest>\s+filter\s*\((?:[^()]|\((?:[^()]|\([^()]*\))*\))*\)"
    r"\s+as\s+overall_(?:won|closed)_count)"
)
COUNT_RATIO = re.compile(
    r"ratio\('(?P<p>[\w.]*?)won_count',\s*'(?P=p)won_count \+ (?P=p)lost_count'\)"
)


def break_win_rate(project: Path) -> dict[str, int]:
    """Turn count-based win rates in a dbt project copy into win rates by amount."""
    changed: dict[str, int] = {}
    for path in project.rglob("*.yml"):
        text = path.read_text()
        models = (yaml.safe_load(text) or {}).get("models")
        for model in models if isinstance(models, list) else []:
            meta = ((model.get("config") or {}).get("meta") or {}).get("whizzy") or {}
            for measure in meta.get("measures") or []:
                expr = measure.get("expr") or ""
                if measure.get("name") == "win_rate" and COUNT_EXPR.search(expr):
                    text = text.replace(expr, COUNT_EXPR.sub("then amount else 0", expr))
                    changed[f"{path.name}:{model['name']}"] = 1
        path.write_text(text)
    for path in project.rglob("*.sql"):
        text = path.read_text()
        text, n = OVERALL_COUNTS.subn(lambda m: f"sum(amount){m['rest']}", text)
        if n:
            path.write_text(text)
            changed[path.name] = n
        # only where the counts' CTE also carries won_amount and lost_amount
        if "lost_amount" not in text and "int_quarter_pipeline" not in text:
            continue
        new, n = COUNT_RATIO.subn(
            lambda m: f"ratio('{m['p']}won_amount', '{m['p']}won_amount + {m['p']}lost_amount')",
            text,
        )
        if n:
            path.write_text(new)
            changed[path.name] = n
    return changed


def win_rate_related(case) -> bool:
    """Whether a case's right answer depends on a count-based win rate."""
    sql = case.gold_sql or ""
    return (
        bool(re.search(r"is_won\)::double\s*/", sql))
        or "a_win_rate" in sql
        or case.family in ("briefing", "pipeline_health")  # win rate is a component of both
    )


@pytest.mark.slow
def test_win_rate_by_amount_fails_exactly_the_win_rate_cases(
    tmp_path, eval_warehouse, offline_eval_run
):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages", ".user.yml"))
    changed = break_win_rate(project)
    assert any(":" in k for k in changed), f"no win_rate measure expr found to break: {changed}"
    assert any(":" not in k for k in changed), f"no win-rate model SQL found to break: {changed}"

    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(eval_warehouse, warehouse)
    ok, result, exc = run_dbt(
        ["run"], database=warehouse, project_dir=project, work_dir=tmp_path / "dbt",
        variables={"as_of_date": "2026-11-15", "fiscal_year_start_month": 1},
    )
    failed_nodes = [r.node.name for r in getattr(result, "results", []) or []
                    if str(getattr(r.status, "value", r.status)) != "success"]
    assert ok, f"the broken project did not run: {exc or failed_nodes}"
    shutil.copyfile(tmp_path / "dbt" / "target" / "manifest.json", manifest_path_for(warehouse))

    cases = load_cases([CASES_DIR])
    broken = {r.case.id: r for r in run_eval(cases, warehouse=warehouse).results}
    correct = {r.case.id: r for r in offline_eval_run.results}
    passed_correct = {cid for cid, r in correct.items() if r.passed}
    newly_failing = {cid for cid in passed_correct if not broken[cid].passed}
    by_id = {c.id: c for c in cases}
    related_threads = {c.thread_key for c in cases if c.thread_key and win_rate_related(c)}
    allowed = {c.id for c in cases if win_rate_related(c) or c.thread_key in related_threads}

    unexpected = sorted(newly_failing - allowed)
    assert not unexpected, "cases unrelated to win rate failed on the broken build: " + "; ".join(
        f"{cid}: {broken[cid].failures}" for cid in unexpected)
    checkable = WIN_RATE_CORE & passed_correct
    assert checkable, "no core win-rate case passes on the correct build yet"
    still_passing = sorted(checkable - newly_failing)
    assert not still_passing, f"win-rate cases still pass with win rate by amount: {still_passing}"
    if BY_AMOUNT in passed_correct:
        assert broken[BY_AMOUNT].passed, broken[BY_AMOUNT].failures
    assert WIN_RATE_CORE <= passed_correct, (
        "core win-rate cases fail even on the correct build: "
        f"{sorted(WIN_RATE_CORE - passed_correct)}")
    assert all(by_id[cid].family != "bookings" for cid in newly_failing)
