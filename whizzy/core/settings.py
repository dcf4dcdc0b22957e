"""Settings: the one place that reads environment variables and `.env`.

Precedence: command-line flag > environment variable > `.env` file > default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

#: Repository root (the folder holding pyproject.toml).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: The dbt project the build runs.
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
#: Where local state lives by default (warehouse, chat database, checkpoints).
DEFAULT_HOME = PROJECT_ROOT / ".whizzy"
DEFAULT_WAREHOUSE = DEFAULT_HOME / "warehouse.duckdb"

_DOTENV_CACHE: dict[tuple[str, int], dict[str, str]] = {}


def dotenv_settings() -> dict[str, str]:
    """The `.env` file's settings (``WHIZZY_DOTENV`` names another file), read once per version.

    >>> isinstance(dotenv_settings(), dict)
    True
    """
    path = Path(os.environ.get("WHIZZY_DOTENV", PROJECT_ROOT / ".env"))
    try:
        key = (str(path), path.stat().st_mtime_ns)
    except OSError:
        return {}
    if key not in _DOTENV_CACHE:
        _DOTENV_CACHE.clear()
        _DOTENV_CACHE[key] = {k: v for k, v in dotenv_values(path).items() if v is not None}
    return _DOTENV_CACHE[key]


def setting(name: str, default: str | None = None) -> str | None:
    """Read one setting from the environment, then `.env`, then the default.

    >>> setting("WHIZZY_SURELY_UNSET_SETTING", "fallback")
    'fallback'
    """
    if name in os.environ:
        return os.environ[name]
    return dotenv_settings().get(name, default)


def warehouse_path(flag: str | os.PathLike[str] | None = None) -> Path:
    """The warehouse file: `--warehouse`, else `WHIZZY_WAREHOUSE`, else the default path."""
    value = flag or setting("WHIZZY_WAREHOUSE")
    return Path(value).expanduser().resolve() if value else DEFAULT_WAREHOUSE


@dataclass(kw_only=True)
class Settings:
    """Resolved settings for one command run."""

    warehouse: Path = field(default_factory=warehouse_path)

    @property
    def home(self) -> Path:
        """Folder beside the warehouse for the chat database, checkpoints and temp files."""
        return self.warehouse.parent
