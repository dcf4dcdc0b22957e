"""No secret in any log line: a redacting log-record factory for the whole process.

The secrets are the values of the settings that hold them — ``OPENAI_API_KEY``,
``AZURE_OPENAI_API_KEY``, ``CHAINLIT_AUTH_SECRET``, the passwords in ``WHIZZY_AUTH_USERS``,
credentials inside ``OPENAI_BASE_URL`` / ``AZURE_OPENAI_ENDPOINT`` — from the environment or
`.env`, plus anything shaped like an OpenAI key (``sk-...``). `install()` (called by every
entry point: the CLI, the chat app and the test suite's conftest) makes every log record,
from any library, carry its message, arguments and traceback with those replaced by ``***``.
Libraries keep logging as they like; nothing they log can leak a key.

>>> redact("key=sk-proj-abcdef123456 ok", ["hunter2"])
'key=*** ok'
>>> redact("password hunter2!", ["hunter2"])
'password ***!'
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from urllib.parse import urlsplit

from whizzy.core.settings import setting

#: Settings whose whole value is a secret.
SECRET_SETTINGS = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "CHAINLIT_AUTH_SECRET")
#: Settings that are URLs which may carry credentials (user:password@, ?key=...).
URL_SETTINGS = ("OPENAI_BASE_URL", "AZURE_OPENAI_ENDPOINT")
#: Secrets shorter than this are not redacted (they would blank ordinary words).
MIN_SECRET = 4
_KEY_SHAPE = re.compile(r"\bsk-[A-Za-z0-9_\-]{6,}")


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with each secret (and any ``sk-...`` key) replaced by ``***``."""
    for secret in sorted({s for s in secrets if s and len(s) >= MIN_SECRET}, key=len,
                         reverse=True):
        text = text.replace(secret, "***")
    return _KEY_SHAPE.sub("***", text)


def auth_passwords(spec: str | None) -> list[str]:
    """The plain passwords in a ``WHIZZY_AUTH_USERS`` value (``name:password,...``).

    >>> auth_passwords("ana:s3cret, bo:sha256:abc, cy:scrypt:16384:8:1:ab:cd, broken=entry")
    ['s3cret', 'broken=entry']
    """
    found = []
    for entry in (e.strip() for e in (spec or "").split(",")):
        if not entry:
            continue
        _, sep, password = entry.partition(":")
        if not sep:
            found.append(entry)  # malformed: the whole entry may be a password
        elif not password.startswith(("sha256:", "scrypt:")):
            found.append(password)
    return found


def url_secrets(url: str | None) -> list[str]:
    """User name, password and query values inside a URL.

    >>> url_secrets("https://u:pw@host/v1?api-key=k123")
    ['pw', 'u', 'k123']
    """
    if not url:
        return []
    try:
        parts = urlsplit(url)
        found = [p for p in (parts.password, parts.username) if p]
    except ValueError:
        return []
    found += [v for kv in parts.query.split("&") for v in kv.split("=")[1:] if v]
    return found


def current_secrets() -> list[str]:
    """Every secret the settings hold now (environment first, then `.env`)."""
    names = (*SECRET_SETTINGS, *URL_SETTINGS, "WHIZZY_AUTH_USERS")
    values = {}
    for name in names:
        value = setting(name)
        if value:
            values[name] = value
    found = [values[n] for n in SECRET_SETTINGS if n in values]
    for name in URL_SETTINGS:
        found += url_secrets(values.get(name))
    found += auth_passwords(values.get("WHIZZY_AUTH_USERS"))
    return [s for s in found if len(s) >= MIN_SECRET]


_lock = threading.Lock()
_cache: tuple[tuple[str | None, ...], list[str]] | None = None
_installed = False


def _secrets() -> list[str]:
    """`current_secrets()`, recomputed only when one of the settings changed."""
    global _cache
    key = tuple(os.environ.get(n) for n in (*SECRET_SETTINGS, *URL_SETTINGS,
                                            "WHIZZY_AUTH_USERS", "WHIZZY_DOTENV"))
    cache = _cache
    if cache is None or cache[0] != key:
        cache = (key, current_secrets())
        _cache = cache
    return cache[1]


def redact_record(record: logging.LogRecord) -> logging.LogRecord:
    """Redact one record's message, arguments, traceback and stack in place."""
    secrets = _secrets()
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record: leave the logging module to it
        return record
    clean = redact(message, secrets)
    if clean != message:
        record.msg, record.args = clean, None
    if record.exc_info and not record.exc_text:
        text = logging.Formatter().formatException(record.exc_info)
        record.exc_text = redact(text, secrets)
    elif record.exc_text:
        record.exc_text = redact(record.exc_text, secrets)
    if record.stack_info:
        record.stack_info = redact(record.stack_info, secrets)
    return record


def install() -> None:
    """Make every log record of this process redacted (idempotent)."""
    global _installed
    with _lock:
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args, **kwargs) -> logging.LogRecord:  # noqa: ANN002, ANN003
            return redact_record(previous(*args, **kwargs))

        logging.setLogRecordFactory(factory)
        _installed = True
