"""Which catalog model serves a reading, with which measures, and why.

Pure functions the selector node and the reader share.

A model *serves* a reading when it can apply every part of it: the measures named (or, for
"how many" / "how much" / "average", a measure of that `base`), each flag, dimension, number
and time the question uses, and the window at the model's time grain. Among the models that
serve, the one that declares the question's own words for the measure wins; then a model
whose rows are exactly the period asked (a quarter's figure precomputed per quarter); then
the flexible one. Everything comes from the models' ``config.meta.whizzy`` blocks, so a
documented model added to dbt competes on equal terms.

A measure whose `scope` differs from the flags asked is swapped for the measure of the same
`base` with the right scope ("revenue we lost" is the lost amount, not won revenue), and
flags a measure already carries are not applied twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from agents.contract import Query
from agents.periods import Period, cuts_grain
from whizzy.warehouse.catalog import Catalog, Measure, Model


@dataclass
class Candidate:
    """What a reading asks of a model, before a model is chosen."""

    #: Each measure phrase: the measure names it may mean, the models declaring it for each
    #: name, and whether the words matched exactly.
    measures: list[tuple[tuple[str, ...], dict[str, frozenset[str]], bool, int]] = field(
        default_factory=list)
    #: A unit the question asks for without naming a measure ("how long" → days).
    unit: str | None = None
    #: The bases of each measure phrase's names (to find the same figure in another model).
    bases: dict[tuple[str, ...], tuple[str, ...]] = field(default_factory=dict)
    #: Bases to try before `base` ("how many deals": distinct deals where rows are pushes).
    alt_bases: tuple[str, ...] = ()
    base: str | None = None
    #: More bases asked in the same question ("how many …, and how much are they worth").
    also_bases: tuple[str, ...] = ()
    flags: list[str] = field(default_factory=list)
    #: Flags asked as exclusions ("excluding the overdue ones"): the model must have them,
    #: but no figure is scoped to them.
    negated: list[str] = field(default_factory=list)
    dimensions: list[str] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    units: list[str] = field(default_factory=list)
    window: Any = None
    #: The period compared with (its rows must cut as cleanly as the window's).
    compare_window: Any = None
    time: str | None = None
    #: The org's fiscal start: a model's quarters and years are fiscal.
    fiscal_year_start_month: int = 1
    records: bool = False
    superlative: str | None = None
    hints: list[str] = field(default_factory=list)
    #: (model, words) of each model phrase found.
    hints_len: list[tuple[str, int]] = field(default_factory=list)
    trend: bool = False
    #: The bucket a trend is asked by ("monthly"): a model without it fits less.
    trend_grain: str | None = None
    #: The question asks why: a model that can split the figure into its drivers is better.
    why: bool = False
    #: Dimensions whose members are named, and the column their values were read from.
    member_columns: dict[str, str] = field(default_factory=dict)
    #: The dates a day of the week is asked of ("lost on a Friday": "" the default date):
    #: only a model with those dates, one per row, can say which day each fell on.
    weekday_times: tuple[str, ...] = ()
    #: The dimension whose members are counted ("how many accounts …").
    count_of: str | None = None


@dataclass
class Chosen:
    """A model that serves the reading: its measures, the flags they carry, score, reasons."""

    model: str
    measures: list[str]
    scoped: set[str] = field(default_factory=set)
    score: float = 0.0
    reasons: list[str] = field(default_factory=list)
    unit: str | None = None
    higher_is_better: bool | None = None
    #: The window is cut finer than the model's rows: it widens to whole rows, said so.
    widen: bool = False


def can_serve(model: Model, dimensions: Sequence[str]) -> bool:
    """Whether `model` can filter and group by all `dimensions` at once.

    A stacked model (stages and owners in one column, told apart by a row kind) serves
    several dimensions only when they are of the same kind.
    """
    meta = model.answerable
    dims = [meta.dimension(d) for d in dimensions]
    if any(d is None for d in dims):
        return False
    kinds = {d.kind_value for d in dims if d.kind_value}
    return len(kinds) <= 1


def _scoped(meta: Any, measure: Measure, flags: set[str]) -> tuple[Measure, set[str]]:
    """The measure of the same base whose scope fits the flags asked, and the flags it uses."""
    if measure.base is None:
        return measure, set()
    # ("closed bookings": every won deal is closed, so the won figure answers it)
    implied = {x for f in measure.scope if (flag := meta.flag(f)) is not None
               for x in flag.implies} & flags
    if implied and set(measure.scope) <= flags | set(measure.scope):
        return measure, set(measure.scope) | implied
    options = meta.measures_of(measure.base)
    if set(measure.scope) <= flags and (not flags or measure.scope):
        best = max((m for m in options if set(m.scope) <= flags),
                   key=lambda m: len(m.scope), default=measure)
        return best, set(best.scope)
    fitting = [m for m in options if set(m.scope) <= flags]
    if flags and fitting:
        best = max(fitting, key=lambda m: len(m.scope))
        return best, set(best.scope)
    if not flags and measure.scope:
        return measure, set()
    return measure, set()


def _grain_fits(model: Model, window: Any, time: str | None, fsm: int = 1) -> bool | None:
    """Whether the model's rows can be cut to the window (None: it has no such date)."""
    meta = model.answerable
    if window is None:
        return True
    if meta.time(time) is None:
        return None
    period = Period(window.start, window.end, window.label, window.grain, window.kind,
                    window.count)
    return not cuts_grain(meta.time_grain, period, fsm)


