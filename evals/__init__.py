"""Whizzy's eval suite: YAML cases scored against gold SQL on the raw Salesforce tables.

Modules, one job each:

- `evals.cases`: load and validate `evals/cases/*.yaml`.
- `evals.matching`: does a gold value appear in an answer's text (one pure function)?
- `evals.evaluators`: pure functions scoring one answer (intent, models, answer, refusal).
- `evals.warehouse`: build or reuse the deterministic eval warehouse.
- `evals.runner`: ask every case, run its gold SQL, score it.
- `evals.report`: summary metrics, terminal table, `report.json`, `report.html`.

`whizzy eval` (in `whizzy/cli/eval.py`) wires them together.
"""

from pathlib import Path

#: Where the committed cases live.
CASES_DIR = Path(__file__).resolve().parent / "cases"
