"""Shared constants and helpers of the LLM tests (a unique module name, not `conftest`)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import yaml

FIXTURES = Path(__file__).parent / "fixtures"
#: A key that must never appear in any output, log or error.
SECRET = "sk-test-SECRET-9f8e7d6c5b4a"
AS_OF = dt.date(2026, 11, 15)


def load_project() -> dict:
    """fixtures/mini_project.yaml."""
    return yaml.safe_load((FIXTURES / "mini_project.yaml").read_text())


def manifest_from(project: dict) -> dict:
    """The project YAML in manifest.json form (what dbt writes)."""
    nodes = {}
    for name, model in project["models"].items():
        config: dict = {"materialized": "table", "contract": {"enforced": True}}
        if "whizzy" in model:
            config["meta"] = {"whizzy": model["whizzy"]}
        nodes[f"model.whizzy.{name}"] = {
            "resource_type": "model", "name": name, "schema": "main", "alias": name,
            "description": model["description"], "config": config,
            "columns": {c: {"name": c, **spec} for c, spec in model["columns"].items()},
            "depends_on": {"nodes": []},
        }
    return {"metadata": {"project_name": "whizzy"}, "nodes": nodes, "sources": {}}