def implied_dimension(model: Model, want: Candidate) -> str | None:
    """The dimension a ranking on a one-dimension row model means when it names none.

    "the channel that brought the most deals" ranks the rows of a per-channel model.
    """
    meta = model.answerable
    if not want.superlative or want.dimensions or meta.kind_column:
        return None
    dims = [d for d in meta.dimensions if d.column in meta.grain or d.id_column in meta.grain]
    return dims[0].name if len(dims) == 1 else None


def _grain_pinned(model: Model, want: Candidate) -> bool:
    """Whether a row-level model's rows are one figure each for this reading.

    Every grain column must be the time bucket (a window picks the rows) or a dimension the
    reading filters or groups by; a stacked model's row kind is pinned by the dimensions
    asked, or by a default kind covering the whole org.
    """
    meta = model.answerable
    grain = set(meta.grain)
    grain.discard(meta.time_column or "")
    for bucket in ("quarter", "month"):
        dim = meta.dimension(bucket)
        if dim is not None:
            grain.discard(dim.column)
    for name in want.dimensions:
        dim = meta.dimension(name)
        if dim is not None:
            grain -= {dim.column, dim.id_column or ""}
            if dim.kind_column:
                grain.discard(dim.kind_column)
                grain -= {d.id_column or d.column for d in meta.dimensions
                          if d.kind_column == dim.kind_column}
    if meta.kind_column and meta.default_kind == "overall" and not want.dimensions:
        return True  # the one row covering the whole org
    if want.dimensions and not want.trend and _spans_buckets(meta, want) and not any(
            meta.dimension(b) is not None and b in want.dimensions for b in ("quarter", "month")):
        return False  # "most won deals this year" on per-quarter rows: four rows per rep
    return not grain


def _spans_buckets(meta: Any, want: Candidate) -> bool:
    """Whether the window holds more than one of the model's time buckets.

    >>> import datetime as dt
    >>> from types import SimpleNamespace as NS
    >>> year = NS(start=dt.date(2026, 1, 1), end=dt.date(2026, 12, 31))
    >>> _spans_buckets(NS(time_grain="quarter"), Candidate(window=year))
    True
    >>> q3 = NS(start=dt.date(2026, 7, 1), end=dt.date(2026, 9, 30))
    >>> _spans_buckets(NS(time_grain="quarter"), Candidate(window=q3))
    False
    """
    window = want.window
    size = {"quarter": 3, "month": 1}.get(meta.time_grain or "")
    if window is None or size is None:
        return False
    months = (window.end.year - window.start.year) * 12 + window.end.month - window.start.month
    return months + 1 > size


