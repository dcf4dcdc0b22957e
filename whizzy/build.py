"""Build the dbt models into the warehouse: `dbt build` in-process, then an atomic swap.

The served warehouse is never modified in place. `build_warehouse` copies it to a sibling
temp file, runs `dbt build` (models, data tests and unit tests) on the copy, and only when
every node passed swaps the copy in with `os.replace` and writes the dbt manifest beside it
(`<warehouse without .duckdb>.manifest.json`). Readers holding the old file keep working.

>>> manifest_path_for(Path("/data/warehouse.duckdb"))
PosixPath('/data/warehouse.manifest.json')
>>> resolve_as_of("2026-11-15")
datetime.date(2026, 11, 15)
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from whizzy.core.errors import BuildError, ConfigError, DiskFullError
from whizzy.core.settings import DBT_PROJECT_DIR, setting
from whizzy.warehouse.connection import manifest_path_for, require
from whizzy.warehouse.files import (
    disk_full_is_typed,
    is_disk_full,
    replace_quietly,
    replacing,
    work_dir_for,
)

#: dbt result statuses that count as passing (`warn` is a passing test with a warning).
PASSING = frozenset({"success", "pass", "warn"})

#: Serialises in-process dbt runs: dbt keeps global state (flags, adapter, event manager),
#: so two builds in one process must not overlap. Separate processes are fine.
_DBT_LOCK = threading.RLock()

#: Parsed dbt manifests by (project dir, fingerprint of its files, DuckDB catalog name). A full
#: parse takes several seconds, so a process parses each project version once and hands dbt a
#: copy for every later command (and a new process re-parses only what changed: dbt's
#: partial parsing, `partial_parse_path_for`). Relations in a manifest name the catalog,
#: which DuckDB derives from the file name ("warehouse.duckdb.build-1a2b" → "warehouse"),
#: hence the third key part.
_MANIFESTS: dict[tuple[str, str, str], Any] = {}


@dataclass(frozen=True, kw_only=True)
class NodeTiming:
    """How one dbt node (model, data test, unit test) went."""

    name: str
    resource_type: str
    status: str
    seconds: float
    message: str = ""

    @property
    def passed(self) -> bool:
        """Whether the node counts as passing."""
        return self.status in PASSING


@dataclass(kw_only=True)
class BuildResult:
    """What a successful build did."""

    warehouse: Path
    manifest_path: Path
    as_of: date
    fiscal_year_start_month: int
    elapsed: float
    nodes: list[NodeTiming] = field(default_factory=list)
    docs_path: Path | None = None
    #: The dbt unit tests were not run: they passed on this very project before.
    unit_tests_skipped: bool = False

    @property
    def counts(self) -> dict[str, int]:
        """Node counts by resource type (`model`, `test`, `unit_test`) and by status."""
        out: dict[str, int] = {}
        for node in self.nodes:
            out[node.resource_type] = out.get(node.resource_type, 0) + 1
            out[f"status:{node.status}"] = out.get(f"status:{node.status}", 0) + 1
        return out

    @property
    def warnings(self) -> list[NodeTiming]:
        """Nodes that passed with a warning (tests with `severity: warn`)."""
        return [n for n in self.nodes if n.status == "warn"]

    def slowest(self, n: int = 5) -> list[NodeTiming]:
        """The `n` slowest nodes."""
        return sorted(self.nodes, key=lambda node: node.seconds, reverse=True)[:n]


#: Progress callback: (nodes done, nodes total or None while unknown, last node name).
Progress = Callable[[int, int | None, str], None]


def docs_path_for(warehouse: Path) -> Path:
    """Where `build_warehouse(..., docs=True)` writes the static dbt docs page."""
    return manifest_path_for(warehouse).with_name(
        manifest_path_for(warehouse).name.replace(".manifest.json", ".docs.html")
    )


def resolve_as_of(as_of: str | date | None) -> date:
    """The as-of date: a date, a `YYYY-MM-DD` string, or None for today.

    >>> resolve_as_of(date(2025, 1, 2))
    datetime.date(2025, 1, 2)
    >>> resolve_as_of("15/11/2026")
    Traceback (most recent call last):
    ...
    whizzy.core.errors.ConfigError: As-of date '15/11/2026' is not a date in YYYY-MM-DD form.
    """
    if as_of is None or as_of == "":
        return date.today()
    if isinstance(as_of, date):
        return as_of
    try:
        return date.fromisoformat(str(as_of).strip())
    except ValueError:
        raise ConfigError(f"As-of date '{as_of}' is not a date in YYYY-MM-DD form.") from None


def resolve_fiscal_year_start_month(month: int | str | None) -> int:
    """The fiscal year's first month: the argument, else `WHIZZY_FISCAL_YEAR_START_MONTH`, else 1.

    >>> resolve_fiscal_year_start_month(None) in range(1, 13)
    True
    >>> resolve_fiscal_year_start_month(13)
    Traceback (most recent call last):
    ...
    whizzy.core.errors.ConfigError: Fiscal year start month must be a month number 1-12, got 13.
    """
    value = month if month is not None else setting("WHIZZY_FISCAL_YEAR_START_MONTH", "1")
    try:
        number = int(str(value).strip())
    except ValueError:
        number = 0
    if not 1 <= number <= 12:
        raise ConfigError(f"Fiscal year start month must be a month number 1-12, got {value}.")
    return number


def _threads() -> int:
    value = setting("WHIZZY_DBT_THREADS")
    if value and value.isdigit() and int(value) > 0:
        return int(value)
    return max(1, min(4, os.cpu_count() or 1))


class _ProgressListener:
    """dbt event callback: counts finished nodes and forwards them to `progress`."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.total: int | None = None
        self.done = 0

    def __call__(self, event: Any) -> None:
        name = event.info.name
        data = event.data
        if name in ("LogStartLine", "LogModelResult") and getattr(data, "total", 0):
            self.total = data.total
        elif name == "LogTestResult" and getattr(data, "num_models", 0):
            self.total = data.num_models
        elif name == "NodeFinished":
            self.done += 1
            if self.progress is not None:
                node = data.node_info.node_name or data.node_info.unique_id
                with contextlib.suppress(Exception):  # a display error must not fail a build
                    self.progress(self.done, self.total, node)


