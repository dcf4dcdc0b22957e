"""The LLM engine behind the `Engine` seam: its reading checked into a `Query`, its failures
answered by the offline result, its free SQL gated — against the local stub server."""

from __future__ import annotations

import pytest
from llm_support import AS_OF
from openai_stub import fail, raw, structured

from agents.contract import Intent, Query, Reason
from agents.engine import IntentDecision
from agents.llm.engine import LLMEngine, is_down
from agents.llm.reading import describe_query, reading_of, to_query
from agents.llm.schemas import Reading
from agents.reading import Context
from agents.values import ValueIndex
from whizzy.core.errors import LLMUnavailableError

VALUES = ValueIndex({"owner": ["Jane Doe", "Jane Roe", "John Roe"],
                     "industry": ["Healthcare", "Retail"]})
OFFLINE = Query(measures=["win_rate"], model="m_win_rate", question="q")


def _reading(**overrides) -> dict:
    base = {"model": "m_win_rate", "measures": ["win_rate"], "group_by": [], "filters": [],
            "period": None, "compare_period": None, "compare_members": None,
            "direction": None, "limit": None, "trend": False, "why": False, "records": False,
            "order_by": None, "order_desc": True, "pick": None, "share_of": [],
            "reason": "win rate lives in m_win_rate"}
    return {**base, **overrides}


def _query(mini_catalog, **kw):
    return to_query(Reading.model_validate(_reading(**kw)), OFFLINE, mini_catalog, VALUES,
                    as_of=AS_OF)


def _context(mini_catalog, mini_warehouse=None):
    return Context(catalog=mini_catalog, values=VALUES, as_of=AS_OF, warehouse=mini_warehouse)


def test_a_valid_reading_becomes_the_typed_query(mini_catalog):
    query = _query(mini_catalog, group_by=["owner"], direction="top", limit=3,
                   filters=[{"field": "industry", "op": "eq", "values": ["healthcare"]}],
                   period="last quarter", measures=["win_rate", "won_count"])
    assert query.model == "m_win_rate" and query.measures == ["win_rate", "won_count"]
    assert query.group_by == ["owner"] and query.ranking.direction == "top"
    assert [(c.field, c.values) for c in query.filters] == [("industry", ["Healthcare"])]
    assert query.window.label == "Q3 2026" and query.intent == Intent.ANALYTICS


def test_members_compared_and_a_bound(mini_catalog):
    query = _query(mini_catalog, compare_members="owner",
                   filters=[{"field": "owner", "op": "in", "values": ["Jane Doe", "John Roe"]}])
    assert query.shape == "comparison" and query.filters[0].values == ["Jane Doe", "John Roe"]


@pytest.mark.parametrize("bad", [
    {"model": "m_nope"},
    {"measures": ["quota_attainment"]},
    {"group_by": ["planet"]},
    {"filters": [{"field": "industry", "op": "eq", "values": ["Mining"]}]},
    {"filters": [{"field": "owner", "op": "eq", "values": ["Jane"]}]},  # two Janes
    {"period": "the twelfth of never"},
    {"limit": 0},
    {"compare_members": "owner"},
])
def test_any_unknown_name_makes_the_reading_invalid(mini_catalog, bad):
    with pytest.raises(LLMUnavailableError) as info:
        _query(mini_catalog, **bad)
    assert info.value.kind == "schema_invalid"


def test_no_model_fits(mini_catalog):
    assert to_query(Reading.model_validate(_reading(model=None, measures=[])), OFFLINE,
                    mini_catalog, VALUES, as_of=AS_OF) is None


def test_the_reading_of_a_query_round_trips(mini_catalog):
    query = _query(mini_catalog, group_by=["owner"], direction="bottom", limit=2)
    again = to_query(reading_of(query), OFFLINE, mini_catalog, VALUES, as_of=AS_OF)
    assert (again.model, again.measures, again.group_by, again.ranking) == (
        query.model, query.measures, query.group_by, query.ranking)
    assert "group_by=owner" in describe_query(query)


