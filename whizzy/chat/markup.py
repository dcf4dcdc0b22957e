r"""Text from the data or the LLM, made inert for the three renderers it meets.

Account names, deal names, filter values and the LLM's own words reach the chat as
markdown (messages and steps) and as Plotly's HTML-like labels (charts). Left as they are,
`[x](https://evil.example)` becomes a link, `![x](...)` an image, a newline and `#` a
heading, and `<a href=...>` a link on a chart label. Every such string passes through one
of these helpers; markup appears only where the chat itself writes it (bold step labels,
the italic footer).

>>> print(md_text("[Acme](evil.html) # Hi"))
\[Acme\]\(evil\.html\) \# Hi
>>> plotly_text('<a href="https://evil.example">Acme</a> & Co')
'&lt;a href="https://evil.example"&gt;Acme&lt;/a&gt; &amp; Co'
"""

from __future__ import annotations

import re
import string
from typing import Any

#: Characters CommonMark lets a backslash escape (all ASCII punctuation).
_MD_SPECIAL = frozenset(string.punctuation)
_MD_ESCAPE = {ord(c): "\\" + c for c in _MD_SPECIAL}
#: Line and paragraph separators markdown or the browser would honour besides "\n".
_BREAKS = re.compile(r"\r\n?|[\u2028\u2029\x85\x0b\x0c]")
#: Control characters (other than tab and newline) have no business in the page.
_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
#: Where GFM (Chainlit's renderer) would start a link in plain text: `http:`, `https:`,
#: `www.` and the `@` of an address. It looks after escapes are resolved, so a backslash
#: does not stop it; an invisible WORD JOINER (U+2060) inside the trigger does.
_AUTOLINK = re.compile(r"(?i)(?<![a-z0-9])(https?(?=:)|www(?=\.))|(?<=[-.\w+])(?=@)")
WORD_JOINER = "\u2060"


def md_text(value: Any) -> str:
    r"""`value` as markdown that renders as exactly its text: no link, image, heading or HTML.

    Every ASCII punctuation character is backslash-escaped (CommonMark renders `\.` as
    `.`), so no markdown construct (link, image, heading, list, table, HTML, directive)
    can start. Web and mail addresses get an invisible word joiner where GFM would turn
    them into links (`_AUTOLINK`). Escape whole texts: a piece may end inside an address.

    >>> print(md_text("Win rate is 31.6% (Q3)."))
    Win rate is 31\.6\% \(Q3\)\.
    >>> md_text("www.x.io, ann@x.io").replace(WORD_JOINER, "+")
    'www+\\.x\\.io\\, ann+\\@x\\.io'
    """
    text = _CONTROL.sub("", _BREAKS.sub("\n", str(value)))
    text = _AUTOLINK.sub(lambda m: (m.group(1) or "") + WORD_JOINER, text)
    return text.translate(_MD_ESCAPE)


def md_code(value: Any) -> str:
    """`value` as an inline code span, however many backticks it holds.

    >>> md_code("m_forecast"), md_code("a`b")
    ('`m_forecast`', '`` a`b ``')
    """
    text = _CONTROL.sub("", _BREAKS.sub(" ", str(value))).replace("\n", " ")
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    return f"{fence} {text} {fence}" if longest else f"{fence}{text}{fence}"


def code_block_text(value: Any) -> str:
    r"""Text for a fenced code block Chainlit writes itself (a step with a `language`).

    Chainlit wraps it in a fixed ```` ``` ```` fence (and not at all when it starts with
    one), so a run of three backticks inside would end the block and let the rest render as
    markdown. Word joiners split such runs; the text reads the same.

    >>> code_block_text("select '```' as x").replace(WORD_JOINER, "+")
    "select '`+`+`' as x"
    """
    return re.sub(r"`{3,}", lambda m: WORD_JOINER.join(m.group()), str(value))


def plotly_text(value: str) -> str:
    """A string as Plotly shows it literally (its labels understand a few HTML tags).

    >>> plotly_text("AT&T <b>x</b>")
    'AT&amp;T &lt;b&gt;x&lt;/b&gt;'
    """
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def plotly_plain(value: Any) -> Any:
    """Every string inside `value` (dicts, lists, tuples) passed through `plotly_text`.

    >>> plotly_plain({"x": ["<i>a</i>", 1], "name": "b"})
    {'x': ['&lt;i&gt;a&lt;/i&gt;', 1], 'name': 'b'}
    """
    if isinstance(value, str):
        return plotly_text(value)
    if isinstance(value, dict):
        return {k: plotly_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(plotly_plain(v) for v in value)
    return value