def serve(model: Model, want: Candidate) -> Chosen | None:
    """How `model` serves the reading `want`, or None when it cannot."""
    meta = model.answerable
    flags = set(want.flags)
    scoping = flags - set(want.negated)  # (a flag left out scopes no figure)
    reasons: list[str] = []
    score = 0.0
    chosen: list[Measure] = []
    if want.measures:
        for names, models, exact, length in want.measures:
            own = [n for n in names if meta.measure(n) and model.name in models.get(n, ())]
            known = own or [n for n in names if meta.measure(n)]
            if not known:
                # the same kind of figure here ("pipeline slipped": the amount of slipped
                # pushes): a measure of the phrase's base, scoped by the flags asked
                same = [m for b in want.bases.get(names, ()) for m in meta.measures_of(b)]
                if same:
                    measure, _ = _scoped(meta, same[0], scoping)
                    chosen.append(measure)
                    score += 1 + length
                    reasons.append(f"{measure.name.replace('_', ' ')} is that figure here")
                continue
            measure = meta.measure(known[0])
            chosen.append(measure)
            if own:  # longer phrases say more: "risk level" outweighs "pipeline"
                score += 5 + 4 * length + (2 if exact else 0)
                reasons.append(f"declares '{measure.name.replace('_', ' ')}'")
            else:
                score += 2 + 2 * length
        if not chosen:
            return None
        missed = [m for m in want.measures if not any(meta.measure(n) for n in m[0])]
        # (a figure named that the model lacks weighs as much as one it declares: "how
        # long do deals sit in Qualification, and what bottleneck level?" is the model
        # holding both)
        score -= sum(4 + 4 * m[3] for m in missed)
    elif want.base:
        options = [m for b in (*want.alt_bases, want.base) for m in meta.measures_of(b)]
        declared = bool(options)
        if not options:  # a model declaring no bases: a measure of the unit asked for
            unit = {"count": "count", "amount": "currency"}.get(want.base)
            options = [m for m in meta.measures if unit and m.unit == unit]
        if not options:
            return None
        # a figure only of rows the question never named ("how much is in Qualification":
        # not the slipped amount) counts less than one of the rows asked about; a figure
        # only of the unit asked ("how many deals last quarter": not the deals slipped)
        # less than one the model declares as that figure, unless the model is named
        fits = [m for m in options if set(m.scope) <= scoping]
        chosen.append(fits[0] if fits else options[0])
        score += (5 if fits else 3) if declared or model.name in want.hints else 2
        reasons.append(f"measures {want.base.replace('_', ' ')}")

    elif want.records:
        if not meta.record_columns:
            return None
        score += 8
        reasons.append("lists the records")
    elif want.unit or want.superlative in {"fastest", "quickest", "slowest", "longest",
                                           "shortest"}:
        unit = want.unit or "days"
        options = [m for m in meta.measures if m.unit == unit]
        if not options:
            return None
        chosen.append(options[0])
        score += 4 + (2 if meta.measures[0] is options[0] else 0)  # the model's headline
    elif want.time is not None and any(t.name == want.time and t.overview
                                       for t in meta.times):
        # "pipeline generated last month": what the created date's figures are
        own = next(t.overview for t in meta.times if t.name == want.time)
        chosen = [m for n in own if (m := meta.measure(n)) is not None]
        score += 6
        reasons.append(f"measures what was {want.time}")
    elif model.name in want.hints or any(meta.flag(f) for f in flags):
        # the model named by its own words, or by a flag only it has: the first measure
        # carrying exactly those flags ("what did we win?" → won amount), else its headline
        scoped = [m for m in meta.measures if m.scope and set(m.scope) == flags]
        chosen.append(scoped[0] if scoped else meta.measures[0])
        score += 6
    elif want.dimensions and meta.overview:
        own = next((d.overview for n in want.dimensions if (d := meta.dimension(n)) is not None
                    and d.overview), ())
        chosen = [meta.measure(n) for n in own or meta.overview if meta.measure(n)]
        score += 6
        reasons.append("gives an overview")
    else:
        return None

    for also in want.also_bases:  # each further figure asked, where the model has it
        more = meta.measures_of(also)
        same = [m for m in more if chosen and set(m.scope) == set(chosen[0].scope)]
        pick = (same or more or [None])[0]
        if pick is not None and pick not in chosen:
            chosen.append(pick)
            score += 1

    scoped: set[str] = set()
    resolved = []
    for measure in chosen:
        m, used = _scoped(meta, measure, scoping)
        if m.name != measure.name:
            reasons.append(f"{m.name} is the {m.base} of {', '.join(m.scope) or 'all'} deals")
        resolved.append(m)
        scoped |= used
    for flag in flags - scoped:
        if meta.flag(flag) is None:
            return None
    if not can_serve(model, want.dimensions):
        return None
    for name, column in want.member_columns.items():
        dim = meta.dimension(name)
        if dim is not None and column not in {dim.column, dim.id_column} and \
                dim.column.endswith("_id") and not column.endswith("_id"):
            return None  # "Hickory Analytics - Platform Subscription": ids here, not names
    for name in want.weekday_times:
        if meta.time(name or None) is None or meta.time_grain in {"quarter", "month"}:
            return None
    for number in want.numbers:
        if meta.number(number) is None:
            # records it cannot order or bound by the number named are not those asked for
            # (and a bound on it, "stuck for 30+ days", cannot be applied without it)
            score -= 6 if want.records or want.units else 2
    for unit in want.units:
        if unit in {"currency", "number"} and not meta.numbers and not any(
                m.unit == "currency" for m in meta.measures):
            return None
        if unit == "days" and not any(n.unit == "days" for n in meta.numbers) and not any(
                m.unit == "days" for m in meta.measures):
            return None
        if not want.dimensions and not any(n.unit == unit for n in meta.numbers):
            # "win rate last quarter for deals over 100k": a bound on the deals, which a
            # model of ready figures (a row per quarter) has no column for
            score -= 6
            reasons.append(f"has no {unit} column to bound")

    implied = implied_dimension(model, want) if resolved and not any(
        m.is_aggregate for m in resolved) else None
    if implied:
        want = Candidate(**{**want.__dict__, "dimensions": [implied]})
    if resolved and not any(m.is_aggregate for m in resolved) and \
            not _grain_pinned(model, want):
        return None  # one row per owner cannot give the org's total
    widen = False
    if want.compare_window is not None and _grain_fits(
            model, want.compare_window, want.time, want.fiscal_year_start_month) is False:
        return None  # "QTD vs the same days of last quarter": whole quarters cannot say it
    if want.window is not None:
        fits = _grain_fits(model, want.window, want.time, want.fiscal_year_start_month)
        if fits is None:
            return None
        if fits is False:  # one month of a per-quarter figure: the quarter, said so
            widen = True
            score -= 4
            reasons.append(f"by {meta.time_grain}: the period widens to whole "
                           f"{meta.time_grain}s")
        if meta.time_grain in {"quarter", "month"} and want.window.grain == meta.time_grain \
                and want.window.count == 1 and not any(m.is_aggregate for m in resolved) and \
                not (want.records and set(meta.grain) - {meta.time_column}):
            # (records are rows of deals: a model with a row per deal and quarter is no
            # figure "as defined" for the quarter)
            score += 2
            reasons.append(f"one row per {meta.time_grain}: the figure as defined")
    elif want.time is not None and meta.time(want.time) is None:
        return None
    if want.records and not meta.record_columns:
        return None
    hint = max((n for name, n in want.hints_len if name == model.name), default=0)
    if hint:  # "pipeline health" names a model; "pipeline" alone hardly does
        score += 4 if hint > 1 else 1
        reasons.append("named by its own words")
    if want.trend and meta.time_grain in {"quarter", "month"}:
        score += 1.5
    if want.trend and want.trend_grain and meta.dimension(want.trend_grain) is None:
        score -= 4  # "monthly won amount": a model without months cannot say it by month
        reasons.append(f"has no {want.trend_grain} buckets")
    if want.why and meta.why_dimensions and any(m.is_aggregate for m in resolved):
        score += 3
        reasons.append(f"explains it by {', '.join(meta.why_dimensions[:3])}")
    if any(m.is_aggregate for m in resolved):
        score += 0.5  # flexible: any filter, grouping and window
    if want.count_of is not None and want.count_of == row_dimension(meta):
        score += 8  # "how many accounts": a model with a row per account counts them all
        reasons.append(f"one row per {want.count_of}")
    if want.dimensions and any(m.is_aggregate for m in resolved):
        score += 0.5
    for dim in want.dimensions:
        reasons.append(f"splits by {dim}")
    head = resolved[0] if resolved else None
    return Chosen(model=model.name, measures=list(dict.fromkeys(m.name for m in resolved)),
                  scoped=scoped, score=round(score, 3), reasons=reasons,
                  unit=head.unit if head else None,
                  higher_is_better=head.higher_is_better if head else None, widen=widen)


