"""The one SQL builder: a typed `QueryPlan` becomes DuckDB SQL through sqlglot expressions.

No user text is ever pasted into SQL: identifiers come from the catalog (and are quoted),
values become literals through sqlglot, and aggregate expressions come from the dbt
manifest (checked to read only the model's own columns).

>>> from agents.plan import Filter, Order, QueryPlan, Selection
>>> plan = QueryPlan(model="fct_opportunity", aggregate=True, selections=[
...     Selection(name="owner", column="owner_name", role="dimension"),
...     Selection(name="won", expr="sum(case when is_won then 1 else 0 end)", role="measure")],
...     filters=[Filter(column="industry", values=["O'Brien & Co"])],
...     group_by=["owner"], order_by=[Order(name="won", desc=True)], limit=3)
>>> print(sqlbuild(plan, schema="main"))
SELECT
  "owner_name" AS "owner",
  SUM(CASE WHEN is_won THEN 1 ELSE 0 END) AS "won"
FROM "main"."fct_opportunity"
WHERE
  "industry" = 'O''Brien & Co'
GROUP BY
  "owner_name"
ORDER BY
  "won" DESC,
  "owner"
LIMIT 3
"""

from __future__ import annotations

import datetime as dt

import sqlglot
import sqlglot.dialects.duckdb  # noqa: F401 - every answer needs it: loaded with the agents,
from sqlglot import exp  # not inside a process's first answer (sqlglot loads it lazily)

from agents.plan import Filter, QueryPlan, Scalar, Selection

DIALECT = "duckdb"


def literal(value: Scalar) -> exp.Expression:
    """A SQL literal for a Python value.

    >>> literal("it's").sql(), literal(3).sql(), literal(True).sql()
    ("'it''s'", '3', 'TRUE')
    >>> literal(dt.date(2026, 7, 1)).sql(dialect="duckdb")
    "CAST('2026-07-01' AS DATE)"
    """
    if isinstance(value, bool):
        return exp.Boolean(this=value)
    if isinstance(value, int | float):
        return exp.Literal.number(value)
    if isinstance(value, dt.datetime):
        return exp.cast(exp.Literal.string(value.isoformat(sep=" ")), "TIMESTAMP")
    if isinstance(value, dt.date):
        return exp.cast(exp.Literal.string(value.isoformat()), "DATE")
    return exp.Literal.string(str(value))


def column(name: str) -> exp.Column:
    """A quoted column reference.

    >>> column('a"b').sql()
    '"a""b"'
    """
    return exp.column(exp.to_identifier(name, quoted=True))


def aggregate_expression(expr: str) -> exp.Expression:
    """Parse a catalog `expr` (already validated by the catalog)."""
    return sqlglot.parse_one(expr, dialect=DIALECT)


def within(expr: str, column: str, start: dt.date, end: dt.date) -> str:
    """An aggregate expression over the rows whose `column` falls in [start, end] only.

    Every aggregate in it gets a FILTER, so a rate stays a rate of those rows.

    >>> print(within("count(*)", "d", dt.date(2026, 7, 1), dt.date(2026, 9, 30)))
    COUNT(*) FILTER(WHERE "d" BETWEEN CAST('2026-07-01' AS DATE) AND CAST('2026-09-30' AS DATE))
    """
    cond = condition(Filter(column=column, op="between", values=[start, end]))

    def wrap(node: exp.Expression) -> exp.Expression:
        if isinstance(node, exp.AggFunc) and not isinstance(node.parent, exp.Filter):
            return exp.Filter(this=node.copy(), expression=exp.Where(this=cond.copy()))
        return node

    return aggregate_expression(expr).transform(wrap).sql(dialect=DIALECT)


def _selection(sel: Selection) -> exp.Expression:
    source = aggregate_expression(sel.expr) if sel.expr else column(sel.column or sel.name)
    return exp.alias_(source, exp.to_identifier(sel.name, quoted=True))


def condition(flt: Filter) -> exp.Expression:
    r"""One filter as a SQL condition.

    >>> condition(Filter(column="stage_name", op="in", values=["A", "B"])).sql()
    '"stage_name" IN (\'A\', \'B\')'
    >>> condition(Filter(column="close_date", op="between",
    ...     values=[dt.date(2026, 7, 1), dt.date(2026, 9, 30)])).sql(dialect="duckdb")
    '"close_date" BETWEEN CAST(\'2026-07-01\' AS DATE) AND CAST(\'2026-09-30\' AS DATE)'
    >>> condition(Filter(column="is_open", op="is_true")).sql()
    '"is_open" = TRUE'
    >>> condition(Filter(column="close_date", op="isodow_in", values=[6, 7])).sql()
    'ISODOW("close_date") IN (6, 7)'
    """
    col = column(flt.column)
    values = [literal(v) for v in flt.values]
    match flt.op:
        case "eq":
            return exp.EQ(this=col, expression=values[0])
        case "ne":
            return exp.NEQ(this=col, expression=values[0])
        case "in":
            return exp.In(this=col, expressions=values)
        case "not_in":  # every row but those members, blanks included ("except Retail")
            return exp.paren(exp.or_(exp.Not(this=exp.In(this=col, expressions=values)),
                                     exp.Is(this=col, expression=exp.Null())))
        case "between":
            return exp.Between(this=col, low=values[0], high=values[1])
        case "gte":
            return exp.GTE(this=col, expression=values[0])
        case "lte":
            return exp.LTE(this=col, expression=values[0])
        case "gt":
            return exp.GT(this=col, expression=values[0])
        case "lt":
            return exp.LT(this=col, expression=values[0])
        case "is_true":
            return exp.EQ(this=col, expression=exp.true())
        case "is_false":
            return exp.EQ(this=col, expression=exp.false())
        case "is_null":
            return exp.Is(this=col, expression=exp.Null())
        case "not_null":
            return exp.Not(this=exp.Is(this=col, expression=exp.Null()))
        case "isodow_in":  # the ISO day of the week of a date (1 Monday … 7 Sunday)
            return exp.In(this=exp.Anonymous(this="isodow", expressions=[col]), expressions=values)
    raise ValueError(f"unknown filter operator {flt.op!r}")


