"""The catalog's words, indexed for reading questions: the only domain vocabulary there is.

Every phrase the reader recognises as a measure, dimension, flag, number, time or model
comes from a model's ``config.meta.whizzy`` block (`docs/catalog-meta.md`): names, labels
and synonyms. Nothing here knows a model or a measure by name, so a documented model added
to dbt is understood the moment it is built.

`Vocabulary.spans(words)` finds every catalog phrase in a question's tokens, typo-tolerant
for longer words ("pipline" is "pipeline") and indifferent to plurals, and returns them
longest first, overlaps included: the reader consumes them in that order and drops a span
that overlaps one already taken.

>>> from whizzy.warehouse.catalog import Answerable, Catalog, Flag, Measure, Model
>>> model = Model("m", "model.p.m", answerable=Answerable(
...     label="M", measures=(Measure("won_amount", "currency", expr="sum(x)",
...                                  synonyms=("bookings",)),),
...     flags=(Flag("won", "is_won", ("won", "closed won")),)))
>>> vocab = Vocabulary.of(Catalog(models={"m": model}))
>>> [(s.kind, s.name, s.start, s.end) for s in vocab.spans(["closed", "won", "bookings"])]
[('flag', 'won', 0, 2), ('measure', 'won_amount', 2, 3), ('flag', 'won', 1, 2)]
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

from agents.grammar import FILLER
from agents.text import (
    COMMON_WORDS,
    abbreviates,
    dropped,
    phrase_tokens,
    plural,
    similar,
    stem,
    swapped,
)
from whizzy.warehouse.catalog import Catalog

#: Kinds of catalog phrases, in the order a tie between equally long spans is broken.
KINDS = ("measure", "model", "flag", "time", "number", "dimension", "clarify", "not_held")


@dataclass(frozen=True)
class Term:
    """One phrase the catalog declares, what it names and where."""

    words: tuple[str, ...]
    kind: str
    name: str
    models: frozenset[str]
    #: True when the phrase is the concept's own name or label (not a synonym).
    own: bool = False


@dataclass(frozen=True)
class Span:
    """A catalog phrase found in a question: tokens ``[start, end)`` and every term it names.

    One phrase may name several concepts of one kind ("revenue" is ``won_amount`` in one
    model and ``actual_revenue`` in another): `names` holds them all, `name` the first.
    """

    kind: str
    name: str
    start: int
    end: int
    terms: tuple[Term, ...]
    #: 2: the same words; 1: plurals or stems ("closing" for "closed"); 0: a typo.
    exact: int = 2
    names: tuple[str, ...] = ()

    @property
    def models(self) -> frozenset[str]:
        """The models that declare the phrase (for any of its concepts)."""
        return frozenset().union(*(t.models for t in self.terms))

    def models_of(self, name: str) -> frozenset[str]:
        """The models that declare the phrase for concept `name`."""
        return frozenset().union(*(t.models for t in self.terms if t.name == name))

    @property
    def length(self) -> int:
        """Number of tokens covered."""
        return self.end - self.start


@dataclass
class Vocabulary:
    """Every phrase of one catalog, indexed by the stem of its first word."""

    terms: list[Term] = field(default_factory=list)
    _by_first: dict[str, list[Term]] = field(default_factory=dict, repr=False)
    _hyphenated: frozenset[str] | None = field(default=None, repr=False)
    _qualified: list[tuple[str, str]] | None = field(default=None, repr=False)
    _words: frozenset[str] | None = field(default=None, repr=False)
    _respelt: dict[str, str | None] = field(default_factory=dict, repr=False)

    @classmethod
    def of(cls, catalog: Catalog) -> Vocabulary:
        """The vocabulary of `catalog` (cached per catalog object)."""
        with _LOCK:
            cached = _CACHE.get(id(catalog))
            if cached is not None and cached[0] is catalog:
                return cached[1]
        vocab = cls._build(catalog)
        with _LOCK:
            _CACHE[id(catalog)] = (catalog, vocab)
        return vocab

    @classmethod
    def _build(cls, catalog: Catalog) -> Vocabulary:
        found: dict[tuple[tuple[str, ...], str, str], tuple[set[str], bool]] = {}

        def add(phrase: str, kind: str, name: str, model: str, own: bool = False) -> None:
            words = phrase_tokens(phrase.lower())
            if not words:
                return
            models, was_own = found.get((words, kind, name), (set(), False))
            models.add(model)
            found[(words, kind, name)] = (models, was_own or own)

        for model in catalog.answerable:
            meta = model.answerable
            for syn in meta.synonyms:
                add(syn, "model", model.name, model.name)
            if meta.role == "dashboard":
                continue  # its figures are the briefing's; each is answered from its own model
            for m in meta.measures:
                add(m.name.replace("_", " "), "measure", m.name, model.name, own=True)
                if m.label:
                    add(m.label, "measure", m.name, model.name, own=True)
                for syn in m.synonyms:
                    add(syn, "measure", m.name, model.name)
                for syn in m.clarify:
                    add(syn, "clarify", m.name, model.name)
            kind_columns = {meta.kind_column}
            for d in meta.dimensions:
                if d.column in kind_columns or d.name in kind_columns:
                    continue  # a row-kind column is never "by <that>"
                add(d.name.replace("_", " "), "dimension", d.name, model.name, own=True)
                for syn in d.synonyms:
                    add(syn, "dimension", d.name, model.name)
            for f in meta.flags:
                add(f.name.replace("_", " "), "flag", f.name, model.name, own=True)
                for syn in f.synonyms:
                    add(syn, "flag", f.name, model.name)
            for n in meta.numbers:
                add(n.name.replace("_", " "), "number", n.name, model.name, own=True)
                for syn in n.synonyms:
                    add(syn, "number", n.name, model.name)
            for t in meta.times:
                for syn in t.synonyms:
                    add(syn, "time", t.name, model.name)
        held = {words for words, kind, _ in found}
        for model in catalog.answerable:
            for phrase in model.answerable.not_held:
                if phrase_tokens(phrase.lower()) not in held:  # another model may hold it
                    add(phrase, "not_held", phrase, model.name)
        vocab = cls()
        for (words, kind, name), (models, own) in found.items():
            vocab.terms.append(Term(words, kind, name, frozenset(models), own))
            if len(words) > 1 and kind in {"measure", "model"}:  # "winrate" for "win rate"
                vocab.terms.append(Term(("".join(words),), kind, name, frozenset(models)))
        by_first: dict[str, list[Term]] = defaultdict(list)
        for term in vocab.terms:
            by_first[stem(term.words[0])].append(term)
        vocab._by_first = dict(by_first)
        return vocab

    def names(self, kind: str) -> set[str]:
        """Every concept name of one kind."""
        return {t.name for t in self.terms if t.kind == kind}

    def phrases(self, kind: str, name: str) -> list[str]:
        """The phrases naming one concept, longest first."""
        return sorted({" ".join(t.words) for t in self.terms if t.kind == kind and t.name == name},
                      key=lambda p: (-len(p), p))

    def spans(self, words: Sequence[str], *, skip: frozenset[int] | set[int] = frozenset(),
              avoid: frozenset[str] = frozenset()) -> list[Span]:
        """Every catalog phrase in `words` avoiding positions in `skip`, best first.

        Measures and flags named in `avoid` are left out (the reader's second try, when a
        phrase named a figure no model can serve for this question: "win rate changed" →
        "win rate" changed; or a flag took the question to a model without the figure).

        Longer phrases come first, then exact over typo-tolerant matches, then by `KINDS`.
        The reader takes them in this order and drops any that overlap one already taken.
        """
        words = tuple(words)
        found: dict[tuple[int, int, str], list[Term]] = defaultdict(list)
        exactness: dict[tuple[int, int, str, str], int] = {}

        def add(i: int, n: int, candidate: Term, exact: int) -> None:
            key = (i, i + n, candidate.kind)
            found[key].append(candidate)
            named = (*key, candidate.name)
            exactness[named] = max(exactness.get(named, -1), exact)

        for i, word in enumerate(words):
            if i in skip:
                continue
            for candidate in self._candidates(word):
                if candidate.kind in {"measure", "flag"} and candidate.name in avoid:
                    continue
                n = len(candidate.words)
                if i + n > len(words) or any(j in skip for j in range(i, i + n)):
                    continue
                exact = phrase_match(words[i:i + n], candidate.words)
                if exact == 1 and n == 1 and candidate.kind == "measure" and \
                        word.rstrip("s") != candidate.words[0].rstrip("s"):
                    continue  # one word names a figure as written: "weight" is not "weighted"
                if exact is not None:
                    add(i, n, candidate, exact)
            if i + 1 < len(words) and i + 1 not in skip:  # "pipeline slipped": two words swapped
                for candidate in self._candidates(words[i + 1]):
                    if candidate.kind in {"measure", "flag"} and candidate.name in avoid:
                        continue
                    if len(candidate.words) == 2 and phrase_match(
                            (words[i + 1], words[i]), candidate.words) is not None:
                        add(i, 2, candidate, 0)
        spans = []
        for (a, b, kind), terms in found.items():
            # the best-matched concept first, then the one most models declare, own names, A-Z
            names = sorted({t.name for t in terms}, key=lambda n: (
                -exactness[(a, b, kind, n)], -sum(len(t.models) for t in terms if t.name == n),
                not any(t.own for t in terms if t.name == n), n))
            best = exactness[(a, b, kind, names[0])]
            names = [n for n in names if exactness[(a, b, kind, n)] == best]
            spans.append(Span(kind, names[0], a, b, tuple(t for t in terms if t.name in names),
                              best, tuple(names)))
        return sorted(spans, key=lambda s: (-s.length, -s.exact, KINDS.index(s.kind),
                                            not any(t.own for t in s.terms), s.start, s.name))

    def loose(self, words: Sequence[str], *, free: set[int], dims: set[str]) -> list[Span]:
        """Measure phrases whose words all occur in the question, in any order and with gaps.

        A dimension word of the phrase is satisfied by a value of one of `dims` (the
        dimensions whose values the question names: "days in stage" in "how many days do deals
        spend in Needs Analysis"). Only words at positions in `free` count. Best first: more
        words matched.
        """
        stems = {stem(w): i for i, w in enumerate(words) if i in free}
        dim_words = {stem(w) for t in self.terms if t.kind == "dimension" and t.name in dims
                     and t.own for w in t.words}
        found = []
        for term in self.terms:
            if term.kind != "measure":
                continue
            content = [w for w in term.words if w not in _GLUE]
            if sum(w not in FILLER for w in content) < 2:
                continue  # "what to do" is in any question: function words prove nothing
            positions = []
            for w in content:
                if stem(w) in stems:
                    positions.append(stems[stem(w)])
                elif stem(w) not in dim_words:
                    break
            else:
                # words far apart belong to other phrases ("deals that closed …, won or lost")
                if positions and max(positions) - min(positions) < 2 * len(content) + 1:
                    found.append(Span("measure", term.name, min(positions), max(positions) + 1,
                                      (term,), 0, (term.name,)))
        return sorted(found, key=lambda s: (-len(s.terms[0].words), s.start, s.name))

    @property
    def hyphenated(self) -> frozenset[str]:
        """The catalog's hyphenated words ("probability-weighted"): compounds kept whole."""
        if self._hyphenated is None:
            self._hyphenated = frozenset(w for t in self.terms for w in t.words if "-" in w)
        return self._hyphenated

    def qualified_measures(self) -> list[tuple[str, str]]:
        """Measure phrases made of a head and a "by …" qualifier ("win rate", "by $")."""
        if self._qualified is None:
            out = []
            for t in self.terms:
                if t.kind == "measure" and "by" in t.words[1:]:
                    k = t.words.index("by", 1)
                    out.append((" ".join(t.words[:k]), " ".join(t.words[k:])))
            self._qualified = sorted(set(out), key=lambda p: -len(p[1]))
        return self._qualified

    def respelled(self, word: str) -> str | None:
        """The one catalog word `word` is shorthand or a short typo of, else None.

        "bkgs" (no vowels) is "bookings", "cyle" (a letter left out) is "cycle". Longer typos are
        matched phrase by phrase (`similar`); a word spelt right, a common word or one that
        fits several catalog words stays as it is.
        """
        if self._words is None:
            self._words = frozenset(
                form for t in self.terms if t.kind != "not_held" for w in t.words
                if w.isalpha() and 4 <= len(w) <= 12 for form in (w, plural(w)))
        if word in self._words or word in COMMON_WORDS or not word.isalpha():
            return None
        if word not in self._respelt:  # (every short word of every question: looked at once)
            hits = {w for w in self._words if abbreviates(word, w) or dropped(word, w)}
            self._respelt[word] = hits.pop() if len(hits) == 1 else None
        return self._respelt[word]

    def terms_like(self, word: str) -> list[Term]:
        """The terms one of whose words is `word`, its plural or stem, or a typo of it.

        A word like no term's word names nothing in the catalog: it is the question's context
        ("brought", "honestly"), not a constraint left unapplied.
        """
        key = stem(word)
        out = []
        for term in self.terms:
            if any(w not in _GLUE and (stem(w) == key or swapped(word, w) or len(w) >= 5 and
                                       len(word) >= 4 and similar(word, w)) for w in term.words):
                out.append(term)
        return out

    def _candidates(self, word: str) -> list[Term]:
        out = list(self._by_first.get(stem(word), ()))
        if len(word) == 4:  # two letters swapped in a short one ("lsot")
            for terms in self._by_first.values():
                if any(swapped(word, t.words[0]) for t in terms[:1]):
                    out += terms
        if len(word) >= 5:  # a typo in a long first word ("weigted pipline")
            for key, terms in self._by_first.items():
                if key != stem(word) and any(similar(word, t.words[0]) or similar(
                        word, plural(t.words[0])) for t in terms[:1]):  # ("industires")
                    out += terms
        return out


def phrase_match(words: Sequence[str], target: Sequence[str]) -> int | None:
    """How well `words` match the phrase `target` word by word (see `_match`), or None."""
    exact = 2
    for word, goal in zip(words, target, strict=True):
        match = _match(word, goal)
        if match is None:
            return None
        exact = min(exact, match)
    return exact


def _match(word: str, target: str) -> int | None:
    """2 for the same word, 1 for a plural or stem of it, 0 for a typo, None otherwise."""
    if word == target:
        return 2
    if word == "$" and target in {"dollar", "dollars"}:
        return 1  # "win rate by $ amount": the dollar sign said as a word
    if word.rstrip("s") == target.rstrip("s") or stem(word) == stem(target):
        return 1
    if len(target) >= 5 and (similar(word, target) or similar(word, plural(target))) or \
            swapped(word, target):
        return 0
    return None


#: Words that glue a phrase together and need not appear for a loose match.
_GLUE = frozenset({"of", "the", "a", "an", "in", "to", "per", "by", "for", "on", "and"})
_CACHE: dict[int, tuple[Catalog, Vocabulary]] = {}
_LOCK = threading.Lock()
