"""The SQLite data layer: Chainlit's own calls round-trip threads, steps, elements, feedback."""

from __future__ import annotations

import asyncio
import base64
import json
import typing
import uuid

import pandas as pd
import plotly.graph_objects as go
import pytest
from chainlit.element import ElementDict
from chainlit.step import StepDict
from chainlit.types import Feedback
from chainlit.user import User

from whizzy.chat.datalayer import SQLiteDataLayer, ensure_schema, table_columns


def test_schema_has_a_column_for_every_field_chainlit_writes(tmp_path):
    cols = table_columns(ensure_schema(tmp_path / "chat.sqlite"))
    assert set(typing.get_type_hints(StepDict)) <= cols["steps"]
    assert set(typing.get_type_hints(ElementDict)) <= cols["elements"]
    assert set(Feedback.__dataclass_fields__) <= cols["feedbacks"]
    assert {"id", "identifier", "metadata", "createdAt"} <= cols["users"]
    assert {"id", "createdAt", "name", "userId", "userIdentifier", "tags", "metadata"} <= cols[
        "threads"
    ]


def test_ensure_schema_is_idempotent(tmp_path):
    db = tmp_path / "chat.sqlite"
    ensure_schema(db)
    ensure_schema(db)
    assert "steps" in table_columns(db)


@pytest.fixture
def layer(tmp_path):
    layer = SQLiteDataLayer(tmp_path / "chat.sqlite")
    yield layer
    asyncio.run(layer.close())


def _roundtrip(layer):
    from chainlit.context import init_http_context
    from chainlit.element import Dataframe, Plotly

    async def go_():
        user = await layer.create_user(User(identifier="local", metadata={"provider": "local"}))
        thread_id = str(uuid.uuid4())
        init_http_context(thread_id=thread_id)
        await layer.update_thread(thread_id, name="Win rate?", user_id=user.id,
                                  metadata={"chat_settings": {"persona": "revops"}})
        question = {"id": str(uuid.uuid4()), "threadId": thread_id, "name": "local",
                    "type": "user_message", "output": "What is our win rate?",
                    "createdAt": "2026-11-16T10:00:00Z", "streaming": False,
                    "metadata": {}, "tags": ["starter"], "modes": {"persona": "revops"}}
        answer_id = str(uuid.uuid4())
        answer = {"id": answer_id, "threadId": thread_id, "name": "Whizzy",
                  "type": "assistant_message", "output": "Win rate is 31.3%.",
                  "createdAt": "2026-11-16T10:00:01Z", "streaming": False,
                  "metadata": {"whizzy": {"question": "What is our win rate?"}},
                  "defaultOpen": False, "autoCollapse": False}
        await layer.create_step(question)
        await layer.create_step(answer)
        frame = pd.DataFrame({"owner": ["Ana"], "win_rate": ["31.3%"]})
        table = Dataframe(name="Result", data=frame, thread_id=thread_id, for_id=answer_id)
        chart = Plotly(name="Chart", figure=go.Figure(go.Bar(x=["a"], y=[1])),
                       thread_id=thread_id, for_id=answer_id)
        await layer.create_element(table)
        await layer.create_element(chart)
        await layer.upsert_feedback(Feedback(forId=answer_id, value=1, threadId=thread_id,
                                             comment="spot on"))
        thread = await layer.get_thread(thread_id)
        listed = await layer.get_all_user_threads(user_id=user.id)
        author = await layer.get_thread_author(thread_id)
        return thread, listed, author, answer_id

    return asyncio.run(go_())


def test_threads_steps_elements_and_feedback_round_trip(layer):
    thread, listed, author, answer_id = _roundtrip(layer)
    assert author == "local"
    assert [t["id"] for t in listed] == [thread["id"]]
    assert thread["name"] == "Win rate?"
    assert thread["metadata"]["chat_settings"] == {"persona": "revops"}
    steps = {s["type"]: s for s in thread["steps"]}
    assert steps["user_message"]["output"] == "What is our win rate?"
    assert steps["user_message"]["tags"] == ["starter"]  # lists survive SQLite as JSON
    answer = steps["assistant_message"]
    assert answer["metadata"]["whizzy"]["question"] == "What is our win rate?"
    assert answer["feedback"]["value"] == 1 and answer["feedback"]["comment"] == "spot on"
    elements = {e["name"]: e for e in thread["elements"]}
    assert set(elements) == {"Result", "Chart"}
    for e in elements.values():  # content is inline: a resumed thread needs no file server
        assert e["forId"] == answer_id
        assert e["url"].startswith("data:")
    # Same mimes as a live session: the browser parses plotly JSON itself but JSON.parse()s the
    # dataframe's text, so the table must not be served as application/json.
    assert elements["Chart"]["url"].startswith("data:application/json;base64,")
    assert not elements["Result"]["url"].startswith("data:application/json")
    table = json.loads(base64.b64decode(elements["Result"]["url"].split(",", 1)[1]))
    assert table["columns"] == ["owner", "win_rate"] and table["data"] == [["Ana", "31.3%"]]
    chart = json.loads(base64.b64decode(elements["Chart"]["url"].split(",", 1)[1]))
    assert chart["data"][0]["type"] == "bar"


