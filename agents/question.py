"""What a question asks, read into a structured `Ask` (shared by selector and planner).

Periods (`agents.periods`), warehouse values (`agents.values`), group-by dimensions ("by
owner", "which stage", "who"), rankings ("top 3", "worst"), trends, comparisons, "why"
and follow-up fragments ("and last quarter?", "what about Healthcare?", "break that down by
owner") that inherit the rest from the thread's previous question.

>>> import datetime as dt
>>> from agents.values import ValueIndex
>>> ask = read_question("top 3 reps by win rate last quarter", as_of=dt.date(2026, 11, 15),
...                     values=ValueIndex({}), dimension_words=DEFAULT_DIMENSION_WORDS)
>>> ask.group_by, ask.limit, ask.direction, ask.period.label
(['owner'], 3, 'top', 'Q3 2026')
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from agents.periods import Period, find_periods, shift
from agents.text import (
    COMMON_WORDS,
    expand,
    find_phrase,
    has_any,
    normalize,
    number_after,
    phrase_tokens,
    tokens,
)
from agents.values import ValueIndex, ValueMatch

#: Words that name a dimension when the catalog gives none (catalog synonyms are added).
DEFAULT_DIMENSION_WORDS: dict[str, tuple[str, ...]] = {
    "owner": ("owner", "rep", "reps", "sales rep", "salesperson", "salespeople", "seller",
              "ae", "account executive", "person", "people", "individual"),
    "industry": ("industry", "industries", "vertical", "sector"),
    "stage": ("stage", "sales stage", "phase"),
    "account": ("account", "customer", "client", "company"),
    "type": ("type", "deal type", "opportunity type"),
    "lead_source": ("lead source", "source", "channel"),
    "country": ("country", "countries", "geo", "geography"),
    "quarter": ("quarter", "quarterly"),
    "month": ("month", "monthly"),
}
_GROUP_MARKERS = ("by", "per", "each", "every", "across", "among", "between")
_TOP = ("top", "best", "highest", "most", "biggest", "largest", "strongest", "leading",
        "greatest", "max", "maximum", "longest", "slowest", "worst-performing")
_BOTTOM = ("bottom", "worst", "lowest", "least", "smallest", "weakest", "poorest", "min",
           "minimum", "underperforming", "struggling", "lagging", "shortest", "fastest",
           "quickest")
_TREND = ("trend", "trending", "over time", "history", "historical", "trajectory",
          "quarter over quarter", "qoq", "each quarter", "by quarter", "per quarter",
          "every quarter", "over the last", "past quarters", "month over month", "by month",
          "per month", "each month", "evolve", "evolved", "changed over", "progression")
_WHY = re.compile(r"^(why|how come|what('s| is) (driving|behind|causing)|what drove|explain "
                  r"(why|that|this)|reason|drivers?\b)")
_FOLLOW_UP = re.compile(
    r"^(and|also|what about|how about|what of|same (for|but|thing)|now|then|ok|okay|but|"
    r"only|just|excluding|except|for|in)\b|^(break|split|drill|slice) (that|it|this|them)|"
    r"\b(that|this|it|those|them) (by|per|down)\b|^(why|how come)\b|"
    r"\b(his|her|their|hers|theirs|same rep|same owner)\b"
)
_COMPARE = ("compare", "compared", "versus", "vs", "against", "relative to", "change",
            "changed", "difference", "improve", "improved", "better or worse", "up or down")


@dataclass
class Ask:
    """A question, read: everything the selector and planner need."""

    question: str
    text: str
    words: list[str]
    period: Period | None = None
    periods: list[Period] = field(default_factory=list)
    values: list[ValueMatch] = field(default_factory=list)
    group_by: list[str] = field(default_factory=list)
    limit: int | None = None
    direction: str | None = None
    trend: bool = False
    compare: bool = False
    why: bool = False
    follow_up: bool = False
    singular: bool = False
    inherited: dict[str, Any] = field(default_factory=dict)
    unknown_names: list[str] = field(default_factory=list)
    measure_hint: str | None = None
    model_hint: str | None = None

    def filters_by_dimension(self) -> dict[str, ValueMatch]:
        """The (last) value named for each dimension."""
        return {m.dimension: m for m in self.values}

    def to_state(self) -> dict[str, Any]:
        """JSON-friendly form kept in the thread for follow-ups."""
        data = asdict(self)
        data["period"] = _period_state(self.period)
        data["periods"] = [_period_state(p) for p in self.periods]
        return data


def _period_state(period: Period | None) -> dict[str, Any] | None:
    if period is None:
        return None
    data = asdict(period)
    data["start"], data["end"] = period.start.isoformat(), period.end.isoformat()
    return data


def period_from_state(data: Mapping[str, Any] | None) -> Period | None:
    """Inverse of the period part of `Ask.to_state`."""
    if not data:
        return None
    return Period(**{**data, "start": dt.date.fromisoformat(data["start"]),
                     "end": dt.date.fromisoformat(data["end"])})


def value_from_state(data: Mapping[str, Any]) -> ValueMatch:
    """Inverse of a value match in `Ask.to_state`."""
    return ValueMatch(**{**data, "values": tuple(data["values"])})


def _dimension_spans(words: Sequence[str], vocab: Mapping[str, Sequence[str]]
                     ) -> list[tuple[int, int, str]]:
    spans = []
    for dim, phrases in vocab.items():
        for phrase in phrases:
            n = len(phrase_tokens(phrase))
            for i in range(len(words) - n + 1):
                if find_phrase(words[i:i + n], phrase, fuzzy=n > 1 or len(phrase) > 5) == 0:
                    spans.append((i, i + n, dim))
    return spans


def read_question(
    question: str,
    *,
    as_of: dt.date,
    values: ValueIndex,
    dimension_words: Mapping[str, Sequence[str]],
    fiscal_year_start_month: int = 1,
    previous: Mapping[str, Any] | None = None,
    has_subject: Callable[[list[str]], bool] | None = None,
) -> Ask:
    """Read `question`; `previous` (an `Ask.to_state()`) completes follow-up fragments.

    `has_subject(words)` says whether the words name a measure or model of their own; a
    short question that does is a new question, not a fragment of the previous one.
    """
    text = normalize(question)
    words = tokens(question)
    expanded = expand(question.lower().replace("\u2019", "'"))
    period_matches = find_periods(expanded, as_of, fiscal_year_start_month)
    periods = [m.period for m in period_matches]
    # token positions covered by periods (never names)
    skip: set[int] = set()
    for m in period_matches:
        covered = tokens(expanded[m.start:m.end])
        for i in range(len(words) - len(covered) + 1):
            if covered and words[i:i + len(covered)] == covered:
                skip.update(range(i, i + len(covered)))
                break
    for i, w in enumerate(words):
        if w.isdigit():
            skip.add(i)
    matches = values.match(words, skip=skip)
    value_positions = {j for m in matches for j in range(m.start, m.end)}

    group_by: list[str] = []
    singular = False
    for start, end, dim in sorted(_dimension_spans(words, dimension_words)):
        if any(j in value_positions for j in range(start, end)):
            continue
        before = words[start - 1] if start > 0 else ""
        before2 = words[start - 2] if start > 1 else ""
        word = words[end - 1]
        plural = word.endswith("s") and not word.endswith("ss") or word in {
            "people", "salespeople", "industries", "countries"}
        after = " ".join(words[end:end + 2])
        grouped = (
            before in _GROUP_MARKERS
            or before2 in _GROUP_MARKERS and before in {"the", "each", "every", "sales", "deal"}
            or before in {"which", "what"} or before2 in {"which", "what"}
            or before in _TOP + _BOTTOM or before2 in _TOP + _BOTTOM
            or (before.isdigit() and before2 in _TOP + _BOTTOM)
            or (plural and (after.startswith(("with the", "ranked", "ranking", "sorted"))
                            or words[end:end + 1] == ["breakdown"]))
        )
        if dim == "opportunity" and before not in _GROUP_MARKERS:
            grouped = False
        if grouped and dim not in group_by:
            group_by.append(dim)
            if before in {"which", "what"} or before2 in {"which", "what"} or not plural:
                singular = singular or not plural
    if words and words[0] == "who" or " who " in f" {text} ":
        if "owner" not in group_by:
            group_by.insert(0, "owner")
        singular = not re.search(r"\bwho (are|were|have)\b", text)

    limit = number_after(words, _TOP + _BOTTOM)
    direction = None
    if has_any(words, _BOTTOM, fuzzy=False):
        direction = "bottom"
    elif has_any(words, _TOP, fuzzy=False) or words[:1] == ["which"] or "who" in words:
        direction = "top"
    # "which stage is our bottleneck?" keeps no limit: the table ranks every stage and the
    # answer names the first and the runner-up.
    trend = has_any(words, _TREND, fuzzy=False) or any(
        p.kind in {"last_quarters", "last_months"} for p in periods) and not group_by
    if trend and "quarter" in group_by:
        group_by.remove("quarter")
    compare = has_any(words, _COMPARE, fuzzy=False) or len(periods) >= 2
    why = bool(_WHY.search(text))
    unknown = _unknown_names(question, matches)
    ask = Ask(
        question=question, text=text, words=words,
        period=periods[0] if periods else None, periods=periods, values=matches,
        group_by=group_by, limit=limit, direction=direction, trend=trend, compare=compare,
        why=why, singular=singular, unknown_names=unknown,
    )
    if previous:
        cue = bool(_FOLLOW_UP.search(text)) or why
        own = [w for i, w in enumerate(words) if i not in value_positions]
        subject = has_subject(own) if has_subject else False
        if cue or (len(words) <= 4 and not subject):
            ask = _inherit(ask, previous, keep_measure=not subject,
                           fiscal_year_start_month=fiscal_year_start_month)
    return ask


#: "the quarter before", "the month after", "the year prior", "before that".
_RELATIVE_TO_PREVIOUS = re.compile(
    r"\b(?:(?P<unit>quarter|month|year)\s+(?P<dir>before|prior|earlier|after|later)"
    r"(?!\s+(?:last|this|next))|(?P<dir2>before|after) (?:that|then|it))\b")


def shifted_period(text: str, period: Period | None, fiscal_year_start_month: int = 1
                   ) -> Period | None:
    """The period a follow-up such as "the quarter before?" means, relative to `period`.

    >>> from agents.periods import quarter_period
    >>> shifted_period("and the quarter before?", quarter_period(2026, 3)).label
    'Q2 2026'
    >>> shifted_period("the quarter after", quarter_period(2026, 4)).label
    'Q1 2027'
    >>> shifted_period("and before that?", quarter_period(2026, 1)).label
    'Q4 2025'
    >>> shifted_period("the month before", quarter_period(2026, 3)).label
    'Jun 2026'
    >>> shifted_period("what about Acme?", quarter_period(2026, 3)) is None
    True
    """
    m = _RELATIVE_TO_PREVIOUS.search(text)
    if m is None or period is None:
        return None
    step = -1 if (m.group("dir") or m.group("dir2")) in {"before", "prior", "earlier"} else 1
    return shift(period, step, fiscal_year_start_month, unit=m.group("unit"))


_POSSESSIVE = re.compile(r"\b([A-Za-z][\w\-]+)'s\b")
_NAMED = re.compile(r"\b(?:account|customer|owner|rep)\s+(?:named\s+|called\s+)?([^\s,?]+)",
                    re.IGNORECASE)
_NOT_NAMES = COMMON_WORDS | {"what", "it", "that", "there", "who", "today", "team", "everyone",
                            "here", "this", "let", "company", "one", "else", "somebody",
                            "name", "names", "executive", "manager", "health", "size", "type"}


def _unknown_names(question: str, matches: Sequence[ValueMatch]) -> list[str]:
    """Names the question uses ("Jane's deals", "account X") that match nothing known."""
    raw = question.replace("\u2019", "'")
    known = {w for m in matches for w in tokens(m.text)}
    unknown = []
    for rx in (_POSSESSIVE, _NAMED):
        for m in rx.finditer(raw):
            raw_name = m.group(1)
            if rx is _NAMED and not (raw_name[:1].isupper() or "'" in raw_name):
                continue  # "rep pushes ..." is a verb; a name is capitalised or quoted
            name = raw_name.strip("'\".")
            words = tokens(name)
            if not words or any(w in known for w in words) or all(w in _NOT_NAMES for w in words):
                continue
            if name.lower() in {"s", "is", "the", "a", "an", "with", "in", "for", "by"}:
                continue
            unknown.append(name)
    return list(dict.fromkeys(unknown))


def _is_filter_word(words: Sequence[str], start: int) -> bool:
    """"deals for owners in ..." — a plural preceded by for/from/of reads as a filter."""
    return start > 0 and words[start - 1] in {"for", "from", "of", "with", "in"}


def _inherit(ask: Ask, previous: Mapping[str, Any], *, keep_measure: bool = True,
             fiscal_year_start_month: int = 1) -> Ask:
    """Complete a follow-up fragment from the previous question of the thread."""
    prev_period = period_from_state(previous.get("period"))
    if ask.period is None:
        shifted = shifted_period(ask.text, prev_period, fiscal_year_start_month)
        if shifted is not None:
            ask = replace(ask, period=shifted, periods=[shifted])
    prev_values = [value_from_state(v) for v in previous.get("values") or []]
    value_words = {w for v in previous.get("values") or [] for w in tokens(v.get("text", ""))}
    inherited: dict[str, Any] = {"question": previous.get("question", ""),
                                 "words": [w for w in previous.get("words") or []
                                           if w not in value_words]}
    period = ask.period
    if period is None and prev_period is not None:
        period = prev_period
        inherited["period"] = prev_period.label
    new_dims = {m.dimension for m in ask.values}
    kept = [v for v in prev_values if v.dimension not in new_dims]
    replace_all = re.search(r"\b(instead|overall|everyone|all (reps|owners|industries))\b",
                            ask.text)
    values = ask.values if replace_all else kept + ask.values
    if kept and not replace_all:
        inherited["filters"] = [f"{v.dimension} = {', '.join(v.values)}" for v in kept]
    group_by = ask.group_by or ([] if ask.values or ask.period else
                                list(previous.get("group_by") or []))
    if not ask.group_by and previous.get("group_by") and (ask.values or ask.period):
        group_by = [g for g in previous["group_by"] if g not in new_dims]
    return replace(
        ask,
        period=period,
        periods=ask.periods or ([period] if period else []),
        values=values,
        group_by=group_by,
        limit=ask.limit if ask.limit is not None else (
            previous.get("limit") if group_by == previous.get("group_by") else None),
        direction=ask.direction or (previous.get("direction") if group_by else None),
        trend=ask.trend or (bool(previous.get("trend")) and ask.period is None),
        follow_up=True,
        inherited=inherited,
        measure_hint=previous.get("measure_hint") if keep_measure else None,
        model_hint=previous.get("model_hint") if keep_measure else None,
        singular=ask.singular or (bool(previous.get("singular")) and not ask.group_by),
    )
