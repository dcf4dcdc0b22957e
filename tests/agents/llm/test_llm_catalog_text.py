"""The catalog rendered for prompts: compact, ranked, and within budget for big projects."""

from __future__ import annotations

from llm_support import manifest_from

from agents.llm.catalog_text import BUDGET_CHARS, TOP_MODELS, estimate_tokens, render_catalog
from whizzy.warehouse.catalog import Catalog


def _big_project(n: int) -> dict:
    models = {}
    for i in range(n):
        models[f"m_topic_{i:03d}"] = {
            "description": f"One row per owner per quarter for topic {i}. " + "Detail. " * 40,
            "columns": {
                "quarter": {"data_type": "date", "description": "Quarter start."},
                "owner_name": {"data_type": "varchar", "description": "Owner."},
                **{f"metric_{j}": {"data_type": "double", "description": f"Metric {j}."}
                   for j in range(12)},
            },
            "whizzy": {
                "label": f"Topic {i}",
                "synonyms": [f"topic {i}", f"subject {i}", "pipeline"],
                "example_questions": [f"What is metric 0 of topic {i}?", f"Topic {i} by owner"],
                "time_column": "quarter", "time_grain": "quarter",
                "dimensions": [{"name": "owner", "column": "owner_name", "synonyms": ["rep"]}],
                "measures": [{"name": f"metric_{j}", "expr": f"sum(metric_{j})", "unit": "number",
                              "synonyms": [f"metric {j}"]} for j in range(12)],
            },
        }
    return {"models": models}


def test_three_hundred_models_fit_the_budget():
    catalog = Catalog.from_manifest(manifest_from(_big_project(300)))
    assert len(catalog.answerable) == 300
    ranked = [f"m_topic_{i:03d}" for i in (250, 17, 99, 3, 180, 42, 7, 288, 120, 11)]
    text = render_catalog(catalog, ranked=ranked)
    assert len(text) <= BUDGET_CHARS and estimate_tokens(text) <= 3_000
    shown = [line.split()[1] for line in text.splitlines() if line.startswith("### ")]
    assert shown == ranked[: len(shown)] and 1 <= len(shown) <= TOP_MODELS
    assert "m_topic_250" in shown
    # with columns (free SQL) it still fits
    assert len(render_catalog(catalog, ranked=ranked, columns=True)) <= BUDGET_CHARS


def test_a_tight_budget_keeps_the_best_model():
    catalog = Catalog.from_manifest(manifest_from(_big_project(5)))
    text = render_catalog(catalog, ranked=["m_topic_004"], budget_chars=300)
    assert text.startswith("### m_topic_004") and len(text) <= 300


def test_mini_catalog_rendering(mini_catalog):
    text = render_catalog(mini_catalog, ranked=["m_pipeline_health"])
    assert text.index("m_pipeline_health") < text.index("m_win_rate")
    assert "fct_opportunity" not in text  # not answerable
    assert "- win_rate [percent, aggregate, higher is better]: win rate, close rate" in text
    assert "- owner (column owner_name): rep, seller" in text
    with_columns = render_catalog(mini_catalog, columns=True)
    assert "won_count integer" in with_columns
