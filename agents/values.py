"""The value index: names and picklist values in the warehouse, found in questions.

Built once per warehouse file version from the catalog's dimensions (owner, industry,
stage, account, type, lead source, country, and any dimension a new model declares), it
turns words in a question into filters: "healthcare" → industry Healthcare, "Jane's deals" →
owner Jane Doe (or, when several owners are called Jane, an ambiguity the answer explains),
"proposal stage" → Proposal/Price Quote, "Acme" → every Acme account. Ordinary words are
never read as names.

>>> idx = ValueIndex({"owner": ["Jane Doe", "John Roe", "John Poe"], "industry": ["Healthcare"],
...                   "stage": ["Proposal/Price Quote", "Closed Won"],
...                   "account": ["Acme Robotics Inc.", "Acme Bank", "Summit Foods"]})
>>> [(m.dimension, m.values) for m in idx.match("Jane's deals in healthcare")]
[('owner', ('Jane Doe',)), ('industry', ('Healthcare',))]
>>> [(m.dimension, m.values, m.ambiguous) for m in idx.match("how is john doing")]
[('owner', ('John Poe', 'John Roe'), True)]
>>> [(m.dimension, m.values) for m in idx.match("open deals for acme in proposal stage")]
[('account', ('Acme Bank', 'Acme Robotics Inc.')), ('stage', ('Proposal/Price Quote',))]
>>> idx.match("what is the win rate this quarter")
[]
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import marshal
import mmap
import os
import re
import struct
import sys
import threading
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import duckdb
from rapidfuzz import fuzz, process

from agents import grammar
from agents.text import COMMON_WORDS, dropped, fold, tokens
from agents.vocabulary import Vocabulary
from whizzy.warehouse.files import temp_path_for
from whizzy.warehouse.reader import Warehouse, open_warehouse, pinned, run_sql, single_flight

How = Literal["exact", "alias", "short", "part", "head", "first_name", "last_name", "prefix",
              "fuzzy"]

#: Dimensions whose values are people or companies (matched more strictly).
PERSON_DIMENSIONS = frozenset({"owner", "manager", "user", "rep"})
ACCOUNT_DIMENSIONS = frozenset({"account"})
#: Dimensions that are time buckets: periods (and the days of the week, the weekday reader)
#: handle those, not the value index.
TIME_DIMENSIONS = frozenset({"quarter", "month", "year", "week", "day", "period", "date",
                             "weekday"})
#: Legal-form endings dropped to make an account alias.
_LEGAL = {"inc", "llc", "ltd", "corp", "co", "group", "gmbh", "plc", "sa", "ag", "company"}
#: First names that are also ordinary words: need a possessive or "for/by/of <name>".
_WORDY_NAMES = {"mark", "grace", "will", "ray", "rose", "hope", "joy", "may", "june",
                "april", "bill", "rich", "long", "king", "price", "grant", "west", "hunt",
                "young", "stone", "black", "gray", "green", "bell", "rice", "ford", "cook"}
_MONTH_WORDS = {"january", "february", "march", "april", "may", "june", "july", "august",
                "september", "october", "november", "december"}
#: Candidates `ValueIndex.closest` shortlists with the cheap scorer before ranking them.
CLOSEST_SHORTLIST = 50
_SAFE_ALIASES = {"usa": ("country", "United States"), "uk": ("country", "United Kingdom")}


@dataclass(frozen=True)
class ValueMatch:
    """A dimension value (or several) named in a question."""

    dimension: str
    values: tuple[str, ...]
    text: str
    start: int
    end: int
    how: How = "exact"
    ambiguous: bool = False


def _key(text: str) -> str:
    return " ".join(tokens(fold(text)))


def _aliases(dimension: str, value: str) -> list[tuple[str, How]]:
    words = _key(value).split()
    if not words:
        return []
    out: list[tuple[str, How]] = [(" ".join(words), "exact")]
    if dimension in PERSON_DIMENSIONS and len(words) >= 2:
        out.append((words[0], "first_name"))
        out.append((words[-1], "last_name"))
    elif dimension in ACCOUNT_DIMENSIONS:
        core = [w for w in words if w not in _LEGAL]
        if core and core != words:
            out.append((" ".join(core), "alias"))
        for n in range(1, len(core)):
            out.append((" ".join(core[:n]), "prefix"))
    else:
        parts = [p for p in re.split(r"[/&,]| - ", fold(value)) if p.strip()]
        if len(parts) > 1:
            for k, part in enumerate(parts):
                # "Negotiation/Review": "negotiation" names it; "review" alone only in a
                # stage's place ("in review"), not in "pipeline review"
                one = " " not in _key(part)
                out.append((_key(part), "part" if k and one else "alias"))
        if len(words) > 1:
            out.append(("".join(words), "alias"))  # "health care" written "healthcare"
            if words[0] not in COMMON_WORDS and len(words[0]) >= 4:
                # "existing" for the Existing Business family, said only where it is set
                # against another member ("new biz vs existing") or "all existing"
                out.append((words[0], "head"))
        if dimension == "stage" and words[0] in {"id", "closed"} and len(words) > 2:
            out.append((" ".join(words[1:]), "alias"))  # "decision makers"
    return out


#: A dimension with at most this many values is a picklist: its values' short forms count.
PICKLIST_SIZE = 60


def _short_forms(values: Mapping[str, Sequence[str]]) -> list[tuple[str, str, str]]:
    """Short forms of one-word picklist values ("tech" for Technology, "manuf").

    Four letters or more, at least three letters short of the value, one value only.

    >>> [f[2] for f in _short_forms({"industry": ["Technology", "Retail", "Telecom"]})]
    ['tech', 'techn', 'techno', 'technol', 'tele']
    """
    out = []
    for dim, vals in values.items():
        if dim in PERSON_DIMENSIONS | ACCOUNT_DIMENSIONS | TIME_DIMENSIONS or \
                len(vals) > PICKLIST_SIZE:
            continue
        keys = {value: _key(value) for value in vals}
        for value, key in keys.items():
            if " " in key or len(key) < 7:
                continue
            for n in range(4, len(key) - 2):
                short = key[:n]
                if short not in COMMON_WORDS and sum(
                        k.startswith(short) for k in keys.values()) == 1:
                    out.append((dim, value, short))
    return out


class ValueIndex:
    """Dimension values and their aliases, matched exactly, by alias, or fuzzily."""

    def __init__(self, values: Mapping[str, Iterable[str]], *,
                 reserved: frozenset[str] = frozenset(),
                 columns: Mapping[str, str] | None = None) -> None:
        #: The column each dimension's values were read from: a model whose column of that
        #: dimension differs (an id where the values are names) cannot filter by them.
        self.columns = dict(columns or {})
        self.values = {dim: sorted({v for v in vals if v and v.strip()})
                       for dim, vals in values.items()}
        lookup: dict[str, dict[str, dict[str, How]]] = defaultdict(lambda: defaultdict(dict))
        for dim, vals in self.values.items():
            for value in vals:
                for alias, how in _aliases(dim, value):
                    if alias:
                        current = lookup[alias][dim].get(value)
                        if current is None or _rank(how) < _rank(current):
                            lookup[alias][dim][value] = how
        for dim, value, alias in _short_forms(self.values):
            if alias not in reserved:  # "pipe" is the catalog's word, not short for Pipeline
                lookup[alias][dim].setdefault(value, "short")  # never fuzzy-matched
        for alias, (dim, value) in _SAFE_ALIASES.items():
            if value in self.values.get(dim, ()):
                lookup[alias][dim][value] = "alias"
        self._fuzzy_keys: dict[tuple[int, str], list[str]] = defaultdict(list)
        for key, dims in lookup.items():
            # only names matched in full (exact or alias) are misspelt names worth finding
            if len(key) >= 6 and any(h in {"exact", "alias"} for vals in dims.values()
                                     for h in vals.values()):
                self._fuzzy_keys[(key.count(" "), key[0])].append(key)
        self.max_words = max((len(k.split()) for k in lookup), default=1)
        #: alias → its packed dimension → value → how (`_packed`); read-only from here
        self._lookup: dict[str, str | dict[str, dict[str, How]]] = {
            k: _packed(dims) for k, dims in lookup.items()}
        self._pool: list[tuple[str, str]] | None = None
        self._pool_keys: list[str] = []

    def _dims(self, key: str) -> dict[str, dict[str, How]] | None:
        """What the alias `key` names: dimension → value → how (None: nothing)."""
        entry = self._lookup.get(key)
        return _unpacked(entry) if isinstance(entry, str) else entry

    def _nouns(self) -> frozenset[str]:
        """The words of the dimensions' names ("account", "lead", "source"), once."""
        nouns = getattr(self, "_dimension_nouns", None)
        if nouns is None:
            nouns = frozenset(w for dim in self.values for w in dim.split("_"))
            self._dimension_nouns = nouns
        return nouns

    def named(self, word: str, start: int) -> ValueMatch | None:
        """The one value spelt exactly `word`, a common word said as a name ("Prospect").

        The caller knows it is a name (a capital mid-sentence); None when no value or
        values of several dimensions are spelt so.
        """
        dims = {d: [v for v, h in vals.items() if h == "exact"]
                for d, vals in (self._dims(_key(word)) or {}).items()}
        dims = {d: vals for d, vals in dims.items() if vals}
        if len(dims) != 1:
            return None
        dim, vals = next(iter(dims.items()))
        return ValueMatch(dim, tuple(sorted(vals)), word, start, start + 1, "exact")

    def to_state(self) -> dict[str, Any]:
        """The index as plain dicts, lists and strings (what `save_index` writes)."""
        return {"values": self.values, "columns": self.columns, "max_words": self.max_words,
                "lookup": self._lookup, "fuzzy": dict(self._fuzzy_keys)}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> ValueIndex:
        """The index `to_state` described, without normalising any value again.

        >>> idx = ValueIndex({"owner": ["Jane Doe"], "industry": ["Healthcare"]})
        >>> again = ValueIndex.from_state(idx.to_state())
        >>> [(m.dimension, m.values) for m in again.match("jane's deals in health care")]
        [('owner', ('Jane Doe',)), ('industry', ('Healthcare',))]
        """
        index = cls.__new__(cls)
        index.columns = dict(state["columns"])
        index.values = dict(state["values"])
        index._lookup = state["lookup"]  # read-only: `match` only reads it
        index._fuzzy_keys = dict(state["fuzzy"])
        index.max_words = state["max_words"]
        index._pool = None
        index._pool_keys = []
        return index

    def to_sections(self) -> dict[str, Any]:
        """The index in parts marshalled apart, each read only when a question needs it.

        The values (for "did you mean") and every bucket of aliases and of fuzzy keys are
        separate blobs: a question reads the few buckets its words fall in.
        """
        lookup: dict[int, dict[str, Any]] = defaultdict(dict)
        for key, entry in self._lookup.items():
            lookup[_bucket(key)][key] = entry
        return {"columns": self.columns, "max_words": self.max_words,
                "values": marshal.dumps(self.values),
                "lookup": {b: marshal.dumps(part) for b, part in lookup.items()},
                "fuzzy": {k: marshal.dumps(keys) for k, keys in self._fuzzy_keys.items()}}

    @classmethod
    def from_sections(cls, sections: Mapping[str, Any]) -> ValueIndex:
        """The index `to_sections` described; its parts are unmarshalled when first read.

        >>> idx = ValueIndex({"owner": ["Jane Doe"], "industry": ["Healthcare"]})
        >>> again = ValueIndex.from_sections(idx.to_sections())
        >>> [(m.dimension, m.values) for m in again.match("jane's deals in helthcare")]
        [('owner', ('Jane Doe',)), ('industry', ('Healthcare',))]
        >>> again.values["owner"]
        ['Jane Doe']
        """
        index = cls.__new__(cls)
        index.columns = dict(sections["columns"])
        index._values = None
        index._values_blob = sections["values"]
        index._lookup = _Parts(sections["lookup"], _bucket)  # type: ignore[assignment]
        index._fuzzy_keys = _Parts(sections["fuzzy"], None)  # type: ignore[assignment]
        index.max_words = sections["max_words"]
        index._pool = None
        index._pool_keys = []
        return index

    @property
    def values(self) -> dict[str, list[str]]:
        """Each dimension's values, sorted."""
        if self._values is None:
            self._values = marshal.loads(self._values_blob)
            self._values_blob = b""
        return self._values

    @values.setter
    def values(self, values: dict[str, list[str]]) -> None:
        self._values = values

    def __len__(self) -> int:
        return sum(len(v) for v in self.values.values())

    def closest(self, text: str, n: int = 3) -> list[tuple[str, str]]:
        """The `n` values most like `text` as (dimension, value), for "did you mean".

        >>> ValueIndex({"owner": ["Jane Doe", "John Roe"]}).closest("jan", 1)
        [('owner', 'Jane Doe')]
        """
        if self._pool is None:
            self._pool = [(dim, value) for dim, vals in self.values.items() for value in vals]
            self._pool_keys = [_key(v) for _, v in self._pool]
        # WRatio over every value costs ~0.4 s with 150,000 account names; the plain ratio
        # is ~30x cheaper, so it shortlists and WRatio only orders the shortlist.
        query = _key(text)
        shortlist = process.extract(query, self._pool_keys, scorer=fuzz.QRatio,
                                    limit=max(CLOSEST_SHORTLIST, n))
        scored = sorted(((fuzz.WRatio(query, key), -rank, index)
                         for rank, (key, _, index) in enumerate(shortlist)), reverse=True)
        return [self._pool[index] for _, _, index in scored[:n]]

    def dimension_of(self, value: str) -> list[str]:
        """Dimensions holding `value` exactly."""
        return [d for d, vals in self.values.items() if value in vals]

    def match(self, text: str | Sequence[str], *, skip: Iterable[int] = ()) -> list[ValueMatch]:
        """Values named in `text` (a question or its tokens), left to right.

        `skip` holds token positions already explained (periods, numbers) that must not be
        read as names.
        """
        words = [fold(w) for w in (tokens(text) if isinstance(text, str) else text)]
        raw = text if isinstance(text, str) else " ".join(text)
        possessives = {fold(w[:-2]) for w in raw.lower().replace("\u2019", "'").split()
                       if w.endswith("'s")}
        used = set(skip)
        found: list[ValueMatch] = []
        for size in range(min(self.max_words, len(words)), 0, -1):
            for i in range(len(words) - size + 1):
                span = range(i, i + size)
                if any(j in used for j in span):
                    continue
                window = words[i:i + size]
                match = self._exact(window, i, possessives, words)
                if match is None and size <= 3:
                    match = self._fuzzy(window, i)
                if match is not None:
                    found.append(match)
                    used.update(span)
        return sorted(found, key=lambda m: m.start)

    def _exact(self, window: list[str], start: int, possessives: set[str],
               words: list[str]) -> ValueMatch | None:
        key = " ".join(window)
        dims = self._dims(key)
        if not dims:
            return None
        single = len(window) == 1
        best: tuple[int, str, dict[str, How]] | None = None
        for dim, values in dims.items():
            hows = set(values.values())
            rank = min(_rank(h) for h in hows)
            if single and key in COMMON_WORDS:
                continue  # "top", "won", "delta": never a name by themselves
            if single and hows <= {"part"} and not (
                    start > 0 and words[start - 1] in {"in", "at", "into", "to", "stage"} or
                    start + 1 < len(words) and words[start + 1] == "stage"):
                continue
            if single and not hows & {"exact", "alias"} and start > 0 and words[start - 1] in {
                    "we", "they", "i", "you", "to", "can", "could", "will", "would", "should",
                    "might", "must", "cannot"} and start + 1 < len(words) and \
                    words[start + 1] in {"on", "off", "up", "out", "it", "them", "that"}:
                continue  # "before we bank on next quarter": a verb, not "Banking"
            if single and hows <= {"part"} and start > 1 and words[start - 1] == "in" and \
                    words[start - 2] in {"year", "quarter", "month", "week", "half"}:
                continue  # "the year-in-review page": a look back, not "Negotiation/Review"
            if single and hows <= {"part", "head"} and "head" in hows and not (
                    start > 0 and words[start - 1] in _CONTRAST | _MEMBER_PLACE or
                    start + 1 < len(words) and words[start + 1] in _CONTRAST):
                continue
            if single and hows <= {"first_name", "last_name", "prefix"}:
                if len(key) < 3 or key in _MONTH_WORDS:
                    continue
                context = key in possessives or (start > 0 and words[start - 1] in
                                                 {"for", "by", "of", "rep", "owner", "at"})
                if key in _WORDY_NAMES and not context:
                    continue
            if best is None or rank < best[0]:
                best = (rank, dim, values)
        if best is None:
            return None
        rank, dim, values = best
        # Prefer exact values over alias-only ones ("acme bank" over the "acme" prefix).
        chosen = {v: h for v, h in values.items() if _rank(h) == rank}
        how = next(iter(chosen.values()))
        if how == "exact":
            # "Existing Business" heads "Existing Business - Upgrade" and "- Replacement":
            # naming the head names the whole family
            heads = tuple(chosen)
            chosen.update({v: h for v, h in values.items()
                           if any(v.startswith(f"{head} - ") for head in heads)})
        names = tuple(sorted(chosen))
        if how == "head":  # one family ("Existing Business" and its "- Upgrade"), or which?
            root = min(names, key=len)
            ambiguous = any(n != root and not n.startswith(f"{root} - ") for n in names)
            return ValueMatch(dim, names, " ".join(window), start, start + len(window), how,
                              ambiguous)
        # "Linda" for two Lindas, "Sequoia" for a dozen Sequoia companies: which one?
        ambiguous = how in {"first_name", "last_name", "prefix", "part"} and len(names) > 1
        return ValueMatch(dim, names, " ".join(window), start, start + len(window), how, ambiguous)

    def _fuzzy(self, window: list[str], start: int) -> ValueMatch | None:
        key = " ".join(window)
        if len(key) < 5 or all(w in COMMON_WORDS for w in window) or any(
            w.isdigit() for w in window
        ):
            return None
        if len(key) == 5:  # "cmmit": a short name with an inner letter left out, if only one
            hits = [k for k in self._fuzzy_keys.get((0, key[0]), []) if dropped(key, k)]
            return self._misspelt(hits[0], window, start) if len(hits) == 1 else None
        if len(window) > 1 and (window[0] in _JOINERS or window[-1] in _JOINERS):
            return None  # "Technology or Manufacturing": the joiner is not part of a name
        nouns = self._nouns()
        if len(window) > 1 and (window[-1].rstrip("s") in nouns or window[0].rstrip("s") in nouns):
            return None  # "the Sequoia account": the dimension's noun, not a misspelt name
        candidates = self._fuzzy_keys.get((key.count(" "), key[0]), [])
        hit = process.extractOne(key, candidates, scorer=fuzz.ratio, score_cutoff=88)
        return None if hit is None else self._misspelt(hit[0], window, start)

    def _misspelt(self, meant: str, window: list[str], start: int) -> ValueMatch | None:
        """The value `window` is a typo of, found as `meant` (None: a word spelt right)."""
        if meant in COMMON_WORDS:
            return None
        if any(said != word and (said in grammar.FILLER or said in grammar.ONLY)
               for said, word in zip(window, meant.split(), strict=False)):
            return None  # "only care" is no typo of "Onyx Care": "only" is spelt right
        dims = self._dims(meant) or {}
        dim = next(iter(dims))
        names = tuple(sorted(v for v, h in dims[dim].items() if h in {"exact", "alias"}))
        return ValueMatch(dim, names, " ".join(window), start, start + len(window), "fuzzy")


