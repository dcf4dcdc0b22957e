"""Who may use the chat: optional password login, or one local user when login is off.

`WHIZZY_AUTH_USERS` lists the accounts as comma-separated `name:password` pairs; a password
may be given as a salted scrypt hash (`scrypt:...`, from `whizzy chat --hash-password`)
instead of plain text. Plain passwords are hashed with scrypt and a fresh salt as the server
starts, so no password is kept in memory. When it is set, every page and API of the chat
needs a login. When it is not set (the default, bound to 127.0.0.1) the browser is signed in
silently as the single user `local`, which Chainlit needs to list and resume threads.

>>> users = parse_users("ana:s3cret, bo:" + hash_password("pw"))
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
import sqlite3
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from whizzy.core.errors import ConfigError

#: Identifier of the user when login is off.
LOCAL_USER = "local"

#: scrypt's cost: 2**14 rounds of 8 blocks (16 MB, about 50 ms a check), OWASP's minimum.
SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**14, 8, 1
_PREFIX = "scrypt:"


@dataclass(frozen=True)
class PasswordHash:
    """A salted scrypt hash of one password."""

    salt: bytes
    digest: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P

    def matches(self, password: str) -> bool:
        """True when `password` hashes to this digest (constant-time comparison)."""
        return hmac.compare_digest(_scrypt(password, self.salt, self.n, self.r, self.p),
                                   self.digest)

    def text(self) -> str:
        """The `scrypt:N:R:P:SALT:HASH` form `parse_users` accepts."""
        return f"{_PREFIX}{self.n}:{self.r}:{self.p}:{self.salt.hex()}:{self.digest.hex()}"


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, dklen=32,
                          maxmem=256 * n * r)


def hash_password(password: str) -> str:
    """A salted scrypt hash of `password`, as `WHIZZY_AUTH_USERS` accepts it.

    >>> a, b = hash_password("pw"), hash_password("pw")
    >>> a.startswith("scrypt:16384:8:1:") and a != b  # a fresh salt each time
    True
    """
    salt = secrets.token_bytes(16)
    return PasswordHash(salt, _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)).text()


def _parse_hash(name: str, text: str) -> PasswordHash:
    """`scrypt:N:R:P:SALT:HASH` → PasswordHash (errors never repeat the value)."""
    parts = text.removeprefix(_PREFIX).strip().split(":")
    try:
        n, r, p = (int(x) for x in parts[:3])
        salt, digest = bytes.fromhex(parts[3]), bytes.fromhex(parts[4])
        if len(parts) != 5 or n < 2**14 or n & (n - 1) or not 1 <= r <= 64 or not 1 <= p <= 16:
            raise ValueError
        if len(salt) < 16 or len(digest) != 32:
            raise ValueError
    except (ValueError, IndexError):
        raise ConfigError(
            f"WHIZZY_AUTH_USERS: the scrypt hash for {name!r} is not one "
            "`whizzy chat --hash-password` makes."
        ) from None
    return PasswordHash(salt, digest, n, r, p)


def parse_users(spec: str) -> dict[str, PasswordHash]:
    """`name:password,...` → {name: salted scrypt hash of the password}.

    >>> parse_users("nobody")
    Traceback (most recent call last):
    ...
    whizzy.core.errors.ConfigError: WHIZZY_AUTH_USERS entry 1 is not name:password.

    Errors never repeat the entry: a malformed one ("ana=s3cret") may be a password.
    """
    users: dict[str, PasswordHash] = {}
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
            raise ConfigError(
                f"WHIZZY_AUTH_USERS: the password for {name!r} is an unsalted sha256 digest, "
                "which is no longer accepted.",
                hint="give the password, or a salted hash from `whizzy chat --hash-password`",
            )
        if password.startswith(_PREFIX):
            users[name] = _parse_hash(name, password)
        else:
            salt = secrets.token_bytes(16)
            users[name] = PasswordHash(salt, _scrypt(password, salt, SCRYPT_N, SCRYPT_R,
                                                     SCRYPT_P))
    if not users:
        raise ConfigError("WHIZZY_AUTH_USERS is set but names no user.")
    return users


#: Checked for a name that is not an account, so that costs the same time as a known one.
_NOBODY = PasswordHash(b"\0" * 16, b"\0" * 32)


def check_password(users: dict[str, PasswordHash], name: str, password: str) -> bool:
    """True when `name` is known and `password` matches (same work for unknown names)."""
    expected = users.get(name)
    if expected is None:
        _NOBODY.matches(password)
        return False
    return expected.matches(password)


class LoginThrottle:
    """Refuses logins after too many failures, per user name and per client address.

    Failures older than `window` seconds are forgotten; at most `max_keys` names and
    addresses are remembered (the least recently failed are dropped first), so a flood of
    made-up names cannot grow the server's memory.

    >>> now = [0.0]
    >>> t = LoginThrottle(per_user=2, per_address=3, window=60, clock=lambda: now[0])
    >>> t.allowed("ana", "10.0.0.1")
    True
    >>> t.failed("ana", "10.0.0.1"); t.failed("ana", "10.0.0.2")
    >>> t.allowed("ana", "10.0.0.3"), t.allowed("bo", "10.0.0.1")
    (False, True)
    >>> now[0] = 61.0
    >>> t.allowed("ana", "10.0.0.3")
    True
    """

    def __init__(self, *, per_user: int = 10, per_address: int = 30, window: float = 900,
                 max_keys: int = 10_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = {"user": per_user, "address": per_address}
        self.window = window
        self.max_keys = max_keys
        self.clock = clock
        self._failures: OrderedDict[tuple[str, str], deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _recent(self, key: tuple[str, str], now: float) -> deque[float]:
        times = self._failures.get(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            self._failures.pop(key, None)
        return times

    def allowed(self, user: str, address: str) -> bool:
        """False while `user` or `address` has too many recent failures."""
        now = self.clock()
        with self._lock:
            return all(len(self._recent((kind, value), now)) < self.limits[kind]
                       for kind, value in (("user", user), ("address", address)))

    def failed(self, user: str, address: str) -> None:
        """Count one failed login."""
        now = self.clock()
        with self._lock:
            for kind, value in (("user", user), ("address", address)):
                key = (kind, value)
                times = self._recent(key, now)
                times.append(now)
                while len(times) > self.limits[kind]:
                    times.popleft()
                self._failures[key] = times
                self._failures.move_to_end(key)
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)


class RevokedTokens:
    """Login tokens signed out before they expire, kept (hashed) until they would expire.

    In a SQLite file (mode 600) when `path` is given, so a sign-out survives a restart.

    >>> revoked = RevokedTokens(None, clock=lambda: 100.0)
    >>> revoked.revoke("tok", expires_at=200.0)
    >>> "tok" in revoked, "other" in revoked
    (True, False)
    """

    def __init__(self, path: Path | None, *, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        if path is not None:
            create_private(path)
        self._con = sqlite3.connect(str(path) if path else ":memory:",
                                    check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock, self._con:
            self._con.execute("create table if not exists revoked_tokens "
                              "(digest text primary key, expires_at real not null)")

    @staticmethod
    def _digest(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def revoke(self, token: str, *, expires_at: float) -> None:
        """Refuse `token` from now on (and forget tokens that have expired anyway)."""
        with self._lock, self._con:
            self._con.execute("delete from revoked_tokens where expires_at < ?", (self.clock(),))
            self._con.execute("insert or replace into revoked_tokens values (?, ?)",
                              (self._digest(token), expires_at))

    def __contains__(self, token: object) -> bool:
        """True when `token` was signed out."""
        if not isinstance(token, str):
            return False
        with self._lock:
            row = self._con.execute("select 1 from revoked_tokens where digest = ?",
                                    (self._digest(token),)).fetchone()
        return row is not None


def create_private(path: Path) -> Path:
    """Create `path` (empty) readable by its owner only, or make an existing one so.

    SQLite gives the journal files it creates the database's mode; ones left over from an
    older version are made private too.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    os.chmod(path, 0o600)
    for suffix in ("-wal", "-shm", "-journal"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            os.chmod(sidecar, 0o600)
    return path


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
