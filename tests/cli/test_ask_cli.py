import json
import shutil

from whizzy.cli import main
from whizzy.warehouse.connection import manifest_path_for


def _copy(built_warehouse, tmp_path):
    path = tmp_path / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, path)
    shutil.copyfile(manifest_path_for(built_warehouse), manifest_path_for(path))
    return path


def test_ask_json_one_object_per_question_and_thread_continues(built_warehouse, tmp_path,
                                                                capsys):
    path = _copy(built_warehouse, tmp_path)
    assert main(["ask", "--warehouse", str(path), "--json", "--thread", "t1",
                 "What was our win rate last quarter?", "and this quarter?"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    first, second = (json.loads(line) for line in lines)
    for key in ("question", "intent", "models", "sql", "columns", "rows", "records", "answer",
                "chart", "follow_ups", "as_of_date", "elapsed_ms"):
        assert key in first
    assert "Q4 2026" in second["answer"]
    # the same id continues the thread across calls (SQLite checkpoints beside the warehouse)
    assert main(["ask", "--warehouse", str(path), "--json", "--thread", "t1", "why?"]) == 0
    third = json.loads(capsys.readouterr().out.strip())
    assert third["intent"] == "analytics" and third["sql"]
    assert (tmp_path / "checkpoints.sqlite").is_file()


def test_ask_plain_text(built_warehouse, tmp_path, capsys):
    path = _copy(built_warehouse, tmp_path)
    assert main(["--warehouse", str(path), "ask", "top 3 reps by win rate"]) == 0
    out = capsys.readouterr().out
    assert "SELECT" in out and "Top 3" in out


def test_ask_without_a_warehouse_says_how_to_fix(tmp_path, capsys):
    assert main(["ask", "--warehouse", str(tmp_path / "none.duckdb"), "win rate"]) == 2
    assert "whizzy data generate" in capsys.readouterr().err
