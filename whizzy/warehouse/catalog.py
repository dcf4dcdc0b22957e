"""The catalog: everything the agents know about the warehouse, read from dbt's manifest.

This module is the only reader of ``manifest.json`` (house style 7). It turns the manifest
into typed objects: models with their descriptions, columns (types, docs, tests, accepted
values), lineage, and — for models that carry a ``config.meta.whizzy`` block
(`docs/catalog-meta.md`) — what they can answer: synonyms, example questions, dimensions,
measures, time column and default sort. A catalog is loaded once per manifest file version
(path + mtime + size), and saved parsed beside the manifest (`whizzy.warehouse.catalogfile`)
for the next process.

>>> cat = Catalog.from_manifest({"metadata": {}, "nodes": {}, "sources": {}})
>>> cat.answerable
[]
"""

from __future__ import annotations

import json
import os
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlglot
from sqlglot import exp

from whizzy.warehouse.catalogfile import saved_or_parsed

#: Units a measure may declare (docs/catalog-meta.md).
UNITS = frozenset({"currency", "percent", "days", "count", "score", "number", "text"})
#: Time grains a model may declare.
TIME_GRAINS = frozenset({"day", "month", "quarter", "none"})


@dataclass(frozen=True)
class Column:
    """One model column: its type, its documentation and what dbt tests say about it."""

    name: str
    data_type: str | None = None
    description: str = ""
    tests: tuple[str, ...] = ()
    accepted_values: tuple[str, ...] | None = None


@dataclass(frozen=True)
class Dimension:
    """Something a question can filter or group by (owner, industry, quarter, ...)."""

    name: str
    column: str
    id_column: str | None = None
    synonyms: tuple[str, ...] = ()
    label: str = ""
    #: For models that stack several kinds of rows in one column (``dimension`` holding
    #: stages for ``metric_type = 'stage_velocity'`` and owners for ``'owner_velocity'``):
    #: the row-kind column and value this dimension needs.
    kind_column: str | None = None
    kind_value: str | None = None
    #: The figures a member of this dimension is shown with when no figure is asked ("commit
    #: for next quarter": a forecast category is open pipeline); else the model's overview.
    overview: tuple[str, ...] = ()


#: Default windows a measure may declare: the metrics.md "overall" window, every row, the
#: period holding the as-of date, or the last periods of the model's grain.
WINDOWS = frozenset({"overall", "all", "current", "trend"})


@dataclass(frozen=True)
class Sample:
    """How many rows a rate is computed over, and the fewest that make it worth ranking.

    `expr` is an aggregate (a grouped figure) or `column` a row value (a row model); a bar of
    a ranking with fewer than `minimum` is marked as a thin sample.
    """

    minimum: int
    expr: str | None = None
    column: str | None = None
    label: str = "sample"


@dataclass(frozen=True)
class Previous:
    """The column holding a row figure's value for the period before (the dashboard's)."""

    column: str
    label: str = "the period before"


@dataclass(frozen=True)
class Measure:
    """A figure a model answers: a row value (`column`) or an aggregate (`expr`)."""

    name: str
    unit: str = "number"
    column: str | None = None
    expr: str | None = None
    synonyms: tuple[str, ...] = ()
    higher_is_better: bool | None = None
    label: str = ""
    description: str = ""
    #: What is measured, whatever the outcome (``count``, ``amount``, ``avg_amount`` ...):
    #: measures sharing a base differ only in their `scope`.
    base: str | None = None
    #: Flags built into the measure (``won_amount`` is the ``amount`` of ``won`` deals).
    scope: tuple[str, ...] = ()
    #: The window used when the question names no period (`WINDOWS`; None: no filter).
    window: str | None = None
    #: Measures shown beside this one so the answer can explain it.
    companions: tuple[str, ...] = ()
    #: Phrases that might mean this measure but might mean something the data lacks: the
    #: assistant asks before using them.
    clarify: tuple[str, ...] = ()
    #: A reference line for charts (a bottleneck is over 30 days).
    threshold: float | None = None
    #: For a rate: the sample it is computed over and the fewest rows worth ranking.
    sample: Sample | None = None
    #: For a row figure: the column holding its value for the period before.
    previous: Previous | None = None
    #: For a forecast: periods after the as-of one the model holds (its picture shows them).
    ahead: int | None = None
    #: A short phrase giving the figure's period and scope where it stands alone (a card of
    #: the executive summary): "overdue open deals, of all open pipeline". Not vocabulary.
    caption: str = ""
    #: The span of time the figure is per ("day": sales velocity is $ per day), so "per day"
    #: after it names its unit, not a grouping by day.
    per: str | None = None

    @property
    def is_aggregate(self) -> bool:
        """True when the measure re-aggregates over any filter or grouping (`expr`)."""
        return self.expr is not None


