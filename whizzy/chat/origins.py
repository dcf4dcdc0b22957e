"""Which web origins may talk to the chat: its own, and those `WHIZZY_ALLOWED_ORIGINS` names.

A browser sends `Origin` with every WebSocket and every cross-origin or state-changing
request. A page served from another port of the same host is another origin, so without
this check it could open the chat's socket and ask questions as the signed-in user.

>>> policy = OriginPolicy.for_server("127.0.0.1", 8000, "https://chat.example.com")
>>> policy.allows("http://127.0.0.1:8000"), policy.allows("http://localhost:8000")
(True, True)
>>> policy.allows("http://127.0.0.1:9912"), policy.allows("http://evil.example")
(False, False)
>>> policy.allows("https://chat.example.com:443"), policy.allows("null")
(True, False)

A chat bound to this machine also answers only to this machine's names (and those of the
allowed origins) in the `Host` header, so a page on a name that a DNS rebinding points at
127.0.0.1 cannot read it either:

>>> policy.allows_host("localhost:8000"), policy.allows_host("chat.example.com")
(True, True)
>>> policy.allows_host("rebound.evil.example:8000")
False
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from whizzy.core.errors import ConfigError

#: Addresses that mean "every interface": the chat's own origin is whatever host it is
#: reached by, so it is taken from the request's Host header.
WILDCARD_HOSTS = frozenset({"0.0.0.0", "::", ""})
_LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")
_DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(text: str) -> str | None:
    """`scheme://host[:port]` in canonical form (lower case, default port dropped), or None.

    >>> normalize_origin("HTTP://LocalHost:80"), normalize_origin("https://a.b:8443/")
    ('http://localhost', 'https://a.b:8443')
    >>> normalize_origin("null"), normalize_origin("ftp://a"), normalize_origin("http://a/x")
    (None, None, None)
    """
    try:
        parts = urlsplit(text.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname or parts.username is not None:
        return None
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    if port is None or port == _DEFAULT_PORTS[scheme]:
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def parse_allowed_origins(spec: str | None) -> frozenset[str]:
    """`WHIZZY_ALLOWED_ORIGINS` (comma-separated origins) → canonical origins.

    >>> sorted(parse_allowed_origins(" https://chat.example.com , http://10.0.0.5:8000"))
    ['http://10.0.0.5:8000', 'https://chat.example.com']
    >>> parse_allowed_origins("*")
    Traceback (most recent call last):
    ...
    whizzy.core.errors.ConfigError: WHIZZY_ALLOWED_ORIGINS entry 1 ('*') is not an origin \
like https://chat.example.com.
    """
    found = set()
    for i, entry in enumerate((e.strip() for e in (spec or "").split(",")), start=1):
        if not entry:
            continue
        origin = normalize_origin(entry)
        if origin is None:
            raise ConfigError(f"WHIZZY_ALLOWED_ORIGINS entry {i} ({entry!r}) is not an origin "
                              "like https://chat.example.com.")
        found.add(origin)
    return frozenset(found)


def is_loopback(host: str) -> bool:
    """True for addresses only this machine can reach.

    >>> is_loopback("127.0.0.1"), is_loopback("localhost"), is_loopback("::1")
    (True, True, True)
    >>> is_loopback("0.0.0.0"), is_loopback("192.168.1.5"), is_loopback("example.com")
    (False, False, False)
    """
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class OriginPolicy:
    """The origins a browser page may call the chat from."""

    origins: frozenset[str]
    #: True when bound to every interface: the request's own Host is its origin too.
    same_host: bool = False
    #: Host names the `Host` header may carry (None: any, when other machines reach it).
    hosts: frozenset[str] | None = None

    @classmethod
    def for_server(cls, host: str, port: int, extra: str | None = None) -> OriginPolicy:
        """The chat's own origin(s) for `--host`/`--port`, plus `extra` (the env value)."""
        own: set[str] = set()
        names = list(_LOOPBACK_NAMES)  # on every interface, this machine's names work too
        if host not in WILDCARD_HOSTS:
            own_name = f"[{host}]" if ":" in host else host
            names = [*names, own_name] if is_loopback(host) else [own_name]
        for name in names:
            if (origin := normalize_origin(f"http://{name}:{port}")) is not None:
                own.add(origin)
        origins = own | parse_allowed_origins(extra)
        hosts = None
        if is_loopback(host):
            hosts = frozenset(h for o in origins if (h := _hostname(o)) is not None)
        return cls(origins, same_host=host in WILDCARD_HOSTS, hosts=hosts)

    def allows_host(self, host_header: str | None) -> bool:
        """True when a request naming `Host: host_header` may proceed (none: a raw client)."""
        if self.hosts is None or not host_header:
            return True
        return _hostname("http://" + host_header.strip()) in self.hosts

    def allows(self, origin: str, host_header: str | None = None) -> bool:
        """True when a request carrying `Origin: origin` may proceed."""
        canonical = normalize_origin(origin)
        if canonical is None:
            return False  # "null" (sandboxed frames, file: pages) and anything malformed
        if canonical in self.origins:
            return True
        if self.same_host and host_header:
            return canonical in {normalize_origin(f"{s}://{host_header}") for s in ("http",
                                                                                      "https")}
        return False


def _hostname(url: str) -> str | None:
    """The lower-case host name of a URL (IPv6 without brackets), or None."""
    try:
        return urlsplit(url).hostname
    except ValueError:
        return None