def _close_duckdb_environment() -> None:
    """Release dbt-duckdb's cached connection so the built file can be swapped and reopened."""
    with contextlib.suppress(Exception):
        from dbt.adapters.duckdb.connections import DuckDBConnectionManager

        env = DuckDBConnectionManager._ENV
        if env is not None:
            env.close()
        DuckDBConnectionManager._ENV = None


def _node_timings(results: Any) -> list[NodeTiming]:
    timings = []
    for r in getattr(results, "results", None) or []:
        node = r.node
        resource_type = str(getattr(node, "resource_type", "node")).split(".")[-1].lower()
        status = str(getattr(r.status, "value", r.status)).lower()
        timings.append(
            NodeTiming(
                name=node.name,
                resource_type=resource_type,
                status=status,
                seconds=float(r.execution_time or 0.0),
                message=(r.message or "").strip() if status not in ("success", "pass") else "",
            )
        )
    return timings


def _failure_message(timings: list[NodeTiming], exception: BaseException | None) -> str:
    failed = [t for t in timings if not t.passed and t.status != "skipped"]
    skipped = [t for t in timings if t.status == "skipped"]
    if not failed:
        detail = str(exception).strip() if exception else "dbt reported a failure"
        return f"dbt build failed before running any node: {detail}"
    lines = [f"dbt build failed: {len(failed)} node(s) did not pass"]
    for t in failed[:10]:
        message = " ".join(t.message.split())
        if len(message) > 600:
            message = message[:600] + "…"
        lines.append(f"  - {t.resource_type} {t.name} ({t.status}): {message}")
    if len(failed) > 10:
        lines.append(f"  … and {len(failed) - 10} more")
    if skipped:
        lines.append(f"  ({len(skipped)} downstream node(s) skipped)")
    lines.append("The served warehouse was left unchanged.")
    return "\n".join(lines)


