"""Role 2 — selector: rank the catalog's answerable models for a question and say why.

Everything comes from the models' ``config.meta.whizzy`` blocks: synonyms of the model,
of its measures and dimensions, and its example questions. A model that cannot serve a
filter or grouping the question asks for (no such dimension) or a period (no time column)
loses points, so a documented model added to dbt competes on equal terms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from langgraph.runtime import Runtime
from rapidfuzz import fuzz

from agents.context import Context
from agents.periods import cuts_grain
from agents.question import Ask
from agents.state import State
from agents.text import COMMON_WORDS, find_phrase, has_any, phrase_tokens
from whizzy.warehouse.catalog import Catalog, Measure, Model

#: How many ranked models are reported as "selected".
SELECTED = 3

#: Everyday phrasings of common measures, added to whatever the catalog declares for a
#: measure of that name (a model documenting its own synonyms needs none of these).
EXTRA_SYNONYMS: dict[str, tuple[str, ...]] = {
    "won_amount": ("won", "win", "booked", "closed won", "revenue did we close", "revenue closed",
                   "bookings"),
    "won_count": ("won the most deals", "most deals won", "won most", "deals did we win",
                  "deals we won", "number of deals won"),
    "lost_count": ("deals did we lose", "deals we lost"),
    "open_count": ("open deals", "open opportunities", "deals open"),
    "overdue_amount": ("pipeline overdue", "overdue"),
    "avg_days_in_stage": ("how long", "days in", "time in", "move through", "stuck", "sit in",
                          "spend in", "days spent", "bottleneck", "bottlenecks"),
    "avg_days_to_close_won": ("days to close a won deal", "take to close a won", "close a won"),
    "avg_days_to_close": ("take to close", "days to close", "how long to close"),
    "push_count": ("slip from", "slips", "pushed", "pushes"),
    "push_rate": ("slips most", "slip most", "slips most often", "push rate"),
    "deals_slipped": ("deals slipped", "slipped", "deals slip", "slippage"),
    "combined_forecast": ("forecast", "projected revenue", "expected revenue", "revenue forecast"),
    "forecast_accuracy": ("accurate", "accuracy", "trust the forecast", "how good"),
    "forecast_lower": ("confidence interval", "interval", "range"),
    "pipeline_health_score": ("health", "healthy", "health score"),
    "needs_coaching": ("coach", "coaching", "need help", "needs help"),
    "risk_level": ("risk level", "risky"),
    "avg_slip_days": ("days on average", "average slip", "slip days", "days slipped"),
}


@dataclass
class MeasureHit:
    """A measure of a model named by the question."""

    measure: Measure
    score: float
    phrase: str


@dataclass
class ModelChoice:
    """One ranked model, the measures the question names in it, and the reasons."""

    model: Model
    score: float
    reasons: list[str] = field(default_factory=list)
    measures: list[MeasureHit] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The model's name."""
        return self.model.name


@lru_cache(maxsize=4096)
def measure_phrases(measure: Measure) -> list[str]:
    """Words that name a measure: its name, label and synonyms.

    >>> measure_phrases(Measure(name="win_rate", synonyms=("close rate",)))
    ['win rate', 'close rate']
    """
    phrases = [measure.name.replace("_", " "), measure.label, *measure.synonyms,
               *EXTRA_SYNONYMS.get(measure.name, ())]
    seen: list[str] = []
    for phrase in phrases:
        p = phrase.strip().lower()
        if p and p not in seen:
            seen.append(p)
    return seen


@lru_cache(maxsize=65536)
def _phrase_score(words: tuple[str, ...], phrase: str) -> float:
    """How well `phrase` is named in `words`.

    Longer and more distinctive phrases score more; all of its words present in another
    order score a little less than the phrase itself.
    """
    target = phrase_tokens(phrase)
    n = len(target)
    if n == 0:
        return 0.0
    distinctive = 2.0 * sum(1 for t in target if t not in COMMON_WORDS and len(t) > 2)
    if find_phrase(words, phrase, fuzzy=False) >= 0:
        return 2.0 + n + distinctive
    if find_phrase(words, phrase, fuzzy=True) >= 0:
        return 1.5 + n + distinctive
    if n > 1 and distinctive and all(find_phrase(words, t, fuzzy=True) >= 0 for t in target
                                     if t not in {"of", "the", "a", "in", "to", "is"}):
        return 1.25 + n + distinctive
    return 0.0


def measure_hits(words: Sequence[str], model: Model) -> list[MeasureHit]:
    """Measures of `model` named in `words`, best first."""
    words = tuple(words)
    hits = []
    for measure in model.answerable.measures:
        best, best_phrase = 0.0, ""
        for phrase in measure_phrases(measure):
            score = _phrase_score(words, phrase)
            if score > best:
                best, best_phrase = score, phrase
        if best:
            if measure.unit == "currency" and "how much" in " ".join(words):
                best += 1.5  # "how much" asks for money, "how many" for a count
            elif measure.unit == "count" and "how many" in " ".join(words):
                best += 1.5
            hits.append(MeasureHit(measure, best, best_phrase))
    return sorted(hits, key=lambda h: -h.score)