#: Words that join two names; a misspelt name never starts or ends with one.
_JOINERS = frozenset({"or", "and", "vs", "versus", "v", "nor", "than", "to", "with", "of",
                      "the", "for", "in", "on", "at", "by"})


_HOWS: tuple[How, ...] = ("exact", "alias", "short", "part", "head", "first_name",
                          "last_name", "fuzzy", "prefix")

#: Words that set one member against another ("new biz vs existing").
_CONTRAST = frozenset({"vs", "versus", "v"})
#: Words a member's name follows ("all existing", "open pipe in existing").
_MEMBER_PLACE = frozenset({"all", "in", "for", "from"})


def _rank(how: How) -> int:
    return _HOWS.index(how)


#: Buckets the saved aliases are split into (a question reads those its words fall in).
LOOKUP_BUCKETS = 256


def _bucket(key: str) -> int:
    """The bucket of an alias (stable across processes, unlike `hash`).

    >>> _bucket("jane doe") == _bucket("jane doe") and 0 <= _bucket("x") < LOOKUP_BUCKETS
    True
    """
    return zlib.crc32(key.encode()) % LOOKUP_BUCKETS


class _Parts:
    """A read-only mapping kept as marshalled parts; a part is unmarshalled when first read.

    With `part` (key → part id) each part is a dict holding its keys; without it each key
    is a part of its own.
    """

    def __init__(self, blobs: Mapping[Any, bytes | memoryview],
                 part: Callable[[Any], Any] | None) -> None:
        self._blobs = blobs
        self._part = part
        self._loaded: dict[Any, Any] = {}

    def get(self, key: Any, default: Any = None) -> Any:
        """The value of `key` (its part is read once), or `default`."""
        pid = self._part(key) if self._part else key
        loaded = self._loaded.get(pid)
        if loaded is None:
            blob = self._blobs.get(pid)
            if blob is None:
                return default
            loaded = self._loaded[pid] = marshal.loads(blob)  # a race reads it twice: same
        if self._part is None:
            return loaded
        return loaded.get(key, default)


