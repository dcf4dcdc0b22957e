"""Hard limits on an LLM call (issue 17, finding 8): total time, not only the gap between
bytes, and the size of the response. The real ChatOpenAI client talks to the local stub."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from langchain_core.messages import HumanMessage
from openai_stub import drip, text

from agents.llm.client import LLMClient
from agents.llm.settings import load_llm_settings
from whizzy.core.errors import ConfigError, LLMUnavailableError

MESSAGES = [HumanMessage(content="What is our win rate?")]
#: 400 words, one piece each: about 120 s at 0.3 s a piece.
LONG = "Win rate is up. " * 100


def _client(llm_settings, **changes):
    return LLMClient(replace(llm_settings, retries=0, **changes))


@pytest.mark.parametrize("call", ["stream", "complete"])
def test_a_slow_drip_server_is_cut_off_at_the_total_time_limit(llm_settings, llm_stub, call):
    # every gap (0.3 s) is well under the 1 s timeout: only a total bound stops it
    llm_stub.queue(drip(text(LONG), 0.3))
    client = _client(llm_settings, timeout=1.0)
    started = time.monotonic()
    with pytest.raises(LLMUnavailableError) as caught:
        getattr(client, call)("write_answer", MESSAGES)
    elapsed = time.monotonic() - started
    assert caught.value.kind == "timeout", caught.value
    assert elapsed < 30, elapsed  # about 1 s; the drip alone would last minutes


@pytest.mark.parametrize("call", ["stream", "complete"])
def test_a_huge_answer_is_cut_off_at_the_size_limit(llm_settings, llm_stub, call):
    llm_stub.queue(text("x" * 1_000_000))
    client = _client(llm_settings, max_response_bytes=20_000, timeout=30.0)
    with pytest.raises(LLMUnavailableError) as caught:
        getattr(client, call)("write_answer", MESSAGES)
    assert caught.value.kind == "too_large", caught.value
    assert "20,000 bytes" in str(caught.value)


def test_an_answer_within_the_limits_still_streams(llm_settings, llm_stub):
    llm_stub.queue(drip(text("Win rate is 31.3%. It rose."), 0.01))
    out, usage = _client(llm_settings, max_response_bytes=20_000).stream("write_answer",
                                                                         MESSAGES)
    assert out == "Win rate is 31.3%. It rose." and usage.ok


@pytest.mark.parametrize(("raw", "expected"), [(None, 262_144), ("5000", 5000),
                                               ("tiny", ConfigError), ("10", ConfigError)])
def test_the_response_size_setting(monkeypatch, raw, expected):
    monkeypatch.setenv("WHIZZY_DOTENV", "/nonexistent/.env")
    monkeypatch.setenv("WHIZZY_ENGINE", "offline")
    if raw is None:
        monkeypatch.delenv("WHIZZY_LLM_MAX_BYTES", raising=False)
    else:
        monkeypatch.setenv("WHIZZY_LLM_MAX_BYTES", raw)
    if expected is ConfigError:
        with pytest.raises(ConfigError, match="WHIZZY_LLM_MAX_BYTES"):
            load_llm_settings()
    else:
        assert load_llm_settings().max_response_bytes == expected
