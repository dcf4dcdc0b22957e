"""The real ChatOpenAI / AzureChatOpenAI clients against the local stub server."""

from __future__ import annotations

import json
import logging
from typing import Literal

import pytest
from langchain_core.messages import HumanMessage
from llm_support import SECRET
from openai_stub import fail, hang, raw, structured, text
from pydantic import BaseModel, SecretStr

from agents.llm.client import LLMClient
from agents.llm.settings import LLMSettings
from agents.llm.usage import summarize
from whizzy.core.errors import LLMUnavailableError

MESSAGES = [HumanMessage(content="What is our win rate?")]


class Verdict(BaseModel):
    intent: Literal["analytics", "help"]
    reason: str | None


def test_plain_completion_records_tokens_and_latency(llm_client, llm_stub):
    llm_stub.queue(text("Win rate is 31.3%.", prompt_tokens=120, completion_tokens=9))
    answer, usage = llm_client.complete("write_answer", MESSAGES)
    assert answer == "Win rate is 31.3%."
    assert (usage.input_tokens, usage.output_tokens, usage.attempts, usage.ok) == (120, 9, 1, True)
    assert usage.latency_ms > 0 and usage.node == "write_answer"
    request = llm_stub.requests[0]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["authorization"] == f"Bearer {SECRET}"
    assert request["body"]["model"] == "gpt-4o-mini"
    assert request["body"]["messages"][0]["content"] == "What is our win rate?"


def test_structured_output_sends_json_schema_and_reads_content(llm_client, llm_stub):
    llm_stub.queue(structured({"intent": "analytics", "reason": "asks for a rate"}))
    verdict, usage = llm_client.structured("classify_intent", MESSAGES, Verdict)
    assert verdict == Verdict(intent="analytics", reason="asks for a rate")
    body = llm_stub.requests[0]["body"]
    assert body["response_format"]["type"] == "json_schema"
    schema = body["response_format"]["json_schema"]["schema"]
    assert set(schema["required"]) == {"intent", "reason"}
    assert "tools" not in body
    assert usage.output_tokens > 0


def test_function_calling_mode_reads_tool_calls(llm_settings, llm_stub):
    from dataclasses import replace

    client = LLMClient(replace(llm_settings, structured_method="function_calling"))
    llm_stub.queue(structured({"intent": "help", "reason": None}))
    verdict, _ = client.structured("classify_intent", MESSAGES, Verdict)
    assert verdict.intent == "help"
    body = llm_stub.requests[0]["body"]
    assert body["tools"][0]["function"]["name"] == "Verdict"
    assert "response_format" not in body


def test_streaming_sse_delivers_pieces_and_usage(llm_client, llm_stub):
    llm_stub.queue(text("Pipeline is $1.24M across 12 deals.", completion_tokens=11))
    pieces: list[str] = []
    answer, usage = llm_client.stream("write_answer", MESSAGES, on_token=pieces.append)
    assert answer == "Pipeline is $1.24M across 12 deals."
    assert len(pieces) > 3 and "".join(pieces) == answer
    assert llm_stub.requests[0]["body"]["stream"] is True
    assert usage.output_tokens == 11 and usage.input_tokens > 0


def test_server_error_is_retried_once_with_backoff(llm_client, llm_stub, sleeps):
    llm_stub.queue(fail(500), text("ok"))
    answer, usage = llm_client.complete("write_answer", MESSAGES)
    assert answer == "ok" and usage.attempts == 2
    assert len(sleeps) == 1 and 0.01 <= sleeps[0] <= 0.0125
    assert len(llm_stub.requests) == 2


def test_retries_are_bounded(llm_client, llm_stub, sleeps):
    llm_stub.queue(fail(503), fail(503), fail(503), text("never reached"))
    with pytest.raises(LLMUnavailableError) as info:
        llm_client.complete("write_answer", MESSAGES)
    assert info.value.kind == "server_error"
    assert "HTTP 503" in str(info.value)
    assert len(llm_stub.requests) == 2 and len(sleeps) == 1
    assert info.value.usage.attempts == 2 and not info.value.usage.ok
    assert llm_stub.pending == 2


def test_rate_limit_honours_retry_after(llm_client, llm_stub, sleeps):
    llm_stub.queue(fail(429, "slow down", headers={"Retry-After": "1"}), text("ok"))
    answer, _ = llm_client.complete("write_answer", MESSAGES)
    assert answer == "ok" and sleeps == [1.0]


def test_client_errors_are_not_retried(llm_client, llm_stub, sleeps):
    llm_stub.queue(fail(400, "bad request"), text("never"))
    with pytest.raises(LLMUnavailableError) as info:
        llm_client.complete("write_answer", MESSAGES)
    assert info.value.kind == "http_error" and sleeps == []
    assert len(llm_stub.requests) == 1


