"""Warehouse access: read-only connections and atomic file swaps.

DuckDB locks a file against every other process while a read-write connection is open,
so writers (generate, import, build) always write a new file next to the served one and
`os.replace()` it into place. Readers that opened the old file keep working on the old data;
new connections see the new file.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

from whizzy.errors import WarehouseMissingError


def temp_path_for(target: Path, tag: str = "tmp") -> Path:
    """A unique sibling path of `target` for building a replacement file.

    >>> p = temp_path_for(Path("/x/warehouse.duckdb"), "build")
    >>> p.parent == Path("/x") and p.name.startswith("warehouse.duckdb.build-")
    True
    """
    return target.with_name(f"{target.name}.{tag}-{uuid.uuid4().hex[:8]}")


def remove_quietly(path: Path) -> None:
    """Delete a database file and its WAL, ignoring files that are not there."""
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


@contextlib.contextmanager
def replacing(target: Path, *, tag: str = "tmp", copy_existing: bool = False) -> Iterator[Path]:
    """Yield a temp path to write; on success atomically move it over `target`.

    On any exception the temp file is removed and `target` is left exactly as it was.
    With `copy_existing`, the temp file starts as a copy of `target` (when it exists).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target, tag)
    try:
        if copy_existing and target.exists():
            shutil.copyfile(target, tmp)
        yield tmp
        wal = tmp.with_name(tmp.name + ".wal")
        if wal.exists():  # a writer that did not checkpoint: fold the WAL in before swapping
            duckdb.connect(str(tmp)).close()
        os.replace(tmp, target)
    finally:
        remove_quietly(tmp)


def require(path: Path) -> Path:
    """Return `path` if the warehouse file exists, else raise a clear error."""
    if not path.is_file():
        raise WarehouseMissingError(f"No warehouse at {path}.")
    return path


def connect_readonly(path: Path, *, memory_limit: str = "2GB", threads: int = 2):
    """A read-only connection with external access (files, network) switched off."""
    con = duckdb.connect(
        str(require(path)),
        read_only=True,
        config={
            "enable_external_access": False,
            "memory_limit": memory_limit,
            "threads": threads,
        },
    )
    return con
