"""Settings: one place that reads flags, environment variables and `.env`.

Precedence: command-line flag > environment variable > `.env` file > default.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

#: Repository root (the folder holding pyproject.toml).
PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: The dbt project the build runs.
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
#: Where local state lives by default (warehouse, chat database, checkpoints).
DEFAULT_HOME = PROJECT_ROOT / ".whizzy"
DEFAULT_WAREHOUSE = DEFAULT_HOME / "warehouse.duckdb"

# dbt must never phone home: the product makes no network call the user did not configure.
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def _dotenv() -> dict[str, str]:
    path = Path(os.environ.get("WHIZZY_DOTENV", PROJECT_ROOT / ".env"))
    if not path.is_file():
        return {}
    return {k: v for k, v in dotenv_values(path).items() if v is not None}


def setting(name: str, default: str | None = None) -> str | None:
    """Read one setting from the environment, then `.env`, then the default.

    >>> setting("WHIZZY_SURELY_UNSET_SETTING", "fallback")
    'fallback'
    """
    if name in os.environ:
        return os.environ[name]
    return _dotenv().get(name, default)


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
