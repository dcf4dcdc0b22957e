"""The chat server starts without loading what only a first answer or Literal AI needs."""

import asyncio
import json
import subprocess
import sys
import threading
from pathlib import Path

import whizzy.chat.runtime as runtime
from whizzy.chat.options import ChatOptions

PROBE = """
import json, sys
from whizzy.chat.serve import defer_tracing_sdk
deferred = defer_tracing_sdk()
import chainlit  # what `chainlit run` imports first
import whizzy.chat.runtime
sdk = sys.modules.get("traceloop.sdk")
before = {"deferred": deferred, "real_sdk_loaded": hasattr(sdk, "__file__"),
          "agents_loaded": "whizzy.assistant" in sys.modules}
from literalai.observability.step import Traceloop
method = Traceloop.set_association_properties  # first use: the real SDK is loaded
sdk = sys.modules.get("traceloop.sdk")
print(json.dumps({**before, "real_after_use": hasattr(sdk, "__file__"),
                  "same_method": method == sdk.Traceloop.set_association_properties}))
"""


def _probe(env_extra: dict[str, str]) -> dict:
    import os

    env = {k: v for k, v in os.environ.items() if k != "LITERAL_API_KEY"}
    env.update(env_extra)
    out = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                         env=env, check=True, cwd=Path(__file__).parents[2])
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_chainlit_starts_without_the_tracing_sdk_until_something_uses_it():
    seen = _probe({})
    assert seen == {"deferred": True, "real_sdk_loaded": False, "agents_loaded": False,
                    "real_after_use": True, "same_method": True}


def test_with_a_literal_ai_key_the_real_sdk_is_imported_as_usual():
    seen = _probe({"LITERAL_API_KEY": "not-a-real-key"})
    assert seen["deferred"] is False and seen["real_sdk_loaded"] is True


def test_the_server_is_started_through_the_deferring_launcher():
    from whizzy.cli.chat import chat_command

    assert chat_command(host="127.0.0.1", port=8123)[1:3] == ["-m", "whizzy.chat.serve"]


def test_the_warm_up_runs_in_the_background_and_answers_one_question(tmp_path, monkeypatch):
    release = threading.Event()
    asked: list[tuple[str, str]] = []

    class FakeAssistant:
        def __init__(self, warehouse, **kwargs):
            self.kwargs = kwargs

        def ask(self, question, *, thread_id):
            asked.append((question, self.kwargs.get("engine")))
            return {"answer": "ok"}

    def slow_charts():
        assert release.wait(30)

    monkeypatch.setattr(runtime, "warm_up_charts", slow_charts)
    monkeypatch.setattr(runtime, "_assistant_type", lambda: FakeAssistant)
    monkeypatch.setattr(runtime, "_load_value_index", lambda warehouse: None)
    chat = runtime.ChatRuntime(ChatOptions(warehouse=tmp_path / "w.duckdb", persist=False))

    async def scenario():
        await chat.start()
        task = chat.start_warm_up()
        await asyncio.sleep(0)
        assert not task.done()  # start-up went on; the warm-up waits on the charts
        assert chat.start_warm_up() is task  # once per server
        release.set()
        assert await task is True

    asyncio.run(scenario())
    assert asked == [(runtime.WARM_QUESTION, "offline")]
    assert chat.warm_seconds is not None


def test_an_llm_engine_is_never_sent_a_warm_up_question(tmp_path, monkeypatch):
    asked: list[str] = []

    class FakeAssistant:
        def __init__(self, warehouse, **kwargs):
            pass

        def ask(self, question, *, thread_id):
            asked.append(question)

    monkeypatch.setattr(runtime, "warm_up_charts", lambda: None)
    monkeypatch.setattr(runtime, "_assistant_type", lambda: FakeAssistant)
    monkeypatch.setattr(runtime, "_load_value_index", lambda warehouse: None)
    chat = runtime.ChatRuntime(ChatOptions(warehouse=tmp_path / "w.duckdb", persist=False,
                                           engine="llm"))

    async def scenario():
        await chat.start()
        return await chat.start_warm_up()

    assert asyncio.run(scenario()) is True
    assert asked == []


APP_IMPORTS = """
import ast, json, sys
from whizzy.chat.serve import defer_tracing_sdk
defer_tracing_sdk()
tree = ast.parse(open("app.py").read())
for node in tree.body:  # every module app.py imports when the server loads it
    if isinstance(node, ast.Import):
        for alias in node.names:
            __import__(alias.name)
    elif isinstance(node, ast.ImportFrom) and node.level == 0:
        __import__(node.module)
print(json.dumps(sorted(m for m in ("pandas", "plotly", "langgraph", "whizzy.assistant",
                                    "whizzy.chat.render", "traceloop.sdk.client")
                        if m in sys.modules)))
"""


def test_loading_the_app_leaves_pandas_plotly_and_the_agents_to_the_warm_up():
    import os

    env = {k: v for k, v in os.environ.items() if k != "LITERAL_API_KEY"}
    out = subprocess.run([sys.executable, "-c", APP_IMPORTS], capture_output=True, text=True,
                         env=env, check=True, cwd=Path(__file__).parents[2])
    assert json.loads(out.stdout.strip().splitlines()[-1]) == []


def test_the_warm_up_loads_what_an_answer_is_drawn_with(monkeypatch):
    drawn: list[int] = []
    monkeypatch.setattr("whizzy.chat.charts.warm_up", lambda: drawn.append(1))
    runtime.warm_up_charts()
    assert drawn == [1] and "whizzy.chat.render" in sys.modules