@dataclass(frozen=True)
class Flag:
    """A yes/no column a question can restrict rows to ("won", "open", "overdue")."""

    name: str
    column: str
    synonyms: tuple[str, ...] = ()
    label: str = ""
    #: The flag marks a problem (needs coaching, a bottleneck): rows it picks are listed
    #: worst first.
    problem: bool = False
    #: Flags no row has together with this one ("won" excludes "open"): one asked now
    #: replaces the other kept from an earlier question.
    excludes: tuple[str, ...] = ()
    #: Flags every row with this one also has ("won" implies "closed"): a figure scoped to
    #: this flag already answers a question that names those too ("closed bookings").
    implies: tuple[str, ...] = ()


@dataclass(frozen=True)
class Number:
    """A numeric column a question can put a threshold on ("deals over $250k")."""

    name: str
    column: str
    unit: str = "number"
    synonyms: tuple[str, ...] = ()
    label: str = ""
    #: What 100% is in the column: 1 for a fraction, 100 for percent points (a probability
    #: 0–100), so "over 60%" compares with 0.6 or with 60.
    percent_scale: float = 1.0


@dataclass(frozen=True)
class TimeField:
    """A date column other than the model's `time_column` that periods can apply to."""

    name: str
    column: str
    synonyms: tuple[str, ...] = ()
    label: str = ""
    #: The figures a period on this date gives when no figure is asked ("pipeline generated
    #: last month": the amount and count of deals created then).
    overview: tuple[str, ...] = ()
    #: The time-bucket dimensions of this date: dimension name → column ("pipeline created
    #: by month" groups by the month the deals were created, not the month they close).
    dimensions: tuple[tuple[str, str], ...] = ()
    #: A timestamp column of the same moment: records ordered by this date ("the most
    #: recently created deal") are ordered by it within a day.
    moment: str | None = None


@dataclass(frozen=True)
class SortKey:
    """One default sort column."""

    column: str
    desc: bool = False


@dataclass(frozen=True)
class RecordsSpec:
    """How fusion finds the Salesforce records behind a row of a model."""

    model: str
    filter: str | None = None
    #: A predicate per measure, when the deals behind one figure differ from another's
    #: (the open deals behind a pipeline figure, the won deals behind revenue).
    by_measure: tuple[tuple[str, str], ...] = ()

    def filter_for(self, measure: str | None) -> str | None:
        """The predicate for the deals behind `measure` (else the model-wide one)."""
        return dict(self.by_measure).get(measure or "", self.filter)


