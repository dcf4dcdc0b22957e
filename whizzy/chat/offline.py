"""Keep the chat page on this machine, and fill live facts into `chainlit.md`.

Chainlit's `index.html` links Google Fonts and a KaTeX stylesheet from a CDN. `page_html`
removes every link to another host and adds a Content-Security-Policy that lets the page
load and connect to its own origin only (plus `data:`/`blob:` URLs for charts and tables),
so the browser makes no outbound request even if a future Chainlit adds one.

`fill_markdown` replaces `{{as_of_date}}`-style placeholders in `chainlit.md` with the
warehouse's facts when the page asks for it.

`install()` applies both to Chainlit's server module. Chainlit has no hook for either, so
this wraps two module-level functions (`get_html_template`, `get_markdown_str`) that its
routes call by name; the wrappers call the originals and only post-process their text.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

#: Everything the page may load or connect to: its own origin, inline data, nothing else.
CSP = "; ".join(
    (
        "default-src 'self'",
        "script-src 'self' 'unsafe-inline'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "font-src 'self' data:",
        "connect-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "media-src 'self' data: blob:",
        "frame-src 'none'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
    )
)

_EXTERNAL_LINK = re.compile(r"<link\b[^>]*\bhref=\"(?:https?:)?//[^\"]*\"[^>]*>", re.I | re.S)
_EXTERNAL_SCRIPT = re.compile(
    r"<script\b[^>]*\bsrc=\"(?:https?:)?//[^\"]*\"[^>]*>\s*</script>", re.I | re.S
)


def page_html(html: str) -> str:
    """Drop links and scripts pointing at other hosts; add the CSP as the first head tag.

    >>> page = '<head><link rel="preconnect" href="https://fonts.gstatic.com" crossorigin />'
    >>> page += '<link  href="https://cdn.x/k.css"' + chr(10) + ' rel="stylesheet"/>'
    >>> page += '<script src="//cdn.y/a.js"></script><link href="/assets/a.css"></head>'
    >>> out = page_html(page)
    >>> "fonts.gstatic" in out or "cdn.x" in out or "cdn.y" in out
    False
    >>> '<link href="/assets/a.css">' in out and "Content-Security-Policy" in out
    True
    """
    html = _EXTERNAL_LINK.sub("", html)
    html = _EXTERNAL_SCRIPT.sub("", html)
    meta = f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
    return re.sub(r"<head>", f"<head>\n    {meta}", html, count=1, flags=re.I)


def fill_markdown(text: str, values: Mapping[str, Any]) -> str:
    """Replace `{{name}}` placeholders; unknown names are left as they are.

    >>> fill_markdown("As of {{as_of_date}} ({{nope}})", {"as_of_date": "2026-11-15"})
    'As of 2026-11-15 ({{nope}})'
    """

    def sub(m: re.Match[str]) -> str:
        key = m.group(1)
        return str(values[key]) if key in values else m.group(0)

    return re.sub(r"\{\{\s*([a-z_]+)\s*\}\}", sub, text)


def install(markdown_values: Callable[[], Mapping[str, Any]]) -> None:
    """Wrap Chainlit's page and readme functions (idempotent)."""
    import chainlit.server as server

    if getattr(server.get_html_template, "_whizzy", False):
        return
    original_html = server.get_html_template
    original_md = server.get_markdown_str

    def get_html_template(root_path: str) -> str:
        return page_html(original_html(root_path))

    def get_markdown_str(root: str, language: str) -> str | None:
        text = original_md(root, language)
        return fill_markdown(text, markdown_values()) if text else text

    get_html_template._whizzy = True  # type: ignore[attr-defined]
    server.get_html_template = get_html_template
    server.get_markdown_str = get_markdown_str
