"""Cold start: `--help` and the `data` commands never import LangGraph or LangChain."""

import json
import subprocess
import sys

import pytest

#: Packages only answering needs (seconds of imports a `data` or `--help` user never waits for).
HEAVY = ("langgraph", "langchain", "langchain_core", "chainlit", "dbt")

_PROBE = """
import json, sys
from whizzy.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:  # --help exits
    code = exc.code
heavy = sorted({m.split(".")[0] for m in sys.modules} & set(HEAVY))
print(json.dumps({"code": code, "heavy": heavy}))
"""


def _heavy_imports(args, cwd):
    probe = _PROBE.replace("HEAVY", repr(HEAVY))
    out = subprocess.run([sys.executable, "-c", probe, *args], capture_output=True, text=True,
                         cwd=cwd, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.parametrize("args", [
    ["--help"],
    ["data", "--help"],
    ["ask", "--help"],
    ["chat", "--help"],
])
def test_help_imports_no_langgraph(args, tmp_path):
    result = _heavy_imports(args, tmp_path)
    assert result == {"code": 0, "heavy": []}


def test_data_commands_import_no_langgraph(tmp_path):
    wh = str(tmp_path / "warehouse.duckdb")
    generated = _heavy_imports(["--warehouse", wh, "data", "generate", "--opportunities", "200",
                                "--as-of", "2026-11-15"], tmp_path)
    assert generated == {"code": 0, "heavy": []}
    exported = _heavy_imports(["--warehouse", wh, "data", "export", str(tmp_path / "csv")],
                              tmp_path)
    assert exported == {"code": 0, "heavy": []}
    imported = _heavy_imports(["--warehouse", wh, "data", "import", "--check",
                               str(tmp_path / "csv")], tmp_path)
    assert imported == {"code": 0, "heavy": []}
