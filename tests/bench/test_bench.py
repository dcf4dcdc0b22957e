"""`whizzy bench` at smoke sizes, so the benchmark never rots (no timing thresholds here)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from whizzy.bench.common import loglog_slope
from whizzy.bench.run import growth, targets
from whizzy.cli import main
from whizzy.cli.bench import parse_sizes
from whizzy.core.errors import ConfigError
from whizzy.core.stats import percentile

SIZES = (300, 600)


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path, int]:
    """One `whizzy bench --sizes 300,600 --passes 1` run (about 2-3 minutes)."""
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "results" / "bench.json"
    status = main(["bench", "--sizes", ",".join(map(str, SIZES)), "--passes", "1",
                   "--out", str(out), "--work-dir", str(tmp / "work")])
    return json.loads(out.read_text()), tmp, status


def _positive(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0 \
        and math.isfinite(value)


@pytest.mark.slow
def test_run_writes_every_size_and_cleans_up(bench_run: tuple[dict, Path, int]) -> None:
    doc, tmp, status = bench_run
    assert status == 0
    assert [s["opportunities"] for s in doc["sizes"]] == list(SIZES)
    assert doc["finished_at"] and doc["machine"]["cpus"] >= 1
    assert doc["settings"]["seed"] == 42 and doc["settings"]["timed_passes"] == 1
    assert doc["settings"]["project_compiled"] is True  # no timed process compiles our code
    assert set(doc["settings"]["bytecode"]) == {"dont_write_bytecode", "cached", "all_cached"}
    assert len(doc["load"]["start"]) == 3 and len(doc["load"]["end"]) == 3
    assert not list((tmp / "work").glob("bench-*")), "generated warehouses are removed"
    assert Path(doc["log"]).is_file()


@pytest.mark.slow
def test_generation_and_build_figures(bench_run: tuple[dict, Path, int]) -> None:
    for size in bench_run[0]["sizes"]:
        gen, build, floor = size["generate"], size["build"], size["floor"]
        assert gen["rows"]["opportunity"] == size["opportunities"]
        assert _positive(gen["seconds"]) and _positive(gen["peak_rss_mb"])
        assert _positive(build["seconds"]) and _positive(build["peak_rss_mb"])
        assert build["counts"]["model"] == floor["counts"]["model"] > 10
        assert build["counts"]["test"] == floor["counts"]["test"] > 10
        assert set(build["models"]) == set(floor["models"])
        assert {"model", "test"} <= set(build["node_seconds"])
        assert floor["seconds"] == pytest.approx(
            floor["models_seconds"] + floor["tests_seconds"], abs=0.01)
        ratio = size["build_vs_floor"]
        assert ratio["ratio"] == pytest.approx(build["seconds"] / floor["seconds"], rel=0.02)
        assert ratio["target_seconds"] == pytest.approx(1.5 * floor["seconds"] + 10, abs=0.1)
        for phase in ("generate", "build", "floor", "answers", "server"):
            assert set(size[phase]["load"]) == {"start", "end"}


@pytest.mark.slow
def test_answer_figures(bench_run: tuple[dict, Path, int]) -> None:
    from evals.loader import load_cases

    cases = load_cases([Path(__file__).resolve().parents[2] / "evals" / "cases"])
    families = {c.family for c in cases}
    for size in bench_run[0]["sizes"]:
        answers = size["answers"]
        assert answers["questions"] == len(cases) == answers["samples"]
        assert set(answers["families"]) == families
        for figures in [answers["all"], *answers["families"].values()]:
            assert 0 < figures["p50_ms"] <= figures["p95_ms"] <= figures["max_ms"]
            assert 0 < figures["floor_p50_ms"] <= figures["floor_p95_ms"]
            assert _positive(figures["ratio_p50"])
        assert sum(f["n"] for f in answers["families"].values()) == answers["all"]["n"]
        assert _positive(answers["empty_graph_ms"]) and _positive(answers["peak_rss_mb"])
        assert answers["answers_with_error"] == []


@pytest.mark.slow
def test_server_figures(bench_run: tuple[dict, Path, int]) -> None:
    for size in bench_run[0]["sizes"]:
        server = size["server"]
        assert _positive(server["startup_seconds"]) and _positive(server["rss_mb"])
        assert server["questions_answered"] == size["answers"]["questions"]
        assert server["latency_via_websocket"]["n"] == server["questions_answered"]
        assert "Chainlit" in server["rss_measured_on"]


@pytest.mark.slow
def test_rows_users_feel_with_their_floors(bench_run: tuple[dict, Path, int]) -> None:
    for size in bench_run[0]["sizes"]:
        feel, answers = size["feel"], size["answers"]
        for key in ("ask_cold_seconds", "import_duckdb_seconds", "ask_vs_import_duckdb",
                    "second_up_seconds", "cli_help_seconds", "second_up_vs_cli_help",
                    "second_run_to_chat_seconds", "chat_startup_vs_import_duckdb",
                    "ask_worker_seconds"):
            assert _positive(feel[key]), key
        assert feel["ask_vs_import_duckdb"] == pytest.approx(
            feel["ask_cold_seconds"] / feel["import_duckdb_seconds"], abs=0.1)
        assert all(_positive(ms) for ms in feel["ask_answer_ms"])
        assert feel["ask_import_top"] and all(
            _positive(row["cumulative_ms"]) for row in feel["ask_import_top"])
        # the bench's build is the last good one: a second `whizzy up` skips it
        assert feel["second_up_skipped_build"] is True
        assert _positive(answers["first_question_warm_ms"]) and _positive(answers["first_vs_warm"])
        assert _positive(size["build"]["value_index_seconds"])
    names = [t["target"] for t in bench_run[0]["targets"]]
    for target in ("cold process ≤ 2 s", "first answer in a fresh process ≤ 300 ms",
                   "chat start-up ≤ 5 s", "nothing changed, to chat ready ≤ 8 s"):
        assert any(target in name for name in names), target


def test_the_table_prints_every_row_users_feel() -> None:
    from whizzy.cli.bench import results_table

    doc = {"sizes": [{"opportunities": 10_000}], "growth": {}}
    labels = [str(c) for c in results_table(doc).columns[0]._cells]
    for label in ("whizzy ask, cold process (s)", "  floor: import duckdb (s)",
                  "whizzy ask, warm worker (s)",
                  "first answer, fresh process (ms)", "  first ÷ warm",
                  "second make run, unchanged (s)", "  to chat ready (s)",
                  "server start-up (s)", "  chat start-up ÷ import duckdb"):
        assert label in labels, label


@pytest.mark.slow
def test_growth_and_targets(bench_run: tuple[dict, Path, int]) -> None:
    doc = bench_run[0]
    for name in ("generate_seconds", "build_seconds", "answer_p50_ms", "server_rss_mb"):
        assert doc["growth"][name]["sizes"] == list(SIZES)
        assert isinstance(doc["growth"][name]["slope"], float)
    names = [t["target"] for t in doc["targets"]]
    assert len(names) == 11 and any("linearly" in n for n in names)
    assert all(isinstance(t["met"], bool) for t in doc["targets"])


def test_percentile_and_slope() -> None:
    assert percentile([1.0], 95) == 1.0
    assert percentile(list(map(float, range(1, 101))), 95) == pytest.approx(95.05)
    assert loglog_slope(10, 1, 1000, 100) == pytest.approx(1.0)
    assert loglog_slope(10, 0, 1000, 100) is None


def test_growth_and_targets_on_made_up_figures() -> None:
    def size(n: int, gen_s: float, rss: float) -> dict:
        return {"opportunities": n, "generate": {"seconds": gen_s, "peak_rss_mb": rss}}

    slopes = growth([size(1_000, 1.0, 100.0), size(1_000_000, 5000.0, 200.0)])
    assert slopes["generate_seconds"]["slope"] > 1 > slopes["generate_peak_rss_mb"]["slope"]
    checks = {t["target"]: t for t in targets([size(1_000_000, 5000.0, 200.0)], slopes)}
    assert checks["generation time ≤ 30 s"]["met"] is False
    assert checks["generation peak RSS ≤ 4 GB"]["met"] is True
    assert checks["no figure grows faster than linearly (log-log slope ≤ 1)"]["steeper"] == {
        "generate_seconds": slopes["generate_seconds"]["slope"]}


def test_sizes_argument() -> None:
    assert parse_sizes("600,300,300") == [300, 600]
    with pytest.raises(ConfigError):
        parse_sizes("0")
    assert main(["bench", "--sizes", "lots"]) == 2


def test_bytecode_status_says_when_a_module_would_be_compiled_at_import(
        tmp_path, monkeypatch) -> None:
    import py_compile

    from whizzy.bench.common import bytecode_status

    (tmp_path / "bench_probe_mod.py").write_text("X = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    status = bytecode_status(["bench_probe_mod"])
    assert status["cached"] == {"bench_probe_mod": False} and not status["all_cached"]
    py_compile.compile(str(tmp_path / "bench_probe_mod.py"))
    assert bytecode_status(["bench_probe_mod"])["all_cached"]