def rank_models(want: Candidate, catalog: Catalog) -> list[Chosen]:
    """Every model that serves the reading, best first."""
    found = [c for m in catalog.answerable if (c := serve(m, want)) is not None]
    return sorted(found, key=lambda c: (-c.score, c.model))


def choose_model(want: Candidate, catalog: Catalog) -> Chosen | None:
    """The model (and measures) that serves the reading best, or None."""
    ranked = rank_models(want, catalog)
    return ranked[0] if ranked else None


def row_dimension(meta: Any) -> str | None:
    """The dimension each row of a model is one member of (its grain), if any.

    A model with a row per account counts accounts with ``count(*)``; a model with a row per
    deal counts the accounts among its rows only once each.
    """
    if len(meta.grain) != 1:
        return None
    return next((d.name for d in meta.dimensions
                 if meta.grain[0] in {d.column, d.id_column}), None)


def candidate_of(query: Query, fiscal_year_start_month: int = 1) -> Candidate:
    """The reading's demands, from a finished query (to rank models for the chat's step)."""
    return Candidate(
        measures=[((m,), {}, True, 1) for m in query.measures],
        flags=[c.field for c in query.filters if c.kind == "flag"],
        negated=[c.field for c in query.filters if c.kind == "flag" and c.op == "is_false"],
        dimensions=list(dict.fromkeys([*query.group_by, *(c.field for c in query.filters
                                                           if c.kind == "members")])),
        window=query.window, compare_window=query.compare_window,
        time=query.window.time if query.window else None,
        records=query.records, trend=query.trend, trend_grain=query.trend_grain, why=query.why,
        fiscal_year_start_month=fiscal_year_start_month,
        weekday_times=tuple(c.field for c in query.filters if c.kind == "weekday"),
        count_of=query.count_of,
        numbers=list(dict.fromkeys(c.field for c in query.filters if c.kind == "number")))
