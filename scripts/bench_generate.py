"""Benchmark the synthetic org generator: wall time, CPU time and peak memory.

    .venv/bin/python scripts/bench_generate.py                 # 1,000,000 opportunities
    .venv/bin/python scripts/bench_generate.py --opportunities 100000

The org is written to a temporary folder that is deleted afterwards. Peak memory is the
process's maximum resident set size (DuckDB's threads included), read from getrusage.
The target on the reference 2-core machine: 1,000,000 opportunities in ≤ 30 s and ≤ 4 GB.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from whizzy.data.generate import generate_org  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Run one generation and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--opportunities", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--as-of", default="2026-11-15")
    args = parser.parse_args(argv)

    steps: list[tuple[str, float]] = []
    started = time.perf_counter()

    def progress(step: str, _fraction: float) -> None:
        steps.append((step, time.perf_counter() - started))

    with tempfile.TemporaryDirectory(prefix="whizzy-bench-") as tmp:
        path = Path(tmp) / "warehouse.duckdb"
        cpu0 = os.times()
        counts = generate_org(path, opportunities=args.opportunities, seed=args.seed,
                              as_of=args.as_of, progress=progress)
        wall = time.perf_counter() - started
        cpu1 = os.times()
        size = path.stat().st_size
    cpu = (cpu1.user - cpu0.user) + (cpu1.system - cpu0.system)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"opportunities    {args.opportunities:,}")
    print(f"wall time        {wall:.1f} s")
    print(f"cpu time         {cpu:.1f} s (user + system, all threads)")
    print(f"peak RSS         {peak_mb:,.0f} MB")
    print(f"warehouse file   {size / 2**20:,.0f} MB")
    print(f"load average     {os.getloadavg()[0]:.2f} (other work on the machine slows this)")
    print("phases (s since start):  " + ", ".join(f"{s} {t:.1f}" for s, t in steps))
    for table, rows in counts.items():
        print(f"  salesforce.{table:<22} {rows:>12,}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
