import datetime as dt

import duckdb

from agents.plan import Filter, Order, QueryPlan, Selection
from agents.sqlbuild import sqlbuild


def _con():
    con = duckdb.connect()
    con.execute("create table t (owner varchar, amount double, close_date date, is_won boolean)")
    con.execute("""insert into t values ('O''Brien', 10, '2026-07-02', true),
        ('Robert''); drop table t; --', 20, '2026-08-01', false),
        ('Ann', 30, '2026-01-01', true)""")
    return con


def test_values_are_literals_never_sql():
    con = _con()
    hostile = "Robert'); drop table t; --"
    plan = QueryPlan(model="t", aggregate=True,
                     selections=[Selection(name="n", expr="count(*)", role="measure")],
                     filters=[Filter(column="owner", op="in", values=[hostile, "O'Brien"])])
    sql = sqlbuild(plan, schema="main")
    assert con.execute(sql).fetchone() == (2,)
    assert con.execute("select count(*) from t").fetchone() == (3,)  # table still there


def test_period_group_order_limit():
    con = _con()
    plan = QueryPlan(
        model="t", aggregate=True,
        selections=[Selection(name="owner", column="owner", role="dimension"),
                    Selection(name="won", expr="sum(amount)", role="measure")],
        filters=[Filter(column="close_date", op="between",
                        values=[dt.date(2026, 7, 1), dt.date(2026, 9, 30)]),
                 Filter(column="is_won", op="is_true")],
        group_by=["owner"], order_by=[Order(name="won", desc=True)], limit=5)
    assert con.execute(sqlbuild(plan)).fetchall() == [("O'Brien", 10.0)]


def test_quoted_identifiers():
    plan = QueryPlan(model="t", selections=[Selection(name='we"ird', column="owner")], limit=1)
    assert '"we""ird"' in sqlbuild(plan)
