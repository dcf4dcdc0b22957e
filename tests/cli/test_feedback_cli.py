"""`whizzy feedback export FILE` writes FILE, as the README says (issue 18)."""

from whizzy.chat.datalayer import ensure_schema
from whizzy.cli import main


def test_feedback_export_takes_the_file_as_written(tmp_path, capsys):
    ensure_schema(tmp_path / "chat.sqlite")  # the chat's database, beside the warehouse
    warehouse = ["--warehouse", str(tmp_path / "warehouse.duckdb")]
    assert main(["feedback", "export", str(tmp_path / "feedback.yaml"), *warehouse]) == 0
    assert (tmp_path / "feedback.yaml").is_file()
    assert main(["feedback", "export", "--out", str(tmp_path / "b.yaml"), *warehouse]) == 0
    assert (tmp_path / "b.yaml").is_file()
    assert main(["feedback", "export", str(tmp_path / "a.yaml"), "--out",
                 str(tmp_path / "b.yaml"), *warehouse]) == 2
    assert "give one" in capsys.readouterr().err
