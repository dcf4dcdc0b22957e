"""The streamed answer: released sentence by sentence, and only if every figure is grounded."""

from __future__ import annotations

import pytest
from openai_stub import fail, text

from agents.llm.engine import LLMEngine
from agents.llm.writer import render_facts, write_answer_llm
from whizzy.core.errors import LLMUnavailableError

RESULTS = [{
    "purpose": "main", "description": "win rate by owner", "period_label": "Q3 2026",
    "columns": ["owner", "win_rate", "won_count"], "row_count": 2,
    "rows": [["Jane Doe", 0.4, 4], ["John Roe", 0.6, 3]],
    "units": {"win_rate": "percent", "won_count": "count"},
}]
REFERENCE = ("John Roe leads on win rate with 60.0% (3 won), ahead of Jane Doe at 40.0% "
             "in Q3 2026. As of Nov 15, 2026.")
QUESTION = "who had the best win rate last quarter?"


def _write(llm_client, on_token=None, persona="executive"):
    return write_answer_llm(llm_client, question=QUESTION, persona=persona, as_of="2026-11-15",
                            period="Q3 2026", results=RESULTS, reference=REFERENCE,
                            on_token=on_token)


def test_grounded_answer_streams_by_sentence(llm_client, llm_stub):
    answer = ("John Roe had the best win rate in Q3 2026 at 60.0%, with 3 deals won. "
              "Jane Doe followed at 40.0%. Data as of Nov 15, 2026.")
    llm_stub.queue(text(answer, completion_tokens=30))
    released: list[str] = []
    out, usage = _write(llm_client, released.append)
    assert out == answer
    assert len(released) == 3 and "".join(released).strip() == answer
    assert usage.output_tokens == 30 and usage.node == "write_answer"
    body = llm_stub.requests[0]["body"]
    assert body["stream"] is True
    system, user = body["messages"][0]["content"], body["messages"][1]["content"]
    assert "executive" in system and "Q3 2026" in system
    assert "John Roe | 60.0% | 3" in user and REFERENCE in user


def test_hallucinated_number_is_rejected_before_it_is_shown(llm_client, llm_stub):
    llm_stub.queue(text("John Roe leads at 60.0%. Jane Doe is at 47.5%, up from last year. "
                        "Data as of Nov 15, 2026."))
    released: list[str] = []
    with pytest.raises(LLMUnavailableError) as info:
        _write(llm_client, released.append)
    assert info.value.kind == "ungrounded"
    assert "47.5%" in str(info.value)
    assert released == ["John Roe leads at 60.0%. "]  # the invented sentence never went out


def test_invented_total_in_last_sentence(llm_client, llm_stub):
    llm_stub.queue(text("John Roe leads at 60.0%, and the team won 9 deals"))
    with pytest.raises(LLMUnavailableError) as info:
        _write(llm_client)
    assert info.value.kind == "ungrounded" and "9" in str(info.value)


def test_empty_answer_is_a_failure(llm_client, llm_stub):
    llm_stub.queue(text("   "))
    with pytest.raises(LLMUnavailableError) as info:
        _write(llm_client)
    assert info.value.kind == "malformed"


def test_http_failure_before_streaming(llm_client, llm_stub):
    llm_stub.queue(fail(500), fail(502))
    with pytest.raises(LLMUnavailableError) as info:
        _write(llm_client)
    assert info.value.kind == "server_error"


def test_engine_write(llm_settings, llm_client, llm_stub):
    engine = LLMEngine(llm_settings, client=llm_client)
    llm_stub.queue(text("John Roe is first at 60.0% in Q3 2026."))
    step = engine.word(QUESTION, persona="revops", as_of="2026-11-15", results=RESULTS,
                       reference=REFERENCE)
    assert step.value == "John Roe is first at 60.0% in Q3 2026." and step.usage[0]["ok"]
    assert "revenue-operations" in llm_stub.requests[0]["body"]["messages"][0]["content"]


def test_render_facts_reports_failed_queries():
    text_ = render_facts([{"purpose": "main", "description": "x", "error": "boom"}])
    assert "query failed — boom" in text_
    assert render_facts([]) == "(no results)"


@pytest.mark.parametrize("invented", [
    "The team booked one billion dollars.", "Win rate is ninety-nine percent.",
    "The team booked $1e9.", "The team booked $1_000_000_000.", "Win rate is ⁹⁹%.",
    "Win rate is ٩٩٪.", "The team booked USD1000000000.",
])
def test_an_invented_figure_in_any_form_is_never_shown(llm_client, llm_stub, invented):
    # issue 17, finding 3: number words, exponents, underscores, superscripts, other scripts
    llm_stub.queue(text(f"John Roe leads at 60.0%. {invented} Data as of Nov 15, 2026."))
    released: list[str] = []
    with pytest.raises(LLMUnavailableError) as info:
        _write(llm_client, released.append)
    assert info.value.kind == "ungrounded"
    assert released == ["John Roe leads at 60.0%. "]
