"""Question text helpers shared by the intent, selector and planner roles.

Normalisation (case, quotes, punctuation), tokens, a list of ordinary words that must never
be read as a name, and typo-tolerant phrase matching ("pipline helth" finds "pipeline
health").

>>> normalize("What's Jane’s  WIN-rate?!")
"what's jane's win-rate"
>>> has_phrase(tokens("show the pipline helth"), "pipeline health")
True
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

from rapidfuzz import fuzz

#: Ordinary English and sales words: never a name on their own, never "corrected" to one.
COMMON_WORDS = frozenset("""
a about above across after again against all almost also am among an and any anyone
anything are area as ask at average avg away back bad be because been before being below
best better between big biggest both bottom break breakdown but by can cannot change changed
changes close closed closing come compare compared could count current currently data day
days deal deals did do does doing done down drop each early else end ending ever every
everyone everything fall far few find first for from full get give go going good great
greatest group had has have having he her here high higher highest him his how however i if
in into is it its just key know large largest last late least less let level like list long
longest look lost low lower lowest made main make many may me mean means metric month months
more most much my need new next no not now number of off old on one only open or order other
our out over overall own part past per percent period please point points put quarter
quarters rank rate rates really recent report right same say see show side since size small
smallest so some someone something stage stages start state still such sum summary take team
tell than that the their them then there these they thing things this those through time
times to today top total trend true up us use used very was way we week weeks well went were
what when where which while who why will with within without won work worst would year years
yes yet you your
account accounts amount amounts business closed-won cohort company
customer customers delta deltas ding driver drivers echo
lead leads legacy liberty loss losses opportunity opportunities owner owners pace pipeline
pipelines portfolio price prospect prospects region rep reps revenue risk sales seller
sellers send sent source sources summit swift target targets territory trend trends unity value
values velocity vista volume win wins winning
""".split())

_PUNCT = re.compile(r"[^\w\s'&/.\-%$]")
#: Shorthand people type, expanded before anything else reads the question.
ABBREVIATIONS = {"nxt": "next", "qtr": "quarter", "qtrs": "quarters", "yr": "year",
                 "yrs": "years", "mth": "month", "mths": "months", "prev": "previous",
                 "avg": "average", "opps": "opportunities", "opp": "opportunity",
                 "oppty": "opportunity", "oppties": "opportunities", "pls": "please",
                 "u": "you", "ur": "your", "r": "are", "w/": "with", "w": "with",
                 "rev": "revenue", "amt": "amount", "amts": "amounts", "biz": "business",
                 "thru": "through", "accts": "accounts", "acct": "account", "mo": "month",
                 "mos": "months", "rn": "right now", "eoq": "the end of this quarter",
                 "eom": "the end of this month", "eoy": "the end of this year",
                 "wk": "week", "wks": "weeks", "fq": "fiscal quarter", "fqs": "fiscal quarters",
                 "src": "source", "srcs": "sources", "cov": "coverage", "wr": "win rate"}
_ABBREV = re.compile(r"\b(" + "|".join(re.escape(k) for k in ABBREVIATIONS) + r")\b")
#: Words that mean the same thing in a question.
_SAME = {"deal": "deal", "opportunity": "deal", "opportunitie": "deal", "opp": "deal",
         "average": "average", "mean": "average", "rep": "rep", "owner": "rep",
         "salesperson": "rep", "seller": "rep"}


def expand(text: str) -> str:
    """Expand shorthand ("nxt qtr" → "next quarter").

    >>> expand("revnue forcast nxt qtr")
    'revnue forcast next quarter'
    """
    text = _FY.sub("fiscal year", _ABBREV.sub(lambda m: ABBREVIATIONS[m.group(1)], text))
    return _WORD.sub(_period_word, month_ranges(text))


_UNITS = {w: n for n, w in enumerate("zero one two three four five six seven eight nine ten "
                                      "eleven twelve thirteen fourteen fifteen sixteen "
                                      "seventeen eighteen nineteen".split())}
_TENS = {w: 10 * n for n, w in enumerate("_ _ twenty thirty forty fifty sixty seventy eighty "
                                         "ninety".split()) if n >= 2}
_SPELLED = (rf"(?:(?:{'|'.join(_TENS)})(?:[\s-](?:{'|'.join(_UNITS)}))?|"
            rf"{'|'.join(sorted(_UNITS, key=len, reverse=True))})")
_SCALE_SUFFIX = {"k": "k", "thousand": "k", "grand": "k", "m": "m", "mil": "m", "million": "m",
                 "mm": "m", "b": "b", "billion": "b", "bn": "b"}


def spelled_amounts(text: str) -> str:
    """Amounts written in words, in digits ("two hundred k" → "200k").

    >>> spelled_amounts("deals over two hundred k and half a million")
    'deals over 200k and 500k'
    >>> spelled_amounts("one point five million, a million, twenty five thousand")
    '1.5m, 1m, 25k'
    """
    def number(said: str) -> int:
        parts = re.split(r"[\s-]+", said.lower())
        return sum(_TENS.get(p, 0) + _UNITS.get(p, 0) for p in parts)

    def spelled(m: re.Match[str]) -> str:
        n = number(m.group("n")) * (100 if m.group("hundred") else 1)
        suffix = _SCALE_SUFFIX.get((m.group("scale") or "").lower(), "")
        return f"{n}{suffix}"

    text = re.sub(r"\bhalf\s+(?:a\s+)?(?:million|mil)\b", "500k", text, flags=re.I)
    text = re.sub(rf"\b(?P<a>{_SPELLED})\s+point\s+(?P<b>{'|'.join(_UNITS)})\s+"
                  rf"(?P<scale>million|mil|billion|thousand)\b",
                  lambda m: f"{number(m.group('a'))}.{_UNITS[m.group('b').lower()]}"
                            f"{_SCALE_SUFFIX[m.group('scale').lower()]}", text, flags=re.I)
    text = re.sub(r"\ba\s+(million|billion)\b",
                  lambda m: f"1{_SCALE_SUFFIX[m.group(1).lower()]}", text, flags=re.I)
    return re.sub(rf"\b(?P<n>{_SPELLED})(?:\s+(?P<hundred>hundred))?\s+"
                  rf"(?P<scale>k|thousand|grand|million|mil|billion|bn)\b", spelled, text,
                  flags=re.I)


def month_ranges(text: str) -> str:
    """Ranges of months said as "from X to Y" ("jan-mar 2026", "Feb thru April").

    >>> month_ranges("won in jan-mar 2026, from Feb thru April")
    'won in from jan to mar 2026, from Feb to April'
    """
    return _MONTH_RANGE.sub(lambda m: f"{m['from'] or 'from '}{m['a']} to {m['b']}", text)


_MONTH = (r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*")
#: "jan-mar 2026", "Jan–Dec": a range of months, said as "from jan to mar".
_MONTH_RANGE = re.compile(rf"(?P<from>\bfrom\s+)?\b(?P<a>{_MONTH})\s*(?:-|–|—|thru|through)\s*"
                          rf"(?P<b>{_MONTH})\b", re.I)


#: The words periods are made of, which a typo must not hide from the period reader.
PERIOD_WORDS = ("quarter", "quarters", "months", "january", "february", "september",
                "october", "november", "december")
_WORD = re.compile(r"\b[a-z]{5,}\b")


def _period_word(m: re.Match[str]) -> str:
    """A typo of a period word, corrected ("quater" → "quarter"); any other word as it is.

    >>> expand("slated to close this quater")
    'slated to close this quarter'
    """
    word = m.group(0)
    if word in PERIOD_WORDS or word in COMMON_WORDS:
        return word
    return next((w for w in PERIOD_WORDS if similar(w, word)), word)


#: "this FY", "last fy" (but not "FY27" or "fy 2026", which name the year).
_FY = re.compile(r"\bfy\b(?!\s*'?\d+\b(?!\s*(?:\+|or\s+(?:more|fewer|less|above|below)|plus\b)))")
_SPACES = re.compile(r"\s+")


#: An amount as typed: "$1.5m", "250k", "5,000".
_AMT = r"\$?\d[\d,]*(?:\.\d+)?\s?(?:k|m|mm|mn|bn|b|%)?"
#: Symbols of a bound, said in words before punctuation is dropped ("> 25k" → "over 25k").
_SYMBOLS = (
    (re.compile(r"(?:>=|≥|=>)\s*(?=\$?\d)"), " at least "),
    (re.compile(r"(?:<=|≤|=<)\s*(?=\$?\d)"), " at most "),
    (re.compile(r">\s*(?=\$?\d)"), " over "),
    (re.compile(r"\bsub[\s-]?(?=\$?\d)", re.I), " under "),  # "sub-50k deals"
    (re.compile(r"<\s*(?=\$?\d)"), " under "),
    # "75k–150k", "$1m-$2m": a range of amounts (a suffix or a $ tells it from a date)
    (re.compile(rf"(?<![\w.])(?P<a>{_AMT})\s*(?:–|—|-)\s*(?P<b>{_AMT})(?![\w.-])", re.I),
     lambda m: f" between {m['a']} and {m['b']} " if re.search(
         r"[$kmb%]", m["a"] + m["b"], re.I) else m.group(0)),
    # "# of wins", "the #1 rep": the number of, number one
    (re.compile(r"#\s?(?=of\b)"), " number "),
    (re.compile(r"#\s?(?=\d)"), " number "),
    # "half a million", "quarter-million": the amount in figures
    (re.compile(r"\b(?P<f>half|quarter)[\s-](?:of[\s-])?(?:a[\s-])?(?P<u>million|billion)\b",
                re.I),
     lambda m: " {}{} ".format(250 if m["f"].lower() == "quarter" else 500,
                               "k" if m["u"].lower() == "million" else "m")),
    # "300k+", "60+ days", "5,000+ employees", "500k-plus": at least
    (re.compile(rf"(?<![\w.])(?P<a>{_AMT})\s?(?:\+|-plus\b|\splus(?=\s+[a-z]))(?!\w)",
                re.I),
     lambda m: f" {m['a']} or more "),
    # "six-figure deals": the amounts with that many digits
    (re.compile(r"\b(?P<n>[4-9]|four|five|six|seven|eight|nine)[\s-]?figures?\b", re.I),
     lambda m: " at least ${} and under ${} ".format(*_FIGURES[m["n"].lower()])),
)
_FIGURES = {str(n): (str(10 ** (n - 1)), str(10 ** n)) for n in range(4, 10)}
_FIGURES |= {w: _FIGURES[str(n)] for n, w in enumerate(
    ("four", "five", "six", "seven", "eight", "nine"), start=4)}


_ACRONYM_PLURAL = re.compile(r"\b([A-Z]{2,})s\b")


def bounds_in_words(text: str) -> str:
    """Bound symbols said in words, so the reader sees a bound, not a lost character.

    >>> bounds_in_words("opps >25k, WR on deals >= 100K, 300k+ and 60+ days")
    'opps  over 25k, WR on deals  at least 100K,  300k or more  and  60 or more  days'
    >>> bounds_in_words("# of wins for the #1 rep")
    ' number of wins for the  number 1 rep'
    >>> bounds_in_words("half-million-plus deals, a quarter million")
    '  500k or more  deals, a  250k '
    >>> bounds_in_words("the 75k–150k band, six-figure deals, 2025-01-01")
    'the  between 75k and 150k  band,  at least $100000 and under $1000000  deals, 2025-01-01'
    """
    for rx, repl in _SYMBOLS:
        text = rx.sub(repl, text)
    return text


_MONTHS3 = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_SLASHED = re.compile(r"(?<![\w/])(?P<a>\d{1,2})/(?P<b>\d{1,2})/(?P<y>\d{4}|\d{2})(?![\w/])")
_DAY_FIRST = re.compile(r"\b(?:the\s+)?(?P<d>[0-3]?\d)(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m>(?:"
                        r"jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?)"
                        r"(?=,?\s+\d{4}\b)",
                        re.I)


def dates_in_order(text: str) -> str:
    """Dates written day first or with slashes, in the order the period reader reads.

    "8/1/2026" is month first (US), unless its first number cannot be a month
    ("15/6/2026"); "15 Jun 2026" is "Jun 15 2026".

    >>> dates_in_order("between 8/1/2026 and 9/15/2026, since 15 Jun 2026, 25/12/25")
    'between 2026-08-01 and 2026-09-15, since Jun 15 2026, 2025-12-25'
    >>> dates_in_order("since the 1st of August 2026")
    'since August 1 2026'
    """
    def slashed(m: re.Match[str]) -> str:
        a, b, y = int(m["a"]), int(m["b"]), int(m["y"])
        month, day = (b, a) if a > 12 >= b else (a, b)
        year = y + 2000 if y < 100 else y
        if not (1 <= month <= 12 and 1 <= day <= 31):
            return m.group(0)
        return f"{year:04d}-{month:02d}-{day:02d}"

    def day_first(m: re.Match[str]) -> str:
        if m["m"].lower()[:3] not in _MONTHS3 or not 1 <= int(m["d"]) <= 31:
            return m.group(0)
        return f"{m['m']} {m['d']}"

    return _DAY_FIRST.sub(day_first, _SLASHED.sub(slashed, text))


def normalize(text: str) -> str:
    """Lower-case, straighten quotes, drop punctuation that carries no meaning.

    >>> normalize("  Top 3 reps, by win rate? ")
    'top 3 reps by win rate'
    """
    text = unicodedata.normalize("NFKC", text or "")
    text = text.replace("\u2019", "'").replace("\u2018", "'").replace("`", "'")
    text = _ACRONYM_PLURAL.sub(r"\1", text)  # "AEs", "KPIs": the plural of an acronym
    text = expand(_PUNCT.sub(" ", bounds_in_words(text.lower())))
    text = _SPACES.sub(" ", text).strip()
    return text.rstrip(".")


def fold(text: str) -> str:
    """Accent-free lower-case form used for name matching.

    >>> fold("Chloé Müller")
    'chloe muller'
    """
    decomposed = unicodedata.normalize("NFKD", text or "")
    return "".join(c for c in decomposed if not unicodedata.combining(c)).lower()


def tokens(text: str) -> list[str]:
    """Words of a question, possessives split off ("jane's" → "jane").

    >>> tokens("Jane's open deals in Q3, please")
    ['jane', 'open', 'deals', 'in', 'q3', 'please']
    """
    words = []
    for word in normalize(text).split():
        word = word.strip("'.-/")
        if word.endswith("'s"):
            word = word[:-2]
        if word:
            words.append(word)
    return words


@lru_cache(maxsize=65536)
def similar(a: str, b: str) -> bool:
    """Two words are the same up to a typo (short words must match exactly).

    >>> similar("pipline", "pipeline"), similar("forcast", "forecast"), similar("won", "own")
    (True, True, False)
    >>> similar("indusrty", "industry"), similar("rate", "rats")
    (True, False)
    """
    if a == b:
        return True
    if min(len(a), len(b)) < 5 or abs(len(a) - len(b)) > 2 or a[0] != b[0]:
        return False
    return fuzz.ratio(a, b) >= 85


def swapped(a: str, b: str) -> bool:
    """A four-letter word with its two middle letters swapped ("lsot" for "lost").

    Used against the catalog's own words only (a word of question structure such as "from"
    is never a catalog word, so "form" finds nothing).

    >>> swapped("lsot", "lost"), swapped("wno", "won"), swapped("lost", "lost")
    (True, False, False)
    """
    return len(a) == len(b) == 4 and a != b and a[0] == b[0] and a[3] == b[3] and \
        a[1:3] == b[2:0:-1] and a not in COMMON_WORDS


_VOWELS = frozenset("aeiouy")


def abbreviates(short: str, word: str) -> bool:
    """`short` is `word` written without its vowels and some letters ("bkgs" for "bookings").

    A run of three or more consonants is no English word; kept with the first and last letters
    of a longer word, in order, it is that word's shorthand.

    >>> abbreviates("bkgs", "bookings"), abbreviates("mgr", "manager"), abbreviates("pls", "lost")
    (True, True, False)
    """
    if len(short) < 3 or len(word) < len(short) + 2 or not short.isalpha() or \
            set(short) & _VOWELS or short[0] != word[0] or short[-1] != word[-1]:
        return False
    rest = iter(c for c in word[1:] if c not in _VOWELS)
    return all(c in rest for c in short[1:])


def dropped(short: str, word: str) -> bool:
    """`short` is `word` with one inner letter left out ("cyle" for "cycle"), four or five long.

    An ending left off is another word ("create" for "created"), so only an inner letter counts.

    >>> dropped("cyle", "cycle"), dropped("cmmit", "commit"), dropped("slate", "slated")
    (True, True, False)
    """
    return 4 <= len(short) <= 5 and len(word) == len(short) + 1 and short[0] == word[0] and \
        any(word[:i] + word[i + 1:] == short for i in range(1, len(word) - 1))


@lru_cache(maxsize=16384)
def phrase_tokens(phrase: str) -> tuple[str, ...]:
    """`tokens` of a catalog phrase, cached (phrases repeat on every question)."""
    return tuple(tokens(phrase))


def find_phrase(words: Sequence[str], phrase: str, *, fuzzy: bool = True) -> int:
    """Index where `phrase` starts in `words` (typo-tolerant), or -1.

    Plural and singular forms match ("deal" finds "deals").

    >>> find_phrase(["our", "win", "rates"], "win rate")
    1
    """
    return _find_phrase(tuple(words), phrase, fuzzy)


@lru_cache(maxsize=65536)
def _find_phrase(words: tuple[str, ...], phrase: str, fuzzy: bool) -> int:
    target = phrase_tokens(phrase)
    if not target:
        return -1
    n = len(target)
    for i in range(len(words) - n + 1):
        if all(_word_match(words[i + k], target[k], fuzzy) for k in range(n)):
            return i
    joined = "".join(target)  # "winrate" for "win rate"
    if n > 1:
        for i, word in enumerate(words):
            if _word_match(word, joined, False):
                return i
    return -1


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """A crude stem: plural, -ing and -ed endings off, synonyms folded.

    >>> stem("opportunities"), stem("coaching"), stem("pushed"), stem("deals"), stem("avg")
    ('deal', 'coach', 'push', 'deal', 'avg')
    >>> stem("slipped"), stem("slip"), stem("oppertunities")
    ('slip', 'slip', 'deal')
    """
    for suffix, keep in (("ies", "y"), ("ing", ""), ("ed", ""), ("es", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            if suffix == "es" and not word.endswith(("shes", "ches", "sses", "xes")):
                continue
            word = word[: -len(suffix)] + keep
            if suffix in {"ed", "ing"} and len(word) > 3 and word[-1] == word[-2] and \
                    word[-1] not in "aeiouls":
                word = word[:-1]  # slipped → slip, stopped → stop
            break
    if not word:
        return word
    same = _SAME.get(word, _SAME.get(word + "e"))
    if same is None and len(word) >= 7:  # "oppertunity": a typo of a long word folded too
        same = next((v for k, v in _SAME.items() if len(k) >= 7 and similar(word, k)), None)
    return same or word


def _word_match(word: str, target: str, fuzzy: bool) -> bool:
    if word == target or word.rstrip("s") == target.rstrip("s"):
        return True
    if stem(word) == stem(target):
        return True
    return fuzzy and (similar(word, target) or similar(word, plural(target)))


def plural(word: str) -> str:
    """The plural of a catalog word, so a typo of the plural finds it ("industires")."""
    if word.endswith("y") and len(word) > 3 and word[-2] not in "aeiou":
        return word[:-1] + "ies"
    return word if word.endswith("s") else word + "s"


def has_phrase(words: Sequence[str], phrase: str, *, fuzzy: bool = True) -> bool:
    """Whether `phrase` occurs in `words` (typo-tolerant)."""
    return find_phrase(words, phrase, fuzzy=fuzzy) >= 0


def has_any(words: Sequence[str], phrases: Iterable[str], *, fuzzy: bool = True) -> bool:
    """Whether any of `phrases` occurs in `words`.

    >>> has_any(tokens("how's the forcast"), ["forecast", "projection"])
    True
    """
    return any(has_phrase(words, p, fuzzy=fuzzy) for p in phrases)
