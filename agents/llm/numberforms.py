"""Figures however they are written, rewritten as plain ASCII digits for the grounding check.

An LLM can write a number in many ways the digit reader would miss: as words ("one
billion dollars", "ninety-nine percent"), with an exponent (``$1e9``), with underscores,
apostrophes or thin spaces between digit groups (``1_000_000_000``), as superscripts or
circled digits (``¹⁰⁰``), or in another script (``٣١٫٣٪``, ``१२``). `plain_figures` turns
all of these into digits (``1 billion dollars``, ``99 percent``), keeping the precision the
words show, so every figure-like token is checked the same way.

A bare "one" stays a word: it is far more often a pronoun ("no one", "one of the reps")
than a figure, and a figure it stands for is at most a count.

>>> plain_figures("one billion dollars, ninety-nine percent and twenty-one deals")
'1 billion dollars, 99 percent and 21 deals'
>>> plain_figures("$1_000_000_000 or 1'000'000 or $1e9 or 2¹⁰ or ٣١٫٣٪ or １２ or ①")
'$1000000000 or 1000000 or $1 billion or 210 or 31.3% or 12 or 1'
>>> plain_figures("one of the reps closed a hundred and five deals")
'one of the reps closed 105 deals'
>>> plain_figures("two point five million, a thousand, 3.4 million")
'2.5 million, 1 thousand, 3.4 million'
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
    "seventy": 70, "eighty": 80, "ninety": 90,
}
_SCALES = {"hundred": 100, "thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12}
_WORD = "(?:" + "|".join(sorted([*_UNITS, *_SCALES], key=len, reverse=True)) + ")"
_DIGIT_WORD = "(?:" + "|".join(k for k, v in _UNITS.items() if v < 10) + ")"
#: A run of number words: "a hundred and five", "twenty-one", "two point five million".
_WORDS = re.compile(
    rf"\b(?:(?P<article>an?)\s+(?=(?:hundred|thousand|million|billion|trillion)\b))?"
    rf"(?P<run>{_WORD}(?:(?:\s+and\s+|\s*-\s*|\s+){_WORD})*"
    rf"(?:\s+point(?:\s+{_DIGIT_WORD})+(?:\s+{_WORD})*)?)\b",
    re.I,
)
#: Characters that separate digit groups (removed between digits).
_GROUP = re.compile(r"(?<=\d)[_'’\u00a0\u2009\u202f\u2007](?=\d)")
#: Dots as thousands separators (``1.000.000``): two groups or more.
_DOT_GROUPS = re.compile(r"(?<![\d.])\d{1,3}(?:\.\d{3}){2,}(?![\d.])")
#: An exponent (``1e9``, ``2.5E+06``) or a hex literal (``0x3B9ACA00``).
_EXPONENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?[eE][+-]?\d+)(?!\w|\.\d)")
_HEX = re.compile(r"(?<![\w.])0[xX][0-9a-fA-F]+\b")
#: Script-specific separators and signs that NFKC leaves alone.
_SIGNS = str.maketrans({"\u066b": ".", "\u066c": ",", "\u066a": "%", "\u2212": "-",
                        "\u2044": "/", "\u00b7": "."})


def _digits(text: str) -> str:
    """Every Unicode digit (any script, superscripts, circled) as an ASCII digit."""
    out = []
    for ch in text:
        if ch.isascii():
            out.append(ch)
            continue
        value = unicodedata.digit(ch, None)
        out.append(str(value) if value is not None else ch)
    return "".join(out)


def _plain(value: float) -> str:
    """A value as plain digits, never with an exponent.

    >>> _plain(1e9), _plain(2.5e6), _plain(0.00012)
    ('1000000000', '2500000', '0.00012')
    """
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.12f}".rstrip("0").rstrip(".")


def _exponent(text: str) -> str:
    """An exponent written out, with the precision it shows.

    >>> _exponent("1e9"), _exponent("1.24e6"), _exponent("1.234E+07"), _exponent("9.7e-1")
    ('1 billion', '1.24 million', '12.34 million', '0.97')
    """
    value = Decimal(text)
    for word in ("trillion", "billion", "million", "thousand"):
        scale = Decimal(int(_SCALES[word]))
        if value >= scale:
            return f"{format(value / scale, 'f')} {word}"
    return format(value, "f")


def words_value(run: str, *, article: bool = False) -> float | None:
    """The value of a run of number words, or None when it is not a well-formed number.

    >>> words_value("ninety-nine"), words_value("one hundred and five thousand")
    (99.0, 105000.0)
    >>> words_value("billion", article=True), words_value("two point five million")
    (1000000000.0, 2500000.0)
    """
    words = re.findall(r"[a-z]+", run.lower())
    fraction = ""
    if "point" in words:
        at = words.index("point")
        digits = [w for w in words[at + 1:] if w in _UNITS and _UNITS[w] < 10]
        fraction = "".join(str(_UNITS[w]) for w in digits)
        words = words[:at] + words[at + 1 + len(digits):]
    total, current = 0.0, 1.0 if article else 0.0
    seen = article
    decimals_pending = bool(fraction)
    for word in words:
        if word == "and":
            continue
        if word in _UNITS:
            current += _UNITS[word]
            seen = True
        elif word in _SCALES:
            base = current if seen else 1.0
            if decimals_pending:
                base = float(f"{int(base)}.{fraction}")
                decimals_pending = False
            if word == "hundred":
                current = base * 100
            else:
                total += base * _SCALES[word]
                current = 0.0
            seen = True
        else:
            return None
    if decimals_pending:
        current = float(f"{int(current)}.{fraction}")
    return total + current if seen else None


def _replace_words(m: re.Match[str]) -> str:
    run = m["run"]
    words = re.findall(r"[a-z]+", run.lower())
    if not m["article"] and words == ["one"]:
        return m.group()  # "one of the reps": a pronoun, not a figure
    if not m["article"] and words[0] in _SCALES:
        return m.group()  # "3.4 million": the digits before it are read with it
    value = words_value(run, article=bool(m["article"]))
    if value is None:
        return m.group()
    # keep the precision the words show: "one billion" is "1 billion", not 1000000000
    for word in ("trillion", "billion", "million", "thousand"):
        if word in words:
            return f"{_plain(round(value / _SCALES[word], 12))} {word}"
    return _plain(value)


def plain_figures(text: str) -> str:
    """`text` with every figure written as plain ASCII digits (see the module doc)."""
    text = _GROUP.sub("", text)  # before NFKC: it turns thin spaces into plain spaces
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")  # zero-width
    text = _digits(text).translate(_SIGNS)
    text = _GROUP.sub("", text)
    text = _DOT_GROUPS.sub(lambda m: m.group().replace(".", ""), text)
    text = _EXPONENT.sub(lambda m: _exponent(m.group(1)), text)
    text = _HEX.sub(lambda m: str(int(m.group(), 16)), text)
    return _WORDS.sub(_replace_words, text)
