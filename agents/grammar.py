"""The grammar of questions: words that build a query's structure, not its vocabulary.

Which *measures*, *dimensions* and *flags* exist is the catalog's business
(`agents.vocabulary`). This module only knows how English puts a query together: words
that compare ("vs"), rank ("top", "worst"), group ("by", "per", "which"), bound a number
("over", "at least"), exclude ("except"), ask for a share ("% of"), a count ("how many"),
records ("list"), a reason ("why") or a trend ("over time"), and the function words that
carry no constraint at all. None of them names a model, a measure or a column.

>>> direction_of("fastest", "days"), direction_of("fastest", "currency")
('bottom', None)
>>> direction_of("worst", "percent", True)
'bottom'
>>> parse_amount("$250k"), parse_amount("1.5m"), parse_amount("30%"), parse_amount("12")
(250000.0, 1500000.0, 0.3, 12.0)
"""

from __future__ import annotations

import re

#: Function words and generic verbs: consumed by nothing, constrain nothing.
FILLER = frozenset("""
i.e ie e.g eg plus actual
a about actually all also am an and any anything are around as ask at be been being both but
by can could currently did do does doing done each either else ever exactly for from get
gets getting give go going got had has have having he hello help her here hers hey hi him his
how i if im in into is it its just kind kindly know let lets like look looking looks many may
me mine more most much my need needs now of off ok okay on one ones or our ours out over
please pls quick quickly rather real really right roughly say see seems she show showing so
some sort such tell than thank thanks that thats the their theirs them then there these they
thing things this those through to today too up us very want wanna was way we were what
whats when where whether which while who whom whose why will with would yeah yes yet you your
yours hows whos side basically overall currently total totals so far our
we've weve i'd id we're were
number numbers figure figures value much many looking like sitting sits sit right currently
still now again another also versus via per each every across among between summary
tell give show list display find pull bring report provide share breakdown
sorry if basic one since already current
know wondering wonder curious question quick brief briefly specifically exactly approximately
roughly about approx estimate typical typically usually generally overall
take takes took spend spends spent usually normally does do did make made come comes came
based located often
""".split())

#: The sales calendar's own words: a question about a quarter or a year-to-date is sales talk
#: even before it names a figure ("how did we do last quarter?").
CALENDAR = frozenset({"quarter", "quarters", "qtd", "ytd", "mtd", "fiscal", "fy", "h1", "h2",
                      "q1", "q2", "q3", "q4"})
#: Generic names of a figure: asking for one is data talk ("what are our key metrics?").
FIGURE_WORDS = frozenset({"kpi", "kpis", "metric", "metrics"})
#: Words that compare members or periods ("Retail vs Energy", "this quarter against last").
#: Verbs of change: said before "from X to Y", the two periods are compared, not joined.
CHANGE_VERBS = frozenset({"grow", "grew", "grown", "growth", "change", "changed", "changes",
                          "increase", "increased", "decrease", "decreased", "drop", "dropped",
                          "fall", "fell", "rise", "rose", "go", "went", "gone", "move", "moved",
                          "shift", "shifted", "jump", "jumped", "climb", "climbed", "decline",
                          "declined"})
COMPARE = frozenset({"vs", "versus", "v", "compare", "compared", "comparing", "comparison",
                     "against", "beating", "beat", "outperforming", "better", "worse"})
#: Words that exclude the value after them ("excluding Technology").
EXCLUDE = frozenset({"exclude", "excluding", "except", "without", "minus", "besides", "skip",
                     "skipping",
                     "not", "non", "ignoring", "ignore", "omit", "omitting", "leave", "leaving",
                     "aren't", "arent", "isn't", "isnt", "wasn't", "weren't", "outside"})
#: Subject pronouns: a clause follows ("where we were at this point last year").
SUBJECTS = frozenset({"i", "we", "you", "they", "he", "she", "it"})
#: Words that narrow a previous answer ("only the ones in negotiation").
ONLY = frozenset({"only", "just", "solely", "purely"})
#: Words before a dimension that make it a breakdown ("by industry", "which reps").
GROUP = frozenset({"by", "per", "each", "every", "across", "among", "which", "what"})
#: Words asking for a count, a sum or an average (a measure's `base` in the catalog).
COUNT_WORDS = ("how many", "number of", "count of", "count", "counts", "how many times")
AMOUNT_WORDS = ("how much", "total value", "value of", "dollar amount", "dollars", "worth",
                "total amount", "sum of", "in dollars", "dollar-wise", "$", "add up", "adds up")
