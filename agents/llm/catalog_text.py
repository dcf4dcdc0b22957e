"""The catalog as compact text for a prompt: names, descriptions, meta, relevant columns.

Only answerable models go in, best-ranked first (the offline selector's ranking), and only
as many as fit the budget — so a project with hundreds of models still fits a prompt. The
text comes from the typed `Catalog` (never from ``manifest.json`` directly).

>>> from whizzy.warehouse.catalog import Answerable, Catalog, Dimension, Measure, Model
>>> m = Model("m_win", "model.p.m_win", description="One row per owner per quarter. More.",
...           answerable=Answerable(label="Win rate", synonyms=("close rate",),
...               time_column="quarter", time_grain="quarter",
...               dimensions=(Dimension("owner", "owner_name", synonyms=("rep",)),),
...               measures=(Measure("win_rate", "percent", expr="avg(x)",
...                                 higher_is_better=True),),
...               example_questions=("Who wins most?",)))
>>> print(render_catalog(Catalog(models={"m_win": m})))
### m_win — Win rate
One row per owner per quarter.
also called: close rate
time: quarter (quarter grain)
measures:
- win_rate [percent, aggregate, higher is better]
dimensions:
- owner (column owner_name): rep
examples: Who wins most?
"""

from __future__ import annotations

from collections.abc import Sequence

from whizzy.warehouse.catalog import Catalog, Model

#: Models described to the planner at most (the offline ranking's best).
TOP_MODELS = 8
#: Characters of catalog text at most (about 4 characters per token: ~3,000 tokens).
BUDGET_CHARS = 12_000
#: Longest model description kept.
DESCRIPTION_CHARS = 240


def estimate_tokens(text: str) -> int:
    """A model-independent token estimate (about four characters per token).

    >>> estimate_tokens("x" * 400)
    100
    """
    return (len(text) + 3) // 4


def _first_sentences(text: str, limit: int = DESCRIPTION_CHARS) -> str:
    text = " ".join(text.split())
    if len(text) <= limit:
        end = text.find(". ")
        return text[: end + 1] if 0 < end < limit else text
    cut = text[:limit]
    end = cut.rfind(". ")
    return cut[: end + 1] if end > 40 else cut.rstrip() + "…"


def describe_model(model: Model, *, columns: bool = False, examples: int = 2) -> str:
    """One model's block: label, grain sentence, synonyms, time, measures, dimensions."""
    meta = model.answerable
    lines = [f"### {model.name}" + (f" — {meta.label}" if meta and meta.label else "")]
    if model.description:
        lines.append(_first_sentences(model.description))
    if meta is None:
        lines.append("columns: " + ", ".join(model.columns))
        return "\n".join(lines)
    if meta.synonyms:
        lines.append("also called: " + ", ".join(meta.synonyms[:6]))
    if meta.time_column:
        lines.append(f"time: {meta.time_column} ({meta.time_grain} grain)")
    lines.append("measures:")
    for measure in meta.measures:
        tags = [measure.unit, "aggregate" if measure.is_aggregate else "row value"]
        if measure.higher_is_better is True:
            tags.append("higher is better")
        elif measure.higher_is_better is False:
            tags.append("lower is better")
        line = f"- {measure.name} [{', '.join(tags)}]"
        if measure.synonyms:
            line += ": " + ", ".join(measure.synonyms[:4])
        lines.append(line)
    if meta.dimensions:
        lines.append("dimensions:")
        for dim in meta.dimensions:
            line = f"- {dim.name} (column {dim.column})"
            if dim.synonyms:
                line += ": " + ", ".join(dim.synonyms[:4])
            lines.append(line)
    if columns:
        lines.append("columns: " + ", ".join(
            f"{c.name} {c.data_type}" if c.data_type else c.name for c in model.columns.values()))
    if examples and meta.example_questions:
        lines.append("examples: " + " | ".join(meta.example_questions[:examples]))
    return "\n".join(lines)


def render_catalog(catalog: Catalog, *, ranked: Sequence[str] | None = None,
                   top: int = TOP_MODELS, budget_chars: int = BUDGET_CHARS,
                   columns: bool = False) -> str:
    """Compact text of the best `top` answerable models that fit in `budget_chars`.

    Args:
        catalog: the typed catalog.
        ranked: model names best first (the offline ranking); unranked answerable models
            follow in name order.
        top: most models described.
        budget_chars: most characters of text.
        columns: list every column with its type (for free SQL).
    """
    answerable = {m.name: m for m in catalog.answerable}
    order = [n for n in (ranked or []) if n in answerable]
    order += [n for n in sorted(answerable) if n not in order]
    blocks: list[str] = []
    used = 0
    for name in order[:top]:
        block = describe_model(answerable[name], columns=columns)
        if used + len(block) + 2 > budget_chars:
            block = describe_model(answerable[name], columns=columns, examples=0)
            if used + len(block) + 2 > budget_chars:
                if blocks:
                    break
                block = block[: max(0, budget_chars - 1)] + "…"
        blocks.append(block)
        used += len(block) + 2
    return "\n\n".join(blocks)