#: Separators of a packed alias entry (`_packed`): between entries, and inside one.
_ENTRY, _FIELD = "\x1e", "\x1f"


def _packed(dims: Mapping[str, Mapping[str, How]]) -> str | dict[str, dict[str, How]]:
    r"""An alias's dimension → value → how as one string: one object instead of three.

    Loading a saved index costs about one object per alias instead of one dict per level
    (about 260,000 aliases at 1M opportunities). A value holding a separator stays a dict.

    >>> _packed({"owner": {"Jane Doe": "exact"}})
    'owner\x1fJane Doe\x1f0'
    >>> _unpacked(_packed({"account": {"Acme Bank": "prefix", "Acme Inc.": "alias"}}))
    {'account': {'Acme Bank': 'prefix', 'Acme Inc.': 'alias'}}
    """
    parts = []
    for dim, values in dims.items():
        for value, how in values.items():
            if _ENTRY in dim + value or _FIELD in dim + value:
                return {d: dict(v) for d, v in dims.items()}
            parts.append(f"{dim}{_FIELD}{value}{_FIELD}{_HOWS.index(how)}")
    return _ENTRY.join(parts)


def _unpacked(entry: str) -> dict[str, dict[str, How]]:
    """The dimension → value → how a `_packed` string holds."""
    out: dict[str, dict[str, How]] = {}
    for part in entry.split(_ENTRY):
        dim, value, how = part.split(_FIELD)
        out.setdefault(dim, {})[value] = _HOWS[int(how)]
    return out