#: Nouns of an amount: "<a count> and <one of these>" asks the amount too ("how many and total").
AMOUNT_NOUNS = frozenset({"total", "value", "worth", "amount", "sum", "$", "dollars"})
#: Names of a span of time ("which half did better": one of the periods set side by side).
PERIOD_UNITS = frozenset({"half", "quarter", "month", "year", "week", "period", "one", "fy"})
AVERAGE_WORDS = ("average", "avg", "mean", "typical")
#: Words asking for a share of the rest ("what % of pipeline is overdue").
SHARE = re.compile(r"\b(?:what|which)?\s*(?:%|percent|percentage|share|proportion|fraction|"
                   r"portion|ratio)\s+(?:of|is|are)\b|\bwhat\s+(?:%|(?:percent|percentage|share|"
                   r"proportion|fraction|portion)\b)|\bhow\s+much\s+of\b")
#: Words asking why a figure is what it is.
WHY = re.compile(r"^(?:why|how come)\b|\bwhat(?:'s| is| are)? (?:driving|behind|causing|"
                 r"dragging(?: down)?|hurting|holding (?:it|us) back)\b|\bwhat (?:drove|dragged|"
                 r"hurt|caused|pulled)(?: down| up)?\b|\bexplain (?:why|that|this)\b|"
                 r"\breasons? (?:for|why)\b")
#: Words asking how a figure moved over time.
TREND = re.compile(r"\b(?:trend|trends|trending|trended|over time|history|historical|trajectory|"
                   r"quarter over quarter|month over month|qoq|mom|each quarter|every quarter|"
                   r"by quarter|per quarter|quarterly|by month|per month|each month|monthly|"
                   r"evolve[ds]?|progression|getting better|getting worse|improv(?:e|ed|ing)|"
                   r"declin(?:e|ed|ing)|over the (?:last|past) (?:few|several|\d+) quarters|"
                   r"(?:getting|growing|becoming|gotten|grown|become) (?:a lot |much |any )?"
                   r"(?:long|short|bigg|small|fast|slow|high|low|bett|wors|great)er|"
                   r"(?:increas|decreas|lengthen|shorten|shrink|rising|falling)\w*|growing|"
                   r"dropping|climbing|than (?:before|previously|(?:we|it|they) used to))\b|"
                   r"^how (?:has|have) .+ (?:changed|moved|shifted|developed|evolved|"
                   r"progressed|gone|done over)\W*$")
#: The present perfect of a duration ("how long have deals been stuck in Proposal?"): about
#: what is still going on up to today, not what has finished.
PERFECT = re.compile(r"\bhow long (?:have|has|'ve)\b.*?\b(?P<been>been)\b")
#: Words asking for specific records rather than a figure.
LIST_WORDS = frozenset({"list", "show", "display", "which", "what", "name", "names", "give",
                        "find", "pull", "biggest", "largest", "smallest", "top", "oldest",
                        "newest", "latest", "soonest", "earliest", "most", "longest",
                        "export"})
#: Words that point back to the previous answer.
ANAPHORA = frozenset({"it", "that", "those", "them", "they", "these", "this", "his", "her",
                      "their", "theirs", "its", "one", "ones", "same", "there"})
#: "the quarter before", "the month after", "before that", "the one before that".
RELATIVE = re.compile(
    r"\b(?:(?:the\s+)?(?:fiscal\s+)?(?P<unit>quarter|month|year|half|one|period)\s+"
    r"(?:(?:right|just|immediately|directly)\s+)?(?P<dir>before|prior|"
    r"earlier|after|later)(?!\s+(?:last|this|next))(?:\s+that)?|(?P<dir2>before|after) "
    r"(?:that|then|it)|(?:the\s+)?(?P<dir3>previous|prior|preceding|following|next)\s+"
    r"(?P<unit3>one|quarter|month|year|half|period)(?!\s+\w*\s*(?:to date)))\b")

