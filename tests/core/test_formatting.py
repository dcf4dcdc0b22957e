import datetime as dt

import pytest

from whizzy.core.formatting import format_value

CASES = [
    (0.3125, "percent", "31.3%"), (0.0, "percent", "0.0%"), (1, "percent", "100.0%"),
    (1_240_000, "currency", "$1.24M"), (842_000, "currency", "$842K"), (950, "currency", "$950"),
    (999_999.6, "currency", "$1.00M"), (0, "currency", "$0"), (-12_500, "currency", "-$12.5K"),
    (42, "days", "42 days"), (42.36, "days", "42.4 days"), (1, "days", "1 day"),
    (1234, "count", "1,234"), (80, "score", "80"), ("Good", "text", "Good"),
    (None, "percent", "n/a"), (None, "currency", "n/a"), (float("nan"), "currency", "n/a"),
    (dt.date(2026, 11, 15), None, "Nov 15, 2026"),
]


@pytest.mark.parametrize(("value", "unit", "shown"), CASES)
def test_format_value(value, unit, shown):
    assert format_value(value, unit) == shown
