"""Isolation: conversations running at the same time never see each other's memory.

Twenty threads share one `Assistant` (one compiled graph, one checkpointer, as in the chat
server). Each starts its own conversation on a different subject, all at the same moment,
then asks the same bare follow-ups ("and last quarter?", "break that down by owner"). Each
follow-up must get exactly the answer it gets when its conversation runs alone; a thread
that never set a subject must get the no-context answer. (Per-user isolation in the chat,
with login on, is in `test_chat_server.py`.)
"""

from __future__ import annotations

import threading
import uuid
from pathlib import Path

from whizzy.assistant import Assistant

SUBJECTS = [
    "What was our win rate last quarter?",
    "What is our open pipeline?",
    "What is our weighted pipeline?",
    "How much did we book this year?",
    "What is our average deal size?",
    None,  # no subject: the follow-ups have nothing to continue
]
FOLLOW_UPS = ["and last quarter?", "break that down by owner"]
CONVERSATIONS = 20


def _conversation(assistant: Assistant, subject: str | None, thread: str) -> list[str]:
    answers = []
    if subject:
        answers.append(assistant.ask(subject, thread_id=thread)["answer"])
    for question in FOLLOW_UPS:
        answers.append(assistant.ask(question, thread_id=thread)["answer"])
    return answers


def test_concurrent_conversations_never_share_memory(served: Path):
    assistant = Assistant(served)
    alone = {s: _conversation(assistant, s, uuid.uuid4().hex) for s in SUBJECTS}
    assert len({tuple(a[-len(FOLLOW_UPS):]) for a in alone.values()}) == len(SUBJECTS), \
        "each subject must give its own follow-up answers for the test to mean much"

    results: dict[int, list[str]] = {}
    threads: dict[int, str] = {}
    errors: list[str] = []
    start = threading.Barrier(CONVERSATIONS)

    def run(n: int) -> None:
        thread = f"iso-{n}-{uuid.uuid4().hex[:6]}"
        threads[n] = thread
        start.wait()
        try:
            results[n] = _conversation(assistant, SUBJECTS[n % len(SUBJECTS)], thread)
        except Exception as exc:  # noqa: BLE001 - recorded and asserted below
            errors.append(f"#{n}: {type(exc).__name__}: {exc}")

    workers = [threading.Thread(target=run, args=(n,)) for n in range(CONVERSATIONS)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    assert not errors, errors
    for n, answers in results.items():
        subject = SUBJECTS[n % len(SUBJECTS)]
        assert answers == alone[subject], (n, subject, answers, alone[subject])
        asked = [turn["question"] for turn in assistant.history(threads[n])]
        assert asked == [q for q in (subject, *FOLLOW_UPS) if q], (n, asked)
    assert len(results) == CONVERSATIONS


def test_the_chat_data_layer_keeps_each_users_threads_apart(tmp_path: Path):
    """What the chat's thread list, search, ownership checks and resume read, per user."""
    import asyncio

    from chainlit.context import init_http_context
    from chainlit.types import Pagination, ThreadFilter
    from chainlit.user import User

    from whizzy.chat.datalayer import SQLiteDataLayer

    layer = SQLiteDataLayer(tmp_path / "chat.sqlite")

    async def scenario() -> dict:
        users = {name: await layer.create_user(User(identifier=name)) for name in ("ana", "bo")}
        threads: dict[str, list[str]] = {"ana": [], "bo": []}
        for name, user in users.items():
            for i in range(3):
                thread_id = str(uuid.uuid4())
                init_http_context(thread_id=thread_id)
                await layer.update_thread(thread_id, name=f"{name} pipeline {i}",
                                          user_id=user.id)
                await layer.create_step({
                    "id": str(uuid.uuid4()), "threadId": thread_id, "name": name,
                    "type": "user_message", "output": f"{name}'s pipeline question {i}",
                    "createdAt": f"2026-11-16T10:00:0{i}Z", "streaming": False,
                    "metadata": {}})
                threads[name].append(thread_id)
        out = {"threads": threads, "users": {n: u.id for n, u in users.items()}}
        for name, user in users.items():
            listed = await layer.list_threads(Pagination(first=50),
                                              ThreadFilter(userId=user.id))
            searched = await layer.list_threads(Pagination(first=50),
                                                ThreadFilter(userId=user.id, search="pipeline"))
            out[name] = {"listed": [t["id"] for t in listed.data],
                         "searched": [t["id"] for t in searched.data],
                         "all": [t["id"] for t in await layer.get_all_user_threads(
                             user_id=user.id) or []]}
        out["authors"] = {t: await layer.get_thread_author(t)
                          for ts in threads.values() for t in ts}
        await layer.close()
        return out

    out = asyncio.run(scenario())
    for name, other in (("ana", "bo"), ("bo", "ana")):
        mine, theirs = set(out["threads"][name]), set(out["threads"][other])
        for view in ("listed", "searched", "all"):
            assert set(out[name][view]) == mine, (name, view)
            assert not set(out[name][view]) & theirs
        assert all(out["authors"][t] == name for t in mine)