@dataclass(frozen=True)
class Answerable:
    """The parsed ``config.meta.whizzy`` block of a model."""

    label: str
    family: str = ""
    synonyms: tuple[str, ...] = ()
    example_questions: tuple[str, ...] = ()
    grain: tuple[str, ...] = ()
    time_column: str | None = None
    time_grain: str = "none"
    default_sort: tuple[SortKey, ...] = ()
    default_limit: int | None = None
    dimensions: tuple[Dimension, ...] = ()
    measures: tuple[Measure, ...] = ()
    records: RecordsSpec | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    #: The row-kind column of a stacked model and the kind used when no dimension is named.
    kind_column: str | None = None
    default_kind: str | None = None
    #: ``internal`` (never answers a business question), ``dashboard`` (the briefing) or "".
    role: str = ""
    flags: tuple[Flag, ...] = ()
    numbers: tuple[Number, ...] = ()
    times: tuple[TimeField, ...] = ()
    #: Columns that describe one record, in the order an answer lists them, and their order.
    record_columns: tuple[str, ...] = ()
    record_order: tuple[SortKey, ...] = ()
    #: Dimensions a "why?" compares between this period and the one before.
    why_dimensions: tuple[str, ...] = ()
    #: Measures shown when a question names a member but no figure ("how is Jane doing?").
    overview: tuple[str, ...] = ()
    #: Points each component of a score is out of (the health score's 25).
    points_scale: int | None = None
    #: Things users ask about that the data does not hold ("quota", "emails"): a question
    #: naming one is refused, never answered with a stand-in figure.
    not_held: tuple[str, ...] = ()

    def measure(self, name: str) -> Measure | None:
        """The measure called `name`, if any."""
        return next((m for m in self.measures if m.name == name), None)

    def dimension(self, name: str) -> Dimension | None:
        """The dimension called `name`, if any."""
        return next((d for d in self.dimensions if d.name == name), None)

    def flag(self, name: str) -> Flag | None:
        """The flag called `name`, if any."""
        return next((f for f in self.flags if f.name == name), None)

    def number(self, name: str) -> Number | None:
        """The number called `name`, if any."""
        return next((n for n in self.numbers if n.name == name), None)

    def dimension_on(self, name: str, time: str | None) -> Dimension | None:
        """Dimension `name`, on the buckets of date `time` when that date declares its own."""
        dim = self.dimension(name)
        basis = next((t for t in self.times if t.name == time), None)
        column = dict(basis.dimensions).get(name) if basis is not None else None
        return replace(dim, column=column) if dim is not None and column else dim

    def time(self, name: str | None) -> str | None:
        """The date column of time `name` (None: the model's `time_column`)."""
        if name is None:
            return self.time_column
        return next((t.column for t in self.times if t.name == name), None)

    def measures_of(self, base: str) -> list[Measure]:
        """The measures with this `base`, unscoped first."""
        return sorted((m for m in self.measures if m.base == base), key=lambda m: len(m.scope))


@dataclass(frozen=True)
class Model:
    """One dbt model as built in the warehouse."""

    name: str
    unique_id: str
    description: str = ""
    schema: str = "main"
    alias: str = ""
    columns: dict[str, Column] = field(default_factory=dict)
    depends_on: tuple[str, ...] = ()
    answerable: Answerable | None = None
    path: str = ""

    @property
    def relation(self) -> str:
        """``schema.alias`` as queried."""
        return f"{self.schema}.{self.alias or self.name}"


@dataclass(frozen=True)
class Source:
    """A raw table dbt reads (`salesforce.opportunity`, ...)."""

    name: str
    schema: str
    identifier: str
    description: str = ""
    columns: dict[str, Column] = field(default_factory=dict)


