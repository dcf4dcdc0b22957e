"""Paths and messages that hold Rich markup print as text in the other commands (issue 17,
finding 7); `whizzy ask` has its own tests in test_ask_cli.py."""

from whizzy.cli import chat as chat_cli


def test_chat_start_line_prints_a_bracketed_path_as_text(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(chat_cli, "check_port", lambda host, port: None)
    monkeypatch.setattr(chat_cli, "serve", lambda cmd, env: 0)
    warehouse = tmp_path / "w[/b]\x1b]0;x\x07.duckdb"  # missing: the warning quotes the path
    assert chat_cli.start_chat(warehouse, port=8765) == 0  # MarkupError before
    out = " ".join(capsys.readouterr().err.split())  # the console writes to stderr
    assert "w[/b]]0;x.duckdb" in out and "\x1b" not in out


def test_build_summary_prints_paths_and_dbt_messages_as_text(tmp_path, capsys):
    from datetime import date

    from whizzy.build import BuildResult, NodeTiming
    from whizzy.cli.build import print_summary

    warehouse = tmp_path / "w[/b].duckdb"
    result = BuildResult(
        warehouse=warehouse, manifest_path=tmp_path / "w[/b].manifest.json",
        as_of=date(2026, 11, 15), fiscal_year_start_month=1, elapsed=1.0,
        nodes=[NodeTiming(name="accepted_values_x", resource_type="test", status="warn",
                          seconds=0.1, message="Got 1 result: 'Broken [/b] Corp\x1b[2J'")])
    print_summary(result)  # MarkupError before
    out = " ".join(capsys.readouterr().err.split())
    assert "'Broken [/b] Corp[2J'" in out and "w[/b].duckdb" in out and "\x1b" not in out

