"""The eval warehouse: a generated org (seed 42, 20,000 opportunities, as of 2026-11-15), built.

It is cached under `.whizzy/eval/` and reused while nothing it depends on changed: a
fingerprint of the dbt project files, the generator and build sources, the library versions and
the generation arguments is stored beside it. The raw generated file is cached on its own, so a
change to the dbt project only re-runs the build.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

from whizzy.build import build_warehouse
from whizzy.core.settings import DBT_PROJECT_DIR, DEFAULT_HOME, PROJECT_ROOT
from whizzy.data.generate import generate_org
from whizzy.warehouse.connection import manifest_path_for
from whizzy.warehouse.files import remove_quietly

EVAL_HOME = DEFAULT_HOME / "eval"


@dataclass(frozen=True)
class EvalOrg:
    """The generator arguments of the eval org (the cases' names and numbers depend on them)."""

    opportunities: int = 20_000
    seed: int = 42
    as_of: str = "2026-11-15"
    fiscal_year_start_month: int = 1

    @property
    def key(self) -> str:
        """A folder name for this org's cache (the default org keeps `.whizzy/eval` itself).

        >>> EvalOrg(seed=7, opportunities=8000, as_of="2026-03-20", fiscal_year_start_month=2).key
        'seed7-n8000-2026-03-20-fy2'
        """
        return (f"seed{self.seed}-n{self.opportunities}-{self.as_of}"
                f"-fy{self.fiscal_year_start_month}")

    @classmethod
    def parse(cls, text: str) -> EvalOrg:
        """An org from ``seed=7,opportunities=8000,as_of=2026-03-20,fiscal=2`` (any subset).

        >>> EvalOrg.parse("seed=7,fiscal=2")
        EvalOrg(opportunities=20000, seed=7, as_of='2026-11-15', fiscal_year_start_month=2)
        >>> EvalOrg.parse("colour=red")
        Traceback (most recent call last):
        ...
        ValueError: unknown org setting 'colour' (use seed, opportunities, as_of, fiscal)
        """
        import datetime as dt

        names = {"seed": "seed", "opportunities": "opportunities", "as_of": "as_of",
                 "fiscal": "fiscal_year_start_month"}
        values: dict[str, object] = {}
        for part in filter(None, (p.strip() for p in text.split(","))):
            key, _, value = part.partition("=")
            key = key.strip().replace("-", "_")
            if key not in names:
                raise ValueError(f"unknown org setting {key!r} (use {', '.join(names)})")
            value = value.strip()
            try:
                if key == "as_of":
                    values[names[key]] = dt.date.fromisoformat(value).isoformat()
                else:
                    values[names[key]] = int(value)
            except ValueError:
                raise ValueError(f"org setting {key} has a bad value {value!r}") from None
        org = cls(**values)
        if not 1 <= org.fiscal_year_start_month <= 12 or org.opportunities < 100:
            raise ValueError("fiscal must be 1-12 and opportunities at least 100")
        return org


EVAL_ORG = EvalOrg()
#: Orgs the suite also runs on (`tests/evals/test_eval_orgs.py`): other seeds, sizes, as-of
#: dates and fiscal-year starts than the one the cases were first written for.
OTHER_ORGS = (
    EvalOrg(seed=7, opportunities=8_000, as_of="2026-03-20", fiscal_year_start_month=2),
    EvalOrg(seed=123, opportunities=8_000, as_of="2025-08-05", fiscal_year_start_month=10),
)
#: Folders inside the dbt project that are build output, not sources.
_DBT_SKIP = {"target", "logs", "dbt_packages", ".user.yml", "__pycache__"}


def _hash_files(digest: hashlib._Hash, root: Path, files: Iterator[Path]) -> None:
    for path in sorted(files):
        rel = path.relative_to(root)
        if any(part in _DBT_SKIP for part in rel.parts) or not path.is_file():
            continue
        digest.update(str(rel).encode() + b"\0" + path.read_bytes() + b"\0")


def raw_fingerprint(org: EvalOrg = EVAL_ORG) -> str:
    """Hash of what the raw eval org depends on: generator sources, schema, args, duckdb.

    >>> raw_fingerprint() == raw_fingerprint() != raw_fingerprint(EvalOrg(seed=1))
    True
    """
    digest = hashlib.sha256(json.dumps(asdict(org), sort_keys=True).encode())
    digest.update(metadata.version("duckdb").encode())
    whizzy_dir = PROJECT_ROOT / "whizzy"
    _hash_files(digest, PROJECT_ROOT, (whizzy_dir / "data").rglob("*.py"))
    _hash_files(digest, PROJECT_ROOT, iter([whizzy_dir / "warehouse" / "schema.py"]))
    return digest.hexdigest()


def built_fingerprint(org: EvalOrg = EVAL_ORG, project_dir: Path = DBT_PROJECT_DIR) -> str:
    """Hash of what the built eval warehouse depends on: the raw org, dbt project, build code."""
    digest = hashlib.sha256(raw_fingerprint(org).encode())
    for package in ("dbt-core", "dbt-duckdb"):
        digest.update(metadata.version(package).encode())
    _hash_files(digest, project_dir, project_dir.rglob("*"))
    _hash_files(digest, PROJECT_ROOT, iter([PROJECT_ROOT / "whizzy" / "build.py"]))
    return digest.hexdigest()


@contextlib.contextmanager
def _locked(home: Path) -> Iterator[None]:
    """One builder at a time (parallel test workers or two `whizzy eval` runs)."""
    home.mkdir(parents=True, exist_ok=True)
    with open(home / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _stamp(path: Path) -> Path:
    return path.with_name(path.name + ".fingerprint")


def _fresh(path: Path, fingerprint: str) -> bool:
    stamp = _stamp(path)
    return path.is_file() and stamp.is_file() and stamp.read_text().strip() == fingerprint


def ensure_eval_warehouse(
    home: Path = EVAL_HOME,
    *,
    org: EvalOrg = EVAL_ORG,
    project_dir: Path = DBT_PROJECT_DIR,
    rebuild: bool = False,
    say: Callable[[str], None] = lambda _msg: None,
) -> Path:
    """The built eval warehouse in `home`, generated and built only when out of date.

    Args:
        home: Cache folder (default `.whizzy/eval`).
        org: Generator arguments.
        project_dir: The dbt project to build.
        rebuild: Regenerate and rebuild even when the cache is current.
        say: Called with a line of progress text for each slow step.

    Returns:
        Path of the built warehouse (`<home>/warehouse.duckdb`).
    """

    if org != EVAL_ORG and home == EVAL_HOME:
        home = EVAL_HOME / org.key
    raw, built = home / "raw.duckdb", home / "warehouse.duckdb"
    with _locked(home):
        raw_print, built_print = raw_fingerprint(org), built_fingerprint(org, project_dir)
        if not rebuild and _fresh(built, built_print) and manifest_path_for(built).is_file():
            return built
        if rebuild or not _fresh(raw, raw_print):
            say(f"Generating the eval org ({org.opportunities:,} opportunities, seed {org.seed})")
            _stamp(raw).unlink(missing_ok=True)
            generate_org(raw, opportunities=org.opportunities, seed=org.seed, as_of=org.as_of)
            _stamp(raw).write_text(raw_print)
        say(f"Building the eval warehouse (as of {org.as_of}, fiscal year from month "
            f"{org.fiscal_year_start_month})")
        _stamp(built).unlink(missing_ok=True)
        # Build beside, then swap the file and its manifest in: a reader of the old warehouse
        # never sees a raw-only file.
        staging = home / "staging" / built.name
        staging.parent.mkdir(exist_ok=True)
        try:
            shutil.copyfile(raw, staging)
            build_warehouse(staging, as_of=org.as_of, project_dir=project_dir,
                            fiscal_year_start_month=org.fiscal_year_start_month)
            os.replace(staging, built)
            os.replace(manifest_path_for(staging), manifest_path_for(built))
        finally:
            remove_quietly(staging)
            manifest_path_for(staging).unlink(missing_ok=True)
        _stamp(built).write_text(built_print)
    return built
