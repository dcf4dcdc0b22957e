"""How long `whizzy build` takes next to the floor: DuckDB running the same compiled SQL.

    .venv/bin/python scripts/bench_build.py --opportunities 1000000 --as-of 2026-11-15
    .venv/bin/python scripts/bench_build.py --warehouse /tmp/raw.duckdb   # an existing raw org

1. generate the org (unless --warehouse names a raw one), copy it;
2. time `build_warehouse` on the copy (parse, every model, data test and unit test, swap);
3. compile the project, then on a fresh copy of the raw file execute each model's compiled
   SQL (`create view|table … as …`) in dependency order in one DuckDB connection, then each
   data test's compiled SQL: the time DuckDB alone needs for the same work;
4. print both times and the ratio.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from graphlib import TopologicalSorter
from pathlib import Path

import duckdb

from whizzy.build import build_warehouse, parsed_manifest, run_dbt
from whizzy.config import DBT_PROJECT_DIR


def compiled_nodes(raw: Path, work: Path, variables: dict) -> tuple[dict, object]:
    """unique_id → compiled SQL for every model and data test, and the parsed manifest."""
    work.mkdir(parents=True, exist_ok=True)
    database = work / "compile.duckdb"
    shutil.copyfile(raw, database)
    ok, _, exc = run_dbt(
        ["compile", "--exclude", "test_type:unit"],
        database=database, project_dir=DBT_PROJECT_DIR, work_dir=work, variables=variables,
    )
    if not ok:
        raise SystemExit(f"dbt compile failed: {exc}")
    results = json.loads((work / "target" / "run_results.json").read_text())["results"]
    manifest = parsed_manifest(
        DBT_PROJECT_DIR, database=database, work_dir=work, variables=variables
    )
    return {r["unique_id"]: r["compiled_code"] for r in results if r.get("compiled_code")}, manifest


def floor(raw: Path, work: Path, compiled: dict, manifest) -> tuple[float, float]:
    """Seconds to run the models' and the data tests' compiled SQL directly in DuckDB."""
    # same file name as the compiled database: compiled SQL names the catalog ("compile")
    (work / "floor").mkdir()
    database = work / "floor" / "compile.duckdb"
    shutil.copyfile(raw, database)
    models = {uid: n for uid, n in manifest.nodes.items() if n.resource_type == "model"}
    graph = {
        uid: [d for d in node.depends_on.nodes if d in models] for uid, node in models.items()
    }
    con = duckdb.connect(str(database))
    try:
        started = time.perf_counter()
        for uid in TopologicalSorter(graph).static_order():
            node = models[uid]
            kind = "view" if node.config.materialized == "view" else "table"
            con.execute(f"create or replace {kind} main.{node.name} as {compiled[uid]}")
        models_seconds = time.perf_counter() - started
        started = time.perf_counter()
        for uid, sql in compiled.items():
            if uid.startswith("test."):
                con.execute(f"select count(*) from ({sql}) as failures").fetchall()
        tests_seconds = time.perf_counter() - started
    finally:
        con.close()
    return models_seconds, tests_seconds


def main() -> None:
    """Run the benchmark and print the comparison."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--warehouse", type=Path, help="an existing raw org (else generated)")
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-11-15")
    args = parser.parse_args()
    variables = {"as_of_date": args.as_of, "fiscal_year_start_month": 1}

    with tempfile.TemporaryDirectory(prefix="whizzy-bench-") as tmp:
        work = Path(tmp)
        raw = args.warehouse
        if raw is None:
            from whizzy.data.generate import generate_org

            raw = work / "raw.duckdb"
            started = time.perf_counter()
            generate_org(raw, opportunities=args.opportunities, seed=args.seed, as_of=args.as_of)
            print(f"generate {args.opportunities:,} opportunities: "
                  f"{time.perf_counter() - started:.1f}s")
        served = work / "served.duckdb"
        shutil.copyfile(raw, served)

        started = time.perf_counter()
        manifest = parsed_manifest(
            DBT_PROJECT_DIR, database=served, work_dir=work / "parse", variables=variables
        )
        parse_seconds = time.perf_counter() - started
        started = time.perf_counter()
        result = build_warehouse(served, as_of=args.as_of)
        build_seconds = time.perf_counter() - started
        by_type: dict[str, float] = {}
        for node in result.nodes:
            by_type[node.resource_type] = by_type.get(node.resource_type, 0.0) + node.seconds

        compiled, manifest = compiled_nodes(raw, work / "compile", variables)
        models_floor, tests_floor = floor(raw, work, compiled, manifest)

        counts = result.counts
        print(f"dbt parse (once per process):          {parse_seconds:8.1f}s")
        print(f"whizzy build (dbt build + swap):       {build_seconds:8.1f}s  "
              f"({counts.get('model', 0)} models, {counts.get('test', 0)} data tests, "
              f"{counts.get('unit_test', 0)} unit tests)")
        print("  node time by type (summed over threads): "
              + ", ".join(f"{k} {v:.1f}s" for k, v in sorted(by_type.items())))
        print("  slowest: " + ", ".join(f"{n.name} {n.seconds:.1f}s" for n in result.slowest(5)))
        print(f"DuckDB floor, models' compiled SQL:    {models_floor:8.1f}s")
        print(f"DuckDB floor, data tests' compiled SQL:{tests_floor:8.1f}s")
        floor_total = models_floor + tests_floor
        print(f"ratio build ÷ floor (models + tests):  {build_seconds / floor_total:8.2f}×")
        print(f"ratio model nodes ÷ models floor:      "
              f"{by_type.get('model', 0.0) / models_floor:8.2f}×")


if __name__ == "__main__":
    main()
