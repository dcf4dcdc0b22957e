"""Warehouse files: atomic swaps and the temp files they leave.

DuckDB locks a file against every other process while a read-write connection is open,
so writers (generate, import, build) always write a new file next to the served one and
`os.replace()` it into place. Readers that opened the old file keep working on the old data;
new connections see the new file.

Writers that start from a copy (import, build) never undo each other: the swap is a
compare-and-swap under one lock on the folder, and a writer whose starting file was
replaced meanwhile drops its own result (`WarehouseChangedError`) instead of swapping it in.
Running out of disk space anywhere in a swap is a `DiskFullError`, the target unchanged.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb

from whizzy.core.errors import DiskFullError, WarehouseChangedError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: the swap check still runs, unlocked
    fcntl = None  # type: ignore[assignment]

#: A temp file `temp_path_for` names: <target>.<tag>-<pid>-<8 hex>, maybe with DuckDB's
#: .wal file or .tmp spill folder after it; work folders (`work_dir_for`) add a leading dot.
_TEMP_NAME = re.compile(r"^\.?(?P<target>.+)\.(?P<tag>[a-z]+)-(?P<pid>\d+)-[0-9a-f]{8}"
                        r"(?:\.wal|\.tmp)?$")
#: A dbt work folder as builds before pid-tagged names made it (`tempfile.mkdtemp`).
_LEGACY_WORK_DIR = re.compile(r"^\.(?P<target>.+)\.dbt-[a-z0-9_]{8}$")
#: A legacy work folder older than this has no build behind it (a build takes minutes).
LEGACY_WORK_DIR_AGE = 24 * 3600.0
#: errno values that mean the disk (or the user's quota) is full.
_DISK_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})


def temp_path_for(target: Path, tag: str = "tmp") -> Path:
    """A unique sibling path of `target` for building a replacement file.

    The name carries the writer's process id, so a later writer can tell a temp file left
    by a killed process from one another process is still writing.

    >>> p = temp_path_for(Path("/x/warehouse.duckdb"), "build")
    >>> p.parent == Path("/x") and p.name.startswith(f"warehouse.duckdb.build-{os.getpid()}-")
    True
    """
    return target.with_name(f"{target.name}.{tag}-{os.getpid()}-{uuid.uuid4().hex[:8]}")


def work_dir_for(target: Path, tag: str) -> Path:
    """Create and return a hidden work folder beside `target` that `sweep_stale_temps` knows.

    Its name carries this process's id, so once the process is gone (a killed build) the next
    writer of `target` removes it.
    """
    path = target.with_name(f".{temp_path_for(target, tag).name}")
    path.mkdir(mode=0o700)
    return path


def is_disk_full(exc: BaseException) -> bool:
    """Whether `exc` means the disk is full: ENOSPC / EDQUOT, or DuckDB saying so.

    >>> is_disk_full(OSError(errno.ENOSPC, "No space left on device"))
    True
    >>> is_disk_full(duckdb.IOException('IO Error: Could not write file "x": '
    ...                                 'No space left on device'))
    True
    >>> is_disk_full(OSError(errno.EACCES, "Permission denied"))
    False
    """
    if isinstance(exc, OSError) and exc.errno in _DISK_FULL_ERRNOS:
        return True
    if isinstance(exc, duckdb.Error):
        text = str(exc).lower()
        return "no space left on device" in text or "disk quota exceeded" in text
    return False


@contextlib.contextmanager
def disk_full_is_typed(where: Path, unchanged: str) -> Iterator[None]:
    """Turn running out of disk space inside the block into a `DiskFullError`.

    `unchanged` says what the user still has as it was (e.g. "the warehouse was left
    unchanged"); the message names the folder whose disk is full.
    """
    try:
        yield
    except (OSError, duckdb.Error) as exc:
        if not is_disk_full(exc):
            raise
        raise DiskFullError(
            f"The disk holding {where} is full (no space left on device); {unchanged}."
        ) from exc


def replace_quietly(target: Path, fill: Callable[[Path], object], tag: str = "tmp") -> None:
    """Write a cache file: `fill` writes a temp sibling, which is swapped in atomically.

    For files that only save time (a saved catalog, dbt's parse state): any OS error leaves
    `target` as it was, and the temp file never stays behind.

    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "cache.bin"
    >>> replace_quietly(target, lambda tmp: tmp.write_bytes(b"x"))
    >>> target.read_bytes(), [p.name for p in target.parent.iterdir()]
    (b'x', ['cache.bin'])
    """
    tmp = temp_path_for(target, tag)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fill(tmp)
        os.replace(tmp, target)
    except OSError:
        pass
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


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

    A writer killed halfway (``kill -9``, a power cut) leaves its temp file (and a build its
    hidden dbt work folder); it never touched `target`, so they are only clutter, and
    large. Files of running writers (this process included) are kept; a work folder named
    before names carried a process id is removed once a day old. Returns what was removed.
    """
    removed: list[Path] = []
    if not target.parent.is_dir():
        return removed
    for path in target.parent.iterdir():
        match = _TEMP_NAME.match(path.name)
        if match is not None and match["target"] == target.name:
            pid = int(match["pid"])
            if pid != os.getpid() and not _process_alive(pid):
                _remove(path, removed)
            continue
        match = _LEGACY_WORK_DIR.match(path.name)  # no pid: stale once old enough
        if match is not None and match["target"] == target.name and path.is_dir():
            with contextlib.suppress(OSError):
                if time.time() - path.stat().st_mtime > LEGACY_WORK_DIR_AGE:
                    _remove(path, removed)
    return removed


def glob_escape(text: str) -> str:
    """`text` as a glob pattern (Python's or DuckDB's) that matches exactly itself.

    >>> glob_escape("/exports/sfexport[12]/Opportunity*.csv")
    '/exports/sfexport[[]12[]]/Opportunity[*].csv'
    """
    return re.sub(r"([\[\]*?])", r"[\1]", text)


def _remove(path: Path, removed: list[Path]) -> None:
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        removed.append(path)


@contextlib.contextmanager
def replacing(target: Path, *, tag: str = "tmp", copy_existing: bool = False) -> Iterator[Path]:
    """Yield a temp path to write; on success atomically move it over `target`.

    On any exception the temp file is removed and `target` is left exactly as it was; a
    process killed outright leaves its temp file, which the next writer removes
    (`sweep_stale_temps`). With `copy_existing`, the temp file starts as a copy of
    `target` (when it exists), and the swap happens only if `target` is still the file
    that was copied.

    Raises:
        WarehouseChangedError: `copy_existing` and another writer replaced `target` in the
            meantime; its version is kept and this one dropped.
        DiskFullError: the disk filled up; `target` is unchanged.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    sweep_stale_temps(target)
    tmp = temp_path_for(target, tag)
    try:
        with disk_full_is_typed(target.parent, f"{target.name} was left unchanged"):
            base = _copy_of(target, tmp) if copy_existing else None
            yield tmp
            wal = tmp.with_name(tmp.name + ".wal")
            if wal.exists():  # a writer that did not checkpoint: fold the WAL in first
                duckdb.connect(str(tmp)).close()
            _fsync(tmp)  # the new bytes are on disk before the name points at them
            with _swap_lock(target.parent):
                if copy_existing and _identity(target) != base:
                    raise WarehouseChangedError(
                        f"{target} was replaced by another writer (a data import, generate or "
                        "build) while this one worked on its copy; this run's result was "
                        "dropped, so that writer's change is kept."
                    )
                os.replace(tmp, target)
        _fsync(target.parent)
    finally:
        remove_quietly(tmp)


#: A file's identity: inode, modification time and size (a swap gives a new inode).
_Identity = tuple[int, int, int] | None


def _identity(path: Path) -> _Identity:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


def _copy_of(target: Path, tmp: Path) -> _Identity:
    """Copy `target` to `tmp`; return the identity of the file copied (None: no target).

    When `target` is replaced during the copy, the copy may hold either file, so the identity
    returned matches no file and the later swap check refuses.
    """
    before = _identity(target)
    if before is not None:
        shutil.copyfile(target, tmp)
    return before if _identity(target) == before else (-1, -1, -1)


@contextlib.contextmanager
def _swap_lock(folder: Path) -> Iterator[None]:
    """Hold an exclusive lock on `folder` (every swap's check-and-replace takes it).

    A lock on the folder itself rather than a lock file leaves nothing behind, and the
    kernel releases it when a holder dies.
    """
    if fcntl is None:  # pragma: no cover
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the only descriptor releases the lock


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
