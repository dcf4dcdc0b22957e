"""The offline engine's reading: a question becomes a typed `Query`, word by word.

The question is read compositionally against the catalog's vocabulary (`agents.vocabulary`)
and the grammar of questions (`agents.grammar`):

1. periods ("last quarter", "H2 2025", "the next 3 months") become the query's window;
2. numbers with a bound ("over $250k", "more than 60 days") become conditions;
3. warehouse values (owners, industries, stages, accounts) become members; two members of
   one dimension joined by "vs" / "or" / "compared with" become a comparison;
4. catalog phrases become measures, flags ("won", "open"), times ("created"), numbers,
   dimensions (grouped after "by", "per", "which", "who") and model hints;
5. grammar words set the ranking, the share, the trend, the "why", records and picks;
6. every other word is a filler, or is reported: a name nobody has is asked about, a word
   that names something the data does not hold makes the question unanswerable, anything
   else constraint-like is listed in `Query.not_applied`.

A follow-up ("and last quarter?", "only the ones in negotiation", "who owns the biggest
one?") is read the same way and then applied to the previous query of the thread.

The measure and model are chosen together by `agents.serving`: the model that can
apply every constraint read wins, so a model added to dbt competes on equal terms.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace

from rapidfuzz import fuzz

from agents import grammar
from agents.contract import (
    Clarify,
    Condition,
    Intent,
    NotApplied,
    Order,
    Query,
    Ranking,
    Window,
)
from agents.followups import apply_to_previous, is_follow_up, person_of
from agents.periods import (
    TO_DATE_KINDS,
    WEEKDAYS,
    add_months,
    before_to_date,
    current,
    find_periods,
    in_year,
    is_date_word,
    overall_window,
    to_date_now,
    widen_to_grain,
    year_before,
)
from agents.periods import previous as previous_period
from agents.reading import Context, Parse, describes_those, has, period_of, window_of
from agents.serving import Candidate, choose_model, implied_dimension, row_dimension
from agents.text import (
    COMMON_WORDS,
    bounds_in_words,
    dates_in_order,
    expand,
    fold,
    month_ranges,
    similar,
    spelled_amounts,
    stem,
    swapped,
    tokens,
)
from agents.text import (
    plural as plural_of,
)
from agents.values import PERSON_DIMENSIONS, TIME_DIMENSIONS, ValueMatch
from agents.vocabulary import Span, Term, Vocabulary, phrase_match
from whizzy.warehouse.catalog import Answerable, Catalog, Model

# ----------------------------------------------------------------------------- entry point


def read(question: str, context: Context) -> Query:
    """The `Query` a question asks (applied to `context.previous` when it is a follow-up)."""
    return _read(question, context)[1]


def unaccounted(question: str, context: Context) -> list[str]:
    """Words of `question` the reading neither used, nor knows as function words, nor reported.

    Empty for every question: the reading never drops a word silently (tested over every
    eval case in `tests/agents/test_labels.py`).
    """
    p, query = _read(question, context)
    if query.unanswerable or query.clarify:
        return []  # nothing is answered: the whole question is refused or asked back
    said = " ".join([*(n.text for n in query.not_applied), *query.context_words,
                     query.clarify.question if query.clarify else "",
                     query.unanswerable or ""]).lower()
    return [p.raw[i] if i < len(p.raw) else w for i, w in enumerate(p.words)
            if i not in p.used and not _function_word(w) and w.lower() not in said]


def _rejected(p: Parse) -> None:
    """The alternative the asker sets aside: "by dollars rather than by number of deals".

    The figure, flag or breakdown after "rather than" / "as opposed to" (up to the clause's
    end) is not asked; its words are read as said, and nothing of them applies.
    """
    text = " ".join(p.words)
    for m in re.finditer(r"\b(?:rather than|as opposed to)\b", text):
        start = len(text[:m.start()].split())
        end = next((b for b in sorted(p.breaks) if b > start), len(p.words))
        gone = [s for s in p.spans if start <= s.start < end and
                s.kind in {"measure", "flag", "dimension"}]
        if gone:
            p.spans = [s for s in p.spans if s not in gone]
            p.take(start, end)
    for k, word in enumerate(p.words):
        # "(actual stage changes, not last-modified)": of two numbers named, the one after
        # "not" is the reading set aside
        if word != "not" or k in p.used:
            continue
        at = k + 1 + (p.words[k + 1:k + 2] in (["the"], ["a"], ["last"], ["just"]))
        gone = [s for s in p.spans if s.kind == "number" and s.start == at]
        if gone and any(s.kind == "number" and s.name != gone[0].name and s.start < k
                        for s in p.spans):
            p.spans = [s for s in p.spans if s not in gone]
            p.take(k, gone[0].end)


def _ends_said(p: Parse) -> None:
    """"(both ends included)" after a range: how the range was read already (inclusive)."""
    if not any(c.op == "between" for c in p.conditions):
        return
    text = " ".join(p.words)
    for m in re.finditer(r"\b(?:(?:both|the) ends? (?:included|inclusive)|both included|"
                         r"inclusive|ends included)\b", text):
        at = len(text[:m.start()].split())
        p.take(at, at + len(m.group(0).split()))


def _owner_did(p: Parse) -> None:
    """A flag said as what the person of each record did: "with who closed each one".

    The deals listed are already chosen; "closed" there names their owner's deed, not a
    filter to closed deals (nor, with "won", a win rate).
    """
    text = " ".join(p.words)
    for m in re.finditer(r"\bwho (\w+) (?:each one|each deal|each|it|them|those|these)\b", text):
        at = len(text[:m.start(1)].split())
        said = [s for s in p.spans if s.kind == "flag" and s.start == at and s.end == at + 1]
        if said:
            p.spans = [s for s in p.spans if s not in said]
            p.take(at, at + 1)


def _split_phrases(p: Parse, vocab: Vocabulary) -> None:
    """A figure's two-word phrase said in two places: "a bottleneck (what level)?".

    A word no phrase covers that ends a two-word measure phrase, whose first word the
    question says in a figure or flag phrase of its own ("bottleneck"), names that measure.
    """
    covered = {i for s in p.spans for i in range(s.start, s.end)}
    said = {w for s in p.spans if s.kind in {"flag", "measure"}
            for w in p.words[s.start:s.end]}
    if not said:
        return
    for i, word in enumerate(p.words):
        if i in covered or i in p.used or word in grammar.FILLER or len(word) < 4 or \
                i == 0 or p.words[i - 1] not in {"what", "whats", "which", "the", "its"} and \
                not re.search(rf"\(\s*{re.escape(word)}\s*\)", p.question.lower()):
            continue  # (asked: "what level", "and the score", "how bad (level)")
        term = next((t for t in vocab.terms if t.kind == "measure" and len(t.words) == 2 and
                     t.words[1] == word and t.words[0] in said and t.words[0] != word), None)
        if term is not None:
            p.spans.append(Span(kind="measure", name=term.name, start=i, end=i + 1,
                                terms=(term,), exact=1, names=(term.name,)))
            p.take(i, i + 1)


def _function_word(word: str) -> bool:
    """A word that constrains nothing (a function word or a word of question structure)."""
    return word in grammar.FILLER or word.replace("'", "") in grammar.FILLER or \
        word in grammar.COMPARE or word in grammar.EXCLUDE or \
        word in grammar.ONLY or grammar.is_superlative(word) or word in grammar.ANAPHORA or \
        word in grammar.LIST_WORDS or word in _STRUCTURE


def _read(question: str, context: Context, avoid: frozenset[str] = frozenset()
          ) -> tuple[Parse, Query]:
    catalog = context.catalog
    vocab = Vocabulary.of(catalog)
    cleaned, background = _without_background(
        _split_compounds(_respelled(_clean(question), vocab, context), vocab), context, vocab)
    cleaned = _elided_repeats(cleaned, vocab, context)
    p = Parse(question, tokens(cleaned), _raw_tokens(cleaned))
    pieces = [tokens(x) for x in re.split(r"\?+\s+", cleaned)]
    if len(pieces) > 1 and sum(map(len, pieces)) == len(p.words):
        # where each question of several starts ("… sit the longest? Which stage, …")
        p.breaks = {sum(map(len, pieces[:k])) for k in range(1, len(pieces))}
    p.not_applied += [NotApplied(text=b, reason=_BACKGROUND) for b in background]
    _read_periods(p, cleaned, context)
    _read_weekdays(p)
    _read_numbers(p)
    _ends_said(p)
    _read_values(p, context, vocab)
    _read_categories(p, context.catalog, vocab)
    _read_catalog(p, vocab, avoid)
    _split_phrases(p, vocab)
    _rejected(p)
    _owner_did(p)
    query = _compose(p, context, vocab)
    if context.previous is not None and not query.unanswerable and \
            is_follow_up(p, query, context.previous):  # (a thing the data holds no more now)
        query = _bind_bounds(p, apply_to_previous(p, query, context), context)
    query = _finish(p, query, context)
    unbound = [n for n in query.not_applied if n.reason == _NO_UNIT]
    if unbound and not avoid and query.model is not None:
        # "deals pushed 3 or more times": the figure named ("deals pushed") sits where no
        # row holds the count bounded; read again without it, and keep that reading when
        # it applies the bound
        named = frozenset(s.name for s in p.spans if s.kind == "measure")
        if named:
            again = _read(question, context, named)
            if again[1].model is not None and not any(
                    n.reason == _NO_UNIT for n in again[1].not_applied) and \
                    not again[1].unanswerable and not again[1].clarify:
                return again
    left = [n.text for n in query.not_applied if n.reason == _NOT_WITH_REST]
    flagged = frozenset(c.field for c in p.flags)
    if left and not avoid and flagged and not query.follow_up:
        # "what's our sales velocity per day right now?": "right now" (open) took the deals
        # model, where no velocity is; the figure named wins, the flag words are said
        again = _read(question, context, flagged)
        if again[1].model is not None and not any(
                n.reason == _NOT_WITH_REST for n in again[1].not_applied):
            return again
    if left and not avoid and query.follow_up:
        # "and the team's win rate?" after one team's figures: "team win rate" names a
        # figure of another model; read without it, "team" says whose win rate
        long = frozenset(s.name for s in p.spans if s.kind == "measure" and s.length > 1 and
                         p.lower(s.start, s.end) in left)
        if long:
            again = _read(question, context, long)
            if again[1].model is not None and not any(
                    n.reason == _NOT_WITH_REST for n in again[1].not_applied):
                return again
    if query.model is None and not query.records and not avoid:
        # a long phrase named a figure no model serves here ("win rate changed" is a measure
        # of the by-industry trend): read again without it, its words then say what they say
        long = frozenset(s.name for s in p.spans if s.kind == "measure" and s.length > 1)
        if long:
            again = _read(question, context, long)
            if again[1].model is not None or again[1].records or again[1].clarify:
                return again
        # "open deals still in Qualification …, count?": "still in" (a stage visit going on)
        # kept the question from the deals, whose current stage says the same
        for flag in dict.fromkeys(s.name for s in p.spans if s.kind == "flag"):
            again = _read(question, context, frozenset({flag}))
            if again[1].model is not None and not again[1].unanswerable:
                return again
    return p, query


def _split_flagged_superlatives(p: Parse, vocab: Vocabulary, record_dims: set[str]) -> None:
    """"Which reps have the most overdue deals": the most (a count) of the overdue deals.

    A record number named by a superlative ("most overdue": days overdue) orders one list of
    deals; before a plural record noun in a question that breaks down by another dimension,
    its words are the superlative and a flag of the deals counted.
    """
    dims = [s for s in p.spans if s.kind == "dimension"]
    breakdown = any(s.name not in record_dims for s in dims)
    for span in list(p.spans):
        if span.kind != "number" or span.length < 2 or not breakdown or \
                not grammar.is_superlative(p.words[span.start]):
            continue
        at = span.end  # "most overdue open deals": other flags of the deals may come between
        while (between := next((f for f in p.spans if f.kind == "flag" and f.start == at), None)
               ) is not None:
            at = between.end
        noun = next((d for d in dims if d.start == at and d.name in record_dims), None) or next(
            (d for d in vocab.spans(p.words[at:at + 1]) if d.kind == "dimension" and
             d.name in record_dims), None)  # ("deals count": the noun inside a figure's name)
        amount = at < len(p.words) and p.words[at] in grammar.AMOUNT_NOUNS  # "most overdue $"
        # "the most overdue pipe": a figure named right after says what is ranked
        amount = amount or any(m.kind == "measure" and m.start == at for m in p.spans)
        if not amount and (noun is None or not p.words[at + noun.length - 1].endswith("s")):
            continue
        flag = [f for f in vocab.spans(p.words[span.start + 1:span.end])
                if f.kind == "flag" and f.start == 0 and f.length == span.length - 1]
        if flag:
            f = flag[0]
            p.spans[p.spans.index(span)] = Span("flag", f.name, span.start + 1, span.end,
                                                f.terms, f.exact, f.names)


def _figures_left(p: Parse, query: Query, catalog: Catalog) -> list[NotApplied]:
    """Figures the question named that the answer does not give ("pipeline at risk").

    A phrase of a figure the chosen model has under another name (its base, scoped as
    asked) is given; one of a figure only other models hold, beside the figure answered,
    was left out and is said so.
    """
    if query.model is None or query.records or not query.measures:
        return []
    meta = catalog.model(query.model).answerable
    given = set(query.measures)
    own_words = {w for t in Vocabulary.of(catalog).terms if t.kind == "model" and
                 t.name == query.model for w in t.words}  # "pipeline" of "pipeline health"
    bases = {m.base for n in query.measures if (m := meta.measure(n)) is not None and m.base}
    left = []
    for span in p.spans:
        if span.kind != "measure" or set(span.names) & given or any(
                meta.measure(n) is not None for n in span.names) or \
                set(p.words[span.start:span.end]) <= own_words or all(
                    stem(w) in _STRUCTURE_STEMS for w in p.words[span.start:span.end]):
            continue  # ("ranked by win rate": a word of the question's shape, no figure)
        if any((m := catalog.model(x).answerable.measure(n)) is not None and m.base in bases
               for n in span.names for x in span.models_of(n)):
            continue  # the same kind of figure, served here under another name
        left.append(NotApplied(text=p.lower(span.start, span.end),
                               reason=_NOT_WITH_REST))
    return left


def _flags_rows_of(flag: Span, dimension: str, catalog: Catalog) -> bool:
    """Whether a model flags rows of the dimension itself ("bottleneck stage": a stage's)."""
    for name in flag.models:
        meta = catalog.model(name).answerable
        dim = meta.dimension(dimension) if meta else None
        if dim is not None and (dim.column in meta.grain or dim.id_column in meta.grain or
                                dim.kind_value):
            return True
    return False


def _asked_through(p: Parse, at: int, flags: list[Span], need_flag: bool = True) -> bool:
    """"What is our bottleneck stage?": which/what, a copula and the noun's modifiers.

    Only a copula, determiners and flags of the rows stand between "what" and the noun
    ("what are our overdue deals": the deals are asked for).
    """
    flagged = {i for f in flags for i in range(f.start, f.end)}
    i = at - 1
    while i >= 0 and (p.words[i] in _COPULA_DETERMINERS or i in flagged):
        i -= 1
    return i >= 0 and i < at - 2 and p.words[i] in {"which", "what"} and (not need_flag or any(
        j in flagged for j in range(i + 1, at)))


def _measure_of(catalog: Catalog, term: Term):  # noqa: ANN202 - a catalog Measure or None
    """The catalog measure a term names, in the first model declaring it."""
    for name in term.models:
        meta = catalog.model(name).answerable
        if meta is not None and (m := meta.measure(term.name)) is not None:
            return m
    return None


def _averages_of(numbers: list[Span], catalog: Catalog, *, total: bool = False) -> list[Span]:
    """The measures averaging each record number named (base ``avg_<number>``, unscoped).

    A trend of a record's size ("deals getting bigger") is the trend of its average. With
    `total`, the measure summing the number's column instead ("pushes in total").
    """
    found = []
    for span in numbers:
        terms = []
        for term in span.terms:
            for name in term.models:
                meta = catalog.model(name).answerable
                number = meta.number(term.name) if meta else None
                average = meta.measures_of(f"avg_{term.name}") if meta and not total else [
                    m for m in (meta.measures if meta and number else ())
                    if (m.expr or "").replace(" ", "").replace('"', "").lower() in {
                        f"sum({number.column})", f"coalesce(sum({number.column}),0)"}]
                if average:
                    terms.append(Term(term.words, "measure", average[0].name,
                                      frozenset({name})))
        if terms:
            names = tuple(dict.fromkeys(t.name for t in terms))
            found.append(Span("measure", names[0], span.start, span.end, tuple(terms),
                              span.exact, names))
    return found


def _take_trend(p: Parse, named: set[int]) -> bool:
    """Whether a trend is asked ("is our cycle getting longer?"); its words are used."""
    kept = [(i, w) for i, w in enumerate(p.words) if i not in named]
    text = " ".join(w for _, w in kept)
    found = False
    for m in grammar.TREND.finditer(text):
        found = True
        first = len(text[:m.start()].split())
        for i, _ in kept[first:first + len(m.group(0).split())]:
            p.take(i, i + 1)
    return found


def _trend_grain(text: str) -> str | None:
    """The bucket a trend's words name: "monthly", "by month", "month over month".

    >>> _trend_grain("monthly won amount this year"), _trend_grain("win rate by quarter")
    ('month', 'quarter')
    """
    m = re.search(r"\b(?:(?P<a>month|quarter)ly|(?:by|per|each|every) (?P<b>month|quarter)|"
                  r"(?P<c>month|quarter) over (?:month|quarter)|(?P<d>mom|qoq))\b", text)
    if m is None:
        return None
    word = m.group("a") or m.group("b") or m.group("c") or m.group("d")
    return {"mom": "month", "qoq": "quarter"}.get(word, word)


def _bind_bounds(p: Parse, query: Query, context: Context) -> Query:
    """A follow-up's bounds on the figure it continues ("only the ones over 100k").

    Alone, the fragment had no model to tie "over 100k" to; on the previous query's model
    it does.
    """
    unbound = {n.text for n in p.not_applied if n.reason == _NO_UNIT}
    if not unbound or query.model is None:
        return query
    named = {s.name for s in p.spans if s.kind == "number"}
    added = []
    for cond in p.conditions:
        if cond.text in unbound:
            done = _resolve_number(cond, query.model, context.catalog, named,
                                   query.group_by, query.measures, p.words)
            if done is not None:
                added.append(done)
                unbound.discard(cond.text)
    if not added:
        return query
    p.not_applied[:] = [n for n in p.not_applied if n.reason != _NO_UNIT or n.text in unbound]
    return query.model_copy(update={"filters": [*query.filters, *added]})


#: The rate a verb is done at ("closed at a better rate": the close rate).
_RATE_OF = {"clos": "close", "win": "win", "won": "win", "convert": "conversion"}


def _respelled(text: str, vocab: Vocabulary, context: Context) -> str:
    """Shorthand and short typos of catalog words written out ("fy bkgs", "avg cyle time").

    Only a word that is no name in the data and fits one catalog word is changed.
    """
    def fix(m: re.Match[str]) -> str:
        word = m.group(0)
        meant = vocab.respelled(word.lower())
        return word if meant is None or context.values.match(word.lower()) else meant

    return re.sub(r"(?<![\w'{])[A-Za-z]{3,5}(?![\w'}])", fix, text)


def _clean(question: str) -> str:
    """Digit groups joined ("250,000" → "250000"), quotes straightened, shorthand expanded."""
    text = (question or "").replace("\u2019", "'").replace("\u2018", "'")
    text = re.sub(r"(?<=\d),(?=\d{3}\b)", "", text)
    text = re.sub(r"(?<=\d)\s+(?=(?:k|m|mm|bn)\b)", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*(?:→|->|⇒)\s*", " to ", text)  # "created→closed lost": from … to
    text = re.sub(r"\s\+\s", " and ", text)  # "won + lost count", "count + total"
    text = re.sub(r"#\s*(?:of\b\s*)?(?=[A-Za-z])", "number of ", text)  # "# won", "# of opps"
    text = re.sub(r"\b1\s*:\s*1(s?)\b", r"one-on-one\1", text)  # a meeting, not a ratio
    # "whose team closed at a better rate": the rate of closing, compared ("better close rate")
    text = re.sub(r"\b(clos|win|won|convert)\w*\s+(?:deals\s+|business\s+)?at\s+(?:a|the)\s+"
                  r"(\w+)\s+rate\b",
                  lambda m: f"{m.group(2)} {_RATE_OF[m.group(1).lower()]} rate", text,
                  flags=re.IGNORECASE)
    # "… vs all other sources combined (count the ones with no source as 'other')": the rest
    # of the members holds the rows with none already (see `_THE_REST`); said again, not a filter
    text = re.sub(r"\(\s*(?:(?:count|treat|include|put|lump)\w*\s+)?(?:the\s+|any\s+)?"
                  r"(?:ones|deals|opps|those|rows)?\s*(?:with\s+|that\s+have\s+)?(?:no|blank|missing|empty|null)\s+"
                  r"[\w\s]{1,20}?\s+(?:(?:count|go|are|is|fall|belong)\w*\s+)?"
                  r"(?:as|in|with|under|among|into)\s+(?:the\s+)?['\"]?(?:other|others|"
                  r"rest|anything\s+else|everything\s+else|something\s+else)['\"]?\s*(?:too|also|"
                  r"as\s+well)?\s*\)", " ", text, flags=re.IGNORECASE)
    # "the next 30.. no, make it 45 days": the number said second replaces the first
    text = re.sub(r"(?<![\w.])\d+(?:\.\d+)?[km]?\s*(?:\.{2,}|…|,|-+|—)?\s*(?:no|sorry|wait|oops)"
                  r"\b[,.!]?\s*(?:(?:no|wait|sorry)\b[,.!]?\s*)?(?:make\s+(?:it|that)|i\s+mean|"
                  r"actually|rather)?\s*(?=\$?\d)", "", text, flags=re.IGNORECASE)
    # "the most recently created deal": the latest, not a ranking by a figure called "recent"
    text = re.sub(r"\bmost\s+recent(?:ly)?\b(?!\s+(?:completed|closed|finished|full|complete|"
                  r"quarter|qtr|month|year|week|half|fiscal|period|fy)\b)", "latest", text,
                  flags=re.IGNORECASE)
    # "…, I mean": a marker of a correction, not the average ("mean")
    text = re.sub(r"\bI\s+mean(?:t)?\b", "", text, flags=re.IGNORECASE)
    # "…right now, in dollars": the unit asked, not "in" of a place or stage
    text = re.sub(r"\bin\s+(?=(?:dollars|usd|\$)(?:\W|$))", "", text, flags=re.IGNORECASE)
    # "…vs the quarter before? how big was the drop": the size of the change asked already,
    # not the size of the deals ("big")
    text = re.sub(r"(?<=\S)\s*[?,;.-]*\s*(?:and\s+)?(?:how\s+(?:big|large|bad|much)|by\s+how\s+"
                  r"much)\s+(?:was|is|were|are)\s+(?:the|that|this|it)\s*(?:drop|change|gap|"
                  r"difference|decline|increase|jump|swing|fall|rise|growth|dip)?\s*\??\s*$", "?",
                  text, flags=re.IGNORECASE)
    # "won and lost counts": a count of each, not one count of the deals won or lost
    text = re.sub(r"\b(\w+) (and|&|vs|or) (\w+) (count|amount|total|number)s?\b(?! of)",
                  r"\1 \4 \2 \3 \4", text, flags=re.IGNORECASE)
    # "between $100M and $1B (both ends count)": a range with its ends in, no count asked
    text = re.sub(r"\b((?:both|the)\s+ends?|either\s+end|both)\s+(?:count|counts|counted)\b",
                  r"\1 included", text, flags=re.IGNORECASE)
    # "deals with no source count as other": how they are classed, no count asked
    text = re.sub(r"\b(?:counts?|counted)\s+as\b(?=\s+(?:an?\s+)?['\"]?other\b)", "fall under",
                  text, flags=re.IGNORECASE)
    # "only counting deals over 100k": which deals, not a count of them
    text = re.sub(r"\b(only|just)\s+counting\b|\bcounting\s+(only|just)\b|\b(only|just)\s+count"
                  r"(?=\s+(?:the|those|these|deals|opps|ones)\b)", r"\1\2\3", text,
                  flags=re.IGNORECASE)  # ("if I only count the deals over 100k")
    # "closed won so far, and how many deals is that": the figure first asked, then its count
    m = re.match(r"^(?P<a>.*\S)[\s,;:-]+(?:and\s+)?how\s+many\s+(?:deals|opps|opportunities)\s+"
                 r"(?:is|are|was|were)\s+(?:that|those|they|it)\b\s*\??\s*$", text, flags=re.I)
    if m and not re.search(r"\b(?:how many|count|number of|#)\b", m["a"], flags=re.I):
        text = f"{m['a']} amount and count"
    # "where's the number at", "where are we at on pipeline": what it is, not a place
    text = re.sub(r"\bwhere(?:'s|s|\s+is|\s+are)\s+([^?.,;]{1,40}?)\s+at\b", r"what is \1", text,
                  flags=re.IGNORECASE)
    # "avg days created-to-close": the span from creation to close is the days to close
    text = re.sub(r"\b(?:from\s+)?creat(?:ed|ion)(?:\s+date)?[\s-]+(?:to|until|till)[\s-]+"
                  r"(?=clos(?:e|ed|ing)\b)", "to ", text, flags=re.IGNORECASE)
    # "…, plus the win rate for the same period": the period already said
    text = re.sub(r"(?<=\S)\s+(?:for|over|in|across)\s+(?:that|the)\s+(?:same|very\s+same)\s+"
                  r"(?:period|window|time\s?frame|dates|span)\b", "", text, flags=re.IGNORECASE)
    # "2Q26", "3Q FY26": the quarter as "Q2 26", "Q3 FY26"
    text = re.sub(r"\b([1-4])q\s*(?=(?:fy\s*)?'?\d{2}\b|(?:fy\s*)?\d{4}\b)", r"Q\1 ", text,
                  flags=re.IGNORECASE)
    # "the first or second half", "the 1st and 2nd quarter": the unit said of both
    text = re.sub(r"\b(first|second|third|fourth|1st|2nd|3rd|4th)\s+(or|and|vs\.?|versus)\s+"
                  r"(?=(?:first|second|third|fourth|1st|2nd|3rd|4th)\s+(half|quarter)\b)",
                  r"\1 \3 \2 ", text, flags=re.IGNORECASE)
    # "last week (mon-sun)": the calendar week, Monday to Sunday
    text = re.sub(r"\bweek\s*\(?\s*mon(?:day)?\s*(?:-|–|to|thru|through)\s*sun(?:day)?\b\s*\)?",
                  "calendar week", text, flags=re.IGNORECASE)
    text = spelled_amounts(dates_in_order(text))  # "over two hundred k", "since 15 Jun 2026"
    return month_ranges(text)  # before compounds are split: "jan-mar" is a range


def _elided_repeats(text: str, vocab: Vocabulary, context: Context) -> str:
    """A figure named again by its qualifier alone, written out in full.

    "win rate by count and by $": the second figure is the catalog's "win rate by $", its
    head ("win rate") said once for both. "what about by $?" after a win rate: the head is
    the last question's figure.
    """
    lowered = text.lower()
    previous = context.previous
    last = {phrase for n in (previous.measures[:1] if previous else [])
            for phrase in vocab.phrases("measure", n)}
    for head, tail in vocab.qualified_measures():
        alone = re.search(rf"(?:^(?:(?:and|so|ok|okay|now|what's it|what is it)\s+)*|"
                          rf"\b(?:what|how) about\s+)(?={re.escape(tail)}(?:\W|$))", lowered)
        if head in last and alone is not None:
            return f"{text[:alone.end()]}{head} {text[alone.end():]}"
        m = re.search(rf"\b(?:and|vs\.?|versus|or|compared (?:to|with)|against)\s+"
                      rf"(?={re.escape(tail)}(?:\W|$))", lowered)
        if m is None or not re.search(rf"\b{re.escape(head)}\b", lowered[:m.start()]) or \
                re.search(rf"\b{re.escape(head)}\s+{re.escape(tail)}", lowered):
            continue
        text = f"{text[:m.end()]}{head} {text[m.end():]}"
        lowered = text.lower()
    # "how bad was slippage last qtr? # of deals that slipped and the rate": the rate of the
    # thing named before, a figure's head said once ("slippage rate")
    known = {w for t in vocab.terms for w in t.words if len(t.words) == 1}
    for term in vocab.terms:
        if term.kind != "measure" or len(term.words) != 2 or term.words[1] in known:
            continue
        head, tail = term.words
        first = re.search(rf"\b{re.escape(head)}\b", lowered)
        bare = re.search(rf"\b(?:and|the|its|plus)\s+(?={re.escape(tail)}\b)", lowered)
        if first and bare and first.end() < bare.start() and not re.search(
                rf"\b{re.escape(head)}\s+{re.escape(tail)}\b", lowered):
            text = f"{text[:bare.end()]}{head} {text[bare.end():]}"
            lowered = text.lower()
    return text


def _split_compounds(text: str, vocab: Vocabulary) -> str:
    """Hyphenated lower-case words the catalog does not know, split ("commit-category").

    A compound the catalog holds ("probability-weighted") stays whole; names keep their
    capitals and hyphens ("Min-jun").
    """
    known = vocab.hyphenated

    def split(m: re.Match[str]) -> str:
        word = m.group(0)
        return word if word in known else word.replace("-", " ")

    text = re.sub(r"(?<![\w-])(\d+)-(mo|mos|month|months|day|days|week|weeks|quarter|"
                  r"quarters|year|years)\b", r"\1 \2", text)  # "3-mo rolling average"
    return re.sub(r"(?<![\w-])[a-z]+(?:-[a-z]+)+(?![\w-])", split, text)


#: Who asks, said first: "finance here -", "asking for a friend in finance (…) -", "I'm in
#: sales ops:": the asker, not which deals.
_WHO_ASKS = re.compile(r"^\s*(?:(?:hey|hi|hello|ok|so)[,!]?\s+)?(?:asking for a friend(?:\s+\w+)"
                       r"{0,3}|(?:[\w&/]+\s+){0,2}[\w&/]+\s+here|i'?m\s+(?:in|from|on)\s+"
                       r"(?:the\s+)?[\w&/]+(?:\s+(?:team|ops))?)\s*(?:\([^()]*\))?\s*"
                       r"(?:[-–—:,.!]\s+|\s+-\s+)", re.IGNORECASE)

#: Words that open a question or a request (a sentence that is no background).
_ASKING = frozenset({"how", "what", "whats", "which", "who", "whose", "why", "when", "where",
                     "is", "are", "was", "were", "do", "does", "did", "can", "could", "will",
                     "should", "would", "has", "have", "compare", "and", "but", "also"})


def _without_background(text: str, context: Context, vocab: Vocabulary
                        ) -> tuple[str, list[str]]:
    """The question without its background sentences, and those sentences.

    A sentence is background when it asks nothing (no "?", no question or request word at
    its start) and names nothing the data holds (no catalog phrase, no value): "Our board
    meets tomorrow. What's the headline?" asks only the second.
    """
    sentences: list[str] = []
    background: list[str] = []
    who = _WHO_ASKS.match(text)
    if who and tokens(text[who.end():]) and not any(
            v.dimension in PERSON_DIMENSIONS for v in context.values.match(who.group(0))):
        # "finance here - what did we book?", "asking for a friend in finance - …": who
        # asks, not which deals (a person's name is kept: "Ana Diaz here, my open pipe?")
        background.append(who.group(0).strip(" -–—:,.!"))
        text = text[who.end():]
    for aside in re.finditer(r"\((?:just|only)\s+(?:that|this)\s+\w+[^()]*\)", text,
                             flags=re.IGNORECASE):
        # "(just that type, not all existing)": only the member named, said again
        background.append(aside.group(0).strip("()"))
        text = text.replace(aside.group(0), " ")
    for aside in re.finditer(r"\(([^()]*)\)", text):
        # "(trying to size the big-account motion for the territory plan, so just the one
        # number is fine)": what the asker is doing, in brackets, not part of the question
        inner = tokens(aside.group(1))
        if inner and inner[0].endswith("ing") and len(inner[0]) > 4 and \
                inner[0] not in grammar.KNOWN and inner[0] not in _NOT_DOING and \
                not vocab.spans(inner[:1]) and not context.values.match(inner):
            background.append(aside.group(1).strip())
            text = text.replace(aside.group(0), " ")
    for piece in re.split(r"(?<=[.!?])\s+(?=[A-Za-z])", text.strip()):
        # ("Q3 vs. Q2", "Acme Inc. deals": an abbreviation's stop ends no sentence)
        # (nor does a word in lower case after "?" or "!": "…last year? counts please")
        if sentences and sentences[-1].endswith("?") and _remark(piece, context, vocab):
            background.append(piece)  # "… overdue? Want to flag it before the forecast call."
            continue
        if sentences and (piece[:1].islower() and (sentences[-1].endswith(("?", "!")) or len(
                sentences[-1].split()) < 2) or _ABBREVIATION.search(sentences[-1])):
            sentences[-1] += " " + piece
        elif piece:
            sentences.append(piece)
    for k, sentence in enumerate(sentences):
        # (the last sentence, or a question before it: "Territory planning for next year -
        # which country … last fiscal year? Only countries with …")
        if k == len(sentences) - 1 or sentence.rstrip().endswith("?"):
            lead, ask = _lead_clause(sentence, context, vocab)
            if lead:
                sentences[k] = ask
                background.append(lead)
    if len(sentences) < 2:
        return " ".join(sentences) if background else text, background
    for k, sentence in enumerate(sentences[:-1]):
        # "Beatriz Arnold here, doing my Monday pipeline review.": a clause led by a verb in
        # -ing that names no value says what the asker is doing, not what is asked
        parts = sentence.rstrip(".!").split(", ")
        doing = [x for x in parts[1:] if (w := tokens(x)) and w[0].endswith("ing") and
                 len(w[0]) > 4 and not context.values.match(w)]
        if doing and not sentence.rstrip().endswith("?"):
            sentences[k] = ", ".join(x for x in parts if x not in doing) + "."
            background += doing
    keep = []
    for k, sentence in enumerate(sentences):
        words = tokens(sentence)
        asks = sentence.rstrip().endswith("?") or not words or words[0] in _ASKING or \
            words[0] in grammar.LIST_WORDS
        if not asks and k < len(sentences) - 1 and _says_only_what_is_asked(
                sentence, sentences[-1], context, vocab):
            background.append(sentence)  # "new VP here, first week. what was our WR last q?"
            continue
        named = any(s.kind not in {"model", "not_held"} or s.kind == "model" and s.length > 1
                    for s in vocab.spans(words)) or bool(
            context.values.match(words)) or bool(grammar.CALENDAR & set(words))
        about_me = words[:1] in (["i'm"], ["im"]) or words[:2] == ["i", "am"]
        if about_me and not sentence.rstrip().endswith("?") and not context.values.match(
                words) and not _names_period(sentence, context):
            named = False  # "I'm new on the team.": about the asker, not what is asked
        if named and not asks and k < len(sentences) - 1:
            sentence = _without_setting_period(sentence, sentences[-1], context, background)
        (keep if asks or named else background).append(sentence)
    if not keep:
        return text, []
    return " ".join(keep), background


def _without_setting_period(sentence: str, ask: str, context: Context,
                            background: list[str]) -> str:
    """A sentence before the question without its period, when the question names its own.

    "prepping one-on-ones with Mary Patel's reps this week. what did the team book last
    quarter?": the team is asked about, but "this week" is when the asker prepares.
    """
    if not _names_period(ask, context):
        return sentence
    found = find_periods(sentence.lower(), context.as_of, context.fiscal_year_start_month)
    for match in sorted(found, key=lambda m: -m.start):
        background.append(sentence[match.start:match.end].strip())
        sentence = sentence[:match.start] + sentence[match.end:]
    return sentence


def _names_period(text: str, context: Context) -> bool:
    """Whether `text` names a period, abbreviations read ("last fy", "qtd")."""
    return bool(find_periods(expand(text.lower()), context.as_of,
                             context.fiscal_year_start_month))


def _says_only_what_is_asked(lead: str, ask: str, context: Context, vocab: Vocabulary) -> bool:
    """Whether a sentence before the question narrows nothing the question leaves open.

    "new VP here, first week, sorry if these are basic. what was our win rate last quarter?",
    "monday pipe review. open pipe closing this quarter, by stage - …?", "ok new quarter, clean
    slate. what did last qtr finish at in bookings?": the sentence names no value, breakdown,
    flag, number or exclusion, and the question names its own figure and its own period, so
    the figure or period words the sentence holds ("pipe", "first week") are the asker's
    setting, not the question. "Won deals only. How many last quarter?" keeps its flag, and
    "Last quarter. What was the win rate?" its period (the question names none).
    """
    lead_words, ask_words = tokens(lead), tokens(ask)
    if not lead_words or not ask_words or context.values.match(lead_words) or any(
            c.isdigit() for c in lead) or set(lead_words) & (grammar.EXCLUDE | grammar.ONLY):
        return False
    if any(s.kind in {"flag", "number"} or s.kind == "dimension" and not set(
            lead_words[s.start:s.end]) <= grammar.PERIOD_UNITS for s in vocab.spans(lead_words)):
        return False
    ask_spans = vocab.spans(ask_words)
    figure = any(s.kind in {"measure", "flag"} for s in ask_spans) or \
        has(ask_words, *grammar.COUNT_WORDS, *grammar.AMOUNT_WORDS)
    return figure and (bool(grammar.CALENDAR & set(ask_words)) or _names_period(ask, context))


#: Words in -ing that say which rows, not what the asker is doing ("(including overdue)").
_NOT_DOING = frozenset({"including", "counting", "excluding", "closing", "pending", "remaining",
                        "outstanding", "trailing", "ending", "starting", "beginning", "rolling",
                        "following", "preceding", "opening", "leaving", "ignoring", "assuming",
                        "meaning", "using", "sitting", "missing", "existing", "incoming"})


def _remark(piece: str, context: Context, vocab: Vocabulary) -> bool:
    """A remark after the question, not part of it.

    "Want to flag it before the forecast call.", "those need fixing before friday": it asks
    nothing, and once what it is for ("before the forecast call") is set aside it names
    nothing the data holds: no figure, value, period, number, exclusion or comparison.
    """
    words = tokens(piece)
    if not words or piece.rstrip().endswith("?") or words[0] in _ASKING or \
            words[0] in grammar.LIST_WORDS or any(c.isdigit() for c in piece):
        return False
    cut = next((i for i, w in enumerate(words) if w in _PURPOSE and i > 0), len(words))
    rest = words[:cut]
    if words[0] in {"feels", "seems", "looks", "sounds", "feel", "seem"}:
        # "… ? feels late for those": an impression of the answer, not a condition of it
        return not context.values.match(words) and not _names_period(piece, context)
    if set(words) & _REASON and not context.values.match(words) and \
            not _names_period(piece, context) and not set(words) & (
                grammar.EXCLUDE | grammar.ONLY | grammar.COMPARE | {"than"}) and not any(
                words[k - 1] in {"by", "per"} and (w in {"count", "dollars", "dollar", "$",
                                                        "amount", "value", "number"} or any(
                    s.start == k for s in vocab.spans(words) if s.kind == "dimension"))
                for k, w in enumerate(words) if k):
        # "… median won deal last FY? the average keeps getting dragged around by a couple
        # of whales so I'd rather quote the median": why it is asked, not what
        return True
    if set(rest) & (grammar.EXCLUDE | grammar.ONLY | grammar.COMPARE | grammar.CALENDAR |
                    _FIGURE_SHAPE) or any(grammar.is_superlative(w) for w in rest):
        return False
    return not any(s.kind != "not_held" for s in vocab.spans(rest)) and \
        not context.values.match(words) and not find_periods(
            " ".join(rest), context.as_of, context.fiscal_year_start_month)


#: Words saying why a question is asked, in a remark after it.
_REASON = frozenset({"because", "cos", "coz", "cuz", "rather", "otherwise"})

#: Words whose stop is no sentence end ("vs. last year", "Acme Inc. deals", "e.g. Retail").
_ABBREVIATION = re.compile(r"(?:^|[\s(])(?:vs|v|approx|est|etc|e\.g|i\.e|no|inc|co|corp|ltd|"
                           r"llc|plc|mr|ms|mrs|dr|st|jr|sr|[a-z])\.$", re.IGNORECASE)

#: Where a lead-in clause ends and the question starts: "…, so what was", "… — how much",
#: "for the exec summary I need …".
_CLAUSE_BREAK = re.compile(r"(?:,\s*so|\s+so|\s*[;—–:,]|\s+-)\s+(?=\w)|"
                           r"\s+(?=(?:i|we)\s+(?:need|want|would like|'d like)\b)",
                           flags=re.IGNORECASE)  # ("… review I need the damage from …")
#: Verbs asking for records to be listed ("list …", "pull up …"), not "which" or a ranking.
_LISTING_VERBS = grammar.LIST_WORDS - {"which", "what"} - {
    w for w in grammar.LIST_WORDS if grammar.is_superlative(w)}
#: Words that shape the figure asked ("on average, how many …"): a lead-in saying one asks.
_FIGURE_SHAPE = frozenset({*grammar.AVERAGE_WORDS, "average", "total", "sum", "count", "counts",
                           "percent", "percentage", "share", "combined", "trend", "why",
                           "median"})
#: Words opening a lead-in that says what the answer is for ("for the board deck: …").
_PURPOSE = frozenset({"for", "ahead", "before", "prepping", "prep", "preparing", "going",
                      "heading"})


def _lead_clause(sentence: str, context: Context, vocab: Vocabulary) -> tuple[str, str]:
    """A lead-in before the question in one sentence, and the question ("" when none).

    "I'm prepping for the board meeting, so what was our won revenue last FY?": the clause
    before the break asks nothing and names no value or breakdown, and the question after it
    names its own figure (and its own period, if the lead-in names one), so the lead-in is
    background. "For Technology — what's the win rate?" keeps its lead-in (a value).
    """
    for m in reversed(list(_CLAUSE_BREAK.finditer(sentence))):
        lead, ask = sentence[:m.start()], sentence[m.end():]
        lead_words, ask_words = tokens(lead), tokens(ask)
        purpose = bool(lead_words) and lead_words[0] in _PURPOSE  # ("for the board - …")
        lead_spans = vocab.spans(lead_words) if m.group(0).strip() == ":" else None
        # ("Quick gut check for the exec sync: …", "RevOps here, cleaning up the forecast:
        # …"): before a colon, a lead-in that names no value, breakdown, flag, period, number
        # or exclusion (the question after it names its own figure)
        bare = lead_spans is not None and bool(lead_words) and not any(
            s.kind in {"dimension", "flag", "time", "number"} for s in lead_spans) and \
            not context.values.match(lead_words) and not any(
                c.isdigit() for c in lead) and not set(lead_words) & (
                grammar.EXCLUDE | grammar.ONLY | grammar.COMPARE | grammar.CALENDAR | _FIGURE_SHAPE
            ) and not any(grammar.is_superlative(w) for w in lead_words) and \
            not _names_period(lead, context)
        scoped_ask = bare and bool(ask_words) and \
            ask_words[0] in {"for", "in", "on", "across", "excluding", "only", "just"}
        if not lead_words or not ask_words or ask_words[0] not in _ASKING and \
                ask_words[0] not in grammar.LIST_WORDS and not purpose and not scoped_ask or \
                lead_words[0] in _ASKING:
            continue
        if m.group(0).strip() in {",", ":"} and not set(lead_words) <= grammar.KNOWN and \
                not purpose and not bare:
            continue  # after a bare comma only words of no content lead in ("hey quick one,")
        if lead_spans is None:
            lead_spans = vocab.spans(lead_words)
        ask_spans = vocab.spans(ask_words)
        figure = any(s.kind in {"measure", "flag"} for s in ask_spans) or \
            has(ask_words, *grammar.COUNT_WORDS, *grammar.AMOUNT_WORDS)
        lead_named = any(s.kind in {"dimension", "flag", "time", "number"} and
                         not _modifier(s, lead_words, lead_spans, context) for s in lead_spans) \
            or bool(context.values.match(lead_words))
        lead_period = (bool(grammar.CALENDAR & set(lead_words)) or _names_period(
            lead, context)) and not (purpose and _event_owned(lead, lead_words, lead_spans))
        ask_period = bool(grammar.CALENDAR & set(ask_words)) or _names_period(ask, context)
        # ("ok in the top one, which rep …": a lead-in pointing at the last answer narrows)
        lead_back = context.previous is not None and bool(set(lead_words) & grammar.ANAPHORA)
        if figure and not lead_named and not lead_back and (ask_period or not lead_period) \
                and not (purpose and lead_period):  # ("For last fiscal year, how did …")
            return lead.strip(), ask.strip()
    return "", sentence


def _modifier(span: Span, words: Sequence[str], spans: Sequence[Span],
              context: Context) -> bool:
    """Whether a dimension word only describes the noun after it ("the territory plan").

    In "For the territory plan: …" or "Territory planning for next year - …" the lead-in is
    about a plan; "territory" names no breakdown of the deals.
    """
    if span.kind not in {"dimension", "time"} or span.end >= len(words):
        return False
    after = words[span.end]
    if after in grammar.KNOWN or not after.isalpha() or context.values.match([after]):
        return False
    # ("new logo plan": a chain of such words before the noun)
    return all(s.start == span.end and _modifier(s, words, spans, context)
               for s in spans if s.start <= span.end < s.end and s.kind not in {
                   "not_held", "model"})


def _event_owned(lead: str, words: Sequence[str], spans: Sequence[Span]) -> bool:
    """Whether a lead-in ends in a thing a period owns ("for next year's plan").

    The period says when the plan is, not which deals are asked about.
    """
    if not words or not re.search(r"\w['’]s(?:\s+[\w-]+){1,3}\s*$", lead):
        return False
    return words[-1] not in grammar.KNOWN and not any(
        s.end == len(words) and s.kind not in {"not_held", "model"} for s in spans)


def _raw_tokens(text: str) -> list[str]:
    """The question's words with their case kept (to tell names from words)."""
    out = []
    for word in re.sub(r"[^\w\s'&/.\-%$]", " ", bounds_in_words(text)).split():
        word = word.strip("'.-/")
        if word.lower().endswith("'s"):
            word = word[:-2]
        if word:
            out.append(word)
    return out


# ----------------------------------------------------------------------------- 1. periods


#: Verbs of saying: a period right after one says when something was said.
_SAYING = frozenset({"said", "says", "mentioned", "told", "claimed", "posted", "wrote",
                     "heard", "shared", "suggested", "reported", "announced"})
_BACKGROUND = "read as background, not as part of the question"


def _day_of_event(text: str, at: int, context: Context) -> bool:
    """A day said in an opening sentence that asks no figure: when an event is.

    "I have a 1:1 with Patricia on Thursday. Pull up her biggest open deals": not the period.
    """
    ends = [m.end() for m in re.finditer(r"[.!?;]+(?:\s+|$)", text)]
    start = max((e for e in ends if e <= at), default=0)
    end = min((e for e in ends if e > at), default=len(text))
    if not text[end:].strip():
        return False  # the last sentence: the question's own day
    words = tokens(text[start:end])
    spans = Vocabulary.of(context.catalog).spans(words)
    return not any(s.kind in {"measure", "flag"} and not _describes_next(words, s, spans)
                   for s in spans)  # ("a pipeline review": an event)


def _describes_next(words: Sequence[str], span: Span, spans: Sequence[Span]) -> bool:
    """A catalog word that only describes the noun after it ("a pipeline review").

    The noun is a word no catalog phrase and no grammar knows ("the big picture").
    """
    return span.end < len(words) and words[span.end].isalpha() and \
        words[span.end] not in grammar.KNOWN and \
        not any(o.start <= span.end < o.end for o in spans)


def _read_periods(p: Parse, text: str, context: Context) -> None:
    expanded = expand(text.lower())
    found = find_periods(expanded, context.as_of, context.fiscal_year_start_month)
    for match in found:
        covered = tokens(expanded[match.start:match.end])
        at = _find(p.words, covered, p.used)
        if at is None:
            continue
        if covered == ["tomorrow"] and len(found) > 1 and at > 0 and p.words[at - 1] not in {
                "closing", "close", "closes", "due", "by", "until", "till", "before", "on",
                "for", "from"}:
            continue  # "the board meeting tomorrow, … bookings this FY": when, not what
        p.take(at, at + len(covered))
        owned = re.search(rf"\b{re.escape(expanded[match.start:match.end])}['’]s((?:\s+\w+)"
                          r"{1,3}?)\s*(?:[-–—:;,.!?)]|$)", expanded)
        # ("for tomorrow's managers sync - …": the day of an event the data does not hold)
        said = tokens(owned.group(1)) if owned else []
        spans = Vocabulary.of(context.catalog).spans(said)
        event = bool(said) and said[-1] not in grammar.KNOWN and not any(
            s.kind != "not_held" and s.end == len(said) or s.kind in {"measure", "flag"}
            for s in spans)  # (no figure in it: "last quarter's pipeline health" is asked)
        if at > 0 and p.words[at - 1] in _SAYING or event or \
                match.period.start == match.period.end and \
                _day_of_event(expanded, match.start, context):
            # "someone said yesterday that we have 150M open": when it was said, not the
            # period asked about
            p.not_applied.append(NotApplied(text=" ".join(p.raw[at:at + len(covered)]),
                                            reason=_BACKGROUND))
            continue
        end = at + len(covered)
        tail = p.words[end:end + 4]
        if match.period.grain in {"half", "quarter", "month"} and covered[0] in {
                "this", "current"} and tail[:1] == ["of"] and (
                tail[1:3] in (["the", "fiscal"], ["this", "fiscal"]) and tail[3:4] == ["year"] or
                tail[1:3] in (["the", "year"], ["this", "year"], ["the", "fy"])):
            p.take(end, end + (4 if "fiscal" in tail[1:3] else 3))  # "this half of the fiscal
            # year": the half is of the year it is in
        p.windows.append((window_of(match.period, " ".join(covered)), at))
    # "so far" / "to date" / "year to date" words belong to the period
    for i, w in enumerate(p.words):
        if w in {"so", "far"} and i in _phrase_at(p.words, ("so", "far")):
            p.take(i, i + 1)
    # "the biggest deal they won in that time": the period already in play, no duration
    for m in re.finditer(r"\b(?:in|over|during|across|within) (?:that|the same|this) "
                         r"(?:time ?frame|time period|time|period|window|stretch|span)\b",
                         " ".join(p.words)):
        at = len(" ".join(p.words)[:m.start()].split())
        p.take(at, at + len(m.group(0).split()))


def _find(words: Sequence[str], part: Sequence[str], used: set[int]) -> int | None:
    n = len(part)
    for i in range(len(words) - n + 1):
        if part and list(words[i:i + n]) == list(part) and not any(
                j in used for j in range(i, i + n)):
            return i
    return None


def _phrase_at(words: Sequence[str], phrase: tuple[str, ...]) -> set[int]:
    out: set[int] = set()
    n = len(phrase)
    for i in range(len(words) - n + 1):
        if tuple(words[i:i + n]) == phrase:
            out.update(range(i, i + n))
    return out


# ----------------------------------------------------------------------------- 2. numbers


_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: A day of the week as a kind of day, not a date: "on a Friday", "on Fridays", "weekends".
_WEEKDAY_RULE = re.compile(
    r"\b(?:on\s+|over\s+|during\s+)?(?:(?:a|an)\s+(?P<one>" + "|".join(_DAY_NAMES) + r")\b|"
    r"(?P<many>" + "|".join(_DAY_NAMES) + r")s\b|(?:the\s+|a\s+)?(?P<kind>weekend|weekday|"
    r"business\s+day|work\s+day|workday)s?\b|(?P<satsun>sat\s*/\s*sun|saturday\s*/\s*sunday|"
    r"sat\s+sun)\b)")


#: Words between "how many" and the members counted ("how many different customers").
_COUNTED_FILLER = frozenset({"different", "distinct", "unique", "individual", "separate", "of",
                             "our", "the", "total", "active", "actual"})


def _ranked_after(words: Sequence[str], end: int) -> bool:
    """Whether a superlative follows the noun ("rep with the biggest open pipe")."""
    after = list(words[end:end + 4])
    while after and after[0] in {"with", "that", "who", "which", "has", "had", "have", "the"}:
        after.pop(0)
    return len(after) < len(words[end:end + 4]) and bool(after) and grammar.is_superlative(
        after[0]) and after[0] not in {"more", "less", "fewer"} and "with" in words[end:end + 1]


def _members_counted(p: Parse, dims: list[Span], measures: list[Span], record_dims: set[str]
                     ) -> tuple[str | None, str | None]:
    """The dimension whose members are counted, and the one a figure is averaged over.

    "how many reps closed a deal", "number of different accounts we won": the members of
    a dimension other than the records themselves, counted once each. "avg bookings per
    rep", "on average how many deals did each rep win": the figure over those members, when
    an average word is said that no measure's own name holds.
    """
    words = p.words
    count_of = None
    for i in range(len(words)):
        if words[i:i + 2] not in (["how", "many"], ["number", "of"], ["count", "of"]) or any(
                n.kind == "number" and n.start <= i < n.end for n in p.spans):
            continue  # ("the employee count of the accounts": the number's own name)
        j = i + 2
        while j < len(words) and (words[j] in _COUNTED_FILLER or any(  # ("how many distinct
                v.start <= j < v.end for v in p.values)):  # Manufacturing accounts": a value)
            j += 1
        span = next((s for s in dims if s.start == j), None)
        if span is not None and span.name not in record_dims:
            count_of = span.name
            p.take(i, span.end)
        break
    for i, word in enumerate(words):  # "which rep has the most (different) accounts": the
        if count_of is not None or word not in {"most", "fewest", "least", "more", "fewer"}:
            continue  # members counted per group, each once
        j = i + 1
        while j < len(words) and words[j] in _COUNTED_FILLER:
            j += 1
        span = next((s for s in dims if s.start == j), None)
        if span is not None and span.name not in record_dims and words[span.end - 1].endswith(
                "s") and any(d.name != span.name and d.name not in record_dims for d in dims):
            count_of = span.name
            p.take(i + 1, span.end)
    in_measure = {k for s in measures for k in range(s.start, s.end)}
    averaged = [i for i, w in enumerate(words) if w in grammar.AVERAGE_WORDS and
                i not in in_measure] or [i for i in range(len(words) - 1)
                                          if words[i:i + 2] == ["on", "average"]]
    per = None
    if averaged:
        for span in dims:
            if span.name not in record_dims and span.name != count_of and span.start > 0 and \
                    words[span.start - 1] in {"per", "each", "every", "a", "an"}:
                per = span.name
                p.take(span.start - 1, span.end)
                p.take(averaged[0], averaged[0] + (2 if words[averaged[0]] == "on" else 1))
                break
    return count_of, per


_BOUND_STARTS = frozenset(w for words, _ in grammar.COMPARATORS for w in words[:1])


def _amount_asked(words: Sequence[str]) -> bool:
    """Whether the words ask for an amount ("how much", "what are they worth").

    An amount word that opens a bound only says which deals: "deals worth more than 300k".

    >>> _amount_asked("what are the deals worth more than 300k".split())
    False
    >>> _amount_asked("how many deals and what are they worth".split())
    True
    """
    if list(words[-2:]) in (["the", "total"], ["a", "total"], ["the", "sum"]):
        return True  # "…, only the ones 50k or more... what's the total?"
    for phrase in grammar.AMOUNT_WORDS:
        said = phrase.split()
        for i in range(len(words) - len(said) + 1):
            if list(words[i:i + len(said)]) != said:
                continue
            after = words[i + len(said)] if i + len(said) < len(words) else ""
            if not (after in _BOUND_STARTS or after[:1].isdigit() or after.startswith("$")):
                return True
    return False


def _per_applies(catalog: Catalog, model: str | None, measure: str) -> bool:
    """Whether a figure can be averaged over members: a count or a sum, not a rate or mean."""
    m = catalog.model(model).answerable.measure(measure) if model else None
    return m is not None and m.is_aggregate and m.unit in {"count", "currency"} and \
        not (m.base or "").startswith(("avg", "median"))


def _read_weekdays(p: Parse) -> None:
    """Days of the week asked as a kind of day ("lost on a Friday", "created on weekends").

    A single weekday with no article ("since Monday", "on Friday") is a date near the as-of
    date, read with the periods; "a Friday", "Fridays", "weekends" and "weekdays" are every
    such day, a condition on the rows' date.

    >>> p = Parse("", "deals lost on a friday or created on weekends sat sun".split(), [])
    >>> _read_weekdays(p); p.weekdays
    [((5,), 'on a Friday'), ((6, 7), 'on a weekend')]
    """
    text = " ".join(p.words)
    for m in _WEEKDAY_RULE.finditer(text):
        start = len(text[:m.start()].split())
        n = len(m.group(0).split())
        if any(i in p.used for i in range(start, start + n)):
            continue
        if start > 0 and p.words[start - 1] in grammar.GROUP - {"which", "what"}:
            continue  # "won deals by weekday": a breakdown by the day, not a kind of day
        if m["one"] or m["many"]:
            day = m["one"] or m["many"]
            days = [_DAY_NAMES.index(day) + 1]
            names = [day.title()]
            k = start + n  # "on a Saturday or Sunday": every day named with it
            while k + 1 < len(p.words) and p.words[k] in {"or", "and"} and \
                    p.words[k + 1].rstrip("s") in _DAY_NAMES:
                days.append(_DAY_NAMES.index(p.words[k + 1].rstrip("s")) + 1)
                names.append(p.words[k + 1].rstrip("s").title())
                n += 2
                k += 2
            found = (tuple(days), "on a " + " or ".join(names))
        elif m["kind"] == "weekend" or m["satsun"]:
            found = ((6, 7), "on a weekend")
        else:
            found = ((1, 2, 3, 4, 5), "on a weekday")
        p.take(start, start + n)
        if found not in p.weekdays and not (m["satsun"] and p.weekdays and
                                            p.weekdays[-1][0] == (6, 7)):
            p.weekdays.append(found)


def _read_numbers(p: Parse) -> None:
    words = p.words
    i = 0
    while i < len(words):
        if i in p.used:
            i += 1
            continue
        value = grammar.parse_amount(words[i])
        times = grammar.TIMES_WORDS.get(words[i])
        said = 1
        if times is None and (value is not None or words[i] in grammar.NUMBER_WORDS) and \
                words[i + 1:i + 2] in (["times"], ["time"]):
            times, said = value or grammar.NUMBER_WORDS[words[i]], 2  # "three times or more"
        trailing = _trailing(words, i + said)
        if times is not None and trailing is not None:
            # "pushed twice or more": a count
            p.conditions.append(Condition(field="?count", op=trailing[0], values=[float(times)],
                                          text=p.lower(i, i + said + trailing[1])))
            p.take(i, i + said + trailing[1])
            i += said + trailing[1]
            continue
        if words[i] == "never" and (done := next((j for j in range(i + 1, min(i + 7, len(
                words))) if words[j].endswith("ed") and j not in p.used), None)) is not None:
            # "never had their close date pushed": a count of none
            p.conditions.append(Condition(field="?count", op="lte", values=[0.0],
                                          text=f"never {p.lower(done, done + 1)}"))
            p.take(i, i + 1)
            p.take(done, done + 1)
            i += 1
            continue
        if value is None and words[i] in grammar.TIMES_WORDS and \
                _comparator_before(words, i, p.used)[0] is not None:
            # "slipped more than once": a count
            op, start = _comparator_before(words, i, p.used)
            p.conditions.append(Condition(field="?count", op=op,
                                          values=[float(grammar.TIMES_WORDS[words[i]])],
                                          text=p.lower(start, i + 1)))
            p.take(start, i + 1)
            i += 1
            continue
        scale_at = None
        if value is not None and i + 1 < len(words) and words[i + 1] in grammar.SCALE_WORDS \
                and grammar.parse_amount(words[i]) is not None and not words[i][-1].isalpha():
            value *= grammar.SCALE_WORDS[words[i + 1]]
            scale_at = i + 1
        if value is None:
            i += 1
            continue
        end = (scale_at or i) + 1
        op, start = _comparator_before(words, i, p.used)
        trailing = _trailing(words, end)
        after_noun = None
        if trailing:
            op, end = trailing[0], end + trailing[1]
        elif op is None and (words[i].endswith("%") or grammar.is_money(words[i]) or
                             words[end:end + 1] in (["days"], ["day"])) and \
                end < len(words) and words[end].isalpha() and \
                words[end] not in grammar.FILLER and (later := _trailing(words, end + 1)):
            # "at 70% probability or higher": the noun of the number between it and its bound
            op, after_noun = later[0], (end + 1, end + 1 + later[1])
        if op == "between":
            second = _between_second(words, end)
            if second is not None:
                hi, end = second
                unit = "currency" if grammar.is_money(words[i]) or grammar.is_money(
                    words[end - 1]) else _unit_after(words, end)
                if words[end - 1].endswith("%") or words[end - 1] in {"percent", "pct"} or \
                        unit == "percent":
                    unit = "percent"  # "50-75%": both ends are percentages
                    if not words[i].endswith("%") and scale_at is None:
                        value *= 0.01
                    if unit == "percent" and not words[end - 1].endswith("%") and \
                            words[end - 1] not in grammar.SCALE_WORDS:
                        hi *= 0.01
                    if end < len(words) and words[end] in {"percent", "pct"}:
                        end += 1
                p.conditions.append(Condition(field=f"?{unit}", op="between",
                                              values=[value, hi], text=p.lower(start, end)))
                if end < len(words) and words[end] in {"range", "band", "bracket", "bucket"}:
                    end += 1  # "in the 50k-100k range": the word of the bound itself
                p.take(start, end)
                i = end
                continue
            op = None
        if op is None and words[i].endswith("%") and not (
                i > 0 and words[i - 1] in {"top", "bottom", "first", "last"}):
            # "closing next month with 90% probability": a percentage with no bound is that
            # value (bound to the number named beside it, else said not applied)
            p.conditions.append(Condition(field="?percent", op="between", values=[value, value],
                                          text=p.lower(i, end)))
            p.take(i, end)
            i = end
            continue
        if op is None:
            if start == i and i > 0 and words[i - 1] in {"top", "bottom", "first", "last",
                                                         "best", "worst"}:
                i = end
                continue  # a ranking's N, read with the ranking
            i = end
            continue
        unit = "currency" if grammar.is_money(words[i]) else (
            "percent" if words[i].endswith("%") or (scale_at and words[scale_at] in
                                                      {"percent", "pct"}) else
            _unit_after(words, end))
        if unit == "days":
            end += 1
        back = 4 if start > 0 and words[start - 1] == "with" else 3  # ("leave out industries
        lead = words[max(0, start - back):start]  # with fewer than 15 wins")
        text = p.lower(start, end)
        if set(lead) & (grammar.EXCLUDE - {"not", "non"}):
            # "exclude deals under $10k": the deals kept are the others
            op = _INVERSE[op]
            text = f"not {text}"
            p.used.add(max(0, start - back) + min(k for k, w in enumerate(lead)
                                                  if w in grammar.EXCLUDE))
        if after_noun is not None:
            text = f"{text} {p.lower(*after_noun)}"
            p.take(*after_noun)
        p.conditions.append(Condition(field=f"?{unit}", op=op, values=[value], text=text))
        p.take(start, end)
        i = end


#: Why a figure named was not given: the model answering has no such figure.
_NOT_WITH_REST = "a figure I could not give with the rest"
#: Why a bound was not applied: nothing in the model has its unit.
_NO_UNIT = "no figure here has that unit to compare with"
_UNDATED = "the figure asked is not kept by period"
_SCOPE_CLASH = "the figure asked is over other rows only:"
#: The bound that keeps what another bound leaves out.
_INVERSE = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}


def _comparator_before(words: Sequence[str], i: int, used: set[int]) -> tuple[str | None, int]:
    for phrase, op in grammar.COMPARATORS:
        n = len(phrase)
        j = i - n
        if j >= 0 and tuple(words[j:i]) == phrase and not any(k in used for k in range(j, i)):
            return op, j
        # "worth $200k or more" / "deals of over 100k": one filler word in between
        if j - 1 >= 0 and tuple(words[j - 1:i - 1]) == phrase and words[i - 1] in {
                "$", "about", "roughly", "around"}:
            return op, j - 1
    return None, i


def _trailing(words: Sequence[str], end: int) -> tuple[str, int] | None:
    for phrase, op in grammar.TRAILING.items():
        if tuple(words[end:end + len(phrase)]) == phrase:
            return op, len(phrase)
    return None


def _between_second(words: Sequence[str], end: int) -> tuple[float, int] | None:
    if end + 1 < len(words) and words[end] in {"and", "to", "-"}:
        value = grammar.parse_amount(words[end + 1])
        if value is not None:
            stop = end + 2
            if stop < len(words) and words[stop] in grammar.SCALE_WORDS:
                value *= grammar.SCALE_WORDS[words[stop]]
                stop += 1
            return value, stop
    return None


def _unit_after(words: Sequence[str], end: int) -> str:
    nxt = words[end] if end < len(words) else ""
    if nxt in {"days", "day"}:
        return "days"
    if nxt in {"percent", "pct", "%"}:
        return "percent"
    if nxt in {"times", "time"}:
        return "count"  # "pushed 3 or more times"
    return "number"


# ----------------------------------------------------------------------------- 3. values


def _read_values(p: Parse, context: Context, vocab: Vocabulary) -> None:
    skip = set(p.used) | {i for i, w in enumerate(p.words) if w.isdigit()}
    flags = [(_parts(t.words), t) for t in vocab.terms if t.kind == "flag"]
    for match in context.values.match(p.words, skip=skip):
        said = _parts(p.words[match.start:match.end])
        named = p.words[match.start:match.end]
        if any(re.search(rf"\b{re.escape(a)}\s*[()\[\]]\s*{re.escape(b)}\b", p.question.lower())
               for a, b in zip(named, named[1:], strict=False)):
            continue  # "closed (won or lost)": words a bracket parts are no one name
        flag = next((t for f, t in flags if len(said) > 1 and len(f) == len(said)
                     and phrase_match(said, f) is not None), None)
        if flag is not None and any(
                s.kind in {"measure", "flag"} and s.start <= match.start and
                s.end >= match.end and s.length > match.end - match.start
                for s in vocab.spans(p.words, skip=skip)):
            continue  # "closed won amount", "closed won or lost": a longer catalog phrase
        if flag is not None:  # "closed won" is the catalog's outcome, not the stage so named
            p.spans.append(Span("flag", flag.name, match.start, match.end, (flag,), 1,
                                (flag.name,)))
            p.take(match.start, match.end)
            continue
        p.values.append(match)
        p.take(match.start, match.end)
    for i, word in enumerate(p.words):
        # "with Prospect accounts", "accounts that are still Prospects": a common word
        # written as a name is the value so spelt
        if i in skip or i in p.used or not (
                word in COMMON_WORDS or word[:-1] in COMMON_WORDS) or \
                not _written_as_name(p, word):
            continue
        match = context.values.named(word, i) if word in COMMON_WORDS else None
        if match is None and word.endswith("s") and word[:-1] in COMMON_WORDS:
            match = context.values.named(word[:-1], i)
        if match is not None:
            p.values.append(match)
            p.take(i, i + 1)


def _excluded_before(words: Sequence[str], start: int, *, negation: bool = False) -> bool:
    """Whether an exclusion leads up to the word at `start`.

    "excluding the overdue ones", "I don't care about the overdue junk", "skip anything
    that's already overdue", "not counting anything that came in through Partner Referral",
    "leaving aside anything already past its close date": the rows the word names are left
    out. Between the exclusion and the word stand only words that point at rows ("anything",
    "the deals") or say how they are ("that are already", "that came in through"). With
    `negation`, a bare "not" / "non" also excludes ("deals not in Technology").

    >>> _excluded_before("weighted pipe excluding anything already overdue".split(), 5)
    True
    >>> _excluded_before("not counting anything that came in through web".split(), 7)
    True
    >>> _excluded_before("open pipe not in web".split(), 4)
    False
    >>> _excluded_before("open pipe not in web".split(), 4, negation=True)
    True
    """
    k = _reach_start(words, start) - 1
    if k < 0:
        return False
    opener = grammar.EXCLUDE if negation else grammar.EXCLUDE - {"not", "non"}
    pair = (words[k - 1], words[k]) if k > 0 else ("", words[k])
    return words[k] in opener or pair in _EXCLUDE_PAIRS or words[k] == "about" and \
        words[max(0, k - 2):k] in (["don't", "care"], ["dont", "care"])


def _reach_start(words: Sequence[str], start: int) -> int:
    """Where the words pointing at rows before `start` begin ("anything billed in" X).

    >>> _reach_start("excluding anything billed in web".split(), 4)
    1
    """
    k = start - 1
    while k > 0 and start - k <= 7 and (words[k] in _BETWEEN_EXCLUDE or
                                        words[k] in _SAYS_HOW_ROWS_ARE):
        k -= 1
    return k + 1


#: Words between an exclusion and what it excludes ("excluding anything in Technology").
_BETWEEN_EXCLUDE = frozenset({"anything", "any", "everything", "all", "deals", "opps", "whatever",
                              "opportunities", "those", "ones", "the", "in", "from", "of", "with",
                              "at", "for", "out"})  # ("leave out the Technology accounts")
#: Words saying how the excluded rows are ("anything that's already overdue", "anything that
#: came in through Partner Referral"): relatives, be-verbs, "already", a verb of arriving.
_SAYS_HOW_ROWS_ARE = frozenset({"that", "thats", "which", "who", "is", "are", "was", "were",
                                "been", "already", "still", "currently", "came", "come",
                                "comes", "through", "via", "billed", "based", "located",
                                "headquartered", "sitting", "sourced", "originating",
                                "originated", "from"})
#: Two-word exclusions ("not counting", "leaving aside", "other than").
_EXCLUDE_PAIRS = frozenset({("not", "counting"), ("not", "including"), ("leaving", "aside"),
                            ("setting", "aside"), ("leave", "aside"), ("set", "aside"),
                            ("aside", "from"), ("other", "than"), ("apart", "from"),
                            ("except", "for")})
#: Words saying a field holds nothing: "no lead source", "a blank amount", "industry missing".
_EMPTY_BEFORE = frozenset({"no", "without", "missing", "blank", "empty", "null", "unset"})
_EMPTY_AFTER = frozenset({"blank", "missing", "empty", "null", "unset"})


def _read_empty(p: Parse, spans: list[Span], record_dims: set[str]) -> list[Condition]:
    """Fields the question says are empty; each becomes an ``is_null`` condition.

    "how many opps have no lead source", "deals without an industry", "any deals with a
    blank amount", "deals where the amount is missing".
    """
    words = p.words
    found = []
    for span in spans:
        if span.name in record_dims:
            continue
        at = span.start - 1
        while at >= 0 and words[at] in {"a", "an", "any", "the"}:
            at -= 1
        after = span.end + (1 if words[span.end:span.end + 1] in (["is"], ["are"]) else 0)
        have = at >= 1 and words[at] in {"have", "has", "had"} and any(
            w in {"don't", "dont", "doesn't", "doesnt", "not", "never", "didn't"}
            for w in words[max(0, at - 3):at])  # "deals that don't even have an amount"
        if at >= 0 and (words[at] in _EMPTY_BEFORE or have) and at not in p.used:
            start, end = at, span.end
            if have:
                start = next(i for i in range(max(0, at - 3), at) if words[i] in {
                    "don't", "dont", "doesn't", "doesnt", "not", "never", "didn't"})
            if words[end:end + 2] == ["filled", "in"]:
                end += 2
        elif after < len(words) and words[after] in _EMPTY_AFTER and after not in p.used:
            start, end = span.start, after + 1
        else:
            continue
        p.take(start, end)
        kept_in = re.search(r"\b(?:keep|kept|leave|left)\s+(?:those|them|these|it|that)\s+in\b|"
                            r"\b(?:counts?|counted|fall\s+under)\s+(?:as\s+)?(?:an?\s+)?other\b|"
                            r"\bstay\s+in\b",
                            " ".join(words[end:end + 10]))
        if words[end:end + 1] in (["included"], ["too"]) or words[start - 1:start] in (
                ["including"], ["incl"], ["plus"]) or kept_in:
            if kept_in:  # ("deals with no lead source count as 'other', so keep those in")
                at = end + len(" ".join(words[end:end + 10])[:kept_in.start()].split())
                p.take(at, at + len(kept_in.group(0).split()))
            p.take(end, end + 1)
            continue  # "(blank industry included)": the blanks stay in, no filter
        before = start - 1
        while before >= 0 and words[before] in {"the", "a", "an", "any", "those", "deals", "ones",
                                                "opps", "with", "that", "have", "has"}:
            before -= 1
        if before >= 0 and words[before] in grammar.EXCLUDE - {"not", "non", "without"} and \
                before not in p.used:
            # "skip the blank source", "ignore deals with no industry": those rows left out
            p.take(before, start)
            p.emptied.add((span.start, span.end))
            found.append(Condition(field=span.name, op="not_null",
                                   text=p.lower(before, end)))
            continue
        found.append(Condition(field=span.name, op="is_null", text=p.lower(start, end)))
    return found


def _qualified_by_clause(p: Parse, span: Span) -> bool:
    """Whether a relative clause with a bound follows the noun.

    "Accounts that have more than 1,000 employees": the noun names the members the bound
    picks, not a breakdown.
    """
    after = p.words[span.end:span.end + 1]
    if after in (["in"], ["from"], ["based"], ["outside"], ["excluding"], ["except"], ["not"]) \
            and span.start > 0 and \
            p.words[span.start - 1] in {"for", "of", "on", "across", "with", "at", "from"} and \
            any(span.end < v.start <= span.end + 3 for v in p.values):
        # "total open pipeline for accounts in the Manufacturing industry", "open pipe with
        # accounts outside the US": the accounts the member picks, not one figure per account
        return True
    lead = p.words[max(0, span.start - 2):span.start]
    if lead and (lead[-1] in {"of", "among", "across"} or lead == ["of", "the"]) and any(
            s.kind == "flag" and span.end <= s.start <= span.end + 4 for s in p.spans):
        # "average revenue of accounts with open deals": the accounts the flag picks
        return True
    if after in (["that"], ["which"], ["who"], ["with"], ["whose"], ["where"]):
        # (a bound on how many records each has is a breakdown's: "reps with 5+ losses")
        # ("accounts that aren't in Technology": a member names them too)
        return any(span.end < _position(c, p) <= span.end + 4 and
                   not c.field.startswith("?records") for c in p.conditions) or any(
            span.end < v.start <= span.end + 4 for v in p.values)
    # "accounts doing more than $1B in annual revenue": a word, then the bound on a number
    numbers = [s for s in p.spans if s.kind == "number"]
    return any(span.end <= _position(c, p) <= span.end + 1 and not any(
        s.start == span.end for s in p.spans) and _numbers_near(c, numbers, p, set())
        for c in p.conditions)


def _quoted_from(p: Parse) -> int:
    """The first word inside quotes (a quote that is no contraction), else past the end.

    >>> _quoted_from(Parse("deals for account 'Email Co'", ["deals", "for", "account",
    ...                    "email", "co"], []))
    3
    """
    found = re.search(r"(?:^|\s)['\"]\w|\w['\"](?=\s|$)", p.question)
    if found is None:
        return len(p.words)
    return len(tokens(_clean(p.question[:found.start() + 1])))


#: Words that name a figure's unit: said of a figure in that unit, they ask nothing more.
_UNIT_WORDS = {"$": "currency", "dollars": "currency", "dollar": "currency", "usd": "currency",
               "days": "days",
               "day": "days", "%": "percent", "percent": "percent", "percentage": "percent"}


def _per_unit(query: Query, catalog: Catalog) -> str | None:
    """The span of time the query's first figure is per ("day"), if it declares one."""
    model = catalog.models.get(query.model or "")
    m = model.answerable.measure(query.measures[0]) if model and query.measures else None
    return m.per if m is not None else None


def _in_unit(query: Query, catalog: Catalog, unit: str) -> bool:
    """Whether the query's figures include one in `unit` (or it has no model yet)."""
    model = catalog.models.get(query.model or "")
    if model is None or not query.measures:
        return unit == "currency"
    return any((m := model.answerable.measure(n)) is not None and m.unit == unit
               for n in query.measures)


def _parts(words: Sequence[str]) -> tuple[str, ...]:
    """The words, hyphenated ones split: "close-won" reads as "close won".

    >>> _parts(["close-won", "deals"])
    ('close', 'won', 'deals')
    """
    return tuple(part for w in words for part in w.split("-") if part)


# ----------------------------------------------------------------------------- 4. catalog


def _read_categories(p: Parse, catalog: Catalog, vocab: Vocabulary) -> None:
    """A text figure asked by naming its possible values: "was it Excellent, Good or Poor?".

    Two or more of the values a model's column may hold (its dbt ``accepted_values``) said
    together ask that column's figure (the health status), not for names.
    """
    found: dict[str, list[int]] = {}
    for model in catalog.answerable:
        for measure in model.answerable.measures:
            column = model.columns.get(measure.column or "")
            if measure.unit != "text" or column is None or not column.accepted_values:
                continue
            said = {fold(v) for v in column.accepted_values}
            at = [i for i, w in enumerate(p.words) if w in said and i not in p.used]
            if len({p.words[i] for i in at}) >= 2 and at[-1] - at[0] <= 2 * (len(at) - 1) \
                    and "or" in p.words[at[0]:at[-1]]:
                found[measure.name] = at  # (a choice among them: "Excellent, Good or Poor")
            for i, w in enumerate(p.words):  # ("Excellent/Good/Fair/Poor")
                if "/" in w and i not in p.used and len(
                        parts := [x for x in w.split("/") if x]) >= 2 and set(parts) <= said:
                    found[measure.name] = [i]
    if len(found) != 1:
        return  # ("high, medium or low": which figure's values? the other words say)
    name, at = next(iter(found.items()))
    term = next((t for t in vocab.terms if t.kind == "measure" and t.name == name), None)
    if term is not None:
        p.spans.append(Span("measure", name, at[0], at[-1] + 1, (term,), 2, (name,)))
        p.take(at[0], at[-1] + 1)


#: Words after which a period sits inside a figure's name ("% of last quarter's deals
#: slipped", "average Q3 deal size"), not after it ("deals closed last quarter, won").
_BEFORE_A_PERIOD_INSIDE = frozenset({"of", "average", "avg", "mean", "median", "total",
                                     "typical"})


def _read_gapped_measures(p: Parse, vocab: Vocabulary, avoid: frozenset[str]) -> None:
    """A figure's name said around a period: "what % of last quarter's deals slipped".

    The period's words are read already; the words either side of them make one catalog
    phrase ("% of deals slipped"), taken before its words are read one by one.
    """
    if not any(at > 0 and p.words[at - 1] in _BEFORE_A_PERIOD_INSIDE for _, at in p.windows):
        return  # (most questions: no period inside a phrase, no second pass)
    period_at = {i for w, at in p.windows for i in range(at, at + len(w.text.split()))}
    keep = [i for i in range(len(p.words)) if i not in period_at]
    skip = frozenset(k for k, i in enumerate(keep) if i in p.used)
    for span in vocab.spans([p.words[i] for i in keep], skip=skip, avoid=avoid):
        if span.kind != "measure" or span.length < 2:
            continue
        a, b = keep[span.start], keep[span.end - 1] + 1
        gap = next((i for i in range(a, b) if i in period_at), None)
        if gap is None or p.words[gap - 1] not in _BEFORE_A_PERIOD_INSIDE or any(
                s.start < b and a < s.end for s in p.spans):
            continue  # (no period inside, or one that ends a clause: read as usual)
        p.spans.append(Span(span.kind, span.name, a, b, span.terms, span.exact, span.names))
        p.take(a, b)


def _read_catalog(p: Parse, vocab: Vocabulary, avoid: frozenset[str] = frozenset()) -> None:
    for i, word in enumerate(p.words[:-1]):  # "where we were at this point last year": a
        if word == "where" and p.words[i + 1] in grammar.SUBJECTS:  # clause, not "which stage"
            p.take(i, i + 1)
    p.used.update(_phrase_at(p.words, ("how", "many", "times")))  # (a count of pushes, never
    # "time to close")
    text = " ".join(p.words)  # "vs the one before it": a period, not "which one" (a deal)
    for m in _THIS_ONE.finditer(text):
        if m.group("before"):
            at = len(text[:m.start("what")].split())
            p.take(at, at + len(m.group(0).split()) - 1)
    # a bound's unit may start a number's name ("over 30 days overdue": days overdue)
    for k, cond in enumerate(p.conditions):
        unit_at = _position(cond, p) + len(cond.text.split()) - 1
        named = [s for s in vocab.spans(p.words[unit_at:unit_at + 4])
                 if s.kind == "number" and s.start == 0 and s.length > 1]
        if named and cond.text.split()[-1:] == [p.words[unit_at]]:
            span = named[0]
            p.spans.append(Span("number", span.name, unit_at, unit_at + span.length,
                                span.terms, span.exact, span.names))
            p.take(unit_at, unit_at + span.length)
            p.conditions[k] = cond.model_copy(update={"text": " ".join(
                [*cond.text.split(), *p.words[unit_at + 1:unit_at + span.length]])})
    _read_gapped_measures(p, vocab, avoid)
    for span in vocab.spans(p.words, skip=frozenset(p.used), avoid=avoid):
        if span.kind == "model":
            p.hints.append(span)
            continue
        if not p.free(span.start, span.end):
            continue
        if span.kind == "flag" and p.words[span.end - 1] in {"in", "at", "on"} and \
                p.words[span.end:span.end + 1] == ["it"]:
            continue  # "(so far, if we're still in it)": in the period, not in a stage
        if span.kind == "flag" and span.exact < 2 and not all(
                p.words[i].rstrip("s") in {w.rstrip("s") for t in span.terms for w in t.words}
                or any(swapped(p.words[i], w) or min(len(w), len(p.words[i])) >= 6
                       and similar(p.words[i], w) for t in span.terms for w in t.words)
                for i in range(span.start, span.end)):
            # "close" (a verb) is not "closed": a flag matches as written, or with a typo in a
            # long word ("lsot", "wining")
            continue
        p.spans.append(span)
        p.take(span.start, span.end)
    _widen_measures(p, vocab)
    if not any(s.kind == "measure" for s in p.spans):
        # no measure phrase as written: one whose words are all here, in another order
        free = {i for i in range(len(p.words)) if i not in p.used or i in _dim_positions(p)}
        dims = {v.dimension for v in p.values}
        loose = [x for x in vocab.loose(p.words, free=free, dims=dims)
                 if not any(x.start < b < x.end for b in p.breaks)]  # (one question's words)
        if loose:
            best = loose[0]
            same = [x for x in loose if x.terms[0].words == best.terms[0].words]
            names = tuple(dict.fromkeys(x.name for x in same))
            span = Span("measure", names[0], best.start, best.end,
                        tuple(x.terms[0] for x in same), 0, names)
            p.spans.append(span)
            for i in range(len(p.words)):
                if p.words[i] in best.terms[0].words or any(
                        _stem(p.words[i]) == _stem(w) for w in best.terms[0].words):
                    p.used.add(i)
    p.spans.sort(key=lambda s: s.start)


def _widen_measures(p: Parse, vocab: Vocabulary) -> None:
    """A one-word measure phrase inside a longer one written in another order wins.

    "how much revenue do we expect": "revenue" is won revenue, but every word of "expected
    revenue" is there, and the longer phrase says more (the forecast).
    """
    for k, span in enumerate(p.spans):
        if span.kind != "measure" or span.length != 1:
            continue
        free = {i for i in range(len(p.words)) if i not in p.used} | {span.start}
        longer = [x for x in vocab.loose(p.words, free=free, dims=set())
                  if len(x.terms[0].words) > 1 and x.start <= span.start < x.end
                  and sum(stem(w) in {stem(v) for v in p.words} for w in x.terms[0].words)
                  == len(x.terms[0].words)]
        if longer:
            best = longer[0]
            p.spans[k] = Span("measure", best.name, span.start, span.end, best.terms, 0,
                              best.names)
            for i in range(best.start, best.end):
                if any(stem(p.words[i]) == stem(w) for w in best.terms[0].words):
                    p.used.add(i)


def _dim_positions(p: Parse) -> set[int]:
    return {i for s in p.spans if s.kind == "dimension" for i in range(s.start, s.end)}


def _stem(word: str) -> str:
    return stem(word)


# ----------------------------------------------------------------------------- 5. compose


def _compose(p: Parse, context: Context, vocab: Vocabulary) -> Query:
    words = p.words
    text = " ".join(words)
    catalog = context.catalog
    _split_flagged_superlatives(p, vocab, _record_dimensions(catalog))
    _flag_units(p, catalog)
    if context.previous is not None:
        for span in [s for s in p.spans if s.kind == "measure" and describes_those(p, s)]:
            # "the total $ in those stuck ones": the deals pointed back at, described by
            # the figure that found them; no figure of their own
            p.spans.remove(span)
            p.take(span.start, span.end)
    # flags of an outcome over a period (their figures' window is "overall"), dated by it
    outcomes = {f for m in catalog.answerable for ms in m.answerable.measures
                if ms.window == "overall" for f in ms.scope}
    scopes: dict[str, set[str]] = {}
    for m in catalog.answerable:
        for ms in m.answerable.measures:
            scopes.setdefault(ms.name, set()).update(ms.scope)
    outcome = any(s.kind == "flag" and s.name in outcomes or s.kind == "measure" and any(
        scopes.get(n, set()) & outcomes for n in s.names) for s in p.spans)
    for span in [s for s in p.spans if s.kind == "time"]:
        if outcome and span.end + 1 < len(words) and words[span.end] in {
                "through", "via", "from"} and any(v.start == span.end + 1 for v in p.values):
            # "lost deals that came in through Web last FY": the route they came by, not
            # when; the period is the outcome's
            p.spans.remove(span)
            p.take(span.start, span.end + 1)
    for span in [s for s in p.spans if s.kind == "flag" and s.length == 1]:
        if words[span.end:span.end + 1] in (["it"], ["them"]) and span.start > 0 and \
                words[span.start - 1] in {"to", "i", "we", "you", "will", "can", "should"}:
            # "I want to open it with a single number": a verb with its object, no flag
            p.spans.remove(span)
            p.take(span.start, span.end)
    measures = _asked_measures(p, [s for s in p.spans if s.kind == "measure"])
    flags = [s for s in p.spans if s.kind == "flag"]
    # "deals we closed, won or lost": a flag named as a choice between others ("won or
    # lost" is closed) overrides those others, however else they were said ("we closed")
    for choice in [s for s in flags if {"or", "either"} & set(words[s.start:s.end])]:
        named = {t.name for w in words[choice.start:choice.end]
                 for t in vocab.terms if t.kind == "flag" and t.words == (w,)}
        flags = [f for f in flags if f is choice or f.name not in named]
    record_dims = _record_dimensions(catalog)
    flags = _read_samples(p, flags, record_dims)
    for flag in list(flags):
        kind = next((d for d in p.spans if d.kind == "dimension" and d.start == flag.end and
                     d.name not in record_dims), None)
        if kind is not None and not _flags_rows_of(flag, kind.name, catalog):
            # "late stages": the word sorts the stages, not the deals; no data says which
            flags.remove(flag)
            if any(f.name == flag.name for f in flags):
                continue  # ("right now (accounts with an open deal)": said of the deals too)
            p.not_applied.append(NotApplied(
                text=p.lower(flag.start, kind.end),
                reason=f"the data does not say which {p.lower(kind.start, kind.end)} are "
                       f"{p.lower(flag.start, flag.end)}"))
    perfect = grammar.PERFECT.search(text)
    if perfect:
        # "how long have deals in Negotiation been stuck?": the tense asks about deals still
        # there up to today, the flag the catalog calls ongoing
        at = len(text[:perfect.start("been")].split())
        ongoing = [Span("flag", s.name, at, at + 1, s.terms, s.exact, s.names)
                   for s in vocab.spans(["ongoing"]) if s.kind == "flag"]
        if ongoing and not any(f.name == ongoing[0].name for f in flags):
            flags.append(ongoing[0])
            p.take(at, at + 1)
    # "created date to close date": the two ends of a duration, not the date a window is on
    ends = {"to", "until", "till"}
    p.spans = [s for s in p.spans if not (  # "what did they add up to": a sum, not "added"
        s.kind == "time" and words[s.end:s.end + 1] == ["up"])]
    # ("how many days did they take to close, counting from when the opp was created": where
    # a duration starts, not the date the period is on)
    start_of = [s for s in p.spans if s.kind == "time" and re.search(
        r"\b(?:from|since)\s+(?:when|the\s+time)\b", " ".join(words[max(0, s.start - 6):s.start]))]
    for s in start_of:
        k = max(i for i in range(max(0, s.start - 6), s.start) if words[i] in {"from", "since"})
        p.take(k, s.end)
    times = [s for s in p.spans if s.kind == "time" and s not in start_of and not (
        words[s.end:s.end + 1] and words[s.end] in ends or
        words[s.end:s.end + 1] == ["date"] and words[s.end + 1:s.end + 2] and
        words[s.end + 1] in ends)]
    for s in p.spans:
        if s.kind == "time" and s not in times and s not in start_of:
            p.take(s.start, min(len(words), s.end + (1 if words[s.end] in ends else 2)))
    # "which lead source generated the most closed won revenue": the verb of an outcome's
    # figure right after it, not the date the deals were created
    # (a figure whose words say its outcome: "pipeline" alone is what was created)
    verbs = [s for s in times if s.length == 1 and any(
        m.kind == "measure" and 0 < m.start - s.end <= 4 and _scope_of(m, catalog) and
        any(f.kind == "flag" for f in vocab.spans(words[s.end:m.end])) and
        not any(d.kind == "dimension" and s.end <= d.start < m.start for d in p.spans)
        for m in p.spans)]
    times = [s for s in times if s not in verbs]
    if times:
        # "who created the most pipeline $ last quarter": what was created then, whatever
        # its state today; a scope the words do not say ("open") is not asked of it
        unsaid = [m for m in measures if _scope_of(m, catalog) and not any(
            f.kind == "flag" for f in vocab.spans(words[m.start:m.end])) and not any(
            f.end == m.start for f in flags)]
        if unsaid and len(unsaid) == len(measures) and any(
                t.overview for mod in catalog.answerable for t in mod.answerable.times
                if t.name == times[0].name):
            p.spans = [x for x in p.spans if x not in unsaid]
            measures = [m for m in measures if m not in unsaid]
            p.take(min(m.start for m in unsaid), max(m.end for m in unsaid))
    numbers = [s for s in p.spans if s.kind == "number"]
    said_of = {i for s in p.spans if s.kind in {"flag", "number"} for i in range(s.start, s.end)}
    said_of |= {i for c in p.conditions if c.field.startswith("?")
                for i in range(_position(c, p), _position(c, p) + len(c.text.split()))}
    which_one = any(d.kind == "dimension" and d.name in record_dims and (
        d.start > 0 and words[d.start - 1] in {"which", "what"} or words[d.start] == "which" or
        any(words[k] in {"which", "what"} and all(j in said_of for j in range(k + 1, d.start))
            for k in range(max(0, d.start - 5), d.start - 1)))
        and not words[d.end - 1].endswith("s") for d in p.spans)  # ("which one", "which deal",
    # "which open 100k+ deal")
    if which_one and any(grammar.is_superlative(w) for w in words):
        # "which one has had its close date pushed the most times": one record, ordered by
        # the record's own number the figure's words also name
        for m in list(measures):
            own = [s for s in vocab.spans(words[m.start:m.end]) if s.kind == "number"]
            if own:
                n = replace(own[0], start=m.start + own[0].start, end=m.start + own[0].end)
                measures.remove(m)
                p.spans = [n if x is m else x for x in p.spans]
                numbers.append(n)
            elif m.exact == 0:  # ("… the longest? name, the stage, and how many days": a
                measures.remove(m)  # figure only loosely in the words; the record is asked)
                p.spans = [x for x in p.spans if x is not m]
    vague = next((s.start for s in numbers if s.length == 1 and words[s.start] in _VAGUE_SIZES
                  and not _describes_next(words, s, p.spans)),
                 None)  # ("the big picture": no size of the deals)
    if vague is None:  # ("tiny deals": a size word no catalog phrase holds)
        vague = next((i for i, w in enumerate(words) if w in _VAGUE_SIZES and i not in p.used
                      and i + 1 < len(words) and any(
                          d.kind == "dimension" and d.start == i + 1 for d in p.spans)), None)
    if vague is not None and vague > 0 and words[vague - 1] == "how":
        vague = None  # "how big were the deals we lost?": the size asked, no bound
    if vague is not None and not p.conditions and not any(
            grammar.is_superlative(w) for w in words) \
            and not set(words) & (grammar.LIST_WORDS - {"which", "what"}) and (
            context.previous is None or not context.previous.records):
        # "how many big deals": how big is big? The data has no such line; ask, never guess
        said = words[vague]
        return Query(question=p.question, clarify=Clarify(
            question=f"How {said} is a {said} deal? For example:",
            options=[f"over ${n}k" if said not in {"small", "tiny"} else f"under ${n}k"
                     for n in ((100, 250, 500) if said not in {"small", "tiny"} else (10, 25, 50))],
            text=said))
    mine = next((s for s in p.spans if s.kind == "dimension" and s.name in PERSON_DIMENSIONS
                 and s.start > 0 and words[s.start - 1] == "my" and
                 not any(v.dimension == s.name for v in p.values) and
                 any(m.start == s.end for m in measures)), None)  # (its own figure)
    person_known = any(v.dimension in PERSON_DIMENSIONS for v in p.values) or (
        context.previous is not None and any(c.field in PERSON_DIMENSIONS and c.kind ==
                                             "members" for c in context.previous.filters))
    my = next((i for i, w in enumerate(words) if w == "my"), None)
    if mine is None and my is not None and not person_known and any(
            s.start == j for j in range(my + 1, min(my + 3, len(words))) for s in p.spans
            if s.kind in {"measure", "flag"} or s.kind == "dimension" and s.name in record_dims):
        # "how are my deals looking", "what's my win rate": whose? the data does not know
        # who is asking (named — "this is Ann Lee", "my team" after "Ann Lee here" — it does)
        names = context.values.values.get("owner", [])[:3]
        nxt = min((s for s in p.spans if s.start > my), key=lambda s: (s.start, -s.length))
        end = nxt.end
        while end < len(words) and end - my < 4 and words[end].isalpha() and \
                not _function_word(words[end]):
            end += 1  # ("my win rate": the noun phrase)
        said, whose = p.lower(my, end), p.lower(my + 1, end)
        return Query(question=p.question, clarify=Clarify(
            question=f"I don't know who you are, so I can't tell whose {whose} you mean. "
                     "Name the person, for example:",
            options=[f"{n}'s {whose}" for n in names], text=said))
    if mine is not None:
        # "what's my team's win rate": whose? The data does not know who is asking
        said = p.lower(mine.start - 1, mine.end)
        noun = words[mine.end - 1]
        names = context.values.values.get(mine.name, [])[:3]
        return Query(question=p.question, clarify=Clarify(
            question=f"I don't know who you are, so I can't tell whose {noun} \"{said}\" is. "
                     "Name the person, for example:",
            options=[f"{n}'s {noun}" for n in names], text=said))
    averaged: list[Span] = []
    record_nouns = {w for d in p.spans if d.kind == "dimension" and d.name in record_dims
                    for w in p.words[d.start:d.end]} | {"deals", "deal", "opps", "opportunities"}
    loose = [m for m in measures if m.exact == 0 and _scope_of(m, catalog) and
             words[m.end - 1] in record_nouns]
    if has(words, "on average", "on avg", "on an average"):
        # "on average how many times has an open deal had its close date pushed": the
        # average the catalog declares for the record number the figure's words name
        for m in list(measures):  # (a count summed over records: pushes, not slip days)
            if not all(t.kind == "measure" and (ms := _measure_of(catalog, t)) is not None and
                       ms.unit == "count" for t in m.terms):
                continue
            own = [s for s in vocab.spans(words[m.start:m.end]) if s.kind == "number"]
            avg = _averages_of([replace(own[0], start=m.start, end=m.end)], catalog) \
                if own else []
            if avg:
                measures[measures.index(m)] = avg[0]
                p.spans = [avg[0] if x is m else x for x in p.spans]
    listed = measures and loose == measures and bool(_LISTING_VERBS & set(words[:min(
        2, measures[0].start)]))  # (the question opens with it: "list …", "pls show …")
    if measures and loose == measures and (listed or any(
            s.start > 0 and words[s.start - 1] in grammar.AVERAGE_WORDS for s in numbers)):
        # ("list Nora Ortiz's lost deals": the deals the flag names, listed)
        # "average employee count of the accounts we won deals with": "won deals" says which
        # deals; the number is averaged
        said = [Span("flag", f, m.start, m.end, (term,), 1, (f,)) for m in loose
                for f in _scope_of(m, catalog)
                if (term := next((t for t in vocab.terms if t.kind == "flag" and t.name == f),
                                 None)) is not None]
        flags += said
        p.spans = [x for x in p.spans if x not in loose] + said
        measures = []
    if not measures and numbers and (grammar.TREND.search(text) or any(
            s.start > 0 and words[s.start - 1] in grammar.AVERAGE_WORDS for s in numbers) or
            has(words, "how long") and has(words, "on average", "average", "avg") and
            not any(c.field == "?days" for c in p.conditions) and
            any(n.unit == "days" for s in numbers for model in catalog.answerable
                for n in model.answerable.numbers if n.name in s.names)):
        # ("how long on average have they been sitting in their current stage": the days
        # number named, averaged)
        # "are our deals getting bigger?": the number's average, over time; "avg probability
        # on open opps": the average the catalog declares for that number
        averaged = _averages_of(numbers, catalog)
        measures = list(averaged)
        numbers = [n for n in numbers if not any(a.start == n.start for a in averaged)]
    elif not measures and numbers and has(words, "in total", "total", "combined", "altogether"):
        # "which industry's open deals have been pushed the most times in total": the sum of
        # the record number the catalog declares as a measure
        averaged = _averages_of(numbers, catalog, total=True)
        measures = list(averaged)
        numbers = [n for n in numbers if not any(a.start == n.start for a in averaged)]
    dims = [s for s in p.spans if s.kind == "dimension"]
    # "by account type - which type holds the most?": the head said again is that dimension
    dims = [d for d in dims if not (d.length == 1 and any(
        o.length > 1 and o.end <= d.start and stem(words[o.end - 1]) == stem(words[d.start])
        and o.name != d.name for o in dims))]  # (or its plural: "skip types with under 30")
    empty = _read_empty(p, [*dims, *numbers], _record_dimensions(catalog))
    # ("which source …, skip the blank one": the blanks left out, the dimension still asked
    # by the other words naming it)
    dims = [s for s in dims if s.name not in {c.field for c in empty if c.op == "is_null"}
            and (s.start, s.end) not in p.emptied]
    numbers = [s for s in numbers if s.name not in {c.field for c in empty}]
    for span in (s for s in p.spans if s.kind == "not_held"):
        said = words[span.start:span.end]
        past = span.exact == 1 and any(  # ("how many customers churned": churn, done)
            len(t.words) == len(said) and said[-1] in {t.words[-1] + "ed", t.words[-1] + "d"}
            for t in span.terms)
        if span.exact < 2 and not past or span.start >= _quoted_from(p):
            continue  # as written only ("meets" is no meeting); quoted text is a name
        before = words[span.start - 1] if span.start else ""
        after = words[span.end] if span.end < len(words) else ""
        if after in _SAYING or past and after in _OBJECT_WORDS or said[-1].endswith("ing") and \
                before in _BE_FORMS and after not in _FIGURE_NOUNS:
            # "the staff meeting said …" (who said it), "the deck called it healthy", "I'm
            # meeting Beatriz": a verb or the source of a remark, not the thing asked
            continue
        lead = next((k for k in range(span.start - 1, max(-1, span.start - 5), -1)
                     if words[k] in _PURPOSE),
                    None)
        if lead is not None and not any(
                s.start < span.start and s.end > lead for s in [*p.spans, *p.values]
                if s is not span) and \
                "with" not in words[lead:span.start] and \
                any(s.kind in {"measure", "flag"} for s in p.spans):
            continue  # "prepping for the board meeting, … bookings": why it is asked, not what
        # "how many reps hit quota": the catalog says the data holds no quotas
        return Query(question=p.question, unanswerable=f"the data holds no "
                     f"{p.text(span.start, span.end)}")
    clarify = [s for s in p.spans if s.kind == "clarify"]
    for span in clarify:
        return Query(question=p.question, clarify=Clarify(
            question=f"By '{p.text(span.start, span.end)}' do you mean "
                     f"{span.name.replace('_', ' ')}? That is the closest figure I have.",
            options=[span.name.replace("_", " ")]))

    # grouping: a dimension after by/per/which/what/each, "who", a plural, or a superlative
    group_by: list[str] = []
    asked: list[str] = []  # dimensions asked of a record ("who owns it?")
    record_dims = _record_dimensions(catalog)
    for span in dims:
        if span.name in record_dims and not (span.start > 0 and words[span.start - 1] in
                                             {"by", "per", "each"}):
            continue  # "deals" names the records, not a breakdown
        if span.name in record_dims and words[span.start - 1] == "each" and \
                span.end < len(words) and (words[span.end].endswith("ed") or words[span.end] in {
                    "first", "got", "gets", "was", "is", "has", "had", "we", "that", "which"}):
            continue  # "(the amount when each deal first got pushed out)": each one, said of
            # the rows summed, not a breakdown by deal
        before = words[span.start - 1] if span.start > 0 else ""
        before2 = words[span.start - 2] if span.start > 1 else ""
        head = words[span.start]
        plural = words[span.end - 1].endswith("s") and not words[span.end - 1].endswith("ss")
        if head == "where" and (words[span.start + 1:span.start + 2] in (
                ["were"], ["are"], ["do"], ["did"], ["is"], ["was"]) and
                words[span.start + 2:span.start + 3] in (
                ["we"], ["it"], ["they"], ["he"], ["she"], ["you"], ["things"]) or
                any(d.end == span.start for d in dims)):
            continue  # "where were we on bookings", "countries where we won": no place asked
        if head in {"whose", "who", "which", "that"} and span.length == 1 and (any(
                d.end == span.start and (d.name in record_dims or head == "whose")
                for d in dims) or any(
                s.end == span.start and s.kind in {"measure", "flag"} for s in p.spans)):
            continue  # "open opps whose close date was pushed": of the deals, no person
        if head == "whose" and any(d.start == span.end for d in dims):
            continue  # "whose team booked the most": the team (its manager) is asked
        nxt = span.end + (1 if words[span.end:span.end + 1] in (["is"], ["are"], ["was"],
                                                                ["=", ], ["equals"]) else 0)
        nxt += 1 if nxt > span.end and words[nxt:nxt + 1] in (["a"], ["an"], ["the"]) else 0
        if nxt > span.end and any(v.start == nxt and span.name in v.dimension.split("_")
                                  for v in p.values):
            continue  # "accounts whose type is Customer - Direct": the value's field, named
        if head in {"who", "whose", "whom", "where"} or before in {"which", "what", "whose"} or \
                before2 in {"which", "what"} and before not in grammar.FILLER | {"the"} or \
                _asked_through(p, span.start, flags):
            asked.append(span.name)
        elif before in {"every", "all", "any"} and words[span.end:span.end + 1] and \
                words[span.end] in grammar.EXCLUDE | {"but", "other"}:
            pass  # "every industry except Technology": all but those, one figure
        elif before == "all" and plural and before2 not in grammar.GROUP and not any(
                w in grammar.GROUP for w in words[max(0, span.start - 3):span.start]):
            p.take(span.start - 1, span.end)  # "(all sources)": none left out, one figure
        elif before in grammar.GROUP or before2 in {"by", "per"} or grammar.is_superlative(
                before) or _ranked_after(words, span.end) or (
                before.isdigit() and grammar.is_superlative(before2)) or (
                before.endswith("ing") and grammar.is_superlative(before2)) or (
                plural and span.name not in {v.dimension for v in p.values}
                and before not in {"both", "two"}  # "(both months included)": those named
                and not any(0 <= span.start - v.end <= 1 for v in p.values)
                and not any(d.name == span.name and _qualified_by_clause(p, d) for d in dims)):
            # ("any good with small companies? Win rate … on accounts with fewer than 200
            # employees": the same members, said twice, described once)
            # (but "United Kingdom based customers" are those members, not a breakdown)
            group_by.append(span.name)
        elif any(v.dimension == span.name and abs(v.start - span.end) <= 1 or
                 abs(span.start - v.end) <= 1 for v in p.values):
            pass  # "the Technology industry": the word names the value's dimension
        elif before == "each":
            group_by.append(span.name)
        elif before in {"and", "&", "plus"} and any(
                d.end == span.start - 1 and d.name in group_by for d in dims):
            group_by.append(span.name)  # "by industry and lead source": both
    grouped = list(group_by)  # grouped by words, not only asked ("where", "who")
    for name in asked:
        if name not in group_by:
            group_by.append(name)

    # members, exclusions and member comparisons
    described: set[int] = set()  # words describing members listed ("the two earliest (…)")
    filters: list[Condition] = []
    compare_members = None
    member_sides = False
    sides: list[Condition] = []  # the other side of a member compared ("vs the company")
    by_dim: dict[str, list[ValueMatch]] = {}
    for match in p.values:
        if any(m.values == match.values for m in by_dim.get(match.dimension, [])):
            continue  # "existing business deals (all existing biz types)": said twice, once
        by_dim.setdefault(match.dimension, []).append(match)
    for dim, matches in by_dim.items():
        keep, drop = [], []
        for match in matches:
            before = words[max(0, match.start - 2):match.start]
            joined = bool(drop) and drop[-1].end < match.start and all(
                w in {"and", "or", "nor", "&", "plus"} for w in words[drop[-1].end:match.start])
            # ("except Technology and Healthcare": both)
            reach = _excluded_before(words, match.start, negation=True)
            if reach:  # ("excluding anything billed in United States": those words read)
                p.take(_reach_start(words, match.start), match.start)
            (drop if set(before) & grammar.EXCLUDE or reach or joined else keep).append(match)
        if drop:
            filters.append(Condition(field=dim, op="not_in",
                                     values=[v for m in drop for v in m.values],
                                     text=", ".join(m.text for m in drop)))
        if len(keep) >= 2:
            between = [" ".join(words[a.end:b.start]) for a, b in zip(keep, keep[1:],
                                                                       strict=False)]
            comparing = any(set(g.split()) & (grammar.COMPARE | {"or"}) for g in between) or \
                bool(set(words) & grammar.COMPARE) or has(words, "compared with",
                                                           "compared to", "or", "which one")
            values = [v for m in keep for v in m.values]
            # "open opps in Prospecting or Qualification over 100k": either one, one figure
            # (but "Web or Partner Referral - which one generated more?" sets them side by side)
            either = all(g.split() in (["or"], ["and", "or"]) for g in between) and \
                words[keep[0].start - 1:keep[0].start] in (["in"], ["from"], ["at"], ["with"],
                                                            ["into"]) and not (
                set(words) & (grammar.COMPARE | {"which", "who", "whose", "more", "less",
                                                 "fewer", "higher", "lower", "bigger", "smaller"})
                or any(grammar.is_superlative(w) for w in words) or
                has(words, "compared with", "compared to", "each", "both", "respectively"))
            # "still in the first three stages (prospecting, qualification, needs analysis)":
            # the members a description names, listed in brackets: one set, one figure
            bracketed = any(all(m.text in inside for m in keep) for inside in re.findall(
                r"\(([^)]*)\)", p.question.lower())) and all(
                set(g.split()) <= {"and", "or", "&"} for g in between) and not (
                set(words) & (grammar.COMPARE | {"which", "who", "whose"}) or
                has(words, "compared with", "compared to", "each", "respectively", "by"))
            if bracketed:
                said_n = next((i for i, w in enumerate(words[:keep[0].start]) if (
                    int(w) if w.isdigit() else grammar.NUMBER_WORDS.get(w)) == len(keep)), None)
                if said_n is not None:
                    p.take(said_n, said_n + 1)  # ("the first three stages": those three)
                    described.update(range(said_n, keep[0].start))
                group_by = [g for g in group_by if g != dim]  # ("stages (A, B)": those, one)
            joined_up = bool(set(words) & {"combined", "together", "altogether", "jointly"}) and \
                all(set(g.split()) <= {"and", "&", "plus", ","} for g in between) and \
                not set(words) & (grammar.COMPARE | {"which", "who", "whose"})
            if joined_up:  # "avg open deal size across Prospecting and Qualification
                for k, w in enumerate(words):  # combined", "Commit plus Best Case, one
                    if w in {"combined", "together", "altogether", "jointly"}:  # combined
                        p.take(k, k + 1)  # number": one set (no figure's typo)
                        measures = [s for s in measures if not (
                            s.exact == 0 and s.start <= k < s.end)]
            if (either or bracketed or joined_up) and len(keep) >= 2:
                filters.append(Condition(field=dim, op="in", values=values,
                                         text=" or ".join(m.text for m in keep)))
                continue
            if len(keep) == 2 and (comparing or group_by == []) and any(
                    len(m.values) > 1 and not m.ambiguous for m in keep):
                # a family of values ("existing business") against another: two sides, each
                # its own filter, not a grouping that would split the family
                for m in keep:
                    filters.append(Condition(field=dim, op="eq" if len(m.values) == 1 else "in",
                                             values=list(m.values), text=m.text))
                member_sides = True
                continue
            filters.append(Condition(field=dim, op="in", values=values,
                                     text=" vs ".join(m.text for m in keep)))
            if comparing or group_by == []:
                compare_members = dim
        elif keep:
            values = list(keep[0].values)
            filters.append(Condition(field=dim, op="eq" if len(values) == 1 else "in",
                                     values=values, text=keep[0].text))
            rest = _THE_REST.search(" ".join(words[keep[0].end:]))
            whole = _THE_WHOLE.search(" ".join(words[keep[0].end:])) if rest is None else None
            if whole is not None and not drop:
                # "is Mia Ford beating the company win rate?": the member against everyone
                # (the member included); no member is left out on that side
                sides.append(Condition(field=dim, op="not_in", values=[],
                                       text=whole.group("whole")))
                filters.append(sides[-1])
                member_sides = True
                at = keep[0].end + len(" ".join(words[keep[0].end:])[:whole.start()].split())
                p.take(at, at + len(whole.group(0).split()))
            if rest is not None and not drop:
                # "Technology vs everyone else": the member against all the others
                sides.append(Condition(field=dim, op="not_in", values=values,
                                       text=rest.group("rest")))
                filters.append(sides[-1])
                member_sides = True
                at = keep[0].end + len(" ".join(words[keep[0].end:])[:rest.start()].split())
                p.take(at, at + len(rest.group(0).split()))

    count_of, per = _members_counted(p, dims, measures, record_dims)
    for s in list(measures):
        # "how many accounts have open deals": the members of a per-account model counted
        # where the deals' flag is (accounts among the open deals, each once)
        homes = [m for m in catalog.answerable for n in s.names
                 if (ms := m.answerable.measure(n)) is not None and ms.base == "count"]
        members = {row_dimension(m.answerable) for m in homes}
        if count_of is None and flags and len(members) == 1 and None not in members and all(
                m.answerable.flag(f.name) is None for m in homes for f in flags):
            count_of = members.pop()
            measures.remove(s)
    owned = [s for s in dims if any(  # (a chain from one pointed at: "that rep's manager")
        d.end == s.start and d.name != s.name and d.start > 0 and
        words[d.start - 1] in {"that", "this", "the", "their", "his", "her", "its"} and re.search(
        rf"\b{re.escape(words[d.end - 1])}['’]s\s+{re.escape(words[s.start])}\b",
        p.question.lower()) for d in dims)]
    of_person = [s for s in dims if any(  # "who is Ethan Green's manager": of that person
        v.end == s.start and v.dimension in PERSON_DIMENSIONS and v.dimension != s.name and
        s.name in PERSON_DIMENSIONS and re.search(
            rf"\b{re.escape(words[v.end - 1])}['’]s\s+{re.escape(words[s.start])}\b",
            p.question.lower()) and  # (asked of: "what did Mary Patel's reps book" is the team)
        any(words[j] in {"who", "whos", "who's", "what", "whats", "what's", "which"} and
            set(words[j + 1:v.start]) <= {"is", "was", "are", "were", "s"}
            for j in range(max(0, v.start - 3), v.start)) for v in p.values)]
    one = person_of(context.previous) if context.previous is not None else None
    if one is not None:  # (the one person the last answer was about, answered or named)
        theirs = [s for s in dims if s.start > 0 and words[s.start - 1] in {  # "who's their
            "their", "his", "her"} and s.name != one.field]  # manager"
        owned += theirs
        of_person += [s for s in theirs if s.name in PERSON_DIMENSIONS]
    if of_person and {"who", "whos", "who's", "what", "which"} & set(words):
        asked = [of_person[-1].name]
        group_by = []
    if owned and asked and {"who", "what", "which"} & set(words):
        # "who's that rep's manager?": the last of the chain is asked, not the rep
        asked = [owned[-1].name]
        group_by = [g for g in group_by if g != owned[-1].name]
    if count_of or per:  # "how many reps won a deal", "avg bookings per rep": not a breakdown
        group_by = [g for g in group_by if g not in {count_of, per}]
        asked = [a for a in asked if a not in {count_of, per}]
    wh_said = {s.name for s in dims if words[s.start] in {"who", "whose", "whos", "who's"}
               and s.length == 1}
    if wh_said and len(group_by) > 1 and any(
            g not in wh_said and s.name == g and s.start > 0 and words[s.start - 1] in
            grammar.GROUP for g in group_by for s in dims):
        # "won $ by industry, who's on top": the who is the industry ranked first
        group_by = [g for g in group_by if g not in wh_said]
        asked = [a for a in asked if a not in wh_said]
    if compare_members or member_sides:
        # "who did better, Healthcare or Manufacturing?": the members compared are the who
        wh = {s.name for s in dims if words[s.start] in {"who", "whose"} and s.length == 1}
        group_by = [g for g in group_by if g not in wh or g == compare_members]
        asked = [a for a in asked if a not in wh]
    # flags and times
    for span in flags:
        before = words[span.start - 1] if span.start > 0 else ""
        if before in {"a", "an"} and p.values and any(
                s.kind == "measure" and s.start != span.start for s in p.spans) and (
                words[0] in {"is", "are", "does", "do"} or has(words, "count as") or
                re.search(r"\b(?:is|are|was|does|did|would|will)\s+(?:that|this|it|they)\s+"
                          r"(?:\w+\s+){0,2}?(?:a|an)$",
                          " ".join(words[max(0, span.start - 5):span.start]))):
            # "is Qualification a bottleneck? what level, and its avg days", "… and does that
            # make it a bottleneck?": whether it is one is asked, with its figures; no filter
            # that would leave nothing when not
            p.take(span.start, span.end)
            continue
        k = span.start - 1
        while k > 0 and words[k] in {"already", "yet", "even", "currently", "still", "really"}:
            k -= 1  # ("not already past its close date")
        op = "is_false" if before in {"not", "non"} or k >= 0 and words[k] == "not" or \
            _excluded_before(words, span.start) else "is_true"
        filters.append(Condition(field=span.name, op=op, text=p.lower(span.start, span.end)))
    time = times[0].name if times else None
    filters += [Condition(field=time or "", op="weekday", values=list(days),
                          text=f"deals {time or 'closed'} {said}") for days, said in p.weekdays]

    # ranking
    direction, limit = None, None
    superlative = None
    in_measure = {i for s in measures if s.length > 1 for i in range(s.start, s.end)}
    for i, w in enumerate(words):
        w = w.split("-")[0]  # "longest-sitting"
        if grammar.is_superlative(w) and i not in in_measure and i not in described and not (
                w in {"latest", "newest", "earliest"} and words[i + 1:i + 2] and
                words[i + 1] in grammar.PERIOD_UNITS | grammar.CALENDAR) and not (
                i in p.used and any(words[i] in c.text.split()[:2] for c in p.conditions)) \
                and not (i > 0 and words[i - 1] == "or" and (words[i - 1], w) in grammar.TRAILING) \
                and not (w in {"top", "bottom"} and words[i + 1:i + 2] == ["one"] and
                         context.previous is not None and bool(context.previous.group_by) and
                         not context.previous.records):
            # ("in the top one" after a breakdown: which member of it, not a ranking)
            # ("more" of a bound's "more than 90 days", "least" of "at least 10 wins": a
            # bound's words rank nothing)
            superlative = w
            nxt = words[i + 1] if i + 1 < len(words) else ""
            prev = words[i - 1] if i > 0 else ""
            for at, n in ((i + 1, nxt), (i - 1, prev)):
                if n.isdigit() and 0 < int(n) <= 1000:
                    limit = int(n)
                elif n in grammar.NUMBER_WORDS:
                    limit = grammar.NUMBER_WORDS[n]
                else:
                    continue
                p.take(at, at + 1)
                break
            p.take(i, i + 1)
            break
    if superlative is not None and limit is None:
        # "which 3 reps brought in the least": the number after "which" is how many
        for i, w in enumerate(words[:-1]):
            n = words[i + 1]
            if w in {"which", "what"} and i + 1 not in p.used and (
                    n.isdigit() and 0 < int(n) <= 1000 or n in grammar.NUMBER_WORDS and
                    n != "one"):  # ("which one": which record)
                limit = int(n) if n.isdigit() else grammar.NUMBER_WORDS[n]
                p.take(i + 1, i + 2)
                break
    if superlative is not None and limit is None:
        # "most overdue deals - top 3 by amount": a later superlative's number is the limit
        for i, w in enumerate(words[:-1]):
            if i not in p.used and w in {"top", "bottom", "first"} and words[i + 1].isdigit() \
                    and 0 < int(words[i + 1]) <= 1000 and i + 1 not in p.used:
                limit = int(words[i + 1])
                p.take(i, i + 2)
                break

    # "deals stuck in Proposal for more than 90 days": a one-word duration figure says what
    # the bound in days is about; the question is about the deals (counted or listed)
    if any(s.name in record_dims for s in dims) and not group_by and measures and all(
            s.length == 1 and _has_unit(s, "days", catalog) for s in measures) and any(
            c.field == "?days" for c in p.conditions):
        # the word still says where such days are kept ("stuck": the stage visits); a
        # measure's own word weighs as a two-word model phrase, more than "deals" does
        p.hints += [Span("model", m, s.start, s.start + 2, s.terms, s.exact, (m,))
                    for s in measures for m in sorted(s.models)]
        measures = []
        about_deals = True
    else:
        about_deals = False
    # "deals that have had their close date pushed 3 or more times": the figure named right
    # before a bound is what the bound is about (a number of each deal); the deals are counted
    bound_at = {_position(c, p) for c in p.conditions if c.field.startswith("?")}
    subjects = [s for s in measures if s.end in bound_at and
                set(s.names) & vocab.names("number")]
    if subjects and any(s.name in record_dims for s in dims) and not group_by:
        for s in subjects:
            number = next(n for n in s.names if n in vocab.names("number"))
            numbers.append(Span("number", number, s.start, s.end, s.terms, s.exact, (number,)))
        measures = [s for s in measures if s not in subjects]
        about_deals = True

    # "which one has been pushed the most times, and how many pushes?": the number of the
    # one record picked, shown with it, is asked; nothing is counted
    if which_one and superlative:
        for n in numbers:
            if n.start >= 2 and words[n.start - 2:n.start] == ["how", "many"]:
                p.take(n.start - 2, n.start)
                words = [*words[:n.start - 2], "", "", *words[n.start:]]
        for at in _phrase_at(words, ("how", "many", "days")):  # ("…, and how many days")
            if at > 0 and words[at - 1] == "many":
                p.take(at - 2, at + 1)
                words = [*words[:at - 2], "", "", "", *words[at + 1:]]
    # what is measured: named measures, else a base ("how many", "how much", "average")
    base = None
    if has(words, "how many days", "how long"):
        base = None
    elif has(words, "how many dollars", "how many $", "how many bucks"):
        base = "amount"  # ("how many dollars slipped": an amount said as a count of dollars)
    elif has([w if not any(n.start <= i < n.end for n in numbers) and words[i + 1:i + 2] != [
            "as"] else "" for i, w in enumerate(words)], *grammar.COUNT_WORDS):
        # ("average employee count"; "blanks count as other": no count asked)
        base = "count"
    elif (has(words, *grammar.AVERAGE_WORDS) or words[:1] == ["avg"]) and not (
            not measures and not numbers and any(c.field == "?days" for c in p.conditions)):
        base = "avg_amount"  # (but "stages that average over 30 days" average a duration)
    elif _amount_asked(words) or any(
            w.startswith("$") and i not in p.used for i, w in enumerate(words)) or any(
            words[f.start - 1:f.start] == ["total"] for f in flags if f.start > 0):
        base = "amount"  # ("total won YTD": the amount won)
    asked_at = next((i for i in range(len(words)) if words[i:i + 2] == ["how", "many"]), None)
    said = [s for s in [*measures, *flags] if asked_at is not None and s.end <= asked_at]
    count_too = base == "count" and bool(said) and all(
        s.end <= asked_at and _has_unit(s, "currency", catalog) for s in measures) and \
        "and" in words[max(s.end for s in said):asked_at] and bool(
            {"what", "whats"} & set(words[:min(s.start for s in said)]))  # (after a lead
    # sentence: "I'm writing X's review. What have they booked …, and how many wins is that?")
    if count_too:
        base = None  # "what did we book last quarter, and across how many deals?": both
    if count_of and not measures:
        base = "count"  # "how many reps …": the rows' count is the carrier, members counted
    elif per and measures and base == "avg_amount":
        base = None  # "avg bookings per rep": the average is over the reps
    elif per and base == "avg_amount":
        base = "amount"  # "average won $ per rep": the amount, averaged over the reps
    if base == "amount" and measures and all(s.exact == 0 for s in measures) and not any(
            _has_unit(s, "currency", catalog) for s in measures):
        # "how much does X have sitting in Negotiation": an amount is asked; a count's
        # phrase found only loosely in the words says nothing of what is measured, only
        # which deals ("sum of won deals": the won ones)
        for s in measures:
            said = {f.name for f in vocab.spans(words[s.start:s.end]) if f.kind == "flag"}
            filters += [Condition(field=flag, op="is_true", text=p.lower(s.start, s.end))
                        for flag in _scope_of(s, catalog) if flag in said]
        p.spans = [s for s in p.spans if s not in measures]
        measures = []
    # "which stage have deals been sitting in the longest, on average?": a duration is
    # ranked; a figure only typo-matched in another unit says which deals, not what
    typo_only = all(s.exact == 0 and not _has_unit(s, "days", catalog) for s in measures)
    duration_ranked = superlative in _DURATION_WORDS and not numbers and typo_only and \
        not which_one  # ("which open deal has sat the longest": that deal, by its own days)
    # "avg days from created to close for won deals": days are averaged, whatever figure a
    # typo-tolerant match found in the words that only say which deals
    days_asked = bool(measures) and typo_only and not numbers and "days" in words and (
        words.index("days") < min(s.start for s in measures) or
        words[words.index("days") - 1] in grammar.AVERAGE_WORDS)  # ("…? avg days each")
    if (duration_ranked or days_asked) and base == "avg_amount":
        base = None

    # "how many …, and how much are they worth": a count and an amount in one question
    # "how many deals are in X, and how long have they been there": a count and a duration
    also_bases: tuple[str, ...] = ("count",) if has(words, "how long", "how much time") and \
        has(words, "how many") and not has(words, "how many days") else ()
    dollars = {i for i, w in enumerate(words) if w.startswith("$") and i not in p.used}
    if measures and any(_has_unit(s, "currency", catalog) for s in measures):
        p.used |= dollars  # "closed won $ YTD": the figure named is in dollars already
        dollars = set()
    # ("how many and total", "count and their value": an amount noun right after "and")
    also_amount = any(w in {"and", "plus", "+"} and grammar.AMOUNT_NOUNS & set(words[k + 1:k + 4])
                      for k, w in enumerate(words))
    counted = base == "count" or base == "amount" and bool(measures) and not any(
        _has_unit(s, "currency", catalog) for s in measures)  # ("how many slipped, and how
    if counted and not grammar.SHARE.search(" ".join(words)) and (  # many $ went with them")
            has(words, *grammar.AMOUNT_WORDS) or dollars or also_amount):
        also_bases = ("amount",)
        p.used |= dollars
        for phrase in grammar.AMOUNT_WORDS:
            p.used.update(_phrase_at(words, tuple(phrase.split())))

    if count_too:
        also_bases = (*also_bases, "count")
    counted_at = next((i for i in range(len(words)) if words[i:i + 2] == ["how", "many"]), None)
    if base == "count" and measures and counted_at is not None and \
            "and" in words[counted_at:min(s.start for s in measures)]:
        # "how many open deals do we have, and what's the weighted value of them": the count
        # is asked too, beside the figure named in the second clause
        also_bases = (*also_bases, "count")
    # words a period or a bound already used ("the last 7 days", "over 60 days") ask for no unit
    free = [w if i not in p.used else "" for i, w in enumerate(words)]
    # "stages over 60 days": a bound in days on no number named asks for a duration
    bound_days = any(c.field == "?days" for c in p.conditions) and not numbers and \
        not about_deals and not (  # ("open deals older than 180 days": the deals counted)
            any(s.name in record_dims for s in dims) and
            not has(free, "how long", "how many days", "average", "avg", "mean"))
    unit_cue = "days" if base is None and (
        has(free, "how long", "how many days", "how much time") or bound_days and
        not measures or
        not measures and (has(free, "days", "time") or free[:1] == ["days"] or
                          bool(set(free) & _DURATION_WORDS)) or duration_ranked or
        days_asked) else None
    if unit_cue:
        for phrase in (("how", "long"), ("how", "many", "days"), ("how", "much", "time")):
            p.used.update(_phrase_at(words, phrase))
    if unit_cue and measures:
        # "how many days does it take to close a won deal": the unit asked for decides; a
        # phrase naming a figure of another unit only says which deals (its scope)
        keep = [s for s in measures if _has_unit(s, unit_cue, catalog)] or \
            _figure_with_label(measures, unit_cue, catalog)
        keep += [s for s in measures if s not in keep and s.start > keep[0].start and
                 _has_unit(s, "text", catalog)] if keep else []  # ("…, and what level")
        for s in measures:
            if s not in keep:
                for flag in _scope_of(s, catalog):
                    filters.append(Condition(field=flag, op="is_true",
                                             text=p.lower(s.start, s.end)))
        measures = keep
        if measures:
            unit_cue = None

    qualifiers = _qualifiers(words, measures, base, dims, record_dims, catalog)
    for s in qualifiers:
        # "the total value of lost deals", "avg deal size on won deals": a one-word figure
        # right before the records' noun says which deals, when something else is measured
        for flag in _scope_of(s, catalog):
            filters.append(Condition(field=flag, op="is_true", text=p.lower(s.start, s.end)))
    measures = [s for s in measures if s not in qualifiers]

    for first in list(measures):
        # "the median lost deal size": the statistic said first is of the deals the flag
        # after it picks; the figure's noun after the flag is that figure said again
        again = next((s for s in measures if s is not first and any(
            f.start == first.end and f.end == s.start for f in flags)), None)
        if again is not None and "median_amount" in _bases_of(first, catalog) and \
                set(_bases_of(again, catalog)) & {"avg_amount", "amount"}:
            measures.remove(again)
            p.take(again.start, again.end)
    if not per:  # ("avg bookings per rep": the average is over the reps)
        measures = [_averaged(s, words, catalog) for s in measures]
    p.explicit = bool(measures) or base is not None or unit_cue is not None
    p.base_only = base if not measures and base in {"count", "amount"} else None
    records = False
    fields_asked = False
    nouns = [s for s in dims if s.name in record_dims and not (
        (compare_members or member_sides) and "one" in words[s.start:s.end])]
    record_noun = bool(nouns)  # ("Web or Partner Referral - which one …": one of the two)
    plural_noun = any(words[s.end - 1].endswith("s") for s in nouns)
    # "our 3 biggest wins", "the largest losses": a flag said as a plural noun right after a
    # superlative names those records
    sup_i = next((i for i, w in enumerate(words) if w == superlative), None)
    named = {i for v in p.values for i in range(v.start, v.end)}  # "largest Technology wins"
    said_as_noun = [f for f in flags if sup_i is not None and sup_i < f.start and
                    all(i in named for i in range(sup_i + 1, f.start))]
    if not nouns and not measures and base is None and said_as_noun:
        # ("the biggest win last quarter": that one deal)
        record_noun = True
        plural_noun = any(words[f.end - 1].endswith("s") and not words[f.end - 1].endswith(
            "ss") for f in said_as_noun)  # ("loss" is one)
    if not nouns and not measures and base is None and any(
            words[f.end - 1].endswith("s") and _LISTING_VERBS & set(words[:f.start])
            for f in flags):
        record_noun = plural_noun = True  # "pull up their wins": the deals the flag names
    others = [g for g in group_by if g not in record_dims]
    in_values = {i for v in p.values for i in range(v.start, v.end)}  # ("Trade Show")
    listing = {w for i, w in enumerate(words) if i not in in_values} & (
        grammar.LIST_WORDS - {"which", "what"}) or any(
        s.start > 0 and words[s.start - 1] in {"which", "what"} or s.start > 1 and
        words[s.start - 2] in {"which", "what"} and words[s.start - 1] in grammar.FILLER |
        {"open", "overdue", "won", "lost"} or _asked_through(p, s.start, flags, False) or
        s.start > 1 and words[s.start - 2] in {"which", "what"} and any(
            n.end == s.start for n in numbers)  # ("which big deals …": a size said of them)
        for s in nouns)
    if base is None and not measures and unit_cue is None and record_noun and not listing \
            and not superlative and (not {"what", "whats"} & set(words[:max(
                [s.start for s in nouns] or [1])]) or grammar.SHARE.search(text)):
        # "new opportunities created last month": how many there were (but "what's sitting
        # in Commit, open opps only" asks what they hold: the model's own figure)
        base = "count"
    sup_at = next((i for i, w in enumerate(words) if w == superlative), None)
    counted = sup_at is not None and any(0 < s.start - sup_at <= 2 and
                                         words[s.end - 1].endswith("s") for s in nouns)
    if (superlative in {"most", "least", "fewest"} and plural_noun or superlative in {
            "more", "fewer", "less", "most", "fewest", "least"} and counted) and \
            base is None and not measures and not numbers:
        base = "count"  # "which rep won the most deals", "who closed more deals": a count
        p.explicit = p.explicit or counted
    if not measures and record_noun and (base is None or not p.explicit) and \
            unit_cue is None and (listing or superlative or words[:1] in (["open"], ["overdue"])):
        with_at = next((i for i, w in enumerate(words) if w == "with" and any(
            n.end <= i for n in nouns)), None)
        # "list the 5 biggest deals we won, with who closed each one and the account": the
        # fields shown of each record
        fields_asked = bool(listing) and plural_noun and with_at is not None and bool(
            others) and all(any(s.name == g and s.start > with_at for s in dims) for g in others)
        records = not others or (bool(asked) and superlative is not None and
                                 not plural_noun) or fields_asked
    elif not measures and not record_noun and base is None and unit_cue is None and \
            listing and superlative in {"biggest", "largest", "smallest"} and not others:
        records = True  # "ok for Technology, list the 3 biggest": the deals, biggest first
    elif not measures and record_noun and not plural_noun and base == "amount" and \
            (size_at := next((i for i, w in enumerate(words) if w in {
                "biggest", "largest", "smallest"}), None)) is not None and \
            set(others) <= set(asked) and any(0 < s.start - size_at <= 3 for s in nouns):
        # "biggest deal we lost last FY - which one and how much": that one deal, its amount
        # (and "whose was it, and what industry?": fields of that deal)
        records = True
        p.explicit = False
    elif not measures and record_noun and not plural_noun and (
            unit_cue or base == "count" and has(words, "how many times")) and superlative and \
            numbers and not others:  # ("how many times has our biggest open deal been pushed")
        # "how long has our biggest deal in Negotiation been sitting there?": the duration
        # of that one record, listed with its days
        records = True
        p.explicit = False
    share = bool(grammar.SHARE.search(text))
    why_match = grammar.WHY.search(text)
    why = bool(why_match)
    if why_match:
        first = len(text[:why_match.start()].split())
        p.take(first, first + len(why_match.group(0).split()))
    # a window of several quarters or months is one figure over it, unless a trend is asked
    named = {i for m in measures if m not in averaged  # "trend forecast": a figure
             for i in range(m.start, m.end)}
    trend = _take_trend(p, named)
    if trend and has(words, "how many", "number of", "count of", "total", "in total",
                     "combined", "altogether", "in all") and all(
            m.group(0).startswith("over the") for m in grammar.TREND.finditer(text)):
        trend = False  # "number of won deals over the last 3 quarters": their total

    # the window(s)
    _relate_windows(p, context)
    for k in range(len(p.windows) - 1, 0, -1):
        # "this fiscal year than last? … this FY to date and all of last FY": a period named
        # again more precisely (from the same start, ending sooner) restates the first
        (a, _), (b, _) = p.windows[k - 1], p.windows[k]
        if a.start == b.start and b.end < a.end and a.count == 1:
            del p.windows[k - 1]
    windows = [w for w, _ in p.windows]
    if time is not None:
        windows = [w.model_copy(update={"time": time}) for w in windows]
    window = windows[0] if windows else None
    compare_window = None
    if len(windows) >= 2 and re.search(
            r"\b(?:sorry|i mean|i meant|actually|rather|no wait|correction|scratch that|"
            r"make that|oops)\b", " ".join(words[p.windows[0][1]:p.windows[1][1] + 4])):
        # "last month - sorry, last quarter I mean": the period said second replaces the first
        windows, window = windows[1:], windows[1]
        for at in range(p.windows[0][1], p.windows[1][1]):
            if words[at] in {"sorry", "mean", "meant", "actually", "rather", "wait", "oops",
                             "correction", "scratch", "make", "i", "no", "that"}:
                p.take(at, at + 1)
        for at in range(p.windows[1][1], min(len(words), p.windows[1][1] + 6)):
            if words[at] in {"i", "mean", "meant"}:
                p.take(at, at + 1)
    restated = re.search(r"(?:^|[\s(?.])(?:i\.e\.?|ie,|that is,|in other words|aka)\s",
                         p.question, flags=re.IGNORECASE)
    said_at = [p.question.lower().find(w.text or "\0") for w in windows]
    if len(windows) >= 2 and restated and 0 <= said_at[0] < restated.start() and all(
            k > restated.start() for k in said_at[1:]):
        # "… created by this point last year? i.e. from the start of last FY up to today's
        # date a year ago": the period said again, in other words; not a second one
        windows, window = windows[:1], windows[0]
    if len(windows) >= 2:
        gap = " ".join(words[p.windows[0][1]:p.windows[1][1]])
        # ("this quarter so far compared to last quarter's total": "vs" between them compares)
        set_against = bool(set(gap.split()) & (grammar.COMPARE | {"than"}))
        apart = (max(windows[0].start, windows[1].start) -
                 min(windows[0].end, windows[1].end)).days > 1  # (a span over both would
        # hold days between them that were not asked: "this FYTD, and the same point last year")
        at = p.windows[0][1]
        come = next((k for k in range(at - 1, max(-1, at - 3), -1) if words[k] == "from"), None)
        moved = come is not None and "to" in gap.split() and bool(
            set(words[max(0, come - 3):come]) & grammar.CHANGE_VERBS)
        if moved and windows[0].start < windows[1].start:
            # "how much did bookings grow from last FY to this FY": the later set against
            # the earlier
            window, compare_window, trend = windows[1], windows[0], False
        elif apart and not has(words, "combined", "together", "in total", "altogether"):
            compare_window = windows[1]
            trend = False
        elif not set_against and has(words, "combined", "together", "total",
                                     "in total") or re.search(
                r"\b(and|through|to|plus)\b", gap) and not set(words) & grammar.COMPARE and \
                not ("than" in words and not p.conditions) and \
                not re.search(r"\b(?:what|how|which|who)\b", gap):  # (a second question)
            window = _union(windows[0], windows[1])
        else:
            compare_window = windows[1]
            trend = False  # "QoQ change, last q vs the one before": the two periods named
    elif window is not None and window.kind.startswith("same_point_") and \
            compare_members is None and (set(words) & (grammar.COMPARE | {
                "ahead", "behind", "pace", "track", "both", "compare"}) or has(
                words, "where we were", "where were we")):
        # "are we ahead of where we were at this point last quarter?", "how do bookings
        # compare to this time last year?": the unit to date, set against those same days
        now = to_date_now(window.kind.removeprefix("same_point_"), context.as_of,
                          context.fiscal_year_start_month)
        window, compare_window = window_of(now, "").model_copy(
            update={"time": window.time}), window
        trend = False
    elif window is not None and window.kind != "all" and compare_members is None and (
            set(words) & {"compare", "compared", "vs", "versus", "against"} or
            has(words, "change", "changed") or re.search(
                r"\bthan\s+(?:the\s+)?(?:last|prior|previous|before|one before)\b", text)
    ) and not any(
            a.end <= i < b.start and w in {"vs", "versus", "against", "compared"}
            for a in measures for b in measures for i, w in enumerate(words)):
        # (but "win rate by count vs win rate by $" sets two figures side by side)
        compare_window = _previous(window, context)
        if window.count <= 1 and re.search(r"\b(?:vs|versus|against|compared)\s+(?:the\s+)?"
                                           r"(?:prior|previous|preceding|one before|last)\b",
                                           text):
            trend = False  # "QoQ change, last qtr vs prior": the two periods, not a trend
    mover = _MOVER.search(text)
    change = None
    if mover is not None and group_by and window is not None:
        # "which industry's won $ grew the most from the quarter before last to last quarter"
        change = "drop" if mover.group("down") else "increase"
        at = len(text[:mover.start()].split())
        p.take(at, at + len(mover.group(0).split()))
        if compare_window is None:
            window, compare_window = _two_periods(window, context)
        trend = False

    # a share: the conditions after its verb are the part; the rest scope the whole
    share_part: list[Condition] = []
    those = _OF_THOSE.search(text)
    if those is not None and not share and those.start() > 0 and \
            has(words[:len(text[:those.start()].split())], *grammar.COUNT_WORDS):
        # "how many were created, and how many of those came from Web?": the count of them
        # all and the part the members after it pick
        cut = len(text[:those.end()].split())
        part = [f for f in filters if f.kind == "members" and _position(f, p) >= cut]
        if part and len(part) < len(filters) + 1:
            share_part, filters = part, [f for f in filters if f not in part]
    if share:  # ("what % of opps have no lead source": an empty field is a part too)
        share_part, rest = _split_share(words, [*filters, *empty], p)
        # ("what % of X's open pipe is overdue, compared with the whole company": the other
        # side of the comparison, said after the verb, is no part of the share)
        rest += [c for c in share_part if c in sides]
        share_part = [c for c in share_part if c not in sides]
        filters = _whole_of(share_part, [f for f in rest if f not in empty], vocab)
        empty = [e for e in empty if e in rest]
    named_share = [s for s in measures if s.exact == 2 and _has_unit(s, "percent", catalog)]
    if share_part and (compare_members or member_sides) and named_share:
        # "what share of Manufacturing's open pipe is overdue, compared with the overdue share
        # for the whole company?": the share the catalog declares, on each side (the sides
        # are members, not a part of the pipeline)
        filters = [*filters, *(c for c in share_part if c.kind != "flag")]
        share_part, measures = [], named_share

    # resolve the number conditions' fields, now the candidates are known
    conditions = list(p.conditions)
    number_names = {s.name for s in numbers}

    candidate = Candidate(
        measures=[(s.names, {n: s.models_of(n) for n in s.names}, s.exact == 2, s.length)
                  for s in measures], base=base, unit=unit_cue,
        flags=[c.field for c in filters if c.kind == "flag"] + (
            _previous_scope(context) if set(words) & grammar.ANAPHORA and not measures and
            not any(c.kind == "flag" for c in filters) else []),  # (its own flags: its own)
        negated=[c.field for c in filters if c.kind == "flag" and c.op == "is_false"],
        dimensions=list(dict.fromkeys([*group_by, *(c.field for c in [*filters, *share_part]
                                                      if c.kind == "members")])),
        numbers=sorted(number_names), units=[c.field[1:] for c in conditions],
        window=window, compare_window=compare_window, time=time, records=records,
        superlative=superlative,
        hints=[h.name for h in p.hints], hints_len=[(h.name, h.length) for h in p.hints],
        trend=trend, trend_grain=_trend_grain(text) if trend else None, why=why,
        bases={s.names: _bases_of(s, catalog) for s in measures},
        fiscal_year_start_month=context.fiscal_year_start_month,
        alt_bases=("deals",) if base == "count" and record_noun else (),
        also_bases=also_bases,
        member_columns={c.field: context.values.columns[c.field] for c in filters
                        if c.kind == "members" and c.field in context.values.columns},
        weekday_times=tuple(c.field for c in filters if c.kind == "weekday"),
        count_of=count_of)
    chosen = choose_model(candidate, catalog)
    if chosen is None and window is not None and measures:
        # "velocity this quarter" where no model dates that figure: the figure as defined,
        # and the period said not applied (never a refusal of a figure the data holds)
        undated = choose_model(replace(candidate, window=None, time=None), catalog)
        if undated is not None and undated.measures:
            p.not_applied.append(NotApplied(text=window.text, reason=_UNDATED))
            chosen, window, time = undated, None, None
    if chosen is not None and chosen.measures and not group_by and not compare_members:
        implied = implied_dimension(catalog.model(chosen.model), candidate)
        if implied and not catalog.model(chosen.model).answerable.measure(
                chosen.measures[0]).is_aggregate:
            group_by = [implied]
    if chosen is not None and chosen.widen and window is not None:
        grain = catalog.model(chosen.model).answerable.time_grain
        wider = widen_to_grain(grain, period_of(window), context.fiscal_year_start_month)
        window = window_of(wider, window.text).model_copy(update={"time": window.time})
    dashboard = [h for h in p.hints if catalog.model(h.name).answerable.role == "dashboard"]
    model_words = {h.start for h in p.hints if h.length == 1}
    inside = all(any(h.start <= s.start and s.end <= h.end for h in dashboard) or
                 s.length == 1 and s.start in model_words for s in measures)
    if dashboard and inside and not p.values and not grouped and window is None:
        for hint in dashboard:
            p.take(hint.start, hint.end)  # "the headline on sales ... in a few lines"
        return Query(intent=Intent.BRIEFING, model=dashboard[0].name, question=p.question)
    model = chosen.model if chosen else None
    chosen_measures = chosen.measures if chosen else []
    if model is not None and count_of == row_dimension(catalog.model(model).answerable):
        count_of = None  # a row per member: its own count counts them
    if model is not None and count_of and chosen_measures and (head := catalog.model(
            model).answerable.measure(chosen_measures[0])) is not None and (
            head.base or "").startswith("avg"):
        count_of = None  # "the average employee count of the accounts …": an average of them
    if model is not None and chosen_measures and (row := row_dimension(
            catalog.model(model).answerable)) in group_by and (first := catalog.model(
            model).answerable.measure(chosen_measures[0])) is not None and first.base == "count":
        # "which country has the most accounts" on one row per account: the accounts are
        # what is counted, not a grouping (each group would hold one row)
        group_by = [g for g in group_by if g != row]
    if model is not None and len(chosen_measures) == 1 and _OF_THOSE.search(text):
        # "opps created in August, and how many of those we won": the count of them all,
        # then the part the flag names
        meta = catalog.model(model).answerable
        part = meta.measure(chosen_measures[0])
        whole = next((m for m in meta.measures_of(part.base) if not m.scope), None) \
            if part is not None and part.scope else None
        if whole is not None:
            chosen_measures = [whole.name, part.name]
    if model is not None and chosen_measures:
        each, filters = _one_figure_per_flag(
            catalog.model(model).answerable, chosen_measures, filters, measures, p)
        if each != chosen_measures and len(windows) < 2:
            compare_window = None  # "won vs lost": the flags set against each other
        chosen_measures = each
    p.flags = [f for f in filters if f.kind == "flag"]
    carried = [f for f in filters if f.kind == "flag" and f.field in (
        chosen.scoped if chosen else set())]  # the measure carries them (not for records)
    filters = [f for f in filters if f not in carried]

    resolved: list[Condition] = []
    said_before: Condition | None = None
    for cond in conditions:
        near = _numbers_near(cond, numbers, p, number_names)
        first = resolved[-1] if resolved else None
        if not near and first is not None and said_before is not None and \
                first.field in number_names and cond.field[1:] in {"number", "currency"} and \
                set(p.words[_position(said_before, p):_position(cond, p)]) & grammar.COMPARE:
            # "accounts with 500+ employees vs those under 500": the other side of the
            # comparison bounds the same number
            near = {first.field}
        said_before = cond
        resolved_cond = _resolve_number(cond, model, catalog, near, group_by,
                                        chosen_measures, p.words)
        if resolved_cond is None:
            p.not_applied.append(NotApplied(text=cond.text, reason=_NO_UNIT))
        else:
            resolved.append(resolved_cond)
    filters = [*filters, *resolved, *empty]
    compare_filters = _range_sides(resolved, p) or _range_rest(resolved, p) \
        if compare_members is None and len(windows) < 2 else []
    if member_sides:
        compare_filters = [next(f for f in reversed(filters) if f.kind == "members")]
    if compare_filters:
        compare_window = None  # "vs" set the two ranges against each other, not two periods
    filters = [f for f in filters if f not in compare_filters]

    # records: the order and the pick
    order = None
    pick = None
    if asked and not p.explicit and (superlative or set(words) & {
            "it", "one", "ones", "that", "their", "his", "her"}) \
            and context.previous is not None and context.previous.records:
        records = True  # "who owns the biggest one?": a field of a record listed before
    sup_one = sup_at is not None and any(
        w in {"one", "deal", "opportunity", "opp"} and 0 < i - sup_at <= 3 or
        w in {"those", "these", "them", "ones"} and context.previous is not None and
        0 < i - sup_at <= 4 and words[sup_at + 1] == "of"
        for i, w in enumerate(words))  # ("who owns the biggest of those?")
    if asked and not p.explicit and sup_one:
        records = True  # "who owns the biggest overdue one?": a field of that one record
    if asked and not p.explicit and any(c.field in record_dims and c.op == "eq" and
                                        len(c.values) == 1 for c in filters):
        records = True  # "who owns the Sandstone – Implementation opp?": a field of it
    if of_person and asked == [of_person[-1].name] and not measures:
        chosen_measures, records = [], True  # a field of that person, read off their deals
    if model is not None:
        meta = catalog.model(model).answerable
        if records or asked and not chosen_measures:
            records = records or bool(asked) and not chosen_measures
            bounded = {c.field for c in filters if c.kind == "number"}
            order = _record_order(superlative, sorted([
                s for s in numbers if s.name not in bounded or superlative or
                s.start > 0 and words[s.start - 1] == "by"], key=lambda s: s.name in bounded),
                meta, words, time)  # (a number bounded, "worth 100k or more", orders them last)
            for span in numbers:  # "most overdue deals (top 3 by amount)": overdue ones
                if order is not None:
                    for f in vocab.spans(words[span.start:span.end]):
                        if f.kind == "flag" and meta.flag(f.name) is not None and not any(
                                c.field == f.name for c in filters):
                            filters.append(Condition(field=f.name, op="is_true",
                                                     text=p.lower(span.start, span.end)))
            if superlative and grammar.is_judgement(superlative) and not numbers and \
                    meta.numbers and not p.explicit and not query_follows(context):
                # "the best deal": better by which number? Ask rather than pick one
                options = [n.name.replace("_", " ") for n in meta.numbers[:4]]
                return Query(question=p.question, intent=Intent.LOOKUP, model=model,
                             clarify=Clarify(
                                 question=f"The {superlative} by which figure?",
                                 options=options))
            if asked and fields_asked:
                group_by = [g for g in group_by if g not in asked]  # (columns of each)
            elif asked:
                pick = asked[0]
                group_by = [g for g in group_by if g != pick]
            elif has(words, "how many times") and (named_counts := [
                    s.name for s in numbers if (n := meta.number(s.name)) is not None and
                    n.unit == "count" and (order is None or order.field != s.name)]):
                pick = named_counts[0]  # "how many times has our biggest deal been pushed"
            singular = any(s.kind == "dimension" and s.name in record_dims and
                           not words[s.end - 1].endswith("s") for s in dims)
            singular = singular or bool(said_as_noun) and not plural_noun  # ("biggest loss")
            if superlative and limit is None and (asked or singular or has(
                    words, "the biggest one", "the largest one")):
                limit = 1
            noun_at = next((s.start for s in nouns if sup_at is not None and
                            s.start > sup_at), None)
            which = any(words[s.start - 1] in {"which", "what"} for s in nouns if s.start) or \
                has(words, "which one")  # "which one and how much": the record is asked
            named = bool({"name", "names", "called"} & set(words[noun_at or 0:]))
            if pick is None and order is not None and limit == 1 and noun_at is not None \
                    and not which and not named and (any(order.field in s.names and
                                                         s.start > noun_at
                                           for s in numbers) or any(
                    (m := meta.measure(n)) is not None and m.base == order.field
                    for n in chosen_measures)):
                pick = order.field  # "the biggest open deal, just the amount": its figure

    if superlative and not records and not group_by and not compare_members and model:
        # "where do deals get stuck longest": a model stacking stages and owners in one
        # column ranks its first kind of row (stages) when none is named
        meta = catalog.model(model).answerable
        if meta.kind_column and not any(c.kind == "members" for c in filters):
            first = next((d.name for d in meta.dimensions if d.kind_value), None)
            if first:
                group_by = [first]
    unit_asked = _which_unit_of(words, window, superlative)
    if unit_asked and not group_by and not compare_members and model is not None and \
            catalog.model(model).answerable.dimension(unit_asked) is not None:
        # "of the last 4 full quarters, which one had the biggest bookings?": the periods
        # inside the one named, ranked
        group_by, records, limit = [unit_asked], False, limit or 1
    ranking = None
    if superlative and not records and (group_by or compare_members):
        unit = chosen.unit if chosen else None
        hib = chosen.higher_is_better if chosen else None
        direction = grammar.direction_of(superlative, unit, hib) or "top"
        ranking = Ranking(direction=direction, limit=limit)
    elif (group_by and not records) and has(words, "which", "who", "what", "where") and \
            limit is None:
        direction = "top"
        meta = catalog.model(model).answerable if model else None
        if meta is not None and any((f := meta.flag(c.field)) is not None and f.problem
                                    for c in filters if c.kind == "flag"):
            # "which reps need coaching": the rows a problem flag picks, worst first
            direction = "bottom" if (chosen and chosen.higher_is_better) else "top"
        ranking = Ranking(direction=direction, limit=None)

    share_of = share_part if chosen is not None else []
    if records:
        filters = [*carried, *filters]  # records list the deals the flags pick, as asked
    once: dict[tuple, Condition] = {}  # ("open … in its current stage": one flag, said twice)
    for c in filters:
        once.setdefault((c.field, c.op, tuple(c.values)) if c.kind == "flag" else (id(c),), c)
    filters = list(once.values())

    # a number picked of one record ("how many times was the biggest deal pushed") is a
    # figure; a field naming the record ("who owns it") is a lookup
    if chosen_measures and model is not None and not records:
        filters = _without_own_parts(p, filters, chosen_measures[0], catalog.model(model))
    figure_pick = pick is not None and model is not None and \
        catalog.model(model).answerable.number(pick) is not None
    intent = Intent.LOOKUP if records and not figure_pick else Intent.ANALYTICS
    if model is not None and catalog.model(model).answerable.role == "dashboard":
        intent = Intent.BRIEFING
    return Query(
        intent=intent, measures=chosen_measures, group_by=list(dict.fromkeys(group_by)),
        filters=filters,
        count_of=count_of if chosen_measures else None,
        per=per if chosen_measures and _per_applies(catalog, model, chosen_measures[0]) else None,
        window=window, compare_window=compare_window, compare_members=compare_members,
        change=change if compare_window is not None and group_by else None,
        compare_filters=compare_filters, ranking=ranking, trend=trend and not records,
        trend_grain=_trend_grain(text) if trend and not records else None, why=why,
        records=records, order=order,
        limit=limit if records else (ranking.limit if ranking else None), pick=pick,
        share_of=share_of, model=model, question=p.question,
        time=time if window is None and model is not None and group_by else None)


def _averaged(span: Span, words: Sequence[str], catalog: Catalog) -> Span:
    """An amount figure said right after "avg" / "average": the mean of the same deals.

    "Avg won amount last fiscal year": the model's figure with the amount's scope and base
    ``avg_amount`` (the average won deal size), not the won total.
    """
    if span.start == 0 or words[span.start - 1] not in grammar.AVERAGE_WORDS:
        return span
    names = []
    for model in catalog.answerable:
        meta = model.answerable
        for name in span.names:
            m = meta.measure(name)
            if m is not None and m.base == "amount":
                names += [a.name for a in meta.measures_of("avg_amount") if a.scope == m.scope]
    names = list(dict.fromkeys(names))
    if not names:
        return span
    terms = tuple(Term(tuple(words[span.start - 1:span.end]), "measure", n,
                       frozenset({model.name for model in catalog.answerable
                                  if model.answerable.measure(n) is not None}))
                  for n in names)
    return Span("measure", names[0], span.start - 1, span.end, terms, 2, tuple(names))


def _which_unit_of(words: list[str], window: Window | None, superlative: str | None
                   ) -> str | None:
    """The unit of a period of several that a question picks one of, else None.

    "which of the last 4 quarters had the most …", "of the last 6 months, which one …".

    >>> import datetime as dt
    >>> w = Window(start=dt.date(2025, 10, 1), end=dt.date(2026, 9, 30), label="", grain=
    ...            "quarter", kind="last_quarters", count=4)
    >>> _which_unit_of("which of the last 4 quarters had the most bookings".split(), w, "most")
    'quarter'
    """
    if window is None or superlative is None or (window.count or 1) < 2 or \
            window.grain not in {"quarter", "month", "year", "week"}:
        return None
    joined = " ".join(words)
    if re.search(r"\b(?:which|what)\s+(?:one|of\b|(?:quarter|month|year|week)s?\b)", joined):
        return window.grain
    return None


def _without_own_parts(p: Parse, filters: list[Condition], measure: str,
                       model: Model) -> list[Condition]:
    """The filters without a flag that is one side of the figure asked.

    "do we win big deals less often? compare WR …": "win" is said of the win rate, whose
    won and lost deals it compares; as a filter it would leave it nothing to compare (100%).
    A side said in other words ("win rate of lost deals") is reported, not applied.
    """
    meta = model.answerable
    head = meta.measure(measure)
    if head is None or not head.companions:
        return filters
    parts = {f for c in head.companions if (m := meta.measure(c)) for f in m.scope} - set(
        head.scope)
    kept = []
    for c in filters:
        if c.kind != "flag" or c.field not in parts or c.op != "is_true":
            kept.append(c)
            continue
        said = stem((c.text or "").split()[0]) if c.text else ""
        if said not in {stem(w) for w in (head.label or measure).lower().replace("_", " ").split()}:
            p.not_applied.append(NotApplied(text=c.text or c.field, reason=(
                f"{(head.label or measure).lower()} compares these deals with the rest")))
    return kept


def query_follows(context: Context) -> bool:
    """Whether the thread has a previous question (a follow-up may say what "best" means)."""
    return context.previous is not None


def _asked_measures(p: Parse, measures: list[Span]) -> list[Span]:
    """The measure phrases that name what is asked, not a word used as a modifier.

    In "prepping for a pipeline review ... what our win rate has been", "pipeline" qualifies
    another noun ("review") and is not asked: a one-word measure phrase followed by a word no
    phrase uses, in a question that names another measure it is not joined to, is dropped.
    """
    if len(measures) < 2:
        return measures
    spanned = {i for s in p.spans for i in range(s.start, s.end)} | {
        i for v in p.values for i in range(v.start, v.end)}
    keep = []
    for s in measures:
        nxt = s.end
        others = [o for o in measures if o is not s]
        joined = any(abs(o.start - s.end) <= 2 or abs(s.start - o.end) <= 2 for o in others)
        if s.length == 1 and nxt < len(p.words) and nxt not in spanned and \
                p.words[nxt].isalpha() and not _function_word(p.words[nxt]) and not joined:
            p.used.update(range(s.start, s.end + 1))  # "pipeline review": one noun
            continue
        keep.append(s)
    return keep


def _figure_with_label(measures: list[Span], unit: str, catalog: Catalog) -> list[Span]:
    """The figure of `unit` a label asked beside it goes with (catalog: companions).

    "What bottleneck level would you give Qualification, and how many days on average do
    deals sit there?": the level is a companion of the average days in stage; that figure
    is answered, its level beside it.
    """
    for span in measures:
        for model in catalog.answerable:
            meta = model.answerable
            for name in span.names:
                label = meta.measure(name)
                if label is None or label.unit != "text":
                    continue
                figure = next((m for m in meta.measures if m.unit == unit and
                               label.name in m.companions), None)
                if figure is not None:
                    term = Term(words=(figure.name,), kind="measure", name=figure.name,
                                models=frozenset({model.name}))
                    return [Span(kind="measure", name=figure.name, start=span.start,
                                 end=span.end, terms=(term,), exact=span.exact,
                                 names=(figure.name,))]
    return []


def _same_column(meta: Answerable, a: str, b: str) -> bool:
    """Whether two flags of a model pick the same rows (one column: "open", "ongoing")."""
    fa, fb = meta.flag(a), meta.flag(b)
    return a == b or fa is not None and fb is not None and fa.column == fb.column


def _has_unit(span: Span, unit: str, catalog: Catalog) -> bool:
    """Whether a measure phrase names a measure of `unit` in some model."""
    for model in catalog.answerable:
        for name in span.names:
            m = model.answerable.measure(name)
            if m is not None and m.unit == unit:
                return True
    return False


def _bases_of(span: Span, catalog: Catalog) -> tuple[str, ...]:
    """The bases (kinds of figure) a measure phrase's names have in the catalog."""
    out = []
    for model in catalog.answerable:
        for name in span.names:
            m = model.answerable.measure(name)
            if m is not None and m.base and m.base not in out:
                out.append(m.base)
    return tuple(out)


def _qualifiers(words: Sequence[str], measures: list[Span], base: str | None, dims: list[Span],
                record_dims: set[str], catalog: Catalog) -> list[Span]:
    """Measure words used as outcome qualifiers of the records ("won deals", "lost deals").

    A measure phrase with a scope (a flag) made of one word and the records' noun ("lost
    deals"), or standing right before that noun, qualifies the deals when the question
    measures something else: a base ("how many", "total value") or another measure.
    """
    nouns_at = {s.start for s in dims if s.name in record_dims}
    nouns = {w for model in catalog.answerable for d in model.answerable.dimensions
             if d.name in record_dims for syn in (d.name, *d.synonyms) for w in syn.split()}
    found = [s for s in measures if _scope_of(s, catalog) and (
        s.length == 1 and s.end in nouns_at or s.length == 2 and words[s.end - 1] in nouns or
        s.length == 2 and words[s.start] in nouns and s.start > 0 and  # "for deals won"
        words[s.start - 1] in {"for", "of", "on", "among", "across", "from"})]
    if base is None and len(found) == len(measures):
        return []
    return found


def _scope_of(span: Span, catalog: Catalog) -> list[str]:
    """The flags a measure phrase carries ("deals won" → won), from the catalog."""
    for model in catalog.answerable:
        for name in span.names:
            m = model.answerable.measure(name)
            if m is not None and m.scope:
                return list(m.scope)
    return []


#: Comparatives and superlatives of duration: they ask for a figure in days.
_DURATION_WORDS = frozenset({"longer", "longest", "shorter", "shortest", "faster", "fastest",
                             "slower", "slowest", "quicker", "quickest"})


def _union(a: Window, b: Window) -> Window:
    start, end = min(a.start, b.start), max(a.end, b.end)
    return Window(start=start, end=end, label=f"{a.label} – {b.label}", grain="range",
                  kind="between", text=f"{a.text} and {b.text}", time=a.time)


def _interval(cond: Condition) -> tuple[float, float]:
    """The values a bound keeps, as an interval (open or closed ends alike)."""
    v = [float(x) for x in cond.values]
    return {"gt": (v[0], math.inf), "gte": (v[0], math.inf), "lt": (-math.inf, v[0]),
            "lte": (-math.inf, v[0])}.get(cond.op, (v[0], v[-1]))


def _range_sides(conditions: list[Condition], p: Parse) -> list[Condition]:
    """The second of two ranges of one number set against each other, as a comparison's side.

    "deals >= 100K vs under 100K": the second range is the other side of the comparison,
    not a second filter (which, with the first, would keep no row).
    """
    bounds = [c for c in conditions if c.kind == "number" and c.values]
    for i, a in enumerate(bounds):
        for b in bounds[i + 1:]:
            if a.field != b.field:
                continue
            (lo1, hi1), (lo2, hi2) = _interval(a), _interval(b)
            first = (b.text.split() or [""])[0]
            last_b = max((k for k, w in enumerate(p.words) if w == first), default=0)
            start, end = sorted((_position(a, p), last_b))
            between = set(p.words[start:end])
            if (hi1 <= lo2 or hi2 <= lo1) and between & grammar.COMPARE:
                return [b]
    return []


#: "… vs the rest", "vs smaller ones", "vs all the other wins": the other side of one range.
_THE_REST_OF_RANGE = re.compile(r"\b(?:vs|versus|compared to|against)\s+(?:the\s+rest|"
                                r"everything\s+else|everyone\s+else|the\s+others|(?:all\s+)?"
                                r"(?:the\s+)?others?\s+\w+|(?:the\s+)?(?:smaller|bigger|larger|"
                                r"lower|higher)\s+(?:ones|\w+))\b")
_COMPLEMENT = {"gt": "lte", "gte": "lt", "lt": "gte", "lte": "gt"}


def _range_rest(conditions: list[Condition], p: Parse) -> list[Condition]:
    """One range of a number set against the rest ("1,000+ employees vs smaller ones")."""
    bounds = [c for c in conditions if c.kind == "number" and c.op in _COMPLEMENT]
    if len(bounds) != 1:
        return []
    bound = bounds[0]
    text = " ".join(p.words)
    rest = _THE_REST_OF_RANGE.search(text)
    if rest is None:
        return []
    at = len(text[:rest.start()].split())
    p.take(at, at + len(rest.group(0).split()))
    return [bound.model_copy(update={"op": _COMPLEMENT[bound.op],
                                     "text": f"other than {bound.text}"})]


def _previous_scope(context: Context) -> list[str]:
    """The flags the previous figure was about ("how much $ was that" after slipped deals)."""
    prev = context.previous
    if prev is None or prev.model is None:
        return []
    flags = [c.field for c in prev.filters if c.kind == "flag"]
    meta = context.catalog.model(prev.model).answerable
    for name in prev.measures[:1]:
        if (m := meta.measure(name)) is not None:
            flags += [f for f in m.scope if f not in flags]
    return flags


def _previous(window: Window, context: Context) -> Window:
    """The period before `window`: for a to-date one, the same days of the unit before."""
    fsm = context.fiscal_year_start_month
    period = before_to_date(period_of(window), fsm) if window.kind in TO_DATE_KINDS else \
        previous_period(period_of(window), fsm)
    return window_of(period, "the period before").model_copy(update={"time": window.time})


#: "… than this one", "… vs the one before": a period named by pointing at the one named.
#: A ranking by change ("grew the most", "biggest drop"), and which way.
# ("grew won $ the most": up to three words of the figure between the verb and "most")
_MOVER = re.compile(r"\b(?:(?:grew|grown|grow|increased|rose|risen|improved|gained|jumped|"
                    r"climbed|went up)\s+(?:\S+\s+){0,3}?(?:the\s+)?most|(?P<down>(?:dropped|"
                    r"fell|fallen|declined|decreased|shrank|shrunk|worsened|went down)\s+"
                    r"(?:\S+\s+){0,3}?(?:the\s+)?most|"
                    r"biggest\s+(?:drop|decline|decrease|fall|loser)s?)|biggest\s+(?:movers?|"
                    r"increases?|gains?|"
                    r"jumps?|growth|rise|improvement|winners?)|most\s+improved)\b")


def _two_periods(window: Window, context: Context) -> tuple[Window, Window]:
    """The period a change is measured to, and the one it is measured from.

    A range of two whole quarters or months ("from the quarter before last to last
    quarter") is its two parts; one period is measured from the one before it.
    """
    fsm = context.fiscal_year_start_month
    if window.grain == "range":
        for grain in ("quarter", "month"):
            first = current(grain, window.start, fsm)
            last = current(grain, window.end, fsm)
            if first.start == window.start and last.end == window.end and \
                    previous_period(last, fsm).start == first.start:
                return (window_of(last, last.label).model_copy(update={"time": window.time}),
                        window_of(first, first.label).model_copy(update={"time": window.time}))
    return window, _previous(window, context)


#: Sizes said with no line ("big deals"): the data draws none, so the reader asks where.
_VAGUE_SIZES = frozenset({"big", "large", "small", "huge", "tiny", "sizable", "sizeable"})
#: "… vs everyone else", "compared with the rest": a member against all the others.
_THE_REST = re.compile(r"\b(?:vs|versus|against|compared? (?:to|with)|than|or)\s+(?P<rest>(?:"
                       r"everyone|everybody|everything|everywhere|all|anyone|anything|"
                       r"anywhere) else|"
                       r"elsewhere|"
                       r"(?:the )?rest(?: of (?:the |our )?\w+)?|"
                       r"(?:all )?(?:the )?others?|(?:all|every|each) other \w+"
                       r"(?: (?:put together|combined|together))?)\b")
_THE_WHOLE = re.compile(r"\b(?:vs|versus|against|compared? (?:to|with)|than|beating|beat|beats|"
                        r"outperforming|above|below)\s+(?:(?:the |our )?(?:[\w%]+ ){0,3}?"
                        r"(?:for|of|across|at|in) )?(?P<whole>(?:the |our )?(?:whole |entire )?"
                        r"(?:company|org|organi[sz]ation|overall|company average|team "
                        r"average|all (?:the |our )?(?:deals|wins|losses|opps|"
                        r"opportunities)))\b")  # ("compared with the overdue share for the whole
#                                    company", "days to close on Retail wins vs all wins")
#: "…, and how many of those (them) we won": a part of the deals counted first.
_OF_THOSE = re.compile(r"\b(?:and\s+)?how\s+(?:many|much)\s+of\s+(?:those|them|these)\b")
_THIS_ONE = re.compile(r"\b(?:than|vs|versus|against|to|with|and|over|on|from)\s+"
                       r"(?P<what>this|that|the)\s+"
                       r"(?:one(?P<before>\s+before(?:\s+(?:it|that))?)?|(?:fiscal\s+)?(?:quarter|qtr|q|"
                       r"month|year|yr|half|period)(?P<unit_before>\s+before(?:\s+(?:it|that))?))\b")


def _relate_windows(p: Parse, context: Context) -> None:
    """Periods named against another one, resolved against it (in `p.windows`).

    - "last FY, H1 vs H2": halves or quarters without a year are those of the year named;
    - "last quarter vs the same quarter a year earlier": a year before the first period;
    - "YTD vs last year", "QTD vs last quarter": the same days of the unit before;
    - "next quarter … than this one", "last quarter vs the one before": the current one or
      the one before the period named.
    """
    fsm = context.fiscal_year_start_month
    pairs = list(p.windows)
    for k in range(1, len(pairs)):
        # "calendar 2025, Jan 1 to Dec 31": dates with no year of their own are in the year
        # named before them; the same days again restate that period
        w, at = pairs[k]
        before = pairs[k - 1][0]
        if w.kind == "between" and not re.search(r"\d{4}", w.text or "") and \
                before.start.year == before.end.year and w.start.year != before.start.year:
            years = 12 * (before.start.year - w.start.year)
            if (add_months(w.start, years), add_months(w.end, years)) == (before.start,
                                                                            before.end):
                pairs[k] = (before, at)
    pairs = [pair for k, pair in enumerate(pairs) if not k or (
        pair[0].start, pair[0].end) != (pairs[k - 1][0].start, pairs[k - 1][0].end)]
    if len(pairs) >= 3:
        # "how are we doing vs last yr? this FY so far vs same point last yr": the pair set
        # against each other last says what the loose mention before it meant
        for k in range(len(pairs) - 2, 0, -1):
            gap = set(p.words[pairs[k][1]:pairs[k + 1][1]])
            own = all(re.search(r"\d{2}\b|\b(?:this|last|next|previous|prior|current|same|"
                                r"ytd|qtd|mtd|fy|so far|to date)\b", w.text or "")
                      for w, _ in pairs[k:k + 2])  # ("last FY, H1 vs H2": halves of that FY)
            if own and gap & (grammar.COMPARE | {"than"}):
                pairs = pairs[k:k + 2]
                p.windows = list(pairs)
                break
    years = [(w, at) for w, at in pairs if w.grain == "year" and w.kind != "all"]
    bare = [(w, at) for w, at in pairs if w.grain in {"half", "quarter"} and not re.search(
        r"\d{2}\b|\b(?:this|last|next|previous|prior|current|coming|past)\b", w.text)]
    if len(years) == 1 and bare:
        year = period_of(years[0][0])
        pairs = [(window_of(in_year(period_of(w), year, fsm), w.text), at)
                 if (w, at) in bare else (w, at) for w, at in pairs if (w, at) != years[0]]
    if len(pairs) >= 2:
        (first, _), (second, at) = pairs[0], pairs[1]
        if second.kind == "same_last_year" and first.kind != "same_last_year":
            pairs[1] = (window_of(year_before(period_of(first), fsm), second.text), at)
        elif first.kind in TO_DATE_KINDS and second.end < first.start and second.grain == {
                "ytd": "year", "qtd": "quarter", "mtd": "month"}[first.kind] and \
                second.kind not in TO_DATE_KINDS and not set(p.words[max(0, at - 3):at]) & {
                    "all", "whole", "full", "entire", "complete"} and not set(
                    p.words[at:at + len((second.text or "").split()) + 2]) & {
                    "total", "whole", "full", "entire"}:  # ("all of last month", "last
            # quarter's total": the whole of it)
            pairs[1] = (window_of(before_to_date(period_of(first), fsm), second.text), at)
            for k in range(max(0, at - 3), at):  # "vs the same point last year"
                if p.words[k] in {"point", "time", "stage", "date"} and k > 0 and \
                        p.words[k - 1] == "same":
                    p.take(k - 1, k + 1)
    if len(pairs) == 1:
        text = " ".join(p.words)
        m = _THIS_ONE.search(text)
        first = pairs[0][0]
        yoy = re.search(r"\b(?:yoy|year over year|year on year)\b", text)
        qoq = re.search(r"\b(?:(?P<q>qoq|quarter over quarter|quarter on quarter)|(?P<m>mom|"
                        r"month over month|month on month))\b", text)
        if yoy is not None and first.grain in {"quarter", "month", "half", "range"} and \
                first.kind not in TO_DATE_KINDS:
            # "YoY growth in bookings for last quarter": against the same period a year before
            at = len(text[:yoy.start()].split())
            p.take(at, at + len(yoy.group(0).split()))
            pairs.append((window_of(year_before(period_of(first), fsm), yoy.group(0)), at))
            m = None
        elif qoq is not None and m is None and first.kind not in TO_DATE_KINDS and \
                first.grain == ("quarter" if qoq.group("q") else "month"):
            # "QoQ change in won $ for last quarter": against the quarter before it
            at = len(text[:qoq.start()].split())
            p.take(at, at + len(qoq.group(0).split()))
            pairs.append((window_of(previous_period(period_of(first), fsm), qoq.group(0)), at))
            m = None
        if m is not None and first.grain in {"quarter", "month", "half", "year"}:
            at = len(text[:m.start("what")].split())
            n = len(m.group(0).split()) - 1
            other = previous_period(period_of(first), fsm) if m.group("before") or \
                m.group("unit_before") else \
                current(first.grain, context.as_of, fsm)
            if other.start != first.start:
                p.take(at, at + n)
                pairs.append((window_of(other, " ".join(p.words[at:at + n])), at))
    p.windows[:] = pairs


def _flag_units(p: Parse, catalog: Catalog) -> None:
    """A flag said as a figure names that flag's figure, not a filter on every figure asked.

    "won $ and win rate": the flag with a dollar sign is its amount. "how many deals did we
    win and lose": two flags no row has together, joined by "and" under a count (or an
    amount) word, are a count of each. The measure is the one each model declares with that
    scope and base.
    """
    def measure_span(flag: Span, base: str, start: int, end: int) -> Span | None:
        terms = tuple(Term(tuple(p.words[start:end]), "measure", m.name,
                           frozenset({model.name}))
                      for model in catalog.answerable for m in model.answerable.measures
                      if m.base == base and m.scope == (flag.name,))
        names = tuple(dict.fromkeys(t.name for t in terms))
        return Span("measure", names[0], start, end, terms, 2, names) if names else None

    flags = sorted((s for s in p.spans if s.kind == "flag"), key=lambda s: s.start)
    swaps: dict[int, Span] = {}
    for flag in flags:
        at = flag.end if flag.end < len(p.words) and p.words[flag.end] == "$" else \
            flag.start - 1 if flag.start > 0 and p.words[flag.start - 1] in {"$", "total"} \
            else None  # ("won $", "$ won", "total closed-won")
        if at is None and flag.length == 1 and flag.start >= 3 and \
                p.words[flag.start - 3] in {"what", "whats"} and \
                p.words[flag.start - 2] in {"did", "have", "has"} and \
                p.words[flag.start - 1] in {"we", "they", "you", "i"} and \
                any(s.kind == "measure" for s in p.spans):
            # "what did we book, and what was the win rate?": the amount the verb names is
            # asked beside the other figure, not a side of it
            span = measure_span(flag, "amount", flag.start, flag.end)
            if span is not None and len(flags) == 1:
                swaps[id(flag)] = span
            continue
        if at is None or at in p.used or any(
                s.start <= at < s.end for s in p.spans if s is not flag):
            continue
        span = measure_span(flag, "amount", min(at, flag.start), max(at + 1, flag.end))
        if span is not None and len(flags) == 1:  # (with other flags: the amount of all)
            swaps[id(flag)] = span
    base = "count" if has(p.words, *grammar.COUNT_WORDS) else \
        "amount" if _amount_asked(p.words) else None
    for one, other in zip(flags, flags[1:], strict=False):
        if base is None or id(one) in swaps or id(other) in swaps or \
                p.words[one.end:other.start] not in (["and"], ["&"]):
            continue
        excluded = {x for model in catalog.answerable
                    if (f := model.answerable.flag(one.name)) is not None for x in f.excludes}
        if other.name not in excluded:
            continue
        pair = [measure_span(f, base, f.start, f.end) for f in (one, other)]
        if all(pair):
            swaps[id(one)], swaps[id(other)] = pair
    if swaps:
        p.spans = [swaps.get(id(s), s) for s in p.spans]
        p.flag_figures.update(s.start for s in swaps.values())


def _one_figure_per_flag(meta, chosen: list[str], filters: list[Condition],
                         spans: list[Span], p: Parse) -> tuple[list[str], list[Condition]]:
    """Two flags no row has together, each asked of a figure: that figure for each of them.

    "do won deals close faster than lost ones?", "avg days to close, won vs lost": the
    days to close of the won deals and of the lost ones (the figures the model declares
    with that base and each flag as scope), never one figure of deals both won and lost.
    """
    said: dict[str, int] = {}
    for c in filters:
        if c.kind == "flag" and c.text:
            said.setdefault(c.field, p.question.lower().find(c.text.lower()))
    for name in chosen:
        m = meta.measure(name)
        span = next((s for s in spans if name in s.names), None)
        for flag in (m.scope if m is not None else ()):
            said.setdefault(flag, len(" ".join(p.words[:span.start])) if span else 0)
    pair = next(((a, b) for a in said for b in said if a != b and (
        f := meta.flag(a)) is not None and b in f.excludes), None)
    if pair is None:
        return chosen, filters
    pair = tuple(sorted(pair, key=lambda f: said[f]))
    out: list[str] = []
    for name in chosen:
        m = meta.measure(name)
        each = [next((v.name for v in meta.measures_of(m.base) if v.scope == (f,)), None)
                for f in pair] if m is not None and m.base else [None]
        out += each if all(each) else [name]
    if out == chosen and "been" in p.words:
        # "the deals sitting in Negotiation right now - how long have they been in that
        # stage?": said in the present perfect, the time so far of the rows the flag picks
        # (the figure of the same base scoped by that flag)
        now = []
        for name in chosen:
            m = meta.measure(name)
            now.append(next((v.name for c in filters if m is not None and m.base and
                             c.kind == "flag" and c.field in pair and c.field not in m.scope
                             for v in meta.measures_of(m.base) if len(v.scope) == 1 and
                             _same_column(meta, v.scope[0], c.field)), name))
        if now != chosen:
            return now, [c for c in filters if not (c.kind == "flag" and c.field in pair)]
    if out == chosen:
        # "slowest stage rn (avg days)": a flag the figure's own scope excludes, with no
        # figure of that flag to set beside it, gives way to the figure asked, said so
        scoped = {f for name in chosen if (m := meta.measure(name)) is not None
                  for f in m.scope}
        clash = [c for c in filters if c.kind == "flag" and c.field in pair and
                 c.field not in scoped and set(pair) & scoped]
        own = next((f for f in pair if f in scoped), None)
        label = (f.label if (f := meta.flag(own)) is not None and f.label else own) or ""
        for c in clash:
            p.not_applied.append(NotApplied(text=c.text or c.field,
                                            reason=f"{_SCOPE_CLASH} {label}".strip()))
        return chosen, [c for c in filters if c not in clash]
    return list(dict.fromkeys(out)), [c for c in filters
                                      if not (c.kind == "flag" and c.field in pair)]


def _record_dimensions(catalog: Catalog) -> set[str]:
    """Dimensions naming one record of a record-grain model (the deal itself)."""
    out = set()
    for model in catalog.answerable:
        meta = model.answerable
        if meta.record_columns:
            for dim in meta.dimensions:
                # the grain, or the column naming each listed record (a stage visit's deal)
                if dim.column in meta.grain or dim.id_column in meta.grain or \
                        dim.column == meta.record_columns[0]:
                    out.add(dim.name)
    return out


def _record_order(superlative: str | None, numbers: list[Span], meta, words: Sequence[str],
                  time: str | None = None) -> Order | None:
    """How records are ordered: the number named, the superlative, else the model default.

    A date's superlative orders by the date the question names ("the most recently created
    deal": its created date), else by the model's own date.
    """
    field = f"time:{time}" if time and any(t.name == time for t in meta.times) else "time"
    if superlative in {"soonest", "earliest", "next"} or has(words, "closes soonest",
                                                              "closing soonest"):
        return Order(field=field, desc=False)
    if superlative in {"latest", "newest"}:
        return Order(field=field, desc=True)
    at = list(words).index(superlative) if superlative in words else -1
    if superlative in {"oldest", "youngest"} and words[at + 1:at + 3] in (
            ["close", "date"], ["closing", "date"]):
        # "the oldest close date on a deal still open": the deal's own date, earliest first
        return Order(field="time", desc=superlative == "youngest")
    if superlative in {"oldest", "youngest"} and not numbers and meta.times:
        # "the 5 oldest open deals": the age of a deal runs from its first other date (the
        # day it was created), oldest first
        return Order(field=f"time:{meta.times[0].name}", desc=superlative == "youngest")
    desc = grammar.direction_of(superlative or "biggest", "currency") != "bottom"
    # "… top 3 by amount": the number said after "by" orders them
    numbers = sorted(numbers, key=lambda s: not (s.start > 0 and words[s.start - 1] == "by"))
    for span in numbers:
        if meta.number(span.name):
            return Order(field=span.name, desc=desc)
    if meta.record_order:
        key = meta.record_order[0]
        number = next((n for n in meta.numbers if n.column == key.column), None)
        if number is not None:
            return Order(field=number.name, desc=desc if superlative else key.desc)
    return None


def _read_samples(p: Parse, flags: list[Span], record_dims: set[str]) -> list[Span]:
    """Bounds on how many records a group holds ("min 20 closed opps"); the flags left.

    A bound followed by flags and the records' noun counts those records per group: the
    condition becomes ``?records:<flags>`` (resolved to the model's count measure of that
    scope, a HAVING), and its flags only say what is counted, not which rows are read.
    """
    for k, cond in enumerate(p.conditions):
        if cond.field not in {"?number", "?count"}:
            continue
        said = cond.text.removeprefix("not ").split()  # ("skip any under 10": inverted)
        j = after = _position(cond.model_copy(update={"text": " ".join(said)}), p) + len(said)
        scope = []
        while (flag := next((f for f in flags if f.start == j), None)) is not None:
            scope.append(flag)
            j = flag.end
        noun = next((s for s in p.spans if s.kind == "dimension" and s.start == j and
                     s.name in record_dims), None)
        if noun is None and not (scope and (p.words[j - 1].endswith("s") or j == len(p.words)
                                            or p.words[j] in {"one", "ones"})):
            continue  # (a flag said as a plural noun counts too: "at least 10 wins"; so does
            # one that ends the question: "ignore any with fewer than 30 closed")
        end = noun.end if noun is not None else j
        p.conditions[k] = cond.model_copy(update={
            "field": "?records:" + ",".join(f.name for f in scope),
            "text": " ".join([cond.text, *p.words[after:end]])})
        if noun is not None:
            p.spans.remove(noun)
            p.take(noun.start, noun.end)
        flags = [f for f in flags if f not in scope]
    return flags


#: Words that may stand between a number named and its bound ("probability is above 60%",
#: "accounts with over 1,000 employees", "amount of at least $50k").
_LINKS = frozenset({"of", "is", "are", "was", "were", "at", "with", "w", "than", "that", "a", "in",
                    "an", "the", "to", "be"})


def _numbers_near(cond: Condition, numbers: list[Span], p: Parse, names: set[str]) -> set[str]:
    """The numbers named right before or right after a bound: what it bounds.

    "open deals above 200k but probability under 25 pct": "probability" bounds the second
    only; the first is on a number of its own unit. Only the one named number there is, when
    none is next to any bound, is taken for all ("probability 60% or more").
    """
    at = _position(cond, p)
    end = at + len(cond.text.removeprefix("not ").split())

    def gap(a: int, b: int) -> bool:
        return a <= b and all(p.words[k] in _LINKS for k in range(a, b))

    starts = {_position(c, p) for c in p.conditions}
    before = [s for s in numbers if gap(s.end, at)]
    # ("under 20k with probability over 50 percent": probability has its own bound after it)
    after = [s for s in numbers if gap(end, s.start) and not any(
        gap(s.end, k) for k in starts if k != at)]
    near = before or after
    if near:
        return {near[0].name}
    tied = any(gap(s.end, _position(c, p)) or gap(_position(c, p) + len(c.text.split()),
                                                   s.start)
               for s in numbers for c in p.conditions)
    return set() if tied else names


def _resolve_number(cond: Condition, model: str | None, catalog: Catalog,
                    named: set[str], group_by: list[str], measures: list[str],
                    words: Sequence[str] = ()) -> Condition | None:
    """A bound's field: the number named near it, a number of that unit, or a measure."""
    if model is None:
        return None
    meta = catalog.model(model).answerable
    unit = cond.field[1:]
    if unit.startswith("records:"):  # "min 20 closed opps": the count of such records
        scope = {f for f in unit.split(":", 1)[1].split(",") if f}
        counts = [m for m in meta.measures_of("count") if set(m.scope) == scope]
        return cond.model_copy(update={"field": counts[0].name}) if counts else None

    def on(n) -> Condition:  # noqa: ANN001 - a catalog Number
        # "3 or more" says nothing of what is counted: the label names it ("push count ...")
        said = set(cond.text.split())
        text = cond.text if n.unit == "currency" or said & set(
            n.label.split()) or "never" in said else f"{n.label} {cond.text}"
        values = cond.values
        if unit == "percent" and n.percent_scale != 1:  # "60%" read 0.6; the column holds 60
            values = [round(v * n.percent_scale, 9) for v in values]
        return cond.model_copy(update={"field": n.name, "text": text, "values": values})

    for name in named:
        n = meta.number(name)
        if n is not None and (unit in {"number", n.unit} or n.unit == "number"):
            return on(n)
    if group_by:  # "stages over 60 days": a bound on the grouped figure
        for name in measures:
            m = meta.measure(name)
            if m is not None and (m.unit == unit or unit == "number"):
                label = (m.label or m.name.replace("_", " ")).lower()
                text = cond.text if set(label.split()) & set(cond.text.split()) or \
                    unit == "days" else f"{label} {cond.text}"  # "win rate above 35%"
                return cond.model_copy(update={"field": m.name, "text": text})
    wanted = "currency" if unit == "number" else unit
    said = {stem(w) for w in words}
    for n in meta.numbers:
        if n.unit != wanted:
            continue
        # the amount is the default ("deals over $1M"); a number of another unit must be
        # said, at least by a word of its own ("stuck … 90 days": days stuck), else
        # "haven't been touched in 90+ days" would read days overdue
        own = {stem(w) for syn in (*n.synonyms, n.label) for w in syn.split()
               if w not in grammar.FILLER and w not in _UNIT_WORDS}
        text = f" {' '.join(words)} "
        if wanted == "currency" or not words or own & said or any(
                f" {syn} " in text for syn in n.synonyms if " " in syn):  # ("been sitting")
            return on(n)
    return None


def _split_share(words: Sequence[str], filters: list[Condition], p: Parse
                 ) -> tuple[list[Condition], list[Condition]]:
    """"What % of pipeline is overdue": the part after the verb is the share's numerator."""
    text = " ".join(words)
    share = grammar.SHARE.search(text)
    after = share.end() if share else 0
    m = re.search(r"\b(is|are|was|were|did we|do we|that|sit|sits|sitting|come from|came from|"
                  r"comes from|came in|come in|came through|come through|have been|has been|"
                  r"have|has|had|lack|lacks)\b",
                  text[after:])
    if not m and share and filters:
        # "the past-due share of its open $": the part named right before "share"
        at = len(text[:share.start()].split())
        part = [f for f in filters if f.kind == "flag" and at - 3 <= _position(f, p) < at]
        if part and len(part) < len(filters) + 1:
            return part, [f for f in filters if f not in part]
    if not m or not filters:
        return [], filters
    cut = len(text[:after + m.start()].split())
    part = [f for f in filters if _position(f, p) >= cut]
    if not part or len(part) == len(filters) and len(filters) > 1:
        return [], filters
    return part, [f for f in filters if f not in part]


def _whole_of(part: list[Condition], whole: list[Condition], vocab: Vocabulary
              ) -> list[Condition]:
    """The whole of a share, when a phrase read as the part's flag says another flag.

    "Of the deals we closed, what % did we win": "we closed" reads as won, which would make
    the share won of won; the word "closed" alone names the closed flag, which is the whole.
    """
    flags = {c.field for c in part if c.kind == "flag"}
    out = []
    for cond in whole:
        if cond.kind == "flag" and cond.field in flags:
            other = [s for w in cond.text.split() for s in vocab.spans([w])
                     if s.kind == "flag" and s.name != cond.field and s.exact == 2]
            if other:
                cond = cond.model_copy(update={"field": other[0].name})
        out.append(cond)
    return out


def _position(cond: Condition, p: Parse) -> int:
    first = (cond.text.split() or [""])[0].lower()
    for i, w in enumerate(p.words):
        if w == first:
            return i
    return len(p.words)


# ----------------------------------------------------------------------------- 6. the rest


def _finish(p: Parse, query: Query, context: Context) -> Query:
    """Defaults, and every word not used: a filler, a question back, or a note."""
    if query.unanswerable:
        return query
    vocab = Vocabulary.of(context.catalog)
    leftovers = [i for i in range(len(p.words)) if i not in p.used]
    unknown_names = []
    content = []
    for i in leftovers:
        word, raw = p.words[i], p.raw[i] if i < len(p.raw) else p.words[i]
        if _function_word(word):
            continue
        if word in _UNIT_WORDS and _in_unit(query, context.catalog, _UNIT_WORDS[word]):
            p.used.add(i)
            continue  # "total $ that slipped", "avg days in X": the figure's unit, as asked
        if i > 0 and p.words[i - 1] in {"per", "a", "/", "each"} and _per_unit(
                query, context.catalog) == word.rstrip("s"):
            p.used.add(i)
            continue  # "sales velocity ($ per day)": the span of time the figure is per
        if word in _VAGUE_SIZES and any(c.kind == "number" for c in query.filters):
            p.used.add(i)
            continue  # "tiny deals - less than 5k": the size said by its bound
        if word.isdigit() or grammar.parse_amount(word) is not None:
            if query.limit is not None and str(query.limit) == word:
                continue
            p.not_applied.append(NotApplied(text=raw, reason="a number I could not tie to a "
                                            "figure or a limit"))
            continue
        value = next((v for v in p.values if v.end == i), None)
        if value is not None and stem(word) in {
                stem(w) for phrase in [value.dimension.replace("_", " "),
                                       *vocab.phrases("dimension", value.dimension)]
                for w in phrase.split()}:
            p.used.add(i)
            continue  # "Phone Inquiry leads": the noun of the value's own dimension
        if _looks_like_name(p, i):
            unknown_names.append(raw)
            continue
        content.append((i, raw))
    if query.compare_window is not None:  # "which half did better": one of the two periods
        for i, w in enumerate(p.words[1:], 1):
            if p.words[i - 1] in {"which", "what"} and w in grammar.PERIOD_UNITS:
                p.used.add(i)
                content = [(k, raw) for k, raw in content if k != i]
    heads = _unknown_heads(p, content) + [
        p.raw[i] for i in _name_positions(p, unknown_names) if i + 1 < len(p.words) and
        p.words[i + 1] in _FIGURE_NOUNS]  # "customer churn rate": no name, a figure
    if heads and not query.clarify and not p.values:
        # "customer churn rate", "how many calls": the thing asked is not in the data, so a
        # stand-in figure (or a question about a name) would mislead
        return query.model_copy(update={"unanswerable": f"nothing in the data holds "
                                        f"'{' '.join(heads)}'"})
    measure_starts = {s.start for s in p.spans if s.kind == "measure"}
    named_at = _name_positions(p, unknown_names)
    kinds = [i for i in named_at if i + 1 in measure_starts and i - 1 not in named_at and
             f"{p.raw[i]}'s".lower() not in p.question.lower().replace("\u2019", "'") and
             not _like_a_value(p.raw[i], context)]  # (a person's name: "Zeb Quinn's" is asked)
    if kinds and not query.clarify:
        # "our Clari forecast": a name like no value, naming a kind of the figure (a tool or
        # a source the data does not hold): a figure of ours in its place would mislead
        i = kinds[0]
        span = next(s for s in p.spans if s.kind == "measure" and s.start == i + 1)
        return query.model_copy(update={"unanswerable": "nothing in the data holds "
                                        f"'{p.text(i, span.end)}'"})
    kind = _unknown_kind(p, content, query, context.catalog)
    if kind is not None and not query.clarify:
        # "how are our strategic accounts doing?": no such group of accounts is held; which
        # of the accounts' own attributes is meant is asked, never guessed
        said, plural, options = kind
        return query.model_copy(update={"clarify": Clarify(
            question=f"The data has no '{said}' group of {plural}. Which {plural} do you mean? "
                     "They can be narrowed by:", options=options, text=said)})
    if unknown_names and not query.clarify:
        query = _report_words(p, query, content, vocab, context)
        query = query.model_copy(update={"not_applied": [*query.not_applied, *p.not_applied]})
        name = " ".join(unknown_names[:3])
        near = context.values.closest(name, 3)
        return query.model_copy(update={"clarify": Clarify(
            question=f"I couldn't find '{name}' among the owners, accounts or other names in "
                     "the warehouse. Did you mean one of these?",
            options=[f"{value} ({dim})" for dim, value in near], text=name)})
    ambiguous = [v for v in p.values if v.ambiguous]
    if ambiguous and not query.clarify:
        m = ambiguous[0]
        return query.model_copy(update={"clarify": Clarify(
            question=f"'{m.text}' matches several {m.dimension.replace('_', ' ')}s. "
                     "Which one do you mean?", options=list(m.values[:6]), text=m.text)})
    if query.clarify:
        return query
    if query.model is None and not query.records:
        if content:
            words = " ".join(w for _, w in content[:4])
            return query.model_copy(update={
                "unanswerable": f"nothing in the data measures '{words}'",
                "not_applied": p.not_applied})
        if not p.values and not p.spans:
            examples = [m.answerable.label.lower() for m in context.catalog.answerable[:4]]
            return query.model_copy(update={"clarify": Clarify(
                question="Which figure do you mean? I can answer about "
                         f"{', '.join(examples)} and more.")})
        return query.model_copy(update={"unanswerable": "no model in the catalog has a figure "
                                        "matching the question"})
    heads = _unknown_heads(p, content)
    if heads:
        return query.model_copy(update={"unanswerable": f"nothing in the data holds "
                                        f"'{' '.join(heads)}'"})
    if query.intent != Intent.BRIEFING:
        query = _report_words(p, query, content, vocab, context)
        p.not_applied.extend(_figures_left(p, query, context.catalog))
    query = apply_defaults(query, context)
    return query.model_copy(update={"not_applied": [*query.not_applied, *p.not_applied]})


#: Words of question structure the composer reads from the text directly.
_STRUCTURE = frozenset({"why", "trend", "trending", "history", "quarterly", "monthly",
                        "compare", "change", "changed", "percent", "percentage", "share",
                        "growth", "grow", "grew", "yoy", "difference", "diff", "delta", "gap",
                        "left", "remaining",
                        "proportion", "fraction", "portion", "part", "%", "count", "counts",
                        "average", "avg",
                        "mean", "typical", "total", "sum", "combined", "together",
                        "only", "just", "break", "down", "split", "rank", "ranked", "sort",
                        "sorted", "far", "date", "own", "owns", "owned", "close", "closes",
                        "closing", "improve", "improved", "improving", "getting", "better",
                        "worse", "decline", "declining", "instead", "first", "last", "previous",
                        "next", "before", "after", "prior", "ago", "period", "how", "much",
                        "many", "times", "time", "long", "worth", "dollar", "dollars",
                        "wise", "which", "who", "whose", "up", "dated", "counting", "aside",
                        "setting"})
_STRUCTURE_STEMS = frozenset(stem(w) for w in _STRUCTURE)


def _report_words(p: Parse, query: Query, content: list[tuple[int, str]], vocab: Vocabulary,
                  context: Context) -> Query:
    """Words nothing read: a constraint not applied is said; the question's context is listed.

    A word like a catalog term, a value, a date word or a capitalised word could narrow it, so
    the answer says it was not applied. A word like none of them ("brought", "honestly",
    "prepping") names nothing the data holds: it is listed with the reading
    (`Query.context_words`), not in the answer. A word of a term the query applied ("leads"
    in "partner referrals vs web leads", read as lead sources) was said of it.
    """
    applied = {query.model, *query.measures, *query.group_by, query.compare_members,
               *(c.field for c in [*query.filters, *query.share_of])}
    around = []
    for i, raw in content:
        terms = vocab.terms_like(p.words[i])
        if terms and all(t.name in applied for t in terms):
            p.used.add(i)  # said of what was applied
        elif terms or is_date_word(p.words[i]) or _capital_mid_sentence(p, i) or \
                context.values.match([p.words[i]]) or _in_member_place(p, i):
            p.not_applied.append(NotApplied(text=raw, reason="a word I could not apply"))
        else:
            around.append(raw)
    return query.model_copy(update={"context_words": [*query.context_words, *around]})


def _written_as_name(p: Parse, word: str) -> bool:
    """Whether the question writes `word` capitalised mid-sentence ("on Prospect accounts")."""
    return any(m.group(0)[:1].isupper() and m.group(0)[1:2].islower() and not re.search(
        r"(?:^|[.!?;:]\s*)$", p.question[:m.start()].rstrip() + (" " if m.start() else ""))
        for m in re.finditer(rf"\b{re.escape(word)}\b", p.question, flags=re.IGNORECASE))


#: Words before a noun that say how many or which of the members, not a kind of them.
_NOT_A_KIND = frozenset({"whole", "entire", "other", "same", "different", "individual",
                         "specific", "particular", "certain", "various", "remaining", "current",
                         "former", "respective", "single", "own", "usual", "typical", "average"})


def _unknown_kind(p: Parse, content: list[tuple[int, str]], query: Query, catalog: Catalog
                  ) -> tuple[str, str, list[str]] | None:
    """A word naming a kind of members the data does not hold ("our strategic accounts").

    The word stands right before a dimension's noun, reads as nothing, and no filter on the
    members' own attributes (employees, industry, …) says what it means. Returns the word,
    the noun and the attributes a model with a row per member holds, else None.
    """
    nouns = {s.start: s for s in p.spans if s.kind == "dimension"}
    filtered = {c.field for c in query.filters}
    records = _record_dimensions(catalog) if any(i + 1 in nouns for i, _ in content) else set()
    for i, raw in content:
        span = nouns.get(i + 1)
        word = p.words[i]
        if span is None or span.name in TIME_DIMENSIONS or word in COMMON_WORDS or \
                span.name in records or word.endswith("ing") or \
                word in _NOT_A_KIND or word.isdigit() or is_date_word(word) or (
                p.words[i - 1] if i else "") not in {"", "the", "our", "my", "all", "of", "with",
                                                     "for", "on", "at", "in", "across", "are"}:
            continue
        home = next((m.answerable for m in catalog.answerable
                     if row_dimension(m.answerable) == span.name), None)
        if home is None:
            continue
        attributes = [d for d in home.dimensions if d.name != span.name and
                      d.name not in TIME_DIMENSIONS]
        if filtered & ({d.name for d in attributes} | {n.name for n in home.numbers}) or any(
                c.kind in {"number", "members"} for c in query.filters):
            return None  # ("the smb segment - accounts with fewer than 500 employees": said)
        options = [(d.label or d.name).replace("_", " ") for d in attributes] + [
            n.label or n.name.replace("_", " ") for n in home.numbers]
        if options:
            return raw, p.text(span.start, span.end), options[:6]
    return None


def _in_member_place(p: Parse, i: int) -> bool:
    """A word where a member is named ("won $ zorblat vs new biz", "open pipe for zorblat").

    A word there that names nothing could be a name the data lacks, so it is said.
    """
    before = p.words[i - 1] if i > 0 else ""
    after = p.words[i + 1] if i + 1 < len(p.words) else ""
    return (before in {"vs", "versus", "for", "from"} or after in {"vs", "versus"}) and \
        p.words[i] not in COMMON_WORDS


def _capital_mid_sentence(p: Parse, i: int) -> bool:
    raw = p.raw[i] if i < len(p.raw) else ""
    opens = re.search(rf"(?:^|[.!?;:]\s+){re.escape(raw)}\b", p.question.strip())
    return bool(raw[:1].isupper() and i > 0 and not opens)


def _looks_like_name(p: Parse, i: int) -> bool:
    """A capitalised word mid-sentence, a possessive, or a word after "rep"/"account"."""
    if i >= len(p.raw) or len(p.raw) != len(p.words):
        return False
    raw = p.raw[i]
    word = p.words[i]
    if i > 0 and (p.words[i - 1] in {"named", "called"} or p.words[i - 1] in {
            "account", "customer"} and raw[:1].isupper()) and word not in grammar.FILLER:
        return True  # "open deals for account Xyz": a name that matches nothing
    if "'" in raw:
        return False  # "I'm", "don't": contractions, not names
    possessive = re.search(rf"\b{re.escape(raw)}'s\b", p.question, flags=re.IGNORECASE)
    # a capital that starts a sentence ("… by stage. Mostly I want …") is no sign of a name
    opens = re.search(rf"(?:^|[.!?;:]\s+){re.escape(raw)}\b", p.question.strip())
    capital = raw[:1].isupper() and i > 0 and not raw.isupper() and not opens
    after_role = i > 0 and p.words[i - 1] in {"rep", "account", "owner", "customer", "named",
                                              "called", "at", "does"}
    if word in grammar.FILLER or len(word) < 3 or word in {"today", "tomorrow", "yesterday",
                                                            "tonight"} or \
            word.rstrip("s") in WEEKDAYS:
        return False  # ("tomorrow's meeting", "the Friday note": a day, no name)
    has_verb = i + 1 < len(p.words) and p.words[i + 1] in {"have", "has", "own", "owns",
                                                          "doing", "do"}
    return bool(possessive) or capital or (after_role and has_verb) or (
        p.words[i - 1] in {"does", "did", "is"} and has_verb if i > 0 else False)


def _like_a_value(name: str, context: Context) -> bool:
    """Whether an unknown name is close to a value of the data (a typo worth asking about)."""
    best = [(dim, value) for dim, value in context.values.closest(name, 3)
            if dim not in PERSON_DIMENSIONS]  # (a person would be "Clara's", not "Clara")
    return bool(best) and fuzz.WRatio(fold(name), fold(best[0][1])) >= 75


def _name_positions(p: Parse, names: list[str]) -> list[int]:
    """Where the words taken for unknown names stand."""
    return [i for i in range(len(p.words)) if i not in p.used and i < len(p.raw)
            and p.raw[i] in names]


def _unknown_heads(p: Parse, content: list[tuple[int, str]]) -> list[str]:
    """Unknown words in the slot of what is asked, so a stand-in figure would mislead.

    "which campaign" (the thing ranked), "average discount" (the thing averaged), "net
    revenue" / "gross margin" (a kind of the figure), "quota attainment" (a figure named
    by a compound): answering another figure in their place is worse than saying so.
    """
    heads = []
    measure_starts = {s.start for s in p.spans if s.kind == "measure"} - p.flag_figures
    # ("whats the total $ tied up in those": a unit of some figure, never a thing not held)
    unknown = {i: raw for i, raw in content if p.words[i] not in _UNIT_WORDS}
    dim_ends = {s.start: s.end for s in p.spans if s.kind == "dimension"}
    for w, word in enumerate(p.words):
        if word == "who":
            j = w + 1  # "who is the president?": the unknown thing is who is asked for
            while j < len(p.words) and p.words[j] in _COPULA_DETERMINERS:
                j += 1
            if j > w + 1 and j in unknown:
                heads.append(unknown[j])
            continue
        if word not in {"which", "what", "whats"}:
            continue
        # ("what are the top reasons we lost deals": past the copula and the ranking word)
        k = w + 1
        while k < len(p.words) and k - w <= 4 and (p.words[k] in _COPULA_DETERMINERS or
                                                   grammar.is_superlative(p.words[k])):
            k += 1
        skipped = k - (w + 1) if k > w + 2 else 0
        for j in range(w + 1 + skipped, min(w + 4 + skipped, len(p.words))):
            if p.words[j] in {"one", "ones"}:
                break  # "of our countries, which one brought in the least": one of those
            if j in dim_ends:
                span = next(s for s in p.spans if s.start == j and s.kind == "dimension")
                plural = all(p.words[k] in {f for term in span.terms for t in term.words
                                            for f in (t, plural_of(t))}
                             for k in range(j, dim_ends[j]))  # ("which 3 reps brought in")
                if dim_ends[j] in unknown and span.exact < 2 and not plural and \
                        not _verb_at(p, dim_ends[j]):  # ("which acount type holds the most")
                    # "which marketing campaign": "marketing" only looks like "market"; the
                    # unknown word after it is what is asked
                    heads.append(unknown[dim_ends[j]])
                break  # "which lead source brought ...": a known thing is asked
            if j in unknown and (_verb_at(p, j) or p.words[j - 1] in {"been", "being"}):
                break  # "which converts better", "what makes them best", "what's been fed":
                # a verb, not the thing asked
            if j in unknown:
                heads.append(unknown[j])  # "which marketing campaign": an unknown one
                break
    counted = _counted_at(p)
    for i, raw in sorted(unknown.items()):
        before = p.words[i - 1] if i > 0 else ""
        after = p.words[i + 1] if i + 1 < len(p.words) else ""
        asked = before in {"which", "what"} and not any(
            s.start == i + 1 and s.kind == "dimension" for s in p.spans) and not _verb_at(p, i)
        if p.words[i] in _SAYING:
            continue  # "the staff meeting said bookings …": a verb of saying, never a kind
        if after in _FIGURE_NOUNS:
            if heads and heads[-1] == raw:
                heads.pop()
            heads.append(f"{raw} {after}")  # "gross margin", "churn rate"
        elif asked or before in {"average", "avg", "mean", "total", "by", "per"} or \
                i + 1 in measure_starts and not _clause_ends_after(p, raw) or i == counted:
            heads.append(raw)  # "by product line": a grouping the data does not hold
    return list(dict.fromkeys(heads))


def _clause_ends_after(p: Parse, raw: str) -> bool:
    """Whether punctuation follows the word (the figure after it is not a kind of it).

    "managers sync - open pipeline", "keep mentioning "sales velocity"".
    """
    return bool(re.search(rf"(?<!\w){re.escape(raw)}\s*[-–—:;,.!?\"“”(]", p.question,
                          flags=re.IGNORECASE))


#: Nouns that make the word before them the kind of figure asked ("churn rate").
_FIGURE_NOUNS = frozenset({"rate", "attainment", "retention", "margin", "growth", "cost",
                           "costs", "ratio", "score", "spend", "roi", "price"})
#: "who is the …", "who are our …": what stands after them is who is asked for.
_COPULA_DETERMINERS = frozenset({"is", "are", "was", "were", "the", "a", "an", "our", "my"})
#: Verbs of saying: a noun before one says who said a thing ("the staff meeting said").
_SAYING = frozenset({"said", "says", "claimed", "claims", "mentioned", "thought", "thinks",
                     "suggested", "reported", "told", "reckons", "reckoned"})
#: Words that open a verb's object ("called it", "makes them", "holds the most").
_OBJECT_WORDS = frozenset({"it", "them", "him", "her", "us", "me", "you", "the", "a", "an",
                           "our", "their", "its"})
#: Forms of "be" before a verb's -ing form ("I'm meeting …").
_BE_FORMS = frozenset({"am", "i'm", "im", "are", "we're", "is", "was", "were", "be", "been"})


def _verb_at(p: Parse, j: int) -> bool:
    """An unknown word that reads as a verb by what follows it.

    A comparison, a superlative or an object: "converts better", "holds the most", "makes them".
    """
    after = p.words[j + 1] if j + 1 < len(p.words) else ""
    return p.words[j] not in _FIGURE_NOUNS and (  # ("what will that cost us": a cost, asked)
        after in grammar.COMPARE or grammar.is_superlative(after) or after in _OBJECT_WORDS)


def _counted_at(p: Parse) -> int | None:
    """The position of the thing counted after "how many" / "number of" (None: none)."""
    words = p.words
    for i in range(len(words) - 2):
        if (words[i], words[i + 1]) in {("how", "many"), ("number", "of")}:
            return i + 2
    return None


def apply_defaults(query: Query, context: Context) -> Query:
    """The window a measure uses when the question names none (docs/catalog-meta.md)."""
    if query.window is not None or query.model is None or not query.measures:
        return query
    if query.records and any(c.field in _record_dimensions(context.catalog) and c.op == "eq"
                             for c in query.filters):
        return query  # "what stage is the <named deal> in?": that deal, whatever its dates
    meta = context.catalog.model(query.model).answerable
    measure = meta.measure(query.measures[0])
    if measure is None or measure.window is None or measure.window == "all":
        return query
    if measure.window == "overall":
        period = overall_window(context.as_of, context.fiscal_year_start_month)
        return query.model_copy(update={"window": window_of(period, "")})
    return query
