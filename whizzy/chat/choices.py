"""Clarifying choices as buttons: each asks the question again with the choice in it.

When the assistant asks back ("'sofia' matches several owners. Which one do you mean?", or
"did you mean one of these?" for a name it could not find), its answer carries the options
and the words of the question they stand for (`agents.contract.Clarify`). Each option
becomes the resolved question, so one click asks it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

#: An option of a "did you mean" list names its dimension: "Nancy Dixon (owner)".
_DIMENSION = re.compile(r"\s+\([a-z_ ]+\)$")


def choice_questions(question: str, clarify: Mapping[str, Any] | None) -> list[tuple[str, str]]:
    """(label, resolved question) for each option the assistant offered.

    >>> for label, asked in choice_questions(
    ...         "How is Sofia doing?", {"options": ["Sofia Sanchez", "Sofia Vargas"],
    ...                                 "text": "sofia"}):
    ...     print(label, "->", asked)
    Sofia Sanchez -> How is Sofia Sanchez doing?
    Sofia Vargas -> How is Sofia Vargas doing?
    >>> choice_questions("win rate of nancy  dixn", {"options": ["Nancy Dixon (owner)"],
    ...                                              "text": "nancy dixn"})
    [('Nancy Dixon', 'win rate of Nancy Dixon')]
    >>> choice_questions("Which figure?", {"options": [], "text": ""})
    []
    """
    if not isinstance(clarify, Mapping):
        return []
    text = str(clarify.get("text") or "").strip()
    if not text:
        return []
    words = r"\s+".join(re.escape(w) for w in text.split())
    pattern = re.compile(rf"(?<!\w){words}(?!\w)", re.IGNORECASE)
    if not pattern.search(question):
        return []
    out = []
    for option in clarify.get("options") or []:
        value = _DIMENSION.sub("", str(option)).strip()
        if value:
            out.append((value, pattern.sub(lambda _m, v=value: v, question, count=1)))
    return out[:6]