_DIRECTIONS = {
    # word stem → (direction for "higher", True when the word means "more of the figure")
    "top": "top", "best": "better", "highest": "top", "most": "top", "biggest": "top",
    "largest": "top", "strongest": "better", "leading": "better", "greatest": "top",
    "max": "top", "maximum": "top", "longest": "top", "slowest": "top", "oldest": "top",
    "more": "top", "bigger": "top", "larger": "top", "higher": "top", "better": "better",
    "bottom": "bottom", "worst": "worse", "lowest": "bottom", "least": "bottom",
    "smallest": "bottom", "weakest": "worse", "poorest": "worse", "min": "bottom",
    "minimum": "bottom", "underperforming": "worse", "struggling": "worse",
    "lagging": "worse", "shortest": "bottom", "fastest": "fast", "quickest": "fast",
    "fewer": "bottom", "less": "bottom", "lower": "bottom", "worse": "worse",
    "fewest": "bottom",
    "slower": "top", "faster": "fast", "quicker": "fast",
    # of a date ("the newest deal over 100k"): records ordered by it (`reader._record_order`)
    "newest": "top", "latest": "top", "soonest": "bottom", "earliest": "bottom",
}


def direction_of(word: str, unit: str | None, higher_is_better: bool | None = None
                 ) -> str | None:
    """Whether a superlative asks for the ``top`` or the ``bottom`` of a figure of `unit`.

    "fastest" is the bottom of a duration and means nothing for money; "worst" is the
    bottom of a figure where higher is better and the top of one where lower is.
    """
    kind = _DIRECTIONS.get(word)
    if kind is None:
        return None
    if kind == "fast":
        return "bottom" if unit == "days" else None
    if kind in {"better", "worse"}:
        up = kind == "better"
        if higher_is_better is False:
            up = not up
        return "top" if up else "bottom"
    return kind


def is_judgement(word: str) -> bool:
    """Whether a superlative judges ("best", "worst") rather than measures ("biggest").

    >>> is_judgement("best"), is_judgement("biggest")
    (True, False)
    """
    return _DIRECTIONS.get(word) in {"better", "worse"}


def is_superlative(word: str) -> bool:
    """Whether `word` ranks ("top", "worst", "fastest")."""
    return word in _DIRECTIONS


#: "over", "at least", ... → operator, and the words they may span.
COMPARATORS: tuple[tuple[tuple[str, ...], str], ...] = (
    (("more", "than"), "gt"), (("greater", "than"), "gt"), (("bigger", "than"), "gt"),
    (("larger", "than"), "gt"), (("higher", "than"), "gt"), (("at", "least"), "gte"),
    (("upwards", "of"), "gte"), (("no", "less", "than"), "gte"), (("over",), "gt"),
    (("older", "than"), "gt"), (("younger", "than"), "lt"), (("newer", "than"), "lt"),
    (("above",), "gt"), (("north", "of"), "gt"), (("south", "of"), "lt"),
    (("exceeding",), "gt"), (("exceeds",), "gt"), (("beyond",), "gt"),
    (("less", "than"), "lt"), (("fewer", "than"), "lt"), (("smaller", "than"), "lt"),
    (("lower", "than"), "lt"), (("at", "most"), "lte"), (("up", "to"), "lte"),
    (("no", "more", "than"), "lte"), (("under",), "lt"), (("below",), "lt"),
    (("between",), "between"), (("bigger",), "gt"), (("smaller",), "lt"),
    (("minimum", "of"), "gte"), (("minimum",), "gte"), (("min",), "gte"),
    (("maximum", "of"), "lte"), (("maximum",), "lte"), (("max",), "lte"),
)
#: Words after a number that turn it into a bound ("$200k or more", "10 or fewer").
TRAILING = {("or", "more"): "gte", ("or", "above"): "gte", ("or", "higher"): "gte",
            ("or", "bigger"): "gte", ("and", "up"): "gte", ("plus",): "gte",
            ("or", "less"): "lte", ("or", "fewer"): "lte", ("or", "under"): "lte",
            ("or", "below"): "lte", ("or", "lower"): "lte", ("or", "smaller"): "lte",
            ("or", "longer"): "gte", ("or", "older"): "gte", ("or", "shorter"): "lte"}