@dataclass(frozen=True)
class Catalog:
    """The typed view of one manifest."""

    models: dict[str, Model]
    sources: dict[str, Source] = field(default_factory=dict)
    unit_tests: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    path: Path | None = None

    # ------------------------------------------------------------------ queries

    @property
    def answerable(self) -> list[Model]:
        """Models that answer business questions, in name order.

        A model answers when it has a valid ``config.meta.whizzy`` block that is not
        ``role: internal`` (build information is never a candidate for a figure).
        """
        return [m for _, m in sorted(self.models.items())
                if m.answerable is not None and m.answerable.role != "internal"]

    def model(self, name: str) -> Model:
        """The model called `name` (KeyError when unknown)."""
        return self.models[name]

    def relations(self) -> set[tuple[str, str]]:
        """Every (schema, table) a query may read: models and raw source tables."""
        allowed = {(m.schema.lower(), (m.alias or m.name).lower()) for m in self.models.values()}
        allowed |= {(s.schema.lower(), s.identifier.lower()) for s in self.sources.values()}
        return allowed

    def lineage(self, name: str) -> list[str]:
        """All upstream model and source names of `name`, nearest first.

        >>> cat = Catalog(models={
        ...     "a": Model("a", "model.p.a", depends_on=("model.p.b",)),
        ...     "b": Model("b", "model.p.b", depends_on=("source.p.salesforce.opportunity",)),
        ... })
        >>> cat.lineage("a")
        ['b', 'salesforce.opportunity']
        """
        seen: list[str] = []
        queue = list(self.models[name].depends_on)
        while queue:
            uid = queue.pop(0)
            parts = uid.split(".")
            label = ".".join(parts[2:]) if parts[0] == "source" else parts[-1]
            if label in seen:
                continue
            seen.append(label)
            if parts[0] == "model" and parts[-1] in self.models:
                queue.extend(self.models[parts[-1]].depends_on)
        return seen

    def describe_column(self, model: str, column: str) -> str:
        """The documented meaning of a column (empty when undocumented)."""
        col = self.models.get(model, Model(model, model)).columns.get(column)
        return col.description if col else ""

    # ------------------------------------------------------------------ parsing

    @classmethod
    def from_manifest(cls, manifest: dict[str, Any], path: Path | None = None) -> Catalog:
        """Build a catalog from a parsed ``manifest.json``."""
        nodes = manifest.get("nodes", {})
        tests_by_column: dict[tuple[str, str], list[tuple[str, dict[str, Any]]]] = {}
        for node in nodes.values():
            if node.get("resource_type") != "test" or not node.get("test_metadata"):
                continue
            attached = node.get("attached_node") or ""
            meta = node["test_metadata"]
            kwargs = meta.get("kwargs") or {}
            column = node.get("column_name") or kwargs.get("column_name") or ""
            tests_by_column.setdefault((attached, column), []).append(
                (meta.get("name", ""), kwargs))

        problems: list[str] = []
        models: dict[str, Model] = {}
        for uid, node in nodes.items():
            if node.get("resource_type") != "model":
                continue
            name = node["name"]
            config = node.get("config") or {}
            columns = {
                col_name: _column(col_name, col, tests_by_column.get((uid, col_name), []))
                for col_name, col in (node.get("columns") or {}).items()
            }
            model = Model(
                name=name,
                unique_id=uid,
                description=(node.get("description") or "").strip(),
                schema=node.get("schema") or "main",
                alias=node.get("alias") or name,
                columns=columns,
                depends_on=tuple((node.get("depends_on") or {}).get("nodes") or ()),
                path=node.get("original_file_path", ""),
            )
            meta = ((config.get("meta") or {}).get("whizzy")
                    or (node.get("meta") or {}).get("whizzy"))
            if meta:
                answerable, issues = _answerable(model, meta)
                problems.extend(f"{name}: {issue}" for issue in issues)
                model = Model(**{**model.__dict__, "answerable": answerable})
            models[name] = model

        sources = {}
        for node in (manifest.get("sources") or {}).values():
            key = f"{node.get('source_name')}.{node.get('name')}"
            sources[key] = Source(
                name=node.get("name", ""),
                schema=node.get("schema") or node.get("source_name") or "",
                identifier=node.get("identifier") or node.get("name", ""),
                description=(node.get("description") or "").strip(),
                columns={
                    c: Column(c, col.get("data_type"), (col.get("description") or "").strip())
                    for c, col in (node.get("columns") or {}).items()
                },
            )
        return cls(
            models=models,
            sources=sources,
            unit_tests=tuple(sorted((manifest.get("unit_tests") or {}).keys())),
            problems=tuple(problems),
            path=path,
        )


def _column(name: str, col: dict[str, Any], tests: list[tuple[str, dict[str, Any]]]) -> Column:
    accepted = next((kw.get("values") for t, kw in tests if t == "accepted_values"), None)
    return Column(
        name=name,
        data_type=col.get("data_type"),
        description=(col.get("description") or "").strip(),
        tests=tuple(sorted({t for t, _ in tests})),
        accepted_values=tuple(str(v) for v in accepted) if accepted else None,
    )


def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value if v is not None)


def expr_columns(expr: str) -> set[str]:
    """Column names an aggregate expression reads (raises ValueError if it does not parse).

    >>> sorted(expr_columns("sum(won_count) / nullif(sum(won_count) + sum(lost_count), 0)"))
    ['lost_count', 'won_count']
    """
    try:
        tree = sqlglot.parse_one(expr, dialect="duckdb")
    except sqlglot.errors.ParseError as error:
        raise ValueError(f"expression does not parse: {error}") from None
    if tree.find(exp.Select, exp.Subquery, exp.Table) is not None:
        raise ValueError("expression may not contain a query")
    return {c.name for c in tree.find_all(exp.Column)}