# ---------------------------------------------------------------------- cached per warehouse

_CACHE: dict[tuple[Path, str], tuple[tuple[int, int, int], ValueIndex]] = {}
_LOCK = threading.Lock()


def cached_index(warehouse: Path, build: Callable[[], ValueIndex], *, tag: str = "") -> ValueIndex:
    """The value index of `warehouse`, built by `build()` once per file version.

    The key is the file's inode, mtime and size, so a warehouse swapped in by `whizzy build`
    (``os.replace``) is indexed again on the next question.
    """
    path = Path(os.path.abspath(warehouse))
    stat = os.stat(path)
    version = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
    with _LOCK:
        cached = _CACHE.get((path, tag))
        if cached and cached[0] == version:
            return cached[1]
    index = build()
    with _LOCK:
        _CACHE[(path, tag)] = (version, index)
    return index


#: Dimensions whose distinct values are indexed only when there are at most this many.
MAX_INDEXED_VALUES = 200_000


def value_index(warehouse: Warehouse) -> ValueIndex:
    """The value index of this warehouse version (built once per build, by one thread).

    It is read from the file `save_index` wrote beside the warehouse when that file belongs
    to this build; otherwise it is built from the warehouse and saved there for the next
    process.
    """
    tag = str(warehouse.catalog.path)
    with single_flight(("values", warehouse.path, tag)):
        return cached_index(warehouse.path, lambda: _saved_or_built(warehouse), tag=tag)