_AMOUNT = re.compile(r"^\$?(?P<n>\d+(?:\.\d+)?)(?P<suffix>k|m|mm|mn|b|bn|%)?\+?$")
_SCALE = {"k": 1e3, "m": 1e6, "mm": 1e6, "mn": 1e6, "b": 1e9, "bn": 1e9, "%": 0.01}
SCALE_WORDS = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "grand": 1e3, "k": 1e3,
               "m": 1e6, "mil": 1e6, "bn": 1e9, "percent": 0.01, "pct": 0.01}
#: A list re-ordered ("sort them by close date", "order by amount, smallest first").
SORT = re.compile(r"^(?:(?:and|ok|okay|now|then|can you|please)\s+)*(?:sort|order|rank|re-sort|"
                  r"resort)(?:\s+(?:them|those|these|it|the list|the deals))?\s+by\s+"
                  r"(?P<key>.+?)(?:,?\s+(?P<dir>asc|ascending|desc|descending|smallest first|"
                  r"largest first|biggest first|oldest first|newest first|latest first|"
                  r"earliest first|soonest first))?\W*$")
#: How many rows to keep, said of a list or ranking already shown ("top 3 only", "just 5").
LIMIT = re.compile(r"^(?:(?:and|ok|okay|now|then|but)\s+)*(?:(?:show|give|list)\s+(?:me\s+)?)?"
                   r"(?:only|just)?\s*(?:the\s+)?(?:top|first|best|biggest)?\s*"
                   r"(?P<n>\d{1,4}|one|two|three|four|five|six|seven|eight|nine|ten|twelve|"
                   r"fifteen|twenty)(?:\s+(?:only|please|of them|of those))?\W*$")
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
                "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
                "twenty": 20, "dozen": 12, "single": 1}


#: Counts written as words after a bound ("pushed more than once").
TIMES_WORDS = {"once": 1, "twice": 2, "thrice": 3}


def parse_amount(word: str) -> float | None:
    """A number as written in a question ("$250k", "1.5m", "30%", "12"), or None."""
    m = _AMOUNT.match(word.replace(",", ""))
    if m is None:
        return None
    return float(m["n"]) * _SCALE.get(m["suffix"] or "", 1.0)


def is_money(word: str) -> bool:
    """Whether a number is written as money ("$250k", "10k", "1.5m").

    >>> is_money("$40"), is_money("10k"), is_money("60"), is_money("30%")
    (True, True, False, False)
    """
    m = _AMOUNT.match(word.replace(",", ""))
    return bool(m) and (word.startswith("$") or (m["suffix"] or "") in {"k", "m", "mm", "mn",
                                                                       "b", "bn"})


#: "the 2nd one", "the last one", "number 3 on the list": one member of a list already shown.
ORDINAL = re.compile(r"\b(?:the\s+)?(?P<n>first|second|third|fourth|fifth|sixth|seventh|"
                     r"eighth|ninth|tenth|last|top|bottom|1st|2nd|3rd|[4-9]th|10th|number \d+|"
                     r"#\d+)"
                     r"\s+(?:one|on (?:the|that|this) list|of them|of those|in the list|"
                     r"\w+ (?:there|on (?:the|that) list|of those|of them))\b|"
                     # "the #1 guy's win rate", "the number 2 rep": a numbered member
                     r"\bthe\s+(?P<n2>number \d+|#\d+|1st|2nd|3rd|[4-9]th|10th)\s+"
                     r"(?!(?:quarter|month|year|half|week|day|time|fiscal)s?\b)[a-z]+\b|"
                     # "for that second industry": the one pointed at on the list shown
                     r"\b(?:that|this)\s+(?P<n3>first|second|third|fourth|fifth|2nd|3rd|[4-5]th)\s+"
                     r"(?!(?:quarter|month|year|half|week|day|time|fiscal)s?\b)[a-z]+\b|"
                     # "the source in second place": the member at that place of the ranking
                     r"\b(?:in\s+)?(?P<n4>first|second|third|fourth|fifth|1st|2nd|3rd|[4-5]th|"
                     r"last)\s+place\b|"
                     # "go back to the first industry": returning to a member listed before
                     r"\bback\s+to\s+the\s+(?P<n5>first|second|third|fourth|fifth|1st|2nd|3rd|"
                     r"[4-5]th)\s+(?!(?:quarter|month|year|half|week|day|time|fiscal)s?\b)[a-z]+\b")
_ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6,
             "seventh": 7, "eighth": 8, "ninth": 9, "tenth": 10, "last": -1, "top": 1,
             "bottom": -1}


def ordinal_of(text: str) -> tuple[int, str] | None:
    """Which member of a shown list a phrase points at (1-based; -1 the last), and its words.

    >>> ordinal_of("whats the biggest open deal in the 2nd one"), ordinal_of("the last one")
    ((2, 'the 2nd one'), (-1, 'the last one'))
    >>> ordinal_of("first quarter") is None, ordinal_of("the top person there")
    (True, (1, 'the top person there'))
    >>> ordinal_of("top 3 of those") is None, ordinal_of("in the top one, which rep")
    (True, (1, 'the top one'))
    >>> ordinal_of("and the source in second place - same two numbers?")
    (2, 'in second place')
    >>> ordinal_of("go back to the first industry - same win rate?")
    (1, 'back to the first industry')
    """
    found = ORDINAL.search(text)
    if found is None:
        return None
    n = found.group("n") or found.group("n2") or found.group("n3") or found.group("n4") or \
        found.group("n5")
    after = text[found.end("n"):].split()[:1] if found.group("n") else []
    if n in {"top", "bottom"} and after and (after[0].isdigit() or after[0] in NUMBER_WORDS
                                             and after[0] != "one"):
        return None  # "top 3 of those": how many, not which one ("the top one" is which)
    digits = re.sub(r"\D", "", n)
    return (_ORDINALS[n] if n in _ORDINALS else int(digits)), found.group(0)



#: Every word the grammar reads (filler, comparing, excluding, grouping, listing, pointing
#: back, numbers): a word outside it and the catalog is foreign to the assistant.
KNOWN = FILLER | COMPARE | EXCLUDE | ONLY | GROUP | LIST_WORDS | ANAPHORA | \
    frozenset(NUMBER_WORDS) | frozenset(SCALE_WORDS) | frozenset(TIMES_WORDS)


_AFTER_VERB = frozenset({"the", "a", "an", "most", "more", "their", "our", "his", "her", "its",
                         "in", "up", "out", "over", "under", "fewest", "least", "biggest",
                         "largest", "highest", "lowest", "next", "first", "second", "top"})


def asks_one(question: str) -> bool:
    """Whether a ranking question asks for one member ("which rep has the most?").

    >>> asks_one("which rep has the most of it?"), asks_one("which reps have the most?")
    (True, False)
    >>> asks_one("which rep holds the most pipe?"), asks_one("which lead sources bring in most")
    (True, False)
    >>> asks_one("which sales manager's team has booked the most?")
    True
    """
    for sentence in re.split(r"[?!.;,:]+|\s[-–—]\s", (question or "").lower()):  # ("where are deals
        words = re.findall(r"[a-z0-9']+", sentence)  # stuck? which stage …": the second)
        # (a verb in -s is followed by what it does: "which rep holds the most")
        plural = any(w.endswith("s") and len(w) > 3 and (words[k + 1:k + 2] or [""])[0] not in
                     _AFTER_VERB for k, w in enumerate(words[1:3], 1))
        at = next((k for k, w in enumerate(words[1:6], 1) if w in {"has", "is", "was", "have",
                                                                  "are", "were"}), None)
        if at is not None and (words[at + 1:at + 2] or [""])[0] not in {
                "we", "they", "you", "i", "it", "he", "she", "there", "most", "all", "some",
                "any", "these", "those", "the", "our", "my", "your", "their", "a", "an", "many",
                "more", "none", "each"}:  # ("which stage are most of them in": the subject after)
            # ("which sales manager's team has booked the most": one team, by its verb)
            plural = words[at] in {"have", "are", "were"}
        if words and words[0] in {"which", "who", "what", "whose", "who's", "whos"} and \
                not plural:
            return True
    return False