def has_subject(words: Sequence[str], catalog: Catalog) -> bool:
    """Whether `words` name a figure of their own (a measure or distinctive model synonym).

    "what about healthcare deals?" does not; "and the win rate?" does.
    """
    words = tuple(words)
    for model in catalog.answerable:
        if any(h.score >= 4 for h in measure_hits(words, model)):
            return True
        if any(_phrase_score(words, s) >= 5 for s in model.answerable.synonyms):
            return True
    return False


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


def rank_models(ask: Ask, catalog: Catalog, *, intent: str = "analytics") -> list[ModelChoice]:
    """All answerable models, best first, with a score and reasons."""
    words = tuple(ask.words)
    choices = []
    wanted_dims = list(dict.fromkeys([*ask.group_by, *(m.dimension for m in ask.values)]))
    for model in catalog.answerable:
        meta = model.answerable
        reasons: list[str] = []
        score = 0.0
        hits = measure_hits(words, model)
        if hits:
            score += 2 * hits[0].score + 0.25 * sum(h.score for h in hits[1:3])
            reasons.append(f"measure {hits[0].measure.name} matches '{hits[0].phrase}'")
        syn = [s for s in meta.synonyms if _phrase_score(words, s)]
        if syn:
            score += sum(_phrase_score(words, s) for s in syn[:3])
            reasons.append(f"model synonyms {', '.join(repr(s) for s in syn[:3])}")
        if meta.example_questions:
            best = max(fuzz.token_set_ratio(ask.text, q.lower()) for q in meta.example_questions)
            if best > 60:
                score += (best - 60) / 20
                if best > 75:
                    reasons.append(f"close to an example question ({best:.0f}%)")
        for dim in wanted_dims:
            if meta.dimension(dim):
                score += 1.0
            else:
                score -= 4.0
                reasons.append(f"cannot split or filter by {dim}")
        if not can_serve(model, wanted_dims) and all(meta.dimension(d) for d in wanted_dims):
            score -= 4.0
            reasons.append("cannot combine those dimensions")
        if ask.period is not None and not meta.time_column:
            score -= 2.0
            reasons.append("has no time column for the period")
        if ask.period is not None and meta.time_grain == "day":
            score += 0.5  # any period can be cut from day-level rows
        if ask.period is not None and ask.period.grain == "quarter" and \
                ask.period.kind not in {"qtd"} and meta.time_grain == "quarter":
            score += 1.0  # the quarter's figure precomputed as metrics.md defines it
        if ask.period is not None and ask.period.grain == "quarter" and \
                meta.time_grain == "month" and not (hits and hits[0].measure.unit == "currency"
                                                    and "forecast" in hits[0].measure.name):
            score -= 1.5
        if ask.trend and meta.time_column and meta.time_grain in {"quarter", "month"}:
            score += 1.0
        if ask.period is not None and cuts_grain(meta.time_grain, ask.period):
            score -= 3.5  # a quarter-level model cannot show one month's figure
            reasons.append(f"is by {meta.time_grain}: cannot show {ask.period.label} alone")
        if has_any(ask.words, ("doing", "performing", "perform", "performance"), fuzzy=False) \
                and any("performance" in syn for syn in meta.synonyms):
            score += 3.0
            reasons.append("documents performance")
        if ask.model_hint == model.name:
            score += 3.0
            reasons.append("continues the previous question")
        if intent == "lookup" and meta.grain and any(
            g.endswith("opportunity_id") for g in meta.grain
        ):
            score += 3.0
            reasons.append("one row per opportunity: lists the deals")
        choices.append(ModelChoice(model, round(score, 3), reasons, hits))
    return sorted(choices, key=lambda c: (-c.score, c.name))


def select_models(state: State, runtime: Runtime[Context]) -> dict:
    """Node: rank the catalog models for the question; keep the best few with reasons."""
    from agents.planner import understand  # shared reading of the question
    from whizzy.warehouse.reader import user_text

    try:
        warehouse, ask = understand(state, runtime)
    except Exception as exc:  # noqa: BLE001 - the answer reports it
        return {"error": user_text(exc)}
    ranked = [c for c in rank_models(ask, warehouse.catalog, intent=state.intent) if c.score > 0]
    chosen = ranked[:SELECTED]
    return {
        "models": [c.name for c in chosen],
        "model_reasons": {c.name: "; ".join(c.reasons) or "best overall match" for c in chosen},
        "understanding": ask.to_state(),
    }
