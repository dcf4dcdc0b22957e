"""The typed query contract: what a question asks, in catalog terms, before any SQL exists.

Both engines fill in the same `Query`: the offline engine by parsing the question against
the catalog's vocabulary (`agents.reader`), the LLM engine through structured output
(`agents.llm`). The planner and the SQL builder take nothing else. Names in a query are
*concept* names the catalog declares (a measure ``won_amount``, a dimension ``industry``, a
flag ``open``, a number ``amount``, a time ``created``), never column names or SQL.

Every constraint the user stated is either in the query (and so in the SQL), or listed in
`Query.not_applied` with the reason, or the query asks back (`Query.clarify`).

>>> q = Query(intent=Intent.ANALYTICS, measures=["win_rate"], group_by=["owner"],
...           ranking=Ranking(direction="top", limit=3))
>>> q.shape, q.to_state()["ranking"]
('ranking', {'measure': None, 'direction': 'top', 'limit': 3})
>>> Query.from_state(q.to_state()) == q
True
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Intent(StrEnum):
    """The kind of question (the one enumeration of intents)."""

    ANALYTICS = "analytics"
    LOOKUP = "lookup"
    BRIEFING = "briefing"
    HELP = "help"
    SMALLTALK = "smalltalk"
    OUT_OF_SCOPE = "out_of_scope"


#: The intents, in the order reports list them.
INTENTS: tuple[str, ...] = tuple(i.value for i in Intent)
#: Intents answered from the warehouse.
DATA_INTENTS = frozenset({Intent.ANALYTICS, Intent.LOOKUP, Intent.BRIEFING})


class Reason(StrEnum):
    """Why an intent was chosen (typed, so nodes never match English sentences)."""

    FIGURE = "asks for a sales figure"
    CAPABILITIES = "asks what I can do"
    DEFINITION = "asks what a term means"
    GREETING = "greeting or small talk"
    EMPTY = "empty question"
    TOO_LONG = "question too long"
    SQL = "looks like SQL or an injection attempt"
    INSTRUCTIONS = "asks to change my instructions or reveal secrets"
    WRITE = "asks to change or move data (read-only)"
    OFF_TOPIC = "not about the sales pipeline"
    FOLLOW_UP = "follow-up to the previous question"
    NAMES_VALUE = "names an owner, account or other value"
    LLM = "the LLM's reading"


Op = Literal["eq", "in", "not_in", "gt", "gte", "lt", "lte", "between", "is_true", "is_false",
             "is_null", "not_null", "weekday"]
Scalar = str | int | float | bool


class Condition(BaseModel):
    """One restriction on the rows: a dimension's members, a flag, or a number's range.

    `field` is a catalog concept: a dimension (``industry``), a flag (``won``) or a number
    (``amount``). `text` keeps the words it came from, for the answer and the not-applied list.
    """

    model_config = ConfigDict(frozen=True)

    field: str
    op: Op = "eq"
    values: list[Scalar] = Field(default_factory=list)
    text: str = ""

    @property
    def kind(self) -> str:
        """``flag``, ``number``, ``weekday`` or ``members`` (from the operator).

        A ``weekday`` condition keeps the rows whose date falls on the ISO days in `values`
        (1 Monday … 7 Sunday); its `field` names the date (a catalog time, "" the default).
        """
        if self.op == "weekday":
            return "weekday"
        if self.op in {"is_true", "is_false"}:
            return "flag"
        if self.op in {"gt", "gte", "lt", "lte", "between"}:
            return "number"
        return "members"


class Window(BaseModel):
    """A closed date range and which date of a row it applies to (`time`, None = the default).

    `label` is how the answer names it; the answer may name it only when the SQL filters on it.
    """

    model_config = ConfigDict(frozen=True)

    start: dt.date
    end: dt.date
    label: str
    grain: str = "range"
    kind: str = "explicit"
    count: int = 1
    time: str | None = None
    text: str = ""

    @property
    def days(self) -> int:
        """Days in the window, both ends included."""
        return (self.end - self.start).days + 1


class Ranking(BaseModel):
    """Top or bottom N, by a measure (None: the query's first measure)."""

    model_config = ConfigDict(frozen=True)

    measure: str | None = None
    direction: Literal["top", "bottom"] = "top"
    limit: int | None = None


class Order(BaseModel):
    """How listed records are ordered: by a measure-like column concept, up or down."""

    model_config = ConfigDict(frozen=True)

    field: str
    desc: bool = True


class NotApplied(BaseModel):
    """Words of the question the query does not apply, and why (said in the answer)."""

    model_config = ConfigDict(frozen=True)

    text: str
    reason: str


class Clarify(BaseModel):
    """A question back to the user instead of a guess."""

    model_config = ConfigDict(frozen=True)

    question: str
    options: list[str] = Field(default_factory=list)
    #: The words of the question the options stand for ("linda"): an option replaces them.
    text: str = ""


Shape = Literal["figure", "breakdown", "ranking", "trend", "comparison", "records", "share",
                "drivers", "briefing", "overview"]


class Query(BaseModel):
    """One question, read: measures, grouping, filters, window, comparison, ranking, records."""

    model_config = ConfigDict(frozen=True)

    intent: Intent = Intent.ANALYTICS
    measures: list[str] = Field(default_factory=list)
    group_by: list[str] = Field(default_factory=list)
    filters: list[Condition] = Field(default_factory=list)
    window: Window | None = None
    #: A second window to compare with (the first is `window`).
    compare_window: Window | None = None
    #: The dimension whose members are compared ("Retail vs Energy"): its filter lists them.
    compare_members: str | None = None
    #: The other side of a comparison of two ranges of one number ("deals >= 100k vs under
    #: 100k"): the figure is given again with these conditions in place of `filters`' own.
    compare_filters: list[Condition] = Field(default_factory=list)
    ranking: Ranking | None = None
    trend: bool = False
    #: The date the question is about when no window says it ("which weekday are deals
    #: created on": ``created``); None: the model's own.
    time: str | None = None
    #: The bucket a trend is asked by ("monthly", "by month": ``month``); None: the model's own.
    trend_grain: str | None = None
    why: bool = False
    #: Members ranked by how their figure changed from `compare_window` to `window`
    #: ("which industry grew the most", "whose bookings dropped the most"): which way.
    change: Literal["increase", "drop"] | None = None
    #: Records (deals) asked for: listed with `order`, `limit`; `pick` names the one field
    #: asked of the first record ("who owns the biggest one?").
    records: bool = False
    order: Order | None = None
    limit: int | None = None
    pick: str | None = None
    #: The share of `share_of` within the rest of the query ("what % of pipeline is overdue").
    share_of: list[Condition] = Field(default_factory=list)
    #: A dimension whose distinct members are counted ("how many reps won a deal"): the
    #: figure is how many members the rows in scope hold, not how many rows.
    count_of: str | None = None
    #: A dimension the first measure is averaged over ("avg bookings per rep"): the measure
    #: divided by the distinct members holding rows of the measure's scope.
    per: str | None = None
    #: The catalog model that answers (chosen with the measures by `agents.selector`).
    model: str | None = None
    #: With the LLM engine, when no catalog model fits: a read-only query it wrote (gated
    #: again before it runs) and what it computes.
    free_sql: str | None = None
    free_sql_explanation: str = ""
    not_applied: list[NotApplied] = Field(default_factory=list)
    #: Words read as the question's context, not as a constraint: no catalog term, value,
    #: number or date is like them ("brought", "honestly"). Listed with the reading (JSON, the
    #: chat's "How I got this"), not in the answer, which states only what was not applied.
    context_words: list[str] = Field(default_factory=list)
    clarify: Clarify | None = None
    #: Why the data cannot answer it (nothing in the catalog measures what was asked).
    unanswerable: str | None = None
    follow_up: bool = False
    #: The period a follow-up moved the last one from ("and the FY before that?"): a next
    #: "what's the growth between them?" sets the two side by side.
    moved_from: Window | None = None
    #: What a follow-up kept from the previous question, in words (shown in the answer).
    inherited: list[str] = Field(default_factory=list)
    #: The members of the first breakdown a ranking's answer named (its top rows), which a
    #: follow-up's "their" / "they" points at ("what's their win rate?").
    shown: list[str] = Field(default_factory=list)
    #: The members of the breakdown, in the order the answer listed them (its first rows),
    #: which an ordinal points at ("the top person there", "the 2nd one").
    listed: list[str] = Field(default_factory=list)
    #: The last breakdown listed, kept while follow-ups narrow it to one of its members: "ok
    #: and the second one?" two turns after "which industry has the most?" points at it.
    ranked: list[str] = Field(default_factory=list)
    #: The dimension of `ranked`.
    ranked_by: str | None = None
    question: str = ""

    @property
    def shape(self) -> Shape:
        """What kind of answer the query asks for."""
        if self.intent == Intent.BRIEFING:
            return "briefing"
        if self.free_sql:
            return "figure"
        if self.records:
            return "records"
        if self.why:
            return "drivers"
        if self.share_of:
            return "share"
        if self.compare_members or self.compare_window is not None:
            return "comparison"
        if self.trend:
            return "trend"
        if self.ranking is not None:
            return "ranking"
        if self.group_by:
            return "breakdown"
        if not self.measures:
            return "overview"
        return "figure"

    def conditions(self, field: str) -> list[Condition]:
        """The filters on `field`."""
        return [c for c in self.filters if c.field == field]

    def to_state(self) -> dict[str, Any]:
        """JSON-friendly form kept in the graph state and the thread's memory."""
        return self.model_dump(mode="json")

    @classmethod
    def from_state(cls, data: dict[str, Any] | None) -> Query | None:
        """Inverse of `to_state` (None for nothing stored)."""
        return cls.model_validate(data) if data else None
