"""The typed query plan: what the planner decided, before any SQL exists.

A plan names one catalog model, the columns or aggregate measures to select, filters with
their values (kept as data, never as SQL text), grouping, order and limit. `agents.sqlbuild`
turns it into SQL; the chat shows it as the "query plan" step.

>>> plan = QueryPlan(model="fct_opportunity", aggregate=True, selections=[
...     Selection(name="win_rate", expr="avg(case when is_won then 1.0 else 0 end)",
...               unit="percent", role="measure")])
>>> plan.measure_names
['win_rate']
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

FilterOp = Literal["eq", "ne", "in", "not_in", "between", "gte", "lte", "gt", "lt",
                   "is_true", "is_false", "is_null", "not_null", "isodow_in"]
Scalar = str | int | float | bool | dt.date


class Filter(BaseModel):
    """One condition on a model column; values stay data until the builder makes literals."""

    model_config = ConfigDict(frozen=True)

    column: str
    op: FilterOp = "eq"
    values: list[Scalar] = Field(default_factory=list)
    dimension: str | None = None
    label: str = ""


class Selection(BaseModel):
    """One output column: a model column or an aggregate measure expression."""

    model_config = ConfigDict(frozen=True)

    name: str
    column: str | None = None
    expr: str | None = None
    unit: str | None = None
    label: str = ""
    role: Literal["dimension", "measure", "attribute"] = "attribute"
    higher_is_better: bool | None = None


class Order(BaseModel):
    """Sort by an output column (by name)."""

    model_config = ConfigDict(frozen=True)

    name: str
    desc: bool = False
    nulls_last: bool = True


class QueryPlan(BaseModel):
    """One query against one catalog model."""

    model_config = ConfigDict(extra="forbid")

    model: str
    #: ``nearest``: the grouped figure without its bar, the row closest to it (run only when
    #: nothing passes the bar: "any stages over 60 days?" → none; the slowest is ...).
    #: ``previous`` / ``series``: a single figure over the period before and by period up to
    #: its own (the chat's KPI card: its change and small trend). ``labels``: labels asked
    #: beside a share ("risk level"), over the share's whole.
    purpose: Literal["main", "compare", "records", "drivers", "trend", "detail",
                     "nearest", "previous", "series", "labels"] = "main"
    aggregate: bool = False
    selections: list[Selection]
    filters: list[Filter] = Field(default_factory=list)
    #: Conditions on grouped figures ("stages averaging over 60 days"), by selection name.
    having: list[Filter] = Field(default_factory=list)
    #: A share: the headline measure over the rows that also meet these, and over all rows.
    share: list[Filter] = Field(default_factory=list)
    predicate: str | None = None
    group_by: list[str] = Field(default_factory=list)
    order_by: list[Order] = Field(default_factory=list)
    limit: int | None = None
    period_label: str | None = None
    #: Which side of a comparison of two ranges the plan computes ("deals at least 100k").
    segment: str | None = None
    description: str = ""
    #: The headline measure (the figure the answer states first).
    headline: str | None = None
    #: For a "why?": the dimension compared, and whether this is the current or prior period.
    driver: str | None = None
    which: Literal["current", "prior"] | None = None
    #: The query text of the LLM's free SQL, when no catalog plan fitted (checked again).
    free_sql: str | None = None

    @property
    def measure_names(self) -> list[str]:
        """Names of the measure selections, in order."""
        return [s.name for s in self.selections if s.role == "measure"]

    def to_state(self) -> dict[str, Any]:
        """JSON-friendly form stored in graph state and checkpoints."""
        return self.model_dump(mode="json")

    @classmethod
    def from_state(cls, data: dict[str, Any]) -> QueryPlan:
        """Inverse of `to_state`."""
        return cls.model_validate(data)