# ------------------------------------------------------- saved beside the warehouse, per build

#: Bump when `ValueIndex.to_state` changes shape (older files are then built again).
INDEX_FORMAT = 4
_MAGIC = b"whizzy-values"
#: The code an index depends on: a saved index made by other code is built again.
_CODE = (Path(__file__), Path(__file__).with_name("text.py"),
         Path(__file__).with_name("vocabulary.py"))


def index_path_for(warehouse: Path) -> Path:
    """Where the value index of `warehouse` is saved: beside it, ``<name>.values``.

    >>> index_path_for(Path("/x/warehouse.duckdb"))
    PosixPath('/x/warehouse.duckdb.values')
    """
    return Path(warehouse).with_name(Path(warehouse).name + ".values")


def build_key(warehouse: Warehouse) -> str | None:
    """The id of the build an index belongs to (None: this warehouse is not saved).

    A hash of the build's `build_info` row (its ``built_at`` differs for every build), the
    manifest's bytes, the indexing code and the Python version (the file is `marshal`).
    """
    if warehouse.catalog.path is None:
        return None
    digest = hashlib.sha256(b"%d %d " % (INDEX_FORMAT, MAX_INDEXED_VALUES))
    digest.update(sys.version.encode())
    digest.update(json.dumps(warehouse.build_info, sort_keys=True, default=str).encode())
    try:
        digest.update(Path(warehouse.catalog.path).read_bytes())
        for code in _CODE:
            digest.update(code.read_bytes())
    except OSError:
        return None
    return digest.hexdigest()


