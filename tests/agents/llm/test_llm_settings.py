"""Engine choice and endpoint settings from flags, environment and .env; secrets stay secret."""

from __future__ import annotations

import json

import pytest

from agents.llm.settings import load_llm_settings
from whizzy.core.errors import ConfigError

VARS = ["OPENAI_API_KEY", "OPENAI_BASE_URL", "WHIZZY_MODEL", "WHIZZY_LLM_TIMEOUT",
        "WHIZZY_LLM_TEMPERATURE", "WHIZZY_ENGINE", "AZURE_OPENAI_API_KEY",
        "AZURE_OPENAI_ENDPOINT", "OPENAI_API_VERSION", "AZURE_OPENAI_DEPLOYMENT",
        "WHIZZY_LLM_RETRIES", "WHIZZY_LLM_BACKOFF", "WHIZZY_LLM_STRUCTURED",
        "WHIZZY_LLM_PRICE_IN", "WHIZZY_LLM_PRICE_OUT", "WHIZZY_LLM_STREAM_USAGE"]
KEY = "sk-proj-TOPSECRET-abcdef123456"


@pytest.fixture
def env(monkeypatch, tmp_path):
    for var in VARS:
        monkeypatch.delenv(var, raising=False)
    dotenv = tmp_path / ".env"
    dotenv.write_text("")
    monkeypatch.setenv("WHIZZY_DOTENV", str(dotenv))

    def set_(**values):
        for k, v in values.items():
            monkeypatch.setenv(k, v)
    set_.dotenv = dotenv
    return set_


def test_offline_by_default_without_a_key(env):
    s = load_llm_settings()
    assert s.engine == "offline" and s.model == "gpt-4o-mini"


def test_a_key_turns_llm_on(env):
    env(OPENAI_API_KEY=KEY)
    s = load_llm_settings()
    assert s.engine == "llm" and s.configured and s.provider == "openai"


def test_flag_beats_environment(env):
    env(OPENAI_API_KEY=KEY, WHIZZY_ENGINE="llm", WHIZZY_MODEL="gpt-4.1-mini")
    assert load_llm_settings("offline").engine == "offline"
    assert load_llm_settings(model="llama3.1").model == "llama3.1"


def test_dotenv_is_read(env):
    env.dotenv.write_text(f"OPENAI_API_KEY={KEY}\nWHIZZY_MODEL=qwen2.5\nWHIZZY_LLM_TIMEOUT=7\n")
    s = load_llm_settings()
    assert (s.engine, s.model, s.timeout) == ("llm", "qwen2.5", 7.0)
    env(WHIZZY_MODEL="from-env")
    assert load_llm_settings().model == "from-env"


def test_local_server_without_key(env):
    env(OPENAI_BASE_URL="http://localhost:11434/v1", WHIZZY_ENGINE="llm", WHIZZY_MODEL="llama3.1")
    s = load_llm_settings()
    assert s.engine == "llm" and s.configured and s.api_key is None and s.base_url == "http://localhost:11434/v1"


def test_llm_without_any_endpoint_is_a_config_error(env):
    with pytest.raises(ConfigError, match="OPENAI_API_KEY") as info:
        load_llm_settings("llm")
    assert "--engine offline" in info.value.user_message()


@pytest.mark.parametrize("var, value, message", [
    ("WHIZZY_LLM_TIMEOUT", "soon", "WHIZZY_LLM_TIMEOUT must be a number"),
    ("WHIZZY_LLM_TIMEOUT", "0", "between"),
    ("WHIZZY_LLM_TEMPERATURE", "3", "WHIZZY_LLM_TEMPERATURE must be between 0 and 2"),
    ("WHIZZY_LLM_RETRIES", "50", "WHIZZY_LLM_RETRIES must be between 0 and 5"),
    ("WHIZZY_ENGINE", "quantum", "WHIZZY_ENGINE must be one of offline, llm"),
    ("WHIZZY_LLM_STRUCTURED", "xml", "WHIZZY_LLM_STRUCTURED must be one of"),
])
def test_invalid_values_name_the_setting(env, var, value, message):
    env(OPENAI_API_KEY=KEY, **{var: value})
    with pytest.raises(ConfigError, match=message):
        load_llm_settings()


def test_azure_variables_select_azure(env):
    env(AZURE_OPENAI_API_KEY=KEY, AZURE_OPENAI_ENDPOINT="https://acme.openai.azure.com",
        AZURE_OPENAI_DEPLOYMENT="gpt4o-prod", OPENAI_API_VERSION="2024-06-01")
    s = load_llm_settings()
    assert (s.provider, s.engine, s.azure_deployment, s.api_version) == (
        "azure", "llm", "gpt4o-prod", "2024-06-01")
    assert s.base_url is None


def test_prices_enable_cost(env):
    env(OPENAI_API_KEY=KEY, WHIZZY_LLM_PRICE_IN="0.15", WHIZZY_LLM_PRICE_OUT="0.60")
    s = load_llm_settings()
    assert (s.price_in, s.price_out) == (0.15, 0.6)


def test_secrets_stay_out_of_repr_and_public(env):
    env(OPENAI_API_KEY=KEY, OPENAI_BASE_URL="https://user:pw-secret@proxy.example/v1?token=t0k3n")
    s = load_llm_settings()
    shown = repr(s) + str(s) + json.dumps(s.public())
    for secret in (KEY, "pw-secret", "t0k3n"):
        assert secret not in shown
    assert s.public()["api_key_set"] is True
    assert s.redact(f"failed with {KEY} at pw-secret") == "failed with *** at ***"
