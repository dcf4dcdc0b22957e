"""The matcher: forms people write numbers, dates and quarters in, and near-misses that fail."""

from datetime import date, datetime
from decimal import Decimal

import pytest

from evals.matching import matches

MATCH = [
    # percent ↔ fraction, with the shown precision
    (0.3125, "Win rate was 31.3% in Q3 2026."),
    (0.3125, "31.25 %"),
    (0.3125, "about 31%"),
    (0.3125, "31 percent"),
    (0.0712, "overdue share 7.1%"),
    (31.25, "31.3%"),  # a gold already in percent units
    (-0.023, "win rate fell 2.3 pp"),
    (-0.023, "down 2.3 percentage points"),
    (-0.071, "Win rate is 21.0% in Q4 2026, -7.1 pts vs Q3 2026."),
    # currency, separators, suffixes
    (1234567, "$1,234,567"),
    (1234567.89, "$1,234,567.89"),
    (Decimal("1234567.00"), "$1.23M"),
    (1234567, "1.2M"),
    (1234567, "$1.2 million"),
    (842_300, "$842K"),
    (842_300, "$842k"),
    (842_300, "842.3 thousand"),
    (3_400_000_000, "$3.4B"),
    (3_400_000_000, "3.4bn"),
    (12_500, "€12,500"),
    # days and counts
    (42.37, "42.4 days"),
    (42.37, "42 days"),
    (17, "17 deals slipped"),
    (250, "250 opportunities"),
    # dates
    (date(2026, 11, 15), "as of 2026-11-15"),
    (date(2026, 11, 15), "as of November 15, 2026"),
    (date(2026, 11, 15), "as of Nov 15, 2026"),
    (date(2026, 11, 15), "as of Nov. 15th 2026"),
    (date(2026, 11, 15), "as of 15 November 2026"),
    (datetime(2026, 11, 15, 9, 30), "built 2026-11-15"),
    ("2026-11-15", "as of Nov 15, 2026"),
    # months
    ("2026-12", "December 2026 forecast"),
    ("2026-12", "Dec 2026"),
    ("2026-12", "month 2026-12"),
    # quarters
    ("2026-Q2", "2026-Q2"),
    ("2026-Q2", "Q2 2026"),
    ("2026-Q2", "Q2'26"),
    ("2026-Q2", "Q2 ’26"),
    ("2026-q2", "q2 2026"),
    ("2026-Q2", "FY26 Q2"),
    ("2026-Q2", "the second quarter of 2026"),
    ("2026-Q2", "2026 Q2"),
    # text
    ("Healthcare", "Healthcare leads at 41%"),
    ("healthcare", "HEALTHCARE"),
    ("Needs Analysis", "the needs  analysis stage"),
    ("Proposal/Price Quote", "deals in Proposal/Price Quote"),
    ("José Núñez", "Jose Nunez has the best win rate"),
    ("Excellent", "health is excellent."),
    ("0.5", "50%"),  # numeric text is a number
]

NEAR_MISS = [
    (0.3125, "Win rate was 31.6%."),
    (0.3125, "32%"),
    (0.3125, "0.35"),
    (0.3125, "30.2%"),
    (1234567, "$1.25M"),
    (1234567, "$1,243,567"),
    (1234567, "$1.3M"),
    (842_300, "$845K"),
    (842_300, "$8.42M"),
    (42.37, "43 days"),
    (42.37, "41.9 days"),
    (17, "18 deals"),
    (17, "1.7"),
    (date(2026, 11, 15), "as of 2026-11-16"),
    (date(2026, 11, 15), "as of Nov 15, 2025"),
    (date(2026, 11, 15), "as of Dec 15, 2026"),
    ("2026-12", "Nov 2026"),
    ("2026-Q2", "Q3 2026"),
    ("2026-Q2", "Q2 2025"),
    ("2026-Q2", "Q2'25"),
    ("Healthcare", "Health care"),
    ("Health", "Healthcare"),
    ("Energy", "Synergy"),
    (2026, "in Q2 2026"),  # numbers inside quarters don't count
    (15, "as of 2026-11-15"),  # nor inside dates
    (11, "as of Nov 11, 2026"),
    (None, "None"),
    (float("nan"), "nan"),
]


@pytest.mark.parametrize(("gold", "text"), MATCH)
def test_matches(gold, text):
    assert matches(gold, text), (gold, text)


@pytest.mark.parametrize(("gold", "text"), NEAR_MISS)
def test_near_misses_fail(gold, text):
    assert not matches(gold, text), (gold, text)


def test_tolerance_widens_and_narrows():
    assert not matches(100.0, "101")
    assert matches(100.0, "101", tolerance=0.02)
    assert matches(0.3125, "31.3%", tolerance=0)  # shown precision still allows rounding
    assert not matches(0.3125, "31.4%", tolerance=0)


def test_any_number_in_a_long_answer():
    answer = (
        "Pipeline health for Q4 2026 is 75 (Good) as of Nov 15, 2026. Win rate 28.4%, "
        "overdue share 12.0%, average deal $61.2K across 412 deals."
    )
    for gold in (75, 0.284, 0.12, 61_234.5, 412, "Good", "2026-Q4", date(2026, 11, 15)):
        assert matches(gold, answer), gold
    for gold in (76, 0.29, 412_000, "Poor", "2026-Q3"):
        assert not matches(gold, answer), gold


def test_booleans_as_words():
    assert matches(True, "Yes, it is a bottleneck")
    assert not matches(True, "It is not")
