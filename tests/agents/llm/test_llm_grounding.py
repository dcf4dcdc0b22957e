"""The grounding checker, driven by fixtures/grounding_cases.yaml (near misses included)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from agents.llm.grounding import grounding, result_facts
from whizzy.core.formatting import format_currency, format_days, format_percent

CASES = yaml.safe_load((Path(__file__).parent / "fixtures" / "grounding_cases.yaml").read_text())


def _fact(value):
    if isinstance(value, str) and value.startswith("date:"):
        return dt.date.fromisoformat(value[5:])
    return value


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_grounding_case(case):
    report = grounding(case["text"], [_fact(f) for f in case["facts"]],
                       question=case.get("question", ""), counts=case.get("counts", []))
    assert report.ungrounded == case["ungrounded"]
    assert report.ok is (not case["ungrounded"])
    assert bool(report.checked) is case.get("figures", True)


def test_reason_names_the_figure():
    report = grounding("Win rate was 44.4% and pipeline $9.9M.", [0.3125, 1_240_000])
    assert report.reason == "the LLM wrote 44.4%, $9.9M, which are not in the query result"


def test_result_facts_reads_rows_of_lists_and_dicts():
    facts, counts = result_facts([{"rows": [["Ann", 0.4]]}, {"rows": [{"name": "Bo", "x": 2}]}])
    assert facts == ["Ann", 0.4, "Bo", 2] and counts == [1, 1]


@given(st.floats(min_value=0.0005, max_value=0.9995))
def test_every_offline_percent_form_is_grounded(value):
    text = f"Win rate was {format_percent(value)}."
    assert grounding(text, [value]).ok, text


@given(st.integers(min_value=1_000, max_value=900_000_000))
def test_every_offline_currency_form_is_grounded(value):
    text = f"Pipeline is {format_currency(value)}."
    assert grounding(text, [value]).ok, text


@given(st.floats(min_value=1.0, max_value=900.0))
def test_every_offline_days_form_is_grounded(value):
    text = f"Deals take {format_days(value)}."
    assert grounding(text, [value]).ok, text


@given(st.floats(min_value=0.05, max_value=0.95), st.floats(min_value=0.011, max_value=0.2))
def test_a_percent_off_by_more_than_rounding_is_rejected(value, gap):
    wrong = format_percent(value + gap)
    assert not grounding(f"Win rate was {wrong}.", [value]).ok
