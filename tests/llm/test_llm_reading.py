"""The LLM's reading: names checked against the catalog, folded into the offline `Ask`."""

from __future__ import annotations

import pytest
from llm_support import AS_OF
from openai_stub import raw, structured

from agents.llm.engine import LLMEngine, offline_is_final
from agents.llm.reading import apply_reading
from agents.llm.schemas import Reading
from agents.question import DEFAULT_DIMENSION_WORDS, read_question
from agents.values import ValueIndex
from whizzy.core.errors import LLMUnavailableError

VALUES = ValueIndex({"owner": ["Jane Doe", "Jane Roe", "John Roe"],
                     "industry": ["Healthcare", "Retail"]})


def _ask(question: str):
    return read_question(question, as_of=AS_OF, values=VALUES,
                         dimension_words=DEFAULT_DIMENSION_WORDS)


def _reading(**overrides) -> dict:
    base = {"model": "m_win_rate", "measure": "win_rate", "extra_measures": [],
            "group_by": [], "filters": [], "period": None, "compare_period": None,
            "direction": None, "limit": None, "trend": False, "compare": False, "why": False,
            "reason": "win rate lives in m_win_rate"}
    return {**base, **overrides}


def _apply(mini_catalog, question="how do we close deals in the care sector lately", **kw):
    return apply_reading(Reading.model_validate(_reading(**kw)), _ask(question), mini_catalog,
                         VALUES, as_of=AS_OF)


def test_a_valid_reading_becomes_an_ask(mini_catalog):
    ask, choice = _apply(mini_catalog, group_by=["owner"], direction="top", limit=3,
                         filters=[{"dimension": "industry", "values": ["healthcare"]}],
                         period="last quarter", extra_measures=["won_count", "nonsense"])
    assert choice.name == "m_win_rate"
    assert [h.measure.name for h in choice.measures] == ["win_rate", "won_count"]
    assert ask.group_by == ["owner"] and (ask.direction, ask.limit) == ("top", 3)
    assert [(m.dimension, m.values) for m in ask.values] == [("industry", ("Healthcare",))]
    assert ask.period.label == "Q3 2026"
    assert (ask.model_hint, ask.measure_hint) == ("m_win_rate", "win_rate")


def test_compare_period(mini_catalog):
    ask, _ = _apply(mini_catalog, period="Q3 2026", compare_period="Q2 2026")
    assert [p.label for p in ask.periods] == ["Q3 2026", "Q2 2026"] and ask.compare


def test_no_model_fits(mini_catalog):
    original = _ask("average deal size by stage")
    ask, choice = apply_reading(Reading.model_validate(_reading(model=None, measure=None)),
                                original, mini_catalog, VALUES, as_of=AS_OF)
    assert choice is None and ask is original


@pytest.mark.parametrize("overrides, message", [
    ({"model": "m_made_up"}, "not an answerable catalog model"),
    ({"model": "fct_opportunity"}, "not an answerable catalog model"),
    ({"measure": "quota_attainment"}, "has no measure 'quota_attainment'"),
    ({"measure": None}, "no measure named"),
    ({"group_by": ["region"]}, "has no dimension 'region'"),
    ({"filters": [{"dimension": "industry", "values": ["Mining"]}]}, "no industry called"),
    ({"filters": [{"dimension": "owner", "values": ["Jane"]}]}, "matches several owners"),
    ({"period": "the time before time"}, "not a period I can read"),
    ({"limit": 0}, "out of range"),
])
def test_invalid_readings_are_refused(mini_catalog, overrides, message):
    with pytest.raises(LLMUnavailableError, match=message) as info:
        _apply(mini_catalog, **overrides)
    assert info.value.kind == "schema_invalid"


def test_engine_read_through_the_stub(llm_settings, llm_client, llm_stub, mini_catalog):
    engine = LLMEngine(llm_settings, client=llm_client)
    llm_stub.queue(structured(_reading(group_by=["industry"], period="this quarter")))
    step = engine.read("how are the verticals converting this quarter", ask=_ask("x"),
                       catalog=mini_catalog, ranked=["m_win_rate"], values=VALUES, as_of=AS_OF,
                       fiscal_year_start_month=1, history=[], persona="sales_manager")
    ask, choice, reading = step.value
    assert choice.name == "m_win_rate" and ask.group_by == ["industry"]
    assert ask.period.label == "Q4 2026" and step.usage[0].ok
    body = llm_stub.requests[0]["body"]
    assert body["response_format"]["json_schema"]["name"] == "Reading"
    system = body["messages"][0]["content"]
    assert system.index("m_win_rate") < system.index("m_pipeline_health")
    assert "2026-11-15" in system


def test_engine_read_invalid_names_carry_usage(llm_settings, llm_client, llm_stub, mini_catalog):
    engine = LLMEngine(llm_settings, client=llm_client)
    llm_stub.queue(structured(_reading(measure="made_up")))
    with pytest.raises(LLMUnavailableError) as info:
        engine.read("q", ask=_ask("q"), catalog=mini_catalog, ranked=[], values=VALUES,
                    as_of=AS_OF, fiscal_year_start_month=1, history=[], persona="revops")
    assert info.value.usage.ok is False and info.value.usage.kind == "schema_invalid"


def test_engine_read_malformed(llm_settings, llm_client, llm_stub, mini_catalog):
    engine = LLMEngine(llm_settings, client=llm_client)
    llm_stub.queue(raw("model: m_win_rate"))
    with pytest.raises(LLMUnavailableError) as info:
        engine.read("q", ask=_ask("q"), catalog=mini_catalog, ranked=[], values=VALUES,
                    as_of=AS_OF, fiscal_year_start_month=1, history=[], persona="revops")
    assert info.value.kind == "malformed"


def test_engine_classify(llm_settings, llm_client, llm_stub, mini_catalog):
    engine = LLMEngine(llm_settings, client=llm_client)
    llm_stub.queue(structured({"intent": "lookup", "reason": "names deals"}))
    step = engine.classify("show me Jane's stuff closing soon", history=[
        {"question": "win rate?", "answer": "31.3%"}], catalog=mini_catalog, persona="revops")
    assert step.value.intent == "lookup"
    user = llm_stub.requests[0]["body"]["messages"][1]["content"]
    assert "Q: win rate?" in user
    system = llm_stub.requests[0]["body"]["messages"][0]["content"]
    assert "Win rate by owner, industry and quarter" in system


def test_hostile_offline_intents_are_final():
    assert offline_is_final("out_of_scope", "asks to change or move data (read-only)")
    assert offline_is_final("out_of_scope", "asks to change my instructions or reveal secrets")
    assert not offline_is_final("analytics", "asks for a sales figure")
