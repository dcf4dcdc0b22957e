"""Check case files' bind and gold SQL on one or more built warehouses (no assistant asked).

    python -m evals.checkgold evals/cases --warehouse W1 [W2 ...]

For every case and warehouse: the bind queries return a value, the gold query runs and
returns at least one row with no nulls in the values an answer must state, and an
``all_rows`` case has five rows or fewer. Prints one line per problem and a summary; exits
1 when there is any problem.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from evals.evaluators import gold_values
from evals.loader import VALUE_EXPECTS, EvalCase, load_cases
from evals.runner import BindMissing, bind_case, gold_connection, run_gold


def problems(case: EvalCase, con) -> list[str]:  # noqa: ANN001 - duckdb connection
    """What is wrong with one case's bind and gold SQL on one warehouse (empty: nothing)."""
    try:
        case = bind_case(con, case)
    except BindMissing as exc:
        return [f"(not applicable here: {exc})"]
    except ValueError as exc:
        return [str(exc)]
    if not case.gold_sql or case.expect not in VALUE_EXPECTS:
        return []
    gold = run_gold(con, case.gold_sql)
    if gold.error:
        return [f"gold SQL failed: {gold.error}"]
    if not gold.rows:
        return ["gold SQL returned no rows"]
    found = []
    if case.expect == "all_rows" and len(gold.rows) > 5:
        found.append(f"all_rows gold returned {len(gold.rows)} rows (keep it to 5 or fewer)")
    if any(v is None for v in gold_values(gold.rows, case.expect)):
        found.append(f"gold has nulls: {gold.rows[:3]}")
    return found


def check(paths: Sequence[Path], warehouses: Sequence[Path]) -> list[str]:
    """Every problem, as ``warehouse: case id: problem`` lines."""
    cases = load_cases(paths)
    lines = []
    for warehouse in warehouses:
        con = gold_connection(warehouse)
        try:
            for case in cases:
                lines += [f"{warehouse}: {case.id}: {p}" for p in problems(case, con)]
        finally:
            con.close()
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("paths", nargs="+", type=Path, help="case files or folders")
    parser.add_argument("--warehouse", nargs="+", type=Path, required=True,
                        help="built warehouses to check on")
    args = parser.parse_args(argv)
    lines = check(args.paths, args.warehouse)
    for line in lines:
        print(line)
    bad = [line for line in lines if "(not applicable here" not in line]
    count = len(load_cases(args.paths))
    print(f"{count} cases on {len(args.warehouse)} warehouse(s): {len(bad)} problem(s), "
          f"{len(lines) - len(bad)} not applicable")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
