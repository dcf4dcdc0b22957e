r"""Terminal control characters: text from data must never steer the terminal showing it.

An account name can carry ESC and OSC sequences (clear the screen, set the window title,
plant a hidden link), the 8-bit CSI, or a bidi override that reverses what follows. Every
front end that prints data to a terminal passes it through `strip_controls` first.

>>> strip_controls("Hooli\x1b]0;pwned\x07 \x9b2J\u202eevil\tok\n")
'Hooli]0;pwned 2Jevil\tok\n'
>>> strip_controls(None)
''
"""

from __future__ import annotations

import re
from typing import Any

#: C0 controls but tab and newline, DEL, C1 controls (U+0080-U+009F: the 8-bit CSI and OSC
#: among them), and the bidi embeddings, overrides and isolates.
CONTROL_CHARACTERS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_controls(value: Any) -> str:
    """`value` as a string without terminal control characters (tab and newline stay)."""
    return CONTROL_CHARACTERS.sub("", "" if value is None else str(value))
