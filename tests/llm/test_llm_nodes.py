"""The LLM side of the nodes on the built demo org: same typed plan, free SQL, fallbacks."""

from __future__ import annotations

import pytest
from openai_stub import fail, hang, structured

from agents.llm.engine import LLMEngine
from agents.llm.nodes import classify, fallback_note, plan
from agents.planner import dimension_words, make_plans
from agents.question import read_question
from agents.values import value_index
from whizzy.warehouse.reader import open_warehouse

pytestmark = pytest.mark.slow  # builds the shared demo warehouse (~1 min) when run alone


@pytest.fixture(scope="module")
def warehouse(built_warehouse):
    return open_warehouse(built_warehouse)


@pytest.fixture
def engine(llm_settings, llm_client):
    return LLMEngine(llm_settings, client=llm_client)


def _ask(warehouse, question):
    return read_question(question, as_of=warehouse.as_of, values=value_index(warehouse),
                         dimension_words=dimension_words(warehouse.catalog))


def _reading(**overrides):
    base = {"model": None, "measure": None, "extra_measures": [], "group_by": [], "filters": [],
            "period": None, "compare_period": None, "direction": None, "limit": None,
            "trend": False, "compare": False, "why": False, "reason": "test"}
    return {**base, **overrides}


def _plan(engine, warehouse, question, intent="analytics"):
    return plan(engine, question=question, history=[], ask=_ask(warehouse, question),
                warehouse=warehouse, intent=intent, persona="sales_manager", row_limit=100)


@pytest.mark.parametrize("offline_question, reading", [
    ("win rate for healthcare last quarter by owner",
     {"measure": "win_rate", "group_by": ["owner"], "period": "last quarter",
      "filters": [{"dimension": "industry", "values": ["healthcare"]}]}),
    ("top 3 reps by open pipeline",
     {"measure": "open_pipeline", "group_by": ["owner"], "direction": "top", "limit": 3}),
    ("How healthy is our pipeline this quarter?",
     {"measure": "pipeline_health_score", "period": "this quarter"}),
])
def test_llm_reading_gives_the_same_typed_plan(engine, llm_stub, warehouse, offline_question,
                                               reading):
    offline, _ = make_plans(_ask(warehouse, offline_question), warehouse, "analytics")
    model = offline.plans[0].model
    llm_stub.queue(structured(_reading(model=model, **reading)))
    # a paraphrase the offline reader would not map the same way
    outcome, ranked, ask, llm = _plan(engine, warehouse, "hmm, tell me about " + offline_question)
    assert llm.fallbacks == [] and llm.usage[0]["node"] == "plan_query"
    assert [p.to_state() for p in outcome.plans] == [p.to_state() for p in offline.plans]
    assert ranked[0].name == model


def test_no_model_fits_uses_gated_free_sql(engine, llm_stub, warehouse):
    llm_stub.queue(structured(_reading(reason="no model has deal counts by lead source and type")),
                   structured({"sql": "select lead_source, opportunity_type, count(*) as deals "
                                      "from fct_opportunity group by all order by deals desc",
                               "explanation": "deals by lead source and type"}))
    outcome, _, _, llm = _plan(engine, warehouse, "deals by lead source crossed with type")
    (free,) = outcome.plans
    assert free.notes["free_sql"].rstrip().endswith("LIMIT 100")
    assert free.model == "fct_opportunity" and free.description == "deals by lead source and type"
    assert len(llm.usage) == 2 and llm.fallbacks == []
    result = warehouse.query(free.notes["free_sql"], row_limit=100)
    assert result["row_count"] > 0


def test_free_sql_reading_raw_tables_is_repaired_away(engine, llm_stub, warehouse):
    llm_stub.queue(structured(_reading()),
                   structured({"sql": "select count(*) as n from salesforce.opportunity",
                               "explanation": "raw"}),
                   structured({"sql": "select count(*) as n from fct_opportunity",
                               "explanation": "models"}))
    outcome, _, _, llm = _plan(engine, warehouse, "how many opportunities exist at all")
    assert "fct_opportunity" in outcome.plans[0].notes["free_sql"]


def test_free_sql_drop_falls_back(engine, llm_stub, warehouse):
    llm_stub.queue(structured(_reading()), structured({"sql": "drop table fct_opportunity",
                                                        "explanation": "oops"}))
    outcome, _, _, llm = _plan(engine, warehouse, "deals by lead source crossed with type")
    assert outcome is None
    assert llm.fallbacks[-1]["kind"] == "unsafe_sql"


@pytest.mark.parametrize("reply, kind", [
    (fail(500), "server_error"),
    (structured({"model": "m_pipeline_health"}), "schema_invalid"),
    (structured(_reading(model="m_pipeline_health", measure="quota")), "schema_invalid"),
])
def test_failures_leave_the_offline_plan(engine, llm_stub, warehouse, reply, kind):
    llm_stub.queue(reply, reply)
    outcome, _, _, llm = _plan(engine, warehouse, "win rate by industry")
    assert outcome is None and llm.fallbacks[0]["kind"] == kind
    assert llm.fallbacks[0]["node"] == "plan_query"


def test_timeout_leaves_the_offline_plan(llm_settings, llm_stub, warehouse, sleeps):
    from dataclasses import replace

    from agents.llm.client import LLMClient

    engine = LLMEngine(llm_settings, client=LLMClient(replace(llm_settings, timeout=0.3,
                                                              retries=0), sleep=sleeps))
    llm_stub.queue(hang(1.0))
    outcome, _, _, llm = _plan(engine, warehouse, "win rate by industry")
    assert outcome is None and llm.fallbacks[0]["kind"] == "timeout"
    assert fallback_note(llm.fallbacks, answered_by_llm=False).startswith(
        "(The LLM was unavailable — it timed out")


def test_classify_keeps_hostile_offline_verdicts(engine, llm_stub):
    intent, reason, llm = classify(engine, question="drop table x", history=[],
                                   offline_intent="out_of_scope",
                                   offline_reason="looks like SQL or an injection attempt",
                                   catalog=None, persona="revops")
    assert intent == "out_of_scope" and llm_stub.requests == []
    llm_stub.queue(structured({"intent": "analytics", "reason": "asks about conversion"}))
    intent, reason, llm = classify(engine, question="how are we converting", history=[],
                                   offline_intent="out_of_scope",
                                   offline_reason="not a question about the sales pipeline",
                                   catalog=None, persona="revops")
    assert (intent, reason) == ("analytics", "LLM: asks about conversion")
    assert llm.usage[0]["ok"]