def _measure_expression(sel: Selection) -> exp.Expression:
    return aggregate_expression(sel.expr) if sel.expr else column(sel.column or sel.name)


def _having(flt: Filter, by_name: dict[str, Selection]) -> exp.Expression:
    """A condition on a grouped figure: the filter's column names a measure selection."""
    sel = by_name[flt.column]
    cond = condition(flt.model_copy(update={"column": "__x__"}))
    return cond.transform(lambda node: _measure_expression(sel)
                          if isinstance(node, exp.Column) and node.name == "__x__" else node)


def build_share(plan: QueryPlan, *, schema: str = "main", table: str | None = None
                ) -> exp.Expression:
    """The share of the headline measure: over the rows meeting `plan.share`, and over all.

    >>> from agents.plan import Filter, QueryPlan, Selection
    >>> plan = QueryPlan(model="t", aggregate=True, selections=[
    ...     Selection(name="amt", expr="sum(amount)", role="measure")],
    ...     filters=[Filter(column="is_open", op="is_true")],
    ...     share=[Filter(column="is_overdue", op="is_true")])
    >>> print(sqlbuild(plan, pretty=False))  # doctest: +NORMALIZE_WHITESPACE
    WITH "scope" AS (SELECT * FROM "main"."t" WHERE "is_open" = TRUE) SELECT (SELECT SUM(amount)
    FROM "scope" WHERE "is_overdue" = TRUE) AS "part", (SELECT SUM(amount) FROM "scope") AS
    "whole", (SELECT SUM(amount) FROM "scope" WHERE "is_overdue" = TRUE) / NULLIF((SELECT
    SUM(amount) FROM "scope"), 0) AS "share"
    """
    sel = next(s for s in plan.selections if s.role == "measure")
    scope = exp.select(exp.Star()).from_(exp.table_(table or plan.model, db=schema,
                                                     quoted=True))
    for flt in plan.filters:
        scope = scope.where(condition(flt), copy=False)
    part = exp.select(_measure_expression(sel)).from_(exp.to_identifier("scope", quoted=True))
    for flt in plan.share:
        part = part.where(condition(flt), copy=False)
    whole = exp.select(_measure_expression(sel)).from_(exp.to_identifier("scope", quoted=True))
    ratio = exp.Div(this=exp.Subquery(this=part.copy()),
                    expression=exp.func("nullif", exp.Subquery(this=whole.copy()),
                                        exp.Literal.number(0)))
    query = exp.select(
        exp.alias_(exp.Subquery(this=part), exp.to_identifier("part", quoted=True)),
        exp.alias_(exp.Subquery(this=whole), exp.to_identifier("whole", quoted=True)),
        exp.alias_(ratio, exp.to_identifier("share", quoted=True)),
    )
    return query.with_(exp.to_identifier("scope", quoted=True), as_=scope, copy=False)


def build_select(plan: QueryPlan, *, schema: str = "main", table: str | None = None) -> exp.Select:
    """The sqlglot expression of `plan` (``schema.table`` defaults to the plan's model)."""
    by_name = {s.name: s for s in plan.selections}
    query = exp.select(*(_selection(s) for s in plan.selections)).from_(
        exp.table_(table or plan.model, db=schema, quoted=True)
    )
    for flt in plan.filters:
        query = query.where(condition(flt), copy=False)
    if plan.predicate:  # a row predicate from the catalog (records.filter), checked there
        query = query.where(sqlglot.parse_one(plan.predicate, dialect=DIALECT), copy=False)
    for flt in plan.having:  # (on rows not grouped, a figure's bound is on its column)
        query = query.having(_having(flt, by_name), copy=False) if plan.aggregate else \
            query.where(condition(flt), copy=False)
    if plan.aggregate and plan.group_by:
        groups = []
        for name in plan.group_by:
            sel = by_name.get(name)
            groups.append(column(sel.column) if sel and sel.column else column(name))
        query = query.group_by(*groups, copy=False)
    orders = []
    for order in plan.order_by:
        target = exp.column(exp.to_identifier(order.name, quoted=True))
        orders.append(exp.Ordered(this=target, desc=order.desc, nulls_first=not order.nulls_last))
    if orders:  # ties come out in the same order on every run: by the dimensions, A→Z
        ordered = {o.name for o in plan.order_by}
        for sel in plan.selections:
            if sel.role == "dimension" and sel.name not in ordered:
                orders.append(exp.Ordered(this=exp.column(exp.to_identifier(sel.name,
                                                                            quoted=True))))
        query = query.order_by(*orders, copy=False)
    if plan.limit is not None:
        query = query.limit(int(plan.limit), copy=False)
    return query


def sqlbuild(plan: QueryPlan, *, schema: str = "main", table: str | None = None,
             pretty: bool = True) -> str:
    """DuckDB SQL for `plan`."""
    tree = build_share(plan, schema=schema, table=table) if plan.share else build_select(
        plan, schema=schema, table=table)
    return tree.sql(dialect=DIALECT, pretty=pretty)
