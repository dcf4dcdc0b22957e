"""Fixtures for the eval tests: one offline eval run per session (on `eval_warehouse`)."""

from __future__ import annotations

import pytest

from evals import CASES_DIR
from evals.loader import load_cases
from evals.runner import EvalRun, run_eval


@pytest.fixture(scope="session")
def offline_eval_run(eval_warehouse) -> EvalRun:
    """Every committed case asked once with the offline engine on the correct build."""
    return run_eval(load_cases([CASES_DIR]), warehouse=eval_warehouse, engine="offline")
