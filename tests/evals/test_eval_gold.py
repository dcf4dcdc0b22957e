"""Every committed case's gold SQL runs on the eval warehouse and gives values to check."""

import pytest

from evals import CASES_DIR
from evals.evaluators import gold_values
from evals.loader import load_cases
from evals.runner import run_gold
from whizzy.warehouse import connect_readonly

GOLD_CASES = [c for c in load_cases([CASES_DIR]) if c.gold_sql]


@pytest.fixture(scope="module")
def eval_con(eval_warehouse):
    con = connect_readonly(eval_warehouse)
    yield con
    con.close()


@pytest.mark.slow
@pytest.mark.parametrize("case", GOLD_CASES, ids=[c.id for c in GOLD_CASES])
def test_gold_sql_returns_values(eval_con, case):
    gold = run_gold(eval_con, case.gold_sql)
    assert gold.error is None, gold.error
    assert gold.rows, "gold SQL returned no rows"
    if case.expect == "all_rows":
        assert len(gold.rows) <= 5, "keep all_rows cases to five rows or fewer"
    values = gold_values(gold.rows, case.expect)
    assert all(v is not None for v in values), f"gold has nulls: {gold.rows[:3]}"


def test_eval_warehouse_is_the_documented_org(eval_con):
    as_of, opportunities = eval_con.execute(
        "select (select as_of_date from build_info), count(*) from salesforce.opportunity"
    ).fetchone()
    assert str(as_of) == "2026-11-15"
    assert opportunities == 20_000
