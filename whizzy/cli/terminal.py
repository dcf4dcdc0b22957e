r"""Text from the warehouse, the LLM or the user, made safe to show in a terminal.

Rich reads `[...]` in a printed string as markup: an account named `Broken [/b] Corp`
crashes the print (MarkupError), `[link=...]` hides a hyperlink, `[red]` vanishes. And
control characters in data (ESC, OSC, BEL, the 8-bit CSI, bidi overrides) would drive the
terminal itself: clear it, set its title, plant a link. So every data string the CLI shows
goes through `text` (a Rich `Text`, never parsed as markup), `escaped` (for a string that
is spliced into markup) or `json_line`, all of which first `clean` it.

>>> clean("Broken [/b] Corp\x1b]8;;http://evil.example\x07\x9b2J\u202eevil")
'Broken [/b] Corp]8;;http://evil.example2Jevil'
>>> print(escaped("Broken [/b] Corp"))
Broken \[/b] Corp
>>> print(json_line({"name": "a\x9bb"}))
{"name": "a\u009bb"}
"""

from __future__ import annotations

import json
import re
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.text import Text

from whizzy.core.controls import strip_controls

#: What `json.dumps(..., ensure_ascii=False)` leaves raw that a terminal may act on.
_JSON_RAW = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")

#: `value` as a string without terminal control characters (tab and newline stay).
clean = strip_controls


def console(*, stderr: bool = True) -> Console:
    """The commands' message console, which never wraps a line nor reads data as markup.

    A path stays whole in a pipe or a log; a terminal folds long lines itself.
    """
    return Console(stderr=stderr, soft_wrap=True, highlight=False, emoji=False)


def text(value: Any, style: str = "") -> Text:
    """`value` as a Rich `Text`: shown exactly as written, never read as markup or emoji."""
    return Text(clean(value), style=style)


def escaped(value: Any) -> str:
    """`value` cleaned and escaped, for splicing into a string Rich reads as markup."""
    return escape(clean(value))


def json_line(value: Any) -> str:
    """`value` as one line of JSON in which no character can steer a terminal."""
    line = json.dumps(value, default=str, ensure_ascii=False)  # C0 controls come out \\u-escaped
    return _JSON_RAW.sub(lambda m: f"\\u{ord(m.group()):04x}", line)