def save_index(path: Path, key: str, index: ValueIndex) -> None:
    """Write `index` for the build `key` to `path` (a new file, swapped in atomically).

    After the header line: the length of a table of contents, the table (the small parts,
    and where each marshalled part lies), then the parts, which a reader maps and reads
    only when a question needs them.
    """
    sections = index.to_sections()
    blobs: list[bytes] = []
    at = 0

    def place(blob: bytes) -> tuple[int, int]:
        nonlocal at
        blobs.append(blob)
        at += len(blob)
        return at - len(blob), len(blob)

    toc = dict(sections, values=place(sections["values"]),
               lookup={b: place(blob) for b, blob in sections["lookup"].items()},
               fuzzy={k: place(blob) for k, blob in sections["fuzzy"].items()})
    head = marshal.dumps(toc)
    tmp = temp_path_for(path, "values")
    try:
        with open(tmp, "wb") as handle:
            handle.write(b"%s %s\n" % (_MAGIC, key.encode()))
            handle.write(struct.pack("<Q", len(head)) + head)
            for blob in blobs:
                handle.write(blob)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def load_index(path: Path, key: str) -> ValueIndex | None:
    """The index saved at `path` for the build `key`; None when absent, other or unreadable.

    Only the table of contents is read now; the file is mapped, and each part is read from
    it when a question first needs it (the file is only ever replaced, never rewritten).
    """
    try:
        with open(path, "rb") as handle:
            if handle.readline() != b"%s %s\n" % (_MAGIC, key.encode()):
                return None
            (size,) = struct.unpack("<Q", handle.read(8))
            toc = marshal.loads(handle.read(size))
            base = handle.tell()
            view = memoryview(mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ))

        def part(where: tuple[int, int]) -> memoryview:
            start = base + where[0]
            if start + where[1] > len(view):
                raise ValueError("the index file is cut short")
            return view[start:start + where[1]]

        sections = dict(toc, values=part(toc["values"]),
                        lookup={b: part(w) for b, w in toc["lookup"].items()},
                        fuzzy={k: part(w) for k, w in toc["fuzzy"].items()})
        return ValueIndex.from_sections(sections)
    except (OSError, ValueError, EOFError, TypeError, KeyError, struct.error):
        return None


