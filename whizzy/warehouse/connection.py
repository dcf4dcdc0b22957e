"""Read-only connections to a warehouse file, and where its build output lives.

Every reader (the agents, the eval harness, the chat's freshness check) opens the file
through `connect_readonly`: external access off, no extensions, configuration locked.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from whizzy.core.errors import WarehouseMissingError


def manifest_path_for(warehouse: Path) -> Path:
    """Where the dbt manifest of `warehouse` lives: beside it, `<stem>.manifest.json`.

    >>> manifest_path_for(Path("/x/warehouse.duckdb"))
    PosixPath('/x/warehouse.manifest.json')
    """
    warehouse = Path(warehouse)
    name = warehouse.name
    stem = name[: -len(".duckdb")] if name.endswith(".duckdb") else name
    return warehouse.with_name(f"{stem}.manifest.json")


def require(path: Path) -> Path:
    """Return `path` if the warehouse file exists, else raise a clear error."""
    if not path.is_file():
        raise WarehouseMissingError(f"No warehouse at {path}.")
    return path


def connect_readonly(path: Path, *, memory_limit: str = "2GB", threads: int = 2):
    """A read-only connection with external access (files, network) switched off.

    Extensions are never installed or loaded, Python objects are never read as tables, and
    the configuration is locked, so no statement can switch any of that back on.
    """
    con = duckdb.connect(
        str(require(path)),
        read_only=True,
        config={
            "enable_external_access": False,
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "python_enable_replacements": False,
            "memory_limit": memory_limit,
            "threads": threads,
            "lock_configuration": True,
        },
    )
    return con
