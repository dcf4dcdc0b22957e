"""Fixtures for the eval tests: the cached eval warehouse and one offline eval run per session."""

from __future__ import annotations

import pytest

from evals import CASES_DIR
from evals.loader import load_cases
from evals.runner import EvalRun, run_eval
from evals.warehouse import ensure_eval_warehouse


@pytest.fixture(scope="session")
def eval_warehouse():
    """The eval org (seed 42, 20,000 opportunities, as of 2026-11-15), built (cached on disk)."""
    return ensure_eval_warehouse()


@pytest.fixture(scope="session")
def offline_eval_run(eval_warehouse) -> EvalRun:
    """Every committed case asked once with the offline engine on the correct build."""
    return run_eval(load_cases([CASES_DIR]), warehouse=eval_warehouse, engine="offline")