def _saved_or_built(warehouse: Warehouse) -> ValueIndex:
    key = build_key(warehouse)
    target = index_path_for(warehouse.path)
    if key is not None:
        saved = load_index(target, key)
        if saved is not None:
            return saved
    with pinned(warehouse.path):  # the values and the check below read one file version
        index = build_value_index(warehouse)
        # saved only when `warehouse` is still the current build: its values were read
        current = key is not None and open_warehouse(
            warehouse.path, warehouse.catalog.path) is warehouse
    if key is not None and current:
        with contextlib.suppress(OSError):  # a read-only folder: built again next time
            save_index(target, key, index)
    return index


def build_value_index(warehouse: Warehouse) -> ValueIndex:
    """Distinct values of every text dimension the catalog declares.

    Each dimension is read from the answerable model that declares the most dimensions
    (the flexible fact model), so one scan per dimension covers every model.
    """
    sources: dict[str, tuple[str, str]] = {}
    models = sorted(warehouse.catalog.answerable,
                    key=lambda m: (-len(m.answerable.dimensions), m.name))
    for model in models:
        for dim in model.answerable.dimensions:
            if dim.name in TIME_DIMENSIONS or dim.name in sources or \
                    dim.column == model.answerable.kind_column:
                continue
            column = model.columns.get(dim.column)
            if column and column.data_type and not column.data_type.lower().startswith(
                ("varchar", "text", "string", "char")
            ):
                continue
            sources[dim.name] = (model.relation, dim.column)
    # a dimension other models hold in the same column adds their values ("Ananya Hill"
    # manages managers only: a manager in the people model, never of a deal)
    more: dict[str, list[str]] = defaultdict(list)
    for model in models:
        for dim in model.answerable.dimensions:
            if dim.name in sources and sources[dim.name][1] == dim.column and \
                    sources[dim.name][0] != model.relation:
                more[dim.name].append(model.relation)
    values: dict[str, list[str]] = {}
    with pinned(warehouse.path):  # every dimension from one file version
        for name, (relation, column) in sources.items():
            union = " union ".join(
                f'select distinct cast("{column}" as varchar) from "{schema}"."{table}" '
                f'where "{column}" is not null'
                for schema, table in (r.split(".", 1) for r in [relation, *more[name]]))
            sql = f"select * from ({union}) limit {MAX_INDEXED_VALUES + 1}"
            try:
                _, rows, truncated, _ = run_sql(warehouse.path, sql,
                                                row_limit=MAX_INDEXED_VALUES)
            except duckdb.Error:  # includes the time limit: that dimension goes unindexed
                continue
            if not truncated:
                values[name] = [r[0] for r in rows]
    words = frozenset(w for t in Vocabulary.of(warehouse.catalog).terms for w in t.words)
    return ValueIndex(values, reserved=words,
                      columns={name: column for name, (_, column) in sources.items()})
