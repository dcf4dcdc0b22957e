"""The dbt sentence macros write money the way the answers do (one formatter, two places)."""

from pathlib import Path

import duckdb
import jinja2
import pytest

from whizzy.core.formatting import format_currency

MACROS = Path(__file__).resolve().parents[2] / "dbt_project" / "macros" / "formatting.sql"


def _render(call: str) -> str:
    template = jinja2.Environment().from_string(MACROS.read_text() + "{{ " + call + " }}")
    return template.render().strip()


@pytest.mark.parametrize("value", [0, 7, 950, 999.4, 1_000, 8_420, 84_250, 842_000, 999_499,
                                   1_240_000, 17_209_000, 2_500_000_000, -12_500, None])
def test_fmt_money_matches_the_answers_currency_format(value):
    sql = _render("fmt_money('x')")
    (got,) = duckdb.execute(f"select {sql} from (select ?::double as x)", [value]).fetchone()
    assert got == format_currency(value)
