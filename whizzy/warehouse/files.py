"""Warehouse files: atomic swaps and the temp files they leave.

DuckDB locks a file against every other process while a read-write connection is open,
so writers (generate, import, build) always write a new file next to the served one and
`os.replace()` it into place. Readers that opened the old file keep working on the old data;
new connections see the new file.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import duckdb

#: A temp file `temp_path_for` names: <target>.<tag>-<pid>-<8 hex>, maybe with DuckDB's
#: .wal file or .tmp spill folder after it.
_TEMP_NAME = re.compile(r"^(?P<target>.+)\.(?P<tag>[a-z]+)-(?P<pid>\d+)-[0-9a-f]{8}"
                        r"(?:\.wal|\.tmp)?$")


def temp_path_for(target: Path, tag: str = "tmp") -> Path:
    """A unique sibling path of `target` for building a replacement file.

    The name carries the writer's process id, so a later writer can tell a temp file left
    by a killed process from one another process is still writing.

    >>> p = temp_path_for(Path("/x/warehouse.duckdb"), "build")
    >>> p.parent == Path("/x") and p.name.startswith(f"warehouse.duckdb.build-{os.getpid()}-")
    True
    """
    return target.with_name(f"{target.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def remove_quietly(path: Path) -> None:
    """Delete a database file and its WAL, ignoring files that are not there."""
    for p in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            p.unlink()


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process
        return True
    return True


def sweep_stale_temps(target: Path) -> list[Path]:
    """Delete the temp files that writers of `target` which no longer run left behind.

    A writer killed halfway (``kill -9``, a power cut) leaves its temp file; it never
    touched `target`, so the files are only clutter, and large. Files of running writers
    (this process included) are kept. Returns what was removed.
    """
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for path in target.parent.iterdir():
        match = _TEMP_NAME.match(path.name)
        if match is None or match["target"] != target.name:
            continue
        pid = int(match["pid"])
        if pid == os.getpid() or _process_alive(pid):
            continue
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path)
            else:
                path.unlink()
            removed.append(path)
    return removed


@contextlib.contextmanager
def replacing(target: Path, *, tag: str = "tmp", copy_existing: bool = False) -> Iterator[Path]:
    """Yield a temp path to write; on success atomically move it over `target`.

    On any exception the temp file is removed and `target` is left exactly as it was; a
    process killed outright leaves its temp file, which the next writer removes
    (`sweep_stale_temps`). With `copy_existing`, the temp file starts as a copy of
    `target` (when it exists).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(target)
    tmp = temp_path_for(target, tag)
    try:
        if copy_existing and target.exists():
            shutil.copyfile(target, tmp)
        yield tmp
        wal = tmp.with_name(tmp.name + ".wal")
        if wal.exists():  # a writer that did not checkpoint: fold the WAL in before swapping
            duckdb.connect(str(tmp)).close()
        _fsync(tmp)  # the new bytes are on disk before the name points at them
        os.replace(tmp, target)
        _fsync(target.parent)
    finally:
        remove_quietly(tmp)


def _fsync(path: Path) -> None:
    """Flush a file (or a folder's entries) to disk; best effort where that is unsupported."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
