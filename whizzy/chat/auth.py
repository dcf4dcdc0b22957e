"""Who may use the chat: optional password login, or one local user when login is off.

`WHIZZY_AUTH_USERS` lists the accounts as comma-separated `name:password` pairs; a password
may be given as `sha256:<hex digest>` instead of plain text. When it is set, every page and
API of the chat needs a login. When it is not set (the default, bound to 127.0.0.1) the
browser is signed in silently as the single user `local`, which Chainlit needs to list and
resume threads.

>>> users = parse_users("ana:s3cret, bo:sha256:" + hashlib.sha256(b"pw").hexdigest())
>>> sorted(users)
['ana', 'bo']
>>> check_password(users, "ana", "s3cret"), check_password(users, "bo", "pw")
(True, True)
>>> check_password(users, "ana", "wrong"), check_password(users, "eve", "s3cret")
(False, False)
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from whizzy.core.errors import ConfigError

#: Identifier of the user when login is off.
LOCAL_USER = "local"


def parse_users(spec: str) -> dict[str, str]:
    """`name:password,...` → {name: sha256 hex of the password}.

    >>> parse_users("a:b")["a"] == hashlib.sha256(b"b").hexdigest()
    True
    >>> parse_users("nobody")
    Traceback (most recent call last):
    ...
    whizzy.core.errors.ConfigError: WHIZZY_AUTH_USERS entry 1 is not name:password.

    Errors never repeat the entry: a malformed one ("ana=s3cret") may be a password.
    """
    users: dict[str, str] = {}
    for i, entry in enumerate((e.strip() for e in spec.split(",")), start=1):
        if not entry:
            continue
        name, sep, password = entry.partition(":")
        name = name.strip()
        if not sep or not name or not password:
            raise ConfigError(f"WHIZZY_AUTH_USERS entry {i} is not name:password.")
        if name in users:
            raise ConfigError(f"WHIZZY_AUTH_USERS names {name!r} twice.")
        if password.startswith("sha256:"):
            digest = password.removeprefix("sha256:").strip().lower()
            if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
                raise ConfigError(
                    f"WHIZZY_AUTH_USERS: the sha256 digest for {name!r} is not 64 hex digits."
                )
        else:
            digest = hashlib.sha256(password.encode()).hexdigest()
        users[name] = digest
    if not users:
        raise ConfigError("WHIZZY_AUTH_USERS is set but names no user.")
    return users


def check_password(users: dict[str, str], name: str, password: str) -> bool:
    """True when `name` is known and `password` matches (constant-time comparison)."""
    expected = users.get(name)
    given = hashlib.sha256(password.encode()).hexdigest()
    if expected is None:
        hmac.compare_digest(given, given)  # same work whether or not the name exists
        return False
    return hmac.compare_digest(expected, given)


def ensure_secret(secret_file: Path) -> str:
    """The secret that signs login cookies: `CHAINLIT_AUTH_SECRET`, else one kept in a file.

    A generated secret is stored (mode 600) so logins survive a restart. The value is also
    put in the process environment, where Chainlit looks for it.
    """
    value = os.environ.get("CHAINLIT_AUTH_SECRET")
    if not value and secret_file.is_file():
        value = secret_file.read_text().strip()
    if not value:
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        value = secrets.token_urlsafe(48)
        fd = os.open(secret_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write(value + "\n")
    os.environ["CHAINLIT_AUTH_SECRET"] = value
    return value
