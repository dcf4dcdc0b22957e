"""The grounding suite of number forms (issue 17, finding 3): words, exponents, underscores,
superscripts, other scripts, digits glued to letters and repeated data strings.

An *escape* is an invented figure the check lets through; a *false drop* is an honest
figure it rejects. Both must be zero.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from agents.llm.grounding import grounding

SUITE = yaml.safe_load(
    (Path(__file__).parent / "fixtures" / "grounding_number_forms.yaml").read_text())
CASES = SUITE["cases"]


def _report(case):
    return grounding(case["text"], case.get("facts", SUITE["facts"]),
                     counts=case.get("counts", SUITE["counts"]))


@pytest.mark.parametrize("case", CASES, ids=[f"{c['form']}: {c['text']}" for c in CASES])
def test_number_form(case):
    report = _report(case)
    assert report.ok is case["grounded"], (report.checked, report.ungrounded)


def test_the_number_forms_suite_has_no_escapes(capsys):
    tried, escapes, false_drops = Counter(), Counter(), Counter()
    for case in CASES:
        ok = _report(case).ok
        tried[case["form"]] += 1
        if ok and not case["grounded"]:
            escapes[case["form"]] += 1
        if not ok and case["grounded"]:
            false_drops[case["form"]] += 1
    with capsys.disabled():
        print("\ngrounding number forms: " + ", ".join(
            f"{form} {n}" for form, n in sorted(tried.items()))
            + f"; {sum(tried.values())} inputs, {sum(not c['grounded'] for c in CASES)} "
            f"invented, {sum(escapes.values())} escapes, "
            f"{sum(false_drops.values())} false drops")
    assert set(tried) == {"words", "exponents", "underscores", "superscripts", "scripts",
                          "glued", "data strings"}
    assert not escapes and not false_drops, (escapes, false_drops)