def _answerable(model: Model, meta: dict[str, Any]) -> tuple[Answerable | None, list[str]]:
    """Parse and check one `whizzy` block; drop (and report) what does not fit the model."""
    issues: list[str] = []
    known = set(model.columns)

    def exists(column: str | None, what: str) -> bool:
        if column is None:
            return False
        if known and column not in known:
            issues.append(f"{what} column {column!r} is not a column of the model")
            return False
        return True

    dimensions = []
    for raw in meta.get("dimensions") or []:
        if not isinstance(raw, dict) or not raw.get("name"):
            issues.append(f"dimension {raw!r} has no name")
            continue
        column = raw.get("column") or raw["name"]
        if not exists(column, f"dimension {raw['name']}"):
            continue
        id_column = raw.get("id_column")
        if id_column and not exists(id_column, f"dimension {raw['name']} id"):
            id_column = None
        dimensions.append(Dimension(
            name=str(raw["name"]), column=column, id_column=id_column,
            synonyms=_strings(raw.get("synonyms")), label=str(raw.get("label") or raw["name"]),
            overview=_strings(raw.get("overview")),
        ))

    measures = []
    for raw in meta.get("measures") or []:
        if not isinstance(raw, dict) or not raw.get("name"):
            issues.append(f"measure {raw!r} has no name")
            continue
        name = str(raw["name"])
        column, expr = raw.get("column"), raw.get("expr")
        unit = str(raw.get("unit") or "number")
        if unit not in UNITS:
            issues.append(f"measure {name} has unknown unit {unit!r}; using 'number'")
            unit = "number"
        if expr:
            try:
                unknown = sorted(expr_columns(expr) - known) if known else []
            except ValueError as error:
                issues.append(f"measure {name}: {error}")
                continue
            if unknown:
                issues.append(f"measure {name} expr reads unknown columns {unknown}")
                continue
            column = None
        elif not exists(column or name, f"measure {name}"):
            continue
        else:
            column = column or name
        description = model.columns[column].description if column in model.columns else ""
        window = raw.get("window")
        if window is not None and window not in WINDOWS:
            issues.append(f"measure {name} has unknown window {window!r} (use "
                          f"{', '.join(sorted(WINDOWS))})")
            window = None
        threshold = raw.get("threshold")
        sample = _sample(raw.get("sample"), name, known, issues)
        previous = None
        if isinstance(raw.get("previous"), dict) and exists(raw["previous"].get("column"),
                                                             f"measure {name} previous"):
            previous = Previous(str(raw["previous"]["column"]),
                                str(raw["previous"].get("label") or "the period before"))
        measures.append(Measure(
            name=name, unit=unit, column=column, expr=expr or None,
            synonyms=_strings(raw.get("synonyms")),
            higher_is_better=raw.get("higher_is_better"),
            label=str(raw.get("label") or name.replace("_", " ")),
            description=str(raw.get("description") or description),
            base=str(raw["base"]) if raw.get("base") else None,
            scope=_strings(raw.get("scope")),
            window=window,
            companions=_strings(raw.get("companions")),
            clarify=_strings(raw.get("clarify")),
            threshold=float(threshold) if isinstance(threshold, int | float) else None,
            sample=sample,
            previous=previous,
            ahead=raw["ahead"] if isinstance(raw.get("ahead"), int) and raw["ahead"] > 0
            else None,
            caption=str(raw.get("caption") or ""),
            per=str(raw["per"]) if raw.get("per") else None,
        ))
    measure_names = {m.name for m in measures}
    for m in measures:
        for other in m.companions:
            if other not in measure_names:
                issues.append(f"measure {m.name} names unknown companion {other!r}")

    def named_columns(key: str, make: Any) -> tuple[Any, ...]:
        out = []
        for raw in meta.get(key) or []:
            if not isinstance(raw, dict) or not raw.get("name"):
                issues.append(f"{key} entry {raw!r} has no name")
                continue
            column = raw.get("column") or raw["name"]
            if exists(column, f"{key} {raw['name']}"):
                out.append(make(raw, str(raw["name"]), str(column)))
        return tuple(out)

    flags = named_columns("flags", lambda raw, name, column: Flag(
        name, column, _strings(raw.get("synonyms")), str(raw.get("label") or name),
        bool(raw.get("problem")), _strings(raw.get("excludes")), _strings(raw.get("implies"))))
    numbers = named_columns("numbers", lambda raw, name, column: Number(
        name, column, str(raw.get("unit") or "number"), _strings(raw.get("synonyms")),
        str(raw.get("label") or name.replace("_", " ")),
        float(raw.get("percent_scale") or 1.0)))
    times = named_columns("times", lambda raw, name, column: TimeField(
        name, column, _strings(raw.get("synonyms")), str(raw.get("label") or name),
        _strings(raw.get("overview")), tuple(
            (str(d), str(c)) for d, c in (raw.get("dimensions") or {}).items()
            if exists(c, f"times {name} dimension {d}")),
        str(raw["moment"]) if raw.get("moment") and exists(
            str(raw["moment"]), f"times {name} moment") else None))
    dimension_names = {d.name for d in dimensions}
    for t in times:
        issues += [f"times {t.name} names unknown dimension {d!r}" for d, _ in t.dimensions
                   if d not in dimension_names]
    flag_names = {f.name for f in flags}
    for f in flags:
        issues += [f"flag {f.name} excludes {x!r}, which is not a flag" for x in f.excludes
                   if x not in flag_names]
        issues += [f"flag {f.name} implies {x!r}, which is not a flag" for x in f.implies
                   if x not in flag_names]
    for m in measures:
        for flag in m.scope:
            if flag not in flag_names and m.is_aggregate:
                # a row figure may name the scope it is computed for ("slipped") without
                # the model holding the yes/no column; an aggregate must filter on it
                issues.append(f"measure {m.name} has scope {flag!r}, which is not a flag")
    record_columns = tuple(c for c in _strings(meta.get("record_columns"))
                           if exists(c, "record_columns"))
    record_order = []
    for raw in meta.get("record_order") or []:
        if isinstance(raw, str):
            raw = {"column": raw}
        if isinstance(raw, dict) and exists(raw.get("column"), "record_order"):
            record_order.append(SortKey(raw["column"], bool(raw.get("desc"))))
    role = str(meta.get("role") or "")
    if role not in {"", "internal", "dashboard"}:
        issues.append(f"unknown role {role!r} (use internal or dashboard)")
        role = ""
    overview = tuple(m for m in _strings(meta.get("overview")) if m in measure_names)
    for part in (*dimensions, *times):
        issues += [f"{part.name} overview names unknown measure {m!r}"
                   for m in part.overview if m not in measure_names]
    points = meta.get("points_scale")

    kind_column, default_kind = None, None
    dimensions, kind_column, default_kind = _stacked_kinds(model, dimensions)
    time_column = meta.get("time_column")
    if time_column and not exists(time_column, "time"):
        time_column = None
    grain = str(meta.get("time_grain") or ("day" if time_column else "none"))
    if grain not in TIME_GRAINS:
        issues.append(f"unknown time_grain {grain!r}")
        grain = "none"
    sort = []
    for raw in meta.get("default_sort") or []:
        if isinstance(raw, str):
            raw = {"column": raw}
        if isinstance(raw, dict) and exists(raw.get("column"), "default_sort"):
            sort.append(SortKey(raw["column"], bool(raw.get("desc"))))
    records = meta.get("records")
    records_spec = (
        RecordsSpec(str(records["model"]), records.get("filter"),
                    tuple((str(k), str(v)) for k, v in (records.get("by_measure") or {}).items()))
        if isinstance(records, dict) and records.get("model") else None
    )
    if not measures:
        issues.append("no usable measures: the model is not answerable")
        return None, issues
    known_keys = {
        "label", "family", "synonyms", "example_questions", "grain", "time_column", "time_grain",
        "default_sort", "default_limit", "dimensions", "measures", "records", "role", "flags",
        "numbers", "times", "record_columns", "record_order", "why_dimensions", "overview",
        "points_scale", "not_held",
    }
    issues += [f"unknown key {k!r} in config.meta.whizzy (docs/catalog-meta.md lists them)"
               for k in meta if k not in known_keys]
    limit = meta.get("default_limit")
    return Answerable(
        label=str(meta.get("label") or model.name),
        family=str(meta.get("family") or ""),
        synonyms=_strings(meta.get("synonyms")),
        example_questions=_strings(meta.get("example_questions")),
        grain=_strings(meta.get("grain")),
        time_column=time_column,
        time_grain=grain,
        default_sort=tuple(sort),
        default_limit=int(limit) if isinstance(limit, int | float | str) and str(limit).isdigit()
        else None,
        dimensions=tuple(dimensions),
        measures=tuple(measures),
        records=records_spec,
        extra={k: v for k, v in meta.items() if k not in known_keys},
        kind_column=kind_column,
        default_kind=default_kind,
        role=role,
        flags=flags,
        numbers=numbers,
        times=times,
        record_columns=record_columns,
        record_order=tuple(record_order),
        why_dimensions=tuple(d for d in _strings(meta.get("why_dimensions"))
                             if any(x.name == d for x in dimensions)),
        overview=overview,
        points_scale=int(points) if isinstance(points, int) else None,
        not_held=_strings(meta.get("not_held")),
    ), issues


