"""LLM settings: which engine answers, and how to reach the model.

Read from flags, the environment or `.env` through `whizzy.core.settings.setting` (one reader):

==========================  ==============================================================
``WHIZZY_ENGINE``           ``offline`` or ``llm``; default ``llm`` when a key is set,
                            else ``offline``
``OPENAI_API_KEY``          the key (any non-empty text for local servers without auth)
``OPENAI_BASE_URL``         an OpenAI-compatible server (Ollama, vLLM, LM Studio, a proxy)
``WHIZZY_MODEL``            model name (default ``gpt-4o-mini``)
``WHIZZY_LLM_TIMEOUT``      seconds per request attempt, in total (default 30)
``WHIZZY_LLM_MAX_BYTES``    largest response read per request (default 262144)
``WHIZZY_LLM_TEMPERATURE``  sampling temperature (default 0)
``WHIZZY_LLM_RETRIES``      retries after a timeout, 429 or 5xx (default 1; at most 5)
``WHIZZY_LLM_BACKOFF``      first retry delay in seconds, doubled each retry (default 0.5)
``WHIZZY_LLM_STRUCTURED``   ``json_schema`` (default), ``function_calling`` or ``json_mode``
``WHIZZY_LLM_PRICE_IN``     optional USD per million input tokens (enables a cost figure)
``WHIZZY_LLM_PRICE_OUT``    optional USD per million output tokens
``AZURE_OPENAI_API_KEY``    with ``AZURE_OPENAI_ENDPOINT``: use Azure OpenAI
``AZURE_OPENAI_ENDPOINT``   ``https://<resource>.openai.azure.com``
``OPENAI_API_VERSION``      Azure API version (default ``2024-10-21``)
``AZURE_OPENAI_DEPLOYMENT`` Azure deployment name (default: the model name)
==========================  ==============================================================

Keys are kept as `pydantic.SecretStr` and never appear in ``repr``, logs, errors or JSON.

>>> s = LLMSettings(engine="llm", api_key=SecretStr("sk-very-secret"))
>>> "sk-very-secret" in repr(s) or "sk-very-secret" in str(s.public())
False
>>> s.configured, s.provider
(True, 'openai')
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import SecretStr

from whizzy.core.errors import ConfigError
from whizzy.core.logs import current_secrets
from whizzy.core.settings import setting

Engine = Literal["offline", "llm"]
Provider = Literal["openai", "azure"]
StructuredMethod = Literal["json_schema", "function_calling", "json_mode"]

ENGINES: tuple[str, ...] = ("offline", "llm")
STRUCTURED_METHODS: tuple[str, ...] = ("json_schema", "function_calling", "json_mode")
DEFAULT_MODEL = "gpt-4o-mini"
DEFAULT_AZURE_API_VERSION = "2024-10-21"
#: Retries are bounded: a misbehaving endpoint can never cause a retry storm.
MAX_RETRIES = 5


@dataclass(kw_only=True, frozen=True, repr=False)
class LLMSettings:
    """Resolved LLM settings for one run (secrets hidden from ``repr``)."""

    engine: Engine = "offline"
    provider: Provider = "openai"
    model: str = DEFAULT_MODEL
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout: float = 30.0
    max_response_bytes: int = 262_144
    temperature: float = 0.0
    retries: int = 1
    backoff: float = 0.5
    structured_method: StructuredMethod = "json_schema"
    stream_usage: bool = True
    price_in: float | None = None
    price_out: float | None = None
    azure_endpoint: str | None = None
    azure_deployment: str | None = None
    api_version: str = DEFAULT_AZURE_API_VERSION

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.public().items() if v is not None)
        return f"LLMSettings({shown})"

    @property
    def configured(self) -> bool:
        """Whether there is enough to reach a model (a key, or a local server URL)."""
        if self.provider == "azure":
            return bool(self.api_key and self.azure_endpoint)
        return bool(self.api_key) or bool(self.base_url)

    def secrets(self) -> list[str]:
        """Secret strings to redact from any text shown or logged."""
        key = self.api_key.get_secret_value() if self.api_key else ""
        found = [key] if len(key) >= 4 else []
        for url in (self.base_url, self.azure_endpoint):
            found.extend(_url_secrets(url))

        return list(dict.fromkeys([*found, *current_secrets()]))

    def redact(self, text: str) -> str:
        """`text` with every secret replaced by ``***``.

        >>> LLMSettings(api_key=SecretStr("sk-abcdef")).redact("bad key sk-abcdef!")
        'bad key ***!'
        """
        return redact(text, self.secrets())

    def public(self) -> dict[str, Any]:
        """What may be shown (JSON output, the chat's settings panel): no secrets.

        >>> LLMSettings(base_url="http://u:pw@localhost:11434/v1?key=k").public()["base_url"]
        'http://localhost:11434/v1'
        """
        return {
            "engine": self.engine,
            "provider": self.provider,
            "model": self.model,
            "base_url": _safe_url(self.base_url),
            "azure_endpoint": _safe_url(self.azure_endpoint),
            "azure_deployment": self.azure_deployment,
            "timeout": self.timeout,
            "temperature": self.temperature,
            "retries": self.retries,
            "structured_method": self.structured_method,
            "api_key_set": bool(self.api_key),
        }


def redact(text: str, secrets: list[str]) -> str:
    """Replace each secret (and an ``sk-...`` looking key) in `text` with ``***``.

    >>> redact("Incorrect API key provided: sk-proj-abc123XYZ.", [])
    'Incorrect API key provided: ***.'
    """
    for secret in sorted(set(secrets), key=len, reverse=True):
        if secret:
            text = text.replace(secret, "***")
    return re.sub(r"\bsk-[A-Za-z0-9_\-]{6,}", "***", text)


def _safe_url(url: str | None) -> str | None:
    """`url` without user info, query or fragment (where tokens hide)."""
    if not url:
        return url
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _url_secrets(url: str | None) -> list[str]:
    if not url:
        return []
    parts = urlsplit(url)
    found = [p for p in (parts.password, parts.username) if p]
    if parts.query:
        found.extend(v for kv in parts.query.split("&") for v in kv.split("=")[1:] if v)
    return found


def _number(name: str, raw: str | None, default: float, *, low: float, high: float) -> float:
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, not {raw!r}.") from None
    if not low <= value <= high:
        raise ConfigError(f"{name} must be between {low:g} and {high:g}, not {raw}.")
    return value


def _choice(name: str, raw: str | None, choices: tuple[str, ...], default: str) -> str:
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {raw!r}.")
    return value


def _text(raw: str | None) -> str | None:
    return raw.strip() if raw and raw.strip() else None


def load_llm_settings(engine: str | None = None, *, model: str | None = None,
                      read: Callable[[str], str | None] = setting) -> LLMSettings:
    """Resolve the settings: flags (`engine`, `model`) over environment over `.env`.

    Args:
        engine: ``--engine`` (``offline`` / ``llm``) or None to use ``WHIZZY_ENGINE`` (and
            then: ``llm`` when a key is set, else ``offline``).
        model: ``--model`` or None to use ``WHIZZY_MODEL``.
        read: the setting reader (tests pass a dict's ``get``).

    Raises:
        ConfigError: a value is invalid, or ``llm`` was asked for but nothing says how to
            reach a model.

    >>> env = {"OPENAI_API_KEY": "sk-x1234567", "WHIZZY_LLM_TIMEOUT": "5"}.get
    >>> s = load_llm_settings(read=env)
    >>> s.engine, s.model, s.timeout, s.provider
    ('llm', 'gpt-4o-mini', 5.0, 'openai')
    >>> load_llm_settings(read={}.get).engine
    'offline'
    >>> load_llm_settings("llm", read={}.get)
    Traceback (most recent call last):
    ...
    whizzy.core.errors.ConfigError: The LLM engine needs OPENAI_API_KEY (or OPENAI_BASE_URL for a \
local server, or AZURE_OPENAI_API_KEY with AZURE_OPENAI_ENDPOINT).
    """
    openai_key = _text(read("OPENAI_API_KEY"))
    azure_key = _text(read("AZURE_OPENAI_API_KEY"))
    azure_endpoint = _text(read("AZURE_OPENAI_ENDPOINT"))
    base_url = _text(read("OPENAI_BASE_URL"))
    provider: Provider = "azure" if azure_endpoint and (azure_key or not openai_key) else "openai"
    key = azure_key or openai_key if provider == "azure" else openai_key

    default_engine = "llm" if key else "offline"
    chosen = _choice("--engine" if engine else "WHIZZY_ENGINE",
                     engine if engine else read("WHIZZY_ENGINE"), ENGINES, default_engine)
    model_name = _text(model) or _text(read("WHIZZY_MODEL")) or DEFAULT_MODEL
    price_in, price_out = (read("WHIZZY_LLM_PRICE_IN"), read("WHIZZY_LLM_PRICE_OUT"))
    settings = LLMSettings(
        engine=chosen,  # type: ignore[arg-type]
        provider=provider,
        model=model_name,
        base_url=base_url if provider == "openai" else None,
        api_key=SecretStr(key) if key else None,
        timeout=_number("WHIZZY_LLM_TIMEOUT", read("WHIZZY_LLM_TIMEOUT"), 30.0,
                        low=0.05, high=600),
        max_response_bytes=int(_number("WHIZZY_LLM_MAX_BYTES", read("WHIZZY_LLM_MAX_BYTES"),
                                       262_144, low=1024, high=100_000_000)),
        temperature=_number("WHIZZY_LLM_TEMPERATURE", read("WHIZZY_LLM_TEMPERATURE"), 0.0,
                            low=0, high=2),
        retries=int(_number("WHIZZY_LLM_RETRIES", read("WHIZZY_LLM_RETRIES"), 1,
                            low=0, high=MAX_RETRIES)),
        backoff=_number("WHIZZY_LLM_BACKOFF", read("WHIZZY_LLM_BACKOFF"), 0.5, low=0, high=30),
        structured_method=_choice("WHIZZY_LLM_STRUCTURED", read("WHIZZY_LLM_STRUCTURED"),
                                  STRUCTURED_METHODS, "json_schema"),  # type: ignore[arg-type]
        stream_usage=_choice("WHIZZY_LLM_STREAM_USAGE", read("WHIZZY_LLM_STREAM_USAGE"),
                             ("1", "0", "true", "false", "yes", "no"), "1")
        in {"1", "true", "yes"},
        price_in=_number("WHIZZY_LLM_PRICE_IN", price_in, 0, low=0, high=10_000)
        if _text(price_in) else None,
        price_out=_number("WHIZZY_LLM_PRICE_OUT", price_out, 0, low=0, high=10_000)
        if _text(price_out) else None,
        azure_endpoint=azure_endpoint if provider == "azure" else None,
        azure_deployment=_text(read("AZURE_OPENAI_DEPLOYMENT")) if provider == "azure" else None,
        api_version=_text(read("OPENAI_API_VERSION")) or DEFAULT_AZURE_API_VERSION,
    )
    if settings.engine == "llm" and not settings.configured:
        raise ConfigError(
            "The LLM engine needs OPENAI_API_KEY (or OPENAI_BASE_URL for a local server, or "
            "AZURE_OPENAI_API_KEY with AZURE_OPENAI_ENDPOINT).",
            hint="set them in the environment or in .env, or use --engine offline",
        )
    return settings