def test_step_updates_fired_as_tasks_keep_their_output(layer):
    """Chainlit fires create and update as separate tasks; the update must win."""
    from chainlit.context import init_http_context

    async def go_():
        user = await layer.create_user(User(identifier="local"))
        thread_id = str(uuid.uuid4())
        init_http_context(thread_id=thread_id)
        await layer.update_thread(thread_id, user_id=user.id)
        tasks = []
        for i in range(20):
            base = {"id": str(uuid.uuid4()), "threadId": thread_id, "name": f"step {i}",
                    "type": "tool", "streaming": False, "output": "", "metadata": {},
                    "createdAt": f"2026-11-16T10:00:{i:02d}Z"}
            tasks.append(asyncio.create_task(layer.create_step(dict(base))))
            tasks.append(asyncio.create_task(layer.update_step({**base, "output": f"out {i}"})))
        await asyncio.gather(*tasks)
        return await layer.get_thread(thread_id)

    thread = asyncio.run(go_())
    outputs = sorted(s["output"] for s in thread["steps"])
    assert outputs == sorted(f"out {i}" for i in range(20))


def test_feedback_is_allowed_only_on_ones_own_messages(layer):
    _, _, _, answer_id = _roundtrip(layer)  # a thread of "local" with one rated answer

    async def check():
        rows = await layer.execute_sql('select "id" from feedbacks', {})
        feedback_id = rows[0]["id"]
        return [
            await layer.may_give_feedback("local", answer_id, None),
            await layer.may_give_feedback("local", answer_id, feedback_id),
            await layer.may_give_feedback("local", None, feedback_id),
            await layer.may_give_feedback("eve", answer_id, None),
            await layer.may_give_feedback("eve", None, feedback_id),
            await layer.may_give_feedback(None, answer_id, None),
            await layer.may_give_feedback("local", "no-such-step", None),
            await layer.may_give_feedback("local", None, "no-such-feedback"),
        ]

    assert asyncio.run(check()) == [True, True, True, False, False, False, False, False]


def test_a_deleted_thread_takes_its_memory_and_stays_deleted(tmp_path):
    from chainlit.context import init_http_context

    forgotten = []

    async def forget(thread_id):
        forgotten.append(thread_id)

    async def go_():
        layer = SQLiteDataLayer(tmp_path / "chat.sqlite", on_delete_thread=forget)
        user = await layer.create_user(User(identifier="ana"))
        thread_id = str(uuid.uuid4())
        init_http_context(thread_id=thread_id)
        await layer.update_thread(thread_id, name="Q", user_id=user.id)
        await layer.delete_thread(thread_id)
        # the deleted thread's session still saves its state and a step as it goes
        await layer.update_thread(thread_id, metadata={"chat_settings": {}})
        await layer.create_step({"id": str(uuid.uuid4()), "threadId": thread_id, "name": "x",
                                 "type": "assistant_message", "output": "late",
                                 "createdAt": "2026-11-16T10:00:00Z", "streaming": False,
                                 "metadata": {}})
        thread = await layer.get_thread(thread_id)
        await layer.close()
        return thread_id, thread

    thread_id, thread = asyncio.run(go_())
    assert forgotten == [thread_id]
    assert thread is None  # not back as a thread with no owner


def test_a_write_under_way_when_its_thread_is_deleted_does_not_bring_it_back(tmp_path):
    """A session's last save, started just before the thread's deletion, finishes first.

    Chainlit saves a session's state when it disconnects; if the user deletes the thread at
    that moment, the save must not land after the deletion (the thread would come back as a
    row with no owner, and the owner could not open a session on that id again).
    """
    from chainlit.context import init_http_context

    async def go_():
        layer = SQLiteDataLayer(tmp_path / "chat.sqlite")
        user = await layer.create_user(User(identifier="ana"))
        thread_id = str(uuid.uuid4())
        init_http_context(thread_id=thread_id)
        await layer.update_thread(thread_id, name="Q", user_id=user.id)
        started, release, deleting = asyncio.Event(), asyncio.Event(), asyncio.Event()
        real = layer.execute_sql

        async def held(query, parameters):  # the save's statement waits until released
            if "INSERT INTO threads" in query and not release.is_set():
                started.set()
                await release.wait()
            if "DELETE FROM THREADS" in " ".join(query.upper().split()):
                deleting.set()
            return await real(query, parameters)

        layer.execute_sql = held
        save = asyncio.create_task(layer.update_thread(thread_id, metadata={"k": 1}))
        await started.wait()  # the save is under way
        deletion = asyncio.create_task(layer.delete_thread(thread_id))
        # the deletion either deletes now (the save would land after it) or waits its turn
        lock = layer._step_lock
        while not deleting.is_set() and not getattr(lock, "_waiters", None):
            await asyncio.sleep(0)
        release.set()
        await asyncio.gather(save, deletion)
        rows = await real('SELECT "id", "userIdentifier" FROM threads WHERE "id" = :id',
                          {"id": thread_id})
        await layer.close()
        return rows

    assert not asyncio.run(go_())  # no row at all, not even one with no owner