def _sample(raw: Any, name: str, known: set[str], issues: list[str]) -> Sample | None:
    """A measure's `sample` block, checked (None, with an issue, when it does not fit).

    >>> _sample({"expr": "count(*)", "minimum": 20, "label": "closed deals"}, "m", set(), [])
    Sample(minimum=20, expr='count(*)', column=None, label='closed deals')
    >>> issues = []
    >>> _sample({"column": "n", "minimum": "many"}, "m", {"n"}, issues), issues
    (None, ['measure m sample needs a whole-number minimum'])
    """
    if raw is None:
        return None
    minimum = raw.get("minimum") if isinstance(raw, dict) else None
    if not isinstance(minimum, int) or isinstance(minimum, bool):
        issues.append(f"measure {name} sample needs a whole-number minimum")
        return None
    expr, column = raw.get("expr"), raw.get("column")
    if expr:
        try:
            unknown = sorted(expr_columns(expr) - known) if known else []
        except ValueError as error:
            issues.append(f"measure {name} sample: {error}")
            return None
        if unknown:
            issues.append(f"measure {name} sample reads unknown columns {unknown}")
            return None
        column = None
    elif not column or (known and column not in known):
        issues.append(f"measure {name} sample names no column of the model")
        return None
    return Sample(minimum=minimum, expr=expr or None, column=column,
                  label=str(raw.get("label") or "sample"))


