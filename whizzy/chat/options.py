"""What `whizzy chat` passes to `app.py`: environment variables read in one place.

`whizzy chat` starts Chainlit in a child process, so the only channel to `app.py` is the
environment. `ChatOptions.to_env()` writes it, `ChatOptions.from_env()` reads it back.

>>> opts = ChatOptions(warehouse=Path("/data/wh.duckdb"), persist=False)
>>> env = opts.to_env()
>>> env["WHIZZY_WAREHOUSE"], env["WHIZZY_CHAT_PERSIST"]
('/data/wh.duckdb', '0')
>>> back = ChatOptions.from_env(env)
>>> back.persist, back.chat_db
(False, PosixPath('/data/chat.sqlite'))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from agents.llm.settings import ENGINES, load_llm_settings
from whizzy.core.errors import ConfigError
from whizzy.core.settings import setting, warehouse_path

MAX_ROW_LIMIT = 10_000
#: The `whizzy chat` process the server must not outlive (`runtime.exit_with_parent`).
PARENT_PID_VAR = "WHIZZY_CHAT_PARENT_PID"


def _flag(value: str | None, default: bool) -> bool:
    """Parse a yes/no environment value.

    >>> _flag("0", True), _flag("yes", False), _flag(None, True)
    (False, True, True)
    """
    if value is None or value.strip() == "":
        return default
    v = value.strip().lower()
    if v in {"1", "true", "yes", "on"}:
        return True
    if v in {"0", "false", "no", "off"}:
        return False
    raise ConfigError(f"Expected yes/no (1/0, true/false), got {value!r}.")


@dataclass(kw_only=True, frozen=True)
class ChatOptions:
    """Settings of one chat server."""

    warehouse: Path
    persist: bool = True
    engine: str = "offline"
    row_limit: int = 1000
    #: Where the server listens: its own web origin is http://host:port.
    host: str = "127.0.0.1"
    port: int = 8000

    @property
    def home(self) -> Path:
        """Folder beside the warehouse that holds the chat's local state."""
        return self.warehouse.parent

    @property
    def chat_db(self) -> Path:
        """Chainlit's threads, steps, elements and feedback (SQLite)."""
        return self.home / "chat.sqlite"

    @property
    def checkpoints_db(self) -> Path:
        """LangGraph checkpoints: the memory behind follow-up questions (SQLite)."""
        return self.home / "checkpoints.sqlite"

    @property
    def secret_file(self) -> Path:
        """Where a generated login-cookie signing secret is kept between restarts."""
        return self.home / "chainlit-auth-secret"

    def to_env(self) -> dict[str, str]:
        """Environment variables that carry these options to `app.py`."""
        return {
            "WHIZZY_WAREHOUSE": str(self.warehouse),
            "WHIZZY_CHAT_PERSIST": "1" if self.persist else "0",
            "WHIZZY_ENGINE": self.engine,
            "WHIZZY_ROW_LIMIT": str(self.row_limit),
            "WHIZZY_CHAT_HOST": self.host,
            "WHIZZY_CHAT_PORT": str(self.port),
        }

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ChatOptions:
        """Read the options; `env` defaults to the process environment (and `.env`)."""

        def get(name: str) -> str | None:
            return env.get(name) if env is not None else setting(name)

        # as everywhere (agents.llm.settings): llm when a key is set, else offline
        has_key = bool((get("OPENAI_API_KEY") or "").strip()) or bool(
            (get("AZURE_OPENAI_API_KEY") or "").strip()
            and (get("AZURE_OPENAI_ENDPOINT") or "").strip())
        engine = (get("WHIZZY_ENGINE") or ("llm" if has_key else "offline")).strip().lower()
        if engine not in ENGINES:
            raise ConfigError(f"WHIZZY_ENGINE must be one of {', '.join(ENGINES)}, not {engine!r}.")
        raw_limit = get("WHIZZY_ROW_LIMIT") or "1000"
        try:
            row_limit = int(raw_limit)
        except ValueError:
            raise ConfigError(
                f"WHIZZY_ROW_LIMIT must be a whole number, not {raw_limit!r}."
            ) from None
        if not 1 <= row_limit <= MAX_ROW_LIMIT:
            raise ConfigError(f"WHIZZY_ROW_LIMIT must be between 1 and {MAX_ROW_LIMIT:,}.")
        wh = get("WHIZZY_WAREHOUSE")
        raw_port = get("WHIZZY_CHAT_PORT") or "8000"
        if not raw_port.isdigit() or not 1 <= int(raw_port) <= 65535:
            raise ConfigError(f"WHIZZY_CHAT_PORT must be a port number, not {raw_port!r}.")
        return cls(
            warehouse=Path(wh).expanduser().resolve() if wh else warehouse_path(),
            persist=_flag(get("WHIZZY_CHAT_PERSIST"), True),
            engine=engine,
            row_limit=row_limit,
            host=(get("WHIZZY_CHAT_HOST") or "127.0.0.1").strip(),
            port=int(raw_port),
        )


def auth_users_setting(env: Mapping[str, str] | None = None) -> str | None:
    """The raw `WHIZZY_AUTH_USERS` value (`None` when login is off)."""
    value = env.get("WHIZZY_AUTH_USERS") if env is not None else setting("WHIZZY_AUTH_USERS")
    return value if value and value.strip() else None


def allowed_origins_setting(env: Mapping[str, str] | None = None) -> str | None:
    """The raw `WHIZZY_ALLOWED_ORIGINS` value: origins besides the chat's own."""
    if env is not None:
        return env.get("WHIZZY_ALLOWED_ORIGINS")
    return setting("WHIZZY_ALLOWED_ORIGINS")


def llm_configured() -> bool:
    """Whether an LLM endpoint is configured (the chat offers the LLM engine only then)."""
    try:
        load_llm_settings("llm")
        return True
    except ConfigError:
        return False
