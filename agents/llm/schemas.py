"""What the LLM must return, as pydantic schemas sent with ``response_format`` (or as tools).

Every field is required (nullable where it may be empty) so the schemas are valid for
OpenAI's strict structured outputs. The LLM never returns SQL expressions or figures here:
it names catalog models, measures, dimensions, flags and numbers, and values as the user said
them; `agents.llm.reading` checks them and builds the typed `Query` the planner takes.

>>> Reading.model_validate({"model": "m", "measures": ["win_rate"], "group_by": ["owner"],
...     "filters": [], "period": "last quarter", "compare_period": None,
...     "compare_members": None, "direction": "top", "limit": 3, "trend": False,
...     "why": False, "records": False, "order_by": None, "order_desc": True, "pick": None,
...     "share_of": [], "reason": "ranking of reps"}).limit
3
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

IntentName = Literal["analytics", "lookup", "briefing", "help", "smalltalk", "out_of_scope"]


class IntentOutput(BaseModel):
    """The kind of question."""

    model_config = ConfigDict(extra="forbid")

    intent: IntentName = Field(description="the kind of question")
    reason: str = Field(description="one short sentence: why this intent")


class FilterOut(BaseModel):
    """One restriction: members of a dimension, a flag, or a bound on a number."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="a dimension, flag or number name of the chosen model")
    op: Literal["eq", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_true",
                "is_false"] = Field(description="eq/in/not_in for dimension values, is_true/"
                                                "is_false for flags, gt/gte/lt/lte/between "
                                                "for numbers")
    values: list[str] = Field(description="values as the user wrote them ('healthcare', "
                                          "'250000'); empty for flags")


class Reading(BaseModel):
    """The question read into the catalog's terms: the typed query contract (`Query`)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(description="catalog model that answers; null if none fits")
    measures: list[str] = Field(description="measure names of that model, headline first; "
                                            "empty to list records")
    group_by: list[str] = Field(description="dimension names to break the figure down by")
    filters: list[FilterOut] = Field(description="restrictions the user names")
    period: str | None = Field(
        description="the period in plain words: 'last quarter', 'Q3 2025', 'H2 2025', 'YTD', "
                    "'2025', 'last 6 months', 'next 3 months', 'since 2026-01-01'; null if none")
    compare_period: str | None = Field(description="a second period to compare with, or null")
    compare_members: str | None = Field(
        description="the dimension whose members (listed in an 'in' filter) are compared, "
                    "e.g. 'owner' for 'is Priya beating Tom'; else null")
    direction: Literal["top", "bottom"] | None = Field(
        description="top/best/highest or bottom/worst/lowest for rankings, else null")
    limit: int | None = Field(description="how many rows the user asked for ('top 5'), or null")
    trend: bool = Field(description="the user asks how the figure changed over time")
    why: bool = Field(description="the user asks why a figure is what it is (drivers)")
    records: bool = Field(description="the user asks for specific records (deals), not a figure")
    order_by: str | None = Field(description="for records: a number name to order by, or null")
    order_desc: bool = Field(description="for records: largest first")
    pick: str | None = Field(description="for records: the one dimension asked of the first "
                                         "record ('who owns the biggest one' → owner), or null")
    share_of: list[FilterOut] = Field(description="for 'what % of X is Y': the Y restrictions")
    reason: str = Field(description="one short sentence: why this model and measure")


class SqlOutput(BaseModel):
    """One read-only query written when no catalog model fits a plan."""

    model_config = ConfigDict(extra="forbid")

    sql: str = Field(description="one DuckDB SELECT over the listed models only")
    explanation: str = Field(description="one sentence: what the query computes")