def _stacked_kinds(model: Model, dimensions: list[Dimension]
                   ) -> tuple[list[Dimension], str | None, str | None]:
    """Link dimensions sharing one value column to the row kind they need.

    A model like ``m_deal_velocity_analysis`` stacks stages and owners in one ``dimension``
    column, told apart by ``metric_type`` (whose dbt ``accepted_values`` test lists the
    kinds). A dimension named ``stage`` then needs ``metric_type = 'stage_velocity'``.
    """
    shared: dict[str, int] = {}
    for dim in dimensions:
        shared[dim.column] = shared.get(dim.column, 0) + 1
    kinds = [c for c in model.columns.values() if c.accepted_values and
             c.name not in {d.column for d in dimensions if shared[d.column] > 1}]
    linked = []
    kind_column = None
    for dim in dimensions:
        found = None
        if shared[dim.column] > 1:
            for col in kinds:
                value = next((v for v in col.accepted_values
                              if v == dim.name or v.startswith(dim.name + "_")), None)
                if value is not None:
                    found = (col.name, value)
                    break
        if found:
            kind_column = found[0]
            dim = Dimension(**{**dim.__dict__, "kind_column": found[0], "kind_value": found[1]})
        linked.append(dim)
    default_kind = None
    if kind_column:
        values = model.columns[kind_column].accepted_values or ()
        default_kind = "overall" if "overall" in values else (values[0] if values else None)
    return linked, kind_column, default_kind


# ---------------------------------------------------------------------- loading with a cache

_CACHE: dict[Path, tuple[tuple[int, int], Catalog]] = {}
_LOCK = threading.Lock()


def load_catalog(path: Path) -> Catalog:
    """The catalog of the manifest at `path`, parsed once per file version.

    Raises:
        FileNotFoundError: when there is no manifest at `path`.
    """
    path = Path(path).resolve()
    stat = os.stat(path)
    key = (stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        cached = _CACHE.get(path)
        if cached and cached[0] == key:
            return cached[1]
    with open(path, "rb") as handle:
        raw = handle.read()
    # a fresh process reads the catalog its build's first reader saved beside the manifest
    # (keyed by the manifest's bytes), instead of parsing the manifest again
    catalog = saved_or_parsed(path, raw, lambda data: Catalog.from_manifest(json.loads(data),
                                                                            path), Catalog)
    with _LOCK:
        _CACHE[path] = (key, catalog)
    return catalog
