"""What the LLM must return, as pydantic schemas sent with ``response_format`` (or as tools).

Every field is required (nullable where it may be empty) so the schemas are valid for
OpenAI's strict structured outputs. The LLM never returns SQL expressions or figures here:
it names catalog models, measures and dimensions, and values as the user said them; the
offline planner turns that into the typed `QueryPlan`.

>>> Reading.model_validate({"model": "m", "measure": "win_rate", "extra_measures": [],
...     "group_by": ["owner"], "filters": [], "period": "last quarter",
...     "compare_period": None, "direction": "top", "limit": 3, "trend": False,
...     "compare": False, "why": False, "reason": "ranking of reps"}).limit
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


class ValueFilter(BaseModel):
    """Rows restricted to values of one dimension."""

    model_config = ConfigDict(extra="forbid")

    dimension: str = Field(description="a dimension name of the chosen model, e.g. industry")
    values: list[str] = Field(description="values as the user wrote them, e.g. ['healthcare']")


class Reading(BaseModel):
    """The question read into catalog terms (the offline planner builds the query)."""

    model_config = ConfigDict(extra="forbid")

    model: str | None = Field(description="catalog model that answers; null if none fits")
    measure: str | None = Field(description="headline measure name of that model")
    extra_measures: list[str] = Field(description="other measures of the model to show")
    group_by: list[str] = Field(description="dimension names to break the figure down by")
    filters: list[ValueFilter] = Field(description="dimension values the user restricts to")
    period: str | None = Field(
        description="the period in plain words: 'last quarter', 'Q3 2025', 'YTD', '2025', "
                    "'last 6 months', 'since 2026-01-01'; null if none is named")
    compare_period: str | None = Field(description="a second period to compare with, or null")
    direction: Literal["top", "bottom"] | None = Field(
        description="top/best/highest or bottom/worst/lowest for rankings, else null")
    limit: int | None = Field(description="how many rows the user asked for ('top 5'), or null")
    trend: bool = Field(description="the user asks how the figure changed over time")
    compare: bool = Field(description="the user asks to compare with another period")
    why: bool = Field(description="the user asks why a figure is what it is (drivers)")
    reason: str = Field(description="one short sentence: why this model and measure")


class SqlOutput(BaseModel):
    """One read-only query written when no catalog model fits a plan."""

    model_config = ConfigDict(extra="forbid")

    sql: str = Field(description="one DuckDB SELECT over the listed models only")
    explanation: str = Field(description="one sentence: what the query computes")