def test_engine_read_uses_the_llm_reading(llm_settings, llm_client, llm_stub, mini_catalog):
    engine = LLMEngine(llm_settings, client=llm_client)
    llm_stub.queue(structured(_reading(group_by=["industry"])))
    step = engine.read("how are the verticals converting", offline=OFFLINE,
                       context=_context(mini_catalog), history=[], persona="revops",
                       row_limit=100)
    assert step.value.group_by == ["industry"] and not step.fallbacks
    assert step.usage and step.usage[0]["node"] == "plan_query"


@pytest.mark.parametrize("reply", [raw("{not json"), fail(500), fail(500)])
def test_engine_read_falls_back_to_the_offline_query(llm_settings, llm_client, llm_stub,
                                                     mini_catalog, reply):
    engine = LLMEngine(llm_settings, client=llm_client)
    llm_stub.queue(reply, reply)
    step = engine.read("q", offline=OFFLINE, context=_context(mini_catalog), history=[],
                       persona="revops", row_limit=100)
    assert step.value is OFFLINE and step.fallbacks[0]["node"] == "plan_query"


def test_a_question_back_is_never_overridden(llm_settings, llm_client, llm_stub, mini_catalog):
    from agents.contract import Clarify

    engine = LLMEngine(llm_settings, client=llm_client)
    asking = OFFLINE.model_copy(update={"clarify": Clarify(question="Which Jane?")})
    step = engine.read("how is Jane doing", offline=asking, context=_context(mini_catalog),
                       history=[], persona="revops", row_limit=100)
    assert step.value is asking and llm_stub.requests == []


def test_free_sql_when_no_model_fits(llm_settings, llm_client, llm_stub, mini_catalog,
                                     mini_warehouse):
    engine = LLMEngine(llm_settings, client=llm_client)
    llm_stub.queue(structured(_reading(model=None, measures=[])),
                   structured({"sql": "select owner_name, sum(won_count) as wins from "
                                      "m_win_rate group by owner_name order by wins desc",
                               "explanation": "wins per owner"}))
    step = engine.read("who wins most", offline=OFFLINE,
                       context=_context(mini_catalog, mini_warehouse), history=[],
                       persona="revops", row_limit=10)
    assert step.value.free_sql and "LIMIT 10" in step.value.free_sql
    assert step.value.free_sql_explanation == "wins per owner"


def test_classify_keeps_the_rules_reason_when_it_agrees(llm_settings, llm_client, llm_stub):
    engine = LLMEngine(llm_settings, client=llm_client)
    offline = IntentDecision(Intent.HELP, Reason.DEFINITION)
    llm_stub.queue(structured({"intent": "help", "reason": "a definition"}))
    step = engine.classify("what is win rate", offline=offline, history=[], catalog=None,
                           persona="revops")
    assert step.value is offline
    llm_stub.queue(structured({"intent": "analytics", "reason": "a figure"}))
    step = engine.classify("and for Jane?", offline=offline, history=[], catalog=None,
                           persona="revops")
    assert step.value.intent == Intent.ANALYTICS and step.value.reason == Reason.LLM


def test_a_down_endpoint_is_not_asked_again_in_the_turn(llm_settings, llm_client, llm_stub,
                                                        mini_catalog):
    engine = LLMEngine(llm_settings, client=llm_client)
    down = [{"node": "classify_intent", "kind": "timeout"}]
    assert is_down(down)
    step = engine.read("q", offline=OFFLINE, context=_context(mini_catalog), history=[],
                       persona="revops", row_limit=100, fallbacks=down)
    assert step.value is OFFLINE and llm_stub.requests == []
    step = engine.word("q", reference="It is 3.", results=[{"rows": [[3]], "columns": ["x"]}],
                       as_of=None, persona="revops", fallbacks=down)
    assert step.value.startswith("It is 3.") and "timed out" in step.value
