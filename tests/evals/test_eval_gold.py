"""Every committed case's gold SQL runs on the eval warehouse and gives values to check."""

import pytest

from evals import CASES_DIR
from evals.checkgold import problems
from evals.loader import load_cases
from evals.runner import gold_connection

CASES = load_cases([CASES_DIR])


@pytest.fixture(scope="module")
def eval_con(eval_warehouse):
    con = gold_connection(eval_warehouse)
    yield con
    con.close()


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_binds_and_gold_sql_give_values(eval_con, case):
    assert problems(case, eval_con) == []


def test_eval_warehouse_is_the_documented_org(eval_con):
    as_of, fiscal, opportunities = eval_con.execute(
        "select as_of(), fy_month(), count(*) from salesforce.opportunity"
    ).fetchone()
    assert (str(as_of), fiscal, opportunities) == ("2026-11-15", 1, 20_000)