def _project_fingerprint(project_dir: Path) -> str:
    """A hash of every project file's path, size and mtime (target/ and logs/ excluded)."""
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if relative.parts[0] in ("target", "logs", "dbt_packages") or not path.is_file():
            continue
        stat = path.stat()
        digest.update(f"{relative}|{stat.st_size}|{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()


def _common_args(
    project_dir: Path, work_dir: Path, variables: dict[str, Any]
) -> list[str]:
    return [
        "--project-dir", str(project_dir),
        "--profiles-dir", str(project_dir),
        "--target-path", str(work_dir / "target"),
        "--log-path", str(work_dir / "logs"),
        "--vars", json.dumps(variables),
        "--log-level", "none",
        "--log-level-file", "info",
        "--no-use-colors",
        "--no-send-anonymous-usage-stats",
        "--no-version-check",
    ]


def quiet_dbt() -> None:
    """Switch dbt's anonymous usage tracking off before dbt runs (it must never phone home).

    Called by everything here that runs dbt, so importing this module changes nothing.
    """
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("DBT_SEND_ANONYMOUS_USAGE_STATS", "false")


def parsed_manifest(
    project_dir: Path, *, database: Path, work_dir: Path, variables: dict[str, Any],
    copy: bool = True,
) -> Any:
    """The project's parsed dbt `Manifest` (a fresh copy), parsing only when files changed.

    `copy=False` hands out the cached manifest itself, for a caller that only reads it.

    Raises:
        BuildError: the project does not parse (the message carries dbt's error).
    """
    from dbt.cli.main import dbtRunner

    quiet_dbt()
    key = (str(project_dir.resolve()), _project_fingerprint(project_dir), catalog_name(database))
    with _DBT_LOCK:
        if key not in _MANIFESTS:
            saved = partial_parse_path_for(project_dir, database)
            with contextlib.suppress(OSError):  # none yet, or unreadable: a full parse
                (work_dir / "target").mkdir(parents=True, exist_ok=True)
                shutil.copyfile(saved, work_dir / "target" / "partial_parse.msgpack")
            previous = os.environ.get("WHIZZY_DBT_PATH")
            # parsing never opens the database, but dbt's partial parsing starts over when
            # the profile's path changes: parse with one stable path per catalog name
            os.environ["WHIZZY_DBT_PATH"] = str(saved.with_name(f"{catalog_name(database)}"
                                                                ".duckdb"))  # never created
            try:
                outcome = dbtRunner().invoke(
                    ["parse", *_common_args(project_dir, work_dir, variables)]
                )
            finally:
                _close_duckdb_environment()
                _restore_env("WHIZZY_DBT_PATH", previous)
            if not outcome.success or outcome.result is None:
                raise BuildError(f"The dbt project does not parse: {outcome.exception}")
            _keep_partial_parse(work_dir / "target" / "partial_parse.msgpack", saved)
            for stale in [k for k in _MANIFESTS if k[0] == key[0] and k[2] == key[2]]:
                del _MANIFESTS[stale]
            _MANIFESTS[key] = outcome.result
        return _MANIFESTS[key].deepcopy() if copy else _MANIFESTS[key]


def partial_parse_path_for(project_dir: Path, database: Path) -> Path:
    """Where dbt's partial-parse state for builds of `database` is kept between builds.

    In the project's stable ``target/`` folder, one file per catalog name, so the next build
    (another process, another temp file) re-parses only the project files that changed.
    Each build parses in its own work folder and copies the state in and out.

    >>> partial_parse_path_for(Path("/p"), Path("/x/warehouse.duckdb.build-1-1a2b3c4d"))
    PosixPath('/p/target/warehouse.partial_parse.msgpack')
    """
    return Path(project_dir) / "target" / f"{catalog_name(database)}.partial_parse.msgpack"


def _keep_partial_parse(written: Path, saved: Path) -> None:
    """Move the state dbt just wrote to `saved` (atomically; a failure only costs time)."""
    replace_quietly(saved, lambda tmp: shutil.copyfile(written, tmp), "parse")


def catalog_name(database: Path) -> str:
    """The catalog DuckDB (and dbt-duckdb) names a database file after.

    >>> catalog_name(Path("/x/warehouse.duckdb.build-1a2b3c4d"))
    'warehouse'
    """
    return database.name.lstrip(".").split(".")[0]


def _restore_env(name: str, previous: str | None) -> None:
    if previous is None:
        os.environ.pop(name, None)
    else:
        os.environ[name] = previous


def run_dbt(
    args: list[str],
    *,
    database: Path,
    project_dir: Path,
    work_dir: Path,
    variables: dict[str, Any],
    progress: Progress | None = None,
) -> tuple[bool, Any, BaseException | None]:
    """Run one dbt command in-process against `database`; returns (success, result, exception).

    Target and log paths live in `work_dir`, so concurrent builds never share files. The
    command gets a copy of the cached parsed manifest, which is also written to
    `work_dir/target/manifest.json`.
    """
    from dbt.cli.main import dbtRunner
    from dbt.parser.manifest import write_manifest

    quiet_dbt()
    listener = _ProgressListener(progress)
    with _DBT_LOCK:
        manifest = parsed_manifest(
            project_dir, database=database, work_dir=work_dir, variables=variables
        )
        write_manifest(manifest, str(work_dir / "target"))
        previous = os.environ.get("WHIZZY_DBT_PATH")
        os.environ["WHIZZY_DBT_PATH"] = str(database)
        try:
            outcome = dbtRunner(manifest=manifest, callbacks=[listener]).invoke(
                [*args, *_common_args(project_dir, work_dir, variables),
                 "--threads", str(_threads())]
            )
        finally:
            _close_duckdb_environment()
            _restore_env("WHIZZY_DBT_PATH", previous)
    return outcome.success, outcome.result, outcome.exception


# ------------------------------------------------------------- skipping a build nothing changed


def stamp_path_for(warehouse: Path) -> Path:
    """Where the inputs of the warehouse's last good build are recorded: beside it.

    >>> stamp_path_for(Path("/x/warehouse.duckdb"))
    PosixPath('/x/warehouse.duckdb.built.json')
    """
    return warehouse.with_name(f"{warehouse.name}.built.json")


def project_digest(project_dir: Path) -> str:
    """A hash of every project file's path and bytes (target/, logs/ and dbt_packages/ left out).

    Bytes, not modification times: a checkout that rewrites the same files changes nothing.
    """
    digest = hashlib.sha256()
    for path in sorted(project_dir.rglob("*")):
        relative = path.relative_to(project_dir)
        if relative.parts[0] in ("target", "logs", "dbt_packages") or not path.is_file():
            continue
        digest.update(f"{relative.as_posix()}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def _file_identity(path: Path) -> list[int] | None:
    try:
        stat = os.stat(path)
    except FileNotFoundError:
        return None
    return [stat.st_ino, stat.st_mtime_ns, stat.st_size]


def build_inputs(warehouse: Path, *, as_of: date, fiscal_year_start_month: int,
                 project_dir: Path) -> dict[str, Any]:
    """What a build of `warehouse` depends on, as recorded after a good build.

    The raw data is the warehouse file itself: every writer (generate, import, build)
    replaces it, so an unchanged inode, modification time and size mean unchanged data.
    """
    from importlib.metadata import version

    return {
        "warehouse": _file_identity(warehouse),
        "manifest": _file_identity(manifest_path_for(warehouse)),
        "project": project_digest(project_dir),
        "as_of": as_of.isoformat(),
        "fiscal_year_start_month": fiscal_year_start_month,
        "dbt": version("dbt-core"),
    }


def up_to_date(warehouse: Path, *, as_of: str | date | None = None,
               fiscal_year_start_month: int | None = None,
               project_dir: Path = DBT_PROJECT_DIR) -> bool:
    """Whether a build would change nothing: same raw data, dbt project and as-of date.

    Raises:
        ConfigError: `as_of` or `fiscal_year_start_month` is invalid.
    """
    warehouse = Path(warehouse).resolve()
    try:
        recorded = json.loads(stamp_path_for(warehouse).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    current = build_inputs(
        warehouse, as_of=resolve_as_of(as_of),
        fiscal_year_start_month=resolve_fiscal_year_start_month(fiscal_year_start_month),
        project_dir=Path(project_dir))
    return None not in (current["warehouse"], current["manifest"]) and recorded == current


def _record_build(warehouse: Path, inode: int, **inputs: Any) -> None:
    """Record the inputs of the build just swapped in (unless another writer's file is there)."""
    current = build_inputs(warehouse, **inputs)
    if current["warehouse"] is None or current["warehouse"][0] != inode:
        return  # replaced again since our swap: that file was never built
    with contextlib.suppress(OSError), replacing(stamp_path_for(warehouse), tag="stamp") as tmp:
        tmp.write_text(json.dumps(current, indent=1), encoding="utf-8")


# ------------------------------------------------------------- unit tests only when they can differ


def unit_tests_stamp_for(project_dir: Path) -> Path:
    """Where the key of the project's last passing unit tests is kept (its ``target/``).

    >>> unit_tests_stamp_for(Path("/p"))
    PosixPath('/p/target/unit_tests.passed')
    """
    return Path(project_dir) / "target" / "unit_tests.passed"


def unit_tests_key(project_dir: Path, variables: dict[str, Any], manifest: Any) -> str:
    """What the dbt unit tests' outcome depends on: the project, dbt, DuckDB and maybe vars.

    A unit test is given every input it reads, so the warehouse's data never matters. The
    build's vars (as-of date, fiscal month) matter only to a unit test that does not set
    them itself; ours all do, so a daily rebuild as of a new date does not run them again.
    """
    from importlib.metadata import version

    import duckdb

    digest = hashlib.sha256()
    digest.update(project_digest(project_dir).encode())
    for package in ("dbt-core", "dbt-duckdb"):
        digest.update(f"|{package} {version(package)}".encode())
    digest.update(f"|duckdb {duckdb.__version__}".encode())
    tests = list(getattr(manifest, "unit_tests", {}).values())
    if any(not set(variables) <= set(
            (getattr(getattr(t, "overrides", None), "vars", None) or {}).keys())
           for t in tests):
        digest.update(f"|vars {json.dumps(variables, sort_keys=True)}".encode())
    return digest.hexdigest()


def unit_tests_passed(project_dir: Path, key: str) -> bool:
    """Whether the unit tests passed before with this `key` (`unit_tests_key`)."""
    try:
        return unit_tests_stamp_for(project_dir).read_text(encoding="utf-8").strip() == key
    except OSError:
        return False


def _record_unit_tests(project_dir: Path, key: str) -> None:
    """Remember that the unit tests passed with `key` (a failure only costs a rerun)."""
    stamp = unit_tests_stamp_for(project_dir)
    with contextlib.suppress(OSError):
        stamp.parent.mkdir(exist_ok=True)
        with replacing(stamp, tag="stamp") as tmp:
            tmp.write_text(key + "\n", encoding="utf-8")


def build_warehouse(
    warehouse: Path,
    *,
    as_of: str | date | None = None,
    fiscal_year_start_month: int | None = None,
    project_dir: Path = DBT_PROJECT_DIR,
    progress: Progress | None = None,
    docs: bool = False,
    unit_tests: bool | None = None,
) -> BuildResult:
    """Run `dbt build` on a copy of `warehouse` and swap it in only if every node passed.

    Args:
        warehouse: The served DuckDB file; must hold the raw `salesforce` schema.
        as_of: The as-of date (`YYYY-MM-DD` or date); None means today.
        fiscal_year_start_month: First month of the fiscal year (default 1 or
            `WHIZZY_FISCAL_YEAR_START_MONTH`).
        project_dir: The dbt project to build (tests pass a modified copy).
        progress: Called as `progress(done, total, node_name)` after each node.
        docs: Also run `dbt docs generate` and write `<stem>.docs.html` beside the warehouse.
        unit_tests: Run the dbt unit tests too (they do not read the warehouse's data, so
            test suites that build many orgs run them once and skip them elsewhere). None:
            only when they could differ from the last time they passed (another project,
            dbt or DuckDB version: `unit_tests_key`); about 4 s of a 13 s build at 10k.

    Returns:
        Timings and counts of the build.

    Raises:
        WarehouseMissingError: `warehouse` does not exist.
        ConfigError: `as_of` or `fiscal_year_start_month` is invalid.
        BuildError: a model, data test or unit test failed (named in the message); the
            served warehouse is left unchanged.
        WarehouseChangedError: another writer (a `whizzy data import`) replaced the
            warehouse during the build; its data is kept and this build is dropped.
        DiskFullError: the disk filled up; the served warehouse is left unchanged.
    """
    warehouse = Path(warehouse).resolve()  # dbt resolves relative paths against its project
    require(warehouse)
    as_of_date = resolve_as_of(as_of)
    start_month = resolve_fiscal_year_start_month(fiscal_year_start_month)
    project_dir = Path(project_dir)
    if not (project_dir / "dbt_project.yml").is_file():
        raise ConfigError(f"No dbt project at {project_dir} (dbt_project.yml missing).")
    variables = {"as_of_date": as_of_date.isoformat(), "fiscal_year_start_month": start_month}
    manifest_target = manifest_path_for(warehouse)
    started = time.perf_counter()
    unchanged = "the served warehouse was left unchanged"
    with disk_full_is_typed(warehouse.parent, unchanged):
        work_dir = work_dir_for(warehouse, "dbt")  # a killed build's is swept by the next
    docs_target: Path | None = None
    unit_key: str | None = None
    try:
        if unit_tests is not False:
            unit_key = unit_tests_key(project_dir, variables, parsed_manifest(
                project_dir, database=warehouse, work_dir=work_dir, variables=variables,
                copy=False))
            if unit_tests is None:
                unit_tests = not unit_tests_passed(project_dir, unit_key)
        with replacing(warehouse, tag="build", copy_existing=True) as tmp:
            ok, results, exception = run_dbt(
                ["build"] if unit_tests else ["build", "--exclude-resource-type", "unit_test"],
                database=tmp,
                project_dir=project_dir,
                work_dir=work_dir,
                variables=variables,
                progress=progress,
            )
            timings = _node_timings(results)
            if not ok or any(not t.passed for t in timings):
                message = _failure_message(timings, exception)
                if "no space left on device" in message.lower() or (
                        exception is not None and is_disk_full(exception)):
                    raise DiskFullError(f"The disk holding {warehouse.parent} is full (no "
                                        f"space left on device); {unchanged}.")
                raise BuildError(message)
            if docs:
                ok, _, exception = run_dbt(
                    ["docs", "generate", "--static"],
                    database=tmp,
                    project_dir=project_dir,
                    work_dir=work_dir,
                    variables=variables,
                )
                if not ok:
                    raise BuildError(f"dbt docs generate failed: {exception}")
            built_manifest = work_dir / "target" / "manifest.json"
            if not built_manifest.is_file():
                raise BuildError("dbt build wrote no manifest.json.")
            stamp_path_for(warehouse).unlink(missing_ok=True)  # recorded again once swapped
            built_inode = os.stat(tmp).st_ino  # os.replace keeps it: this build's file
        # the warehouse is swapped in; now the manifest beside it, atomically too
        with replacing(manifest_target, tag="build") as manifest_tmp:
            shutil.copyfile(built_manifest, manifest_tmp)
        if docs:
            docs_target = docs_path_for(warehouse)
            with replacing(docs_target, tag="build") as docs_tmp:
                shutil.copyfile(work_dir / "target" / "static_index.html", docs_tmp)
        _record_build(warehouse, built_inode, as_of=as_of_date,
                      fiscal_year_start_month=start_month, project_dir=project_dir)
        if unit_tests and unit_key is not None:
            _record_unit_tests(project_dir, unit_key)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    return BuildResult(
        warehouse=warehouse,
        manifest_path=manifest_target,
        as_of=as_of_date,
        fiscal_year_start_month=start_month,
        elapsed=time.perf_counter() - started,
        nodes=timings,
        docs_path=docs_target,
        unit_tests_skipped=unit_key is not None and not unit_tests,
    )
