"""LLM test fixtures: the OpenAI-compatible stub server, settings pointing at it, and a tiny
catalog + warehouse (from fixtures/mini_project.yaml) for planning and free SQL.

No test here needs the network: the real `ChatOpenAI` client talks to 127.0.0.1.
"""

from __future__ import annotations

import sys
from pathlib import Path

import duckdb
import pytest
from pydantic import SecretStr

sys.path.insert(0, str(Path(__file__).parent))

from llm_support import SECRET, load_project, manifest_from  # noqa: E402
from openai_stub import StubLLM  # noqa: E402

from agents.llm.client import LLMClient  # noqa: E402
from agents.llm.settings import LLMSettings  # noqa: E402
from whizzy.warehouse.catalog import Catalog  # noqa: E402


@pytest.fixture(scope="session")
def _stub_server():
    with StubLLM() as stub:
        yield stub


@pytest.fixture
def llm_stub(_stub_server: StubLLM) -> StubLLM:
    """The stub server with an empty script (one server per test session)."""
    _stub_server.reset()
    yield _stub_server
    _stub_server.reset()


@pytest.fixture
def llm_settings(llm_stub: StubLLM) -> LLMSettings:
    """Settings for the real ChatOpenAI client pointed at the stub (fast timeouts)."""
    return LLMSettings(engine="llm", base_url=llm_stub.base_url, api_key=SecretStr(SECRET),
                       model="gpt-4o-mini", timeout=2.0, retries=1, backoff=0.01)


class Sleeps(list):
    """Records the delays a client asked for instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def llm_client(llm_settings: LLMSettings, sleeps: Sleeps) -> LLMClient:
    return LLMClient(llm_settings, sleep=sleeps)


@pytest.fixture(scope="session")
def mini_catalog() -> Catalog:
    catalog = Catalog.from_manifest(manifest_from(load_project()))
    assert not catalog.problems, catalog.problems
    return catalog


@pytest.fixture(scope="session")
def mini_warehouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A DuckDB file holding the fixture models' tables (schema main)."""
    project = load_project()
    path = tmp_path_factory.mktemp("llm") / "mini.duckdb"
    con = duckdb.connect(str(path))
    for name, model in project["models"].items():
        cols = ", ".join(f'"{c}" {spec["data_type"]}' for c, spec in model["columns"].items())
        con.execute(f'create table main."{name}" ({cols})')
        for row in project["rows"].get(name, []):
            marks = ", ".join("?" for _ in row)
            con.execute(f'insert into main."{name}" values ({marks})', row)
    con.close()
    return path