def test_timeout_becomes_a_clear_failure(llm_settings, llm_stub, sleeps):
    from dataclasses import replace

    client = LLMClient(replace(llm_settings, timeout=0.3, retries=0), sleep=sleeps)
    llm_stub.queue(hang(1.0))
    with pytest.raises(LLMUnavailableError) as info:
        client.complete("write_answer", MESSAGES)
    assert info.value.kind == "timeout"
    assert str(info.value) == "the LLM did not answer within 0.3s"


def test_timeout_is_retried_then_succeeds(llm_settings, llm_stub, sleeps):
    from dataclasses import replace

    client = LLMClient(replace(llm_settings, timeout=0.3, retries=1), sleep=sleeps)
    llm_stub.queue(hang(1.0), text("second time lucky"))
    answer, usage = client.complete("write_answer", MESSAGES)
    assert answer == "second time lucky" and usage.attempts == 2


def test_malformed_json_is_not_retried(llm_client, llm_stub, sleeps):
    llm_stub.queue(raw('{"intent": "analytics", "reason": '), text("never"))
    with pytest.raises(LLMUnavailableError) as info:
        llm_client.structured("classify_intent", MESSAGES, Verdict)
    assert info.value.kind == "malformed" and sleeps == []
    assert str(info.value) == "the LLM returned malformed JSON"


def test_prose_instead_of_json_is_malformed(llm_client, llm_stub):
    llm_stub.queue(raw("Sure! The intent is analytics."))
    with pytest.raises(LLMUnavailableError) as info:
        llm_client.structured("classify_intent", MESSAGES, Verdict)
    assert info.value.kind == "malformed"


def test_schema_invalid_output(llm_client, llm_stub):
    llm_stub.queue(structured({"intent": "forecasting", "reason": "x"}))
    with pytest.raises(LLMUnavailableError) as info:
        llm_client.structured("classify_intent", MESSAGES, Verdict)
    assert info.value.kind == "schema_invalid"
    assert "intent" in str(info.value)


def test_schema_invalid_tool_call(llm_settings, llm_stub):
    from dataclasses import replace

    client = LLMClient(replace(llm_settings, structured_method="function_calling"))
    llm_stub.queue(structured({"reason": "no intent"}))
    with pytest.raises(LLMUnavailableError) as info:
        client.structured("classify_intent", MESSAGES, Verdict)
    assert info.value.kind in {"schema_invalid", "malformed"}


def test_unreachable_endpoint(llm_settings, sleeps):
    from dataclasses import replace

    client = LLMClient(replace(llm_settings, base_url="http://127.0.0.1:9/v1", retries=0),
                       sleep=sleeps)
    with pytest.raises(LLMUnavailableError) as info:
        client.complete("write_answer", MESSAGES)
    assert info.value.kind == "connection"


def test_secret_never_leaks(llm_client, llm_settings, llm_stub, caplog):
    caplog.set_level(logging.DEBUG)
    # A server that echoes the key back in its error message.
    llm_stub.queue(fail(401, f"Incorrect API key provided: {SECRET}"),
                   fail(500, f"internal error for key {SECRET}"), fail(500, SECRET))
    errors = []
    for _ in range(2):
        with pytest.raises(LLMUnavailableError) as info:
            llm_client.complete("write_answer", MESSAGES)
        errors.append(info.value)
    shown = [str(e) for e in errors] + [e.user_message() for e in errors]
    shown += [json.dumps(e.usage.to_state()) for e in errors]
    shown += [repr(llm_settings), str(llm_settings), json.dumps(llm_settings.public()),
              repr(llm_client), caplog.text]
    for text_ in shown:
        assert SECRET not in text_
    assert "HTTP 401" in str(errors[0]) and "***" in str(errors[0])


def test_azure_client_uses_deployment_path_and_api_key_header(llm_stub):
    settings = LLMSettings(engine="llm", provider="azure", model="gpt-4o-mini",
                           api_key=SecretStr(SECRET), azure_endpoint=llm_stub.endpoint,
                           azure_deployment="whizzy-prod", api_version="2024-10-21",
                           timeout=2, retries=0)
    client = LLMClient(settings)
    llm_stub.queue(structured({"intent": "analytics", "reason": None}))
    verdict, _ = client.structured("classify_intent", MESSAGES, Verdict)
    assert verdict.intent == "analytics"
    request = llm_stub.requests[0]
    assert request["path"].startswith("/openai/deployments/whizzy-prod/chat/completions")
    assert "api-version=2024-10-21" in request["path"]
    assert request["headers"]["api-key"] == SECRET


def test_usage_summary_over_calls(llm_client, llm_stub):
    llm_stub.queue(text("a", prompt_tokens=10, completion_tokens=2),
                   text("b", prompt_tokens=20, completion_tokens=3))
    _, first = llm_client.complete("plan_query", MESSAGES)
    _, second = llm_client.complete("write_answer", MESSAGES)
    summary = summarize([first.to_state(), second.to_state()])
    assert (summary["input_tokens"], summary["output_tokens"], summary["calls"]) == (30, 5, 2)
    assert [n["node"] for n in summary["nodes"]] == ["plan_query", "write_answer"]
    assert "cost_usd" not in summary
