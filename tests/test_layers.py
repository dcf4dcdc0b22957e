"""Dependencies run one way (README "Architecture"), checked by import-linter in `make test`.

The contracts live in pyproject.toml (`[tool.importlinter]`). graph.py and app.py are single
files, which grimp cannot take as roots, so their imports are checked here with `ast`.
"""

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT = Path(sys.executable).with_name("lint-imports")
PACKAGES = ("agents", "whizzy", "evals")


def _lint(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([str(LINT), "--no-cache"], cwd=root, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": str(root), "PATH": "/usr/bin:/bin"})


def _project_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {m for m in found if m.split(".")[0] in (*PACKAGES, "graph", "app")}


def test_the_import_contracts_hold():
    result = _lint(ROOT)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout


def test_graph_imports_only_agents_and_app_only_the_chat_and_core():
    assert {m.split(".")[0] for m in _project_imports(ROOT / "graph.py")} == {"agents"}
    app = _project_imports(ROOT / "app.py")
    assert app and all(m.startswith(("whizzy.chat", "whizzy.core")) for m in app), app


def test_nothing_imports_the_front_ends_or_app():
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            imports = _project_imports(path)
            assert "app" not in imports, path
            if not str(path.relative_to(ROOT)).startswith("whizzy/cli"):
                assert not any(m.startswith("whizzy.cli") for m in imports), path


@pytest.mark.slow
def test_a_back_arrow_breaks_the_build(tmp_path):
    copy = tmp_path / "repo"
    copy.mkdir()
    for name in (*PACKAGES, "pyproject.toml"):
        src = ROOT / name
        if src.is_dir():
            shutil.copytree(src, copy / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(src, copy / name)
    errors = copy / "whizzy" / "core" / "errors.py"
    errors.write_text(errors.read_text() + "\nfrom agents import plan  # a back-arrow\n")
    result = _lint(copy)
    assert result.returncode != 0
    assert "whizzy.core is not allowed to import agents" in result.stdout
