"""Whizzy chat: Chainlit events wired to the agent graph (house style 16).

Thin on purpose: what is shown is decided in `whizzy/chat/` (render, charts, personas,
freshness); this file only turns it into Chainlit steps, messages, elements and actions.
Run it with `whizzy chat` (or `make run`), which passes the warehouse and options as
environment variables (`whizzy.chat.options`).
"""

from __future__ import annotations

import asyncio
import os
import secrets
from typing import TYPE_CHECKING, Any

import chainlit as cl
import chainlit.server
from chainlit.auth import get_token_from_cookies
from chainlit.config import config as chainlit_config
from chainlit.data import get_data_layer
from chainlit.input_widget import Select, Slider
from chainlit.logger import logger
from chainlit.types import ThreadDict

from whizzy.chat import guard, offline
from whizzy.chat.auth import (
    LOCAL_USER,
    LoginThrottle,
    RevokedTokens,
    check_password,
    ensure_secret,
    parse_users,
)
from whizzy.chat.datalayer import SQLiteDataLayer
from whizzy.chat.feedback import META_KEY
from whizzy.chat.freshness import warehouse_freshness
from whizzy.chat.howto import HOW_TITLE, deals_step_name, how_i_got_this
from whizzy.chat.markup import md_text
from whizzy.chat.options import (
    PARENT_PID_VAR,
    ChatOptions,
    allowed_origins_setting,
    auth_users_setting,
    llm_configured,
)
from whizzy.chat.origins import OriginPolicy
from whizzy.chat.personas import PERSONAS, SettingsSpec, engine_choices
from whizzy.chat.runtime import ChatRuntime, exit_with_parent, stream_answer
from whizzy.chat.steps import step_view
from whizzy.core.errors import WhizzyError
from whizzy.core.logs import install as install_log_redaction

if TYPE_CHECKING:
    from whizzy.chat.export import ExportFile

install_log_redaction()  # the chat server logs without secrets


def _render() -> Any:
    """`whizzy.chat.render`, imported on first use (the background warm-up imports it).

    With pandas and Plotly it took ~0.6 s of the server's start-up, before the page was
    served; `whizzy.chat.export` likewise.
    """
    from whizzy.chat import render

    return render

exit_with_parent(int(os.environ.get(PARENT_PID_VAR) or 0))  # never outlive `whizzy chat`

OPTIONS = ChatOptions.from_env()
RUNTIME = ChatRuntime(OPTIONS)
AUTH_USERS = parse_users(users) if (users := auth_users_setting()) else None
ASSISTANT_NAME = "Whizzy"
#: Signed-out login tokens, refused until they expire (kept in chat.sqlite when persisting).
REVOKED = RevokedTokens(OPTIONS.chat_db if OPTIONS.persist else None)


async def _feedback_allowed(user: str | None, for_id: str | None,
                            feedback_id: str | None) -> bool:
    layer = get_data_layer()
    return layer is None or await layer.may_give_feedback(user, for_id, feedback_id)


# Only the chat's own page may call it; sign-ins are throttled; feedback is one's own.
guard.install(
    chainlit.server.app,
    policy=OriginPolicy.for_server(OPTIONS.host, OPTIONS.port, allowed_origins_setting()),
    root_path=chainlit_config.run.root_path or "",
    throttle=LoginThrottle() if AUTH_USERS is not None else None,
    feedback_allowed=_feedback_allowed,
)
guard.install_revocation(REVOKED)


def _readme_facts() -> dict[str, str]:
    try:
        fresh = warehouse_freshness(OPTIONS.warehouse)
        return {"as_of_date": fresh.as_of_date.isoformat(), "built_at": fresh.built_label,
                "warehouse": str(OPTIONS.warehouse)}
    except WhizzyError as exc:
        return {"as_of_date": "unknown (" + exc.user_message().replace("\n", " ") + ")",
                "built_at": "unknown", "warehouse": str(OPTIONS.warehouse)}


offline.install(_readme_facts)

if OPTIONS.persist:

    @cl.data_layer
    def data_layer() -> SQLiteDataLayer:
        """Threads, steps, elements and feedback in `chat.sqlite` beside the warehouse."""
        return SQLiteDataLayer(OPTIONS.chat_db, on_delete_thread=RUNTIME.forget)


if AUTH_USERS is not None or OPTIONS.persist:
    ensure_secret(OPTIONS.secret_file)  # signs the login cookie (Chainlit reads the env)

if AUTH_USERS is not None:

    @cl.password_auth_callback
    async def login(username: str, password: str) -> cl.User | None:
        """Accounts from WHIZZY_AUTH_USERS."""
        # scrypt takes ~50 ms on purpose: off the event loop, so other sessions go on
        if await asyncio.to_thread(check_password, AUTH_USERS, username, password):
            return cl.User(identifier=username, metadata={"provider": "password", **_login_id()})
        return None

elif OPTIONS.persist:

    @cl.header_auth_callback
    async def local_login(headers) -> cl.User:  # noqa: ANN001 - starlette Headers
        """No accounts configured: everyone on this machine is the one local user."""
        return cl.User(identifier=LOCAL_USER, metadata={"provider": "local", **_login_id()})


def _login_id() -> dict[str, str]:
    """A random id in each login token: signing out revokes that login and no later one.

    Two logins in the same second would otherwise get the same token.
    """
    return {"login": secrets.token_urlsafe(12)}


@cl.on_logout
def logout(request, response) -> dict:  # noqa: ANN001 - starlette Request, Response
    """Sign out: the login token is refused from now on, not only its cookie cleared."""
    token = get_token_from_cookies(dict(request.cookies)) or guard.request_token(
        {k.lower(): v for k, v in request.headers.items()})
    if token and (expires := guard.token_expiry(token)) is not None:
        REVOKED.revoke(token, expires_at=expires)
    return {"success": True}


@cl.on_app_startup
async def startup() -> None:
    """Open the graph's checkpointer inside the server's event loop; warm up meanwhile."""
    await RUNTIME.start()
    # the page is served while the first answer's path warms
    RUNTIME.start_warm_up().add_done_callback(_warmed)


def _warmed(task: asyncio.Task[bool]) -> None:
    if not task.cancelled() and task.exception() is None and task.result():
        logger.info(f"Whizzy is warm: the first answer's path loaded in "
                    f"{RUNTIME.warm_seconds or 0:.1f}s")


@cl.on_app_shutdown
async def shutdown() -> None:
    """Close the checkpointer."""
    await RUNTIME.close()


@cl.set_starter_categories
async def starter_categories(user=None, language=None, chat_profile=None):  # noqa: ANN001, ANN201
    """Starter questions grouped by persona."""
    return [
        cl.StarterCategory(
            label=p.label,
            icon=p.icon,
            starters=[cl.Starter(label=s.label, message=s.message, icon=p.icon)
                      for s in p.starters],
        )
        for p in PERSONAS
    ]


#: Whether an LLM endpoint is configured: the settings offer the LLM engine only then.
LLM_CONFIGURED = llm_configured()


def _settings() -> SettingsSpec:
    return SettingsSpec.from_values(
        cl.user_session.get("chat_settings"), engine=OPTIONS.engine, row_limit=OPTIONS.row_limit,
        llm_configured=LLM_CONFIGURED,
    )


async def _send_settings(spec: SettingsSpec) -> None:
    personas = {p.label: p.key for p in PERSONAS}
    engine = [Select(id="engine", label="Engine", items=engine_choices(LLM_CONFIGURED),
                     initial_value=spec.engine)] if LLM_CONFIGURED else []
    await cl.ChatSettings(
        [
            Select(id="persona", label="Persona", items=personas, initial_value=spec.persona,
                   description="Tailors the follow-up suggestions to this role."),
            *engine,
            Slider(id="row_limit", label="Row limit", initial=spec.row_limit, min=10,
                   max=10_000, step=10,
                   description="Most rows a query may return; answers say when it cut rows."),
        ]
    ).send()


async def _warehouse_problem() -> bool:
    """Tell the user (once per question) when the warehouse is missing or unbuilt."""
    try:
        warehouse_freshness(OPTIONS.warehouse)
        return False
    except WhizzyError as exc:
        await cl.Message(content=_render().problem_text(exc), author=ASSISTANT_NAME).send()
        return True


@cl.on_chat_start
async def start() -> None:
    """New thread: show the settings; warn right away if there is no data."""
    await _send_settings(_settings())
    await _warehouse_problem()


@cl.on_chat_resume
async def resume(thread: ThreadDict) -> None:
    """Old thread: settings come back from its metadata, memory from the checkpointer.

    Chainlit keeps no buttons with a thread: each answer's choices and follow-ups are sent
    again from its metadata.
    """
    await _send_settings(_settings())
    for step_id, buttons in _render().saved_buttons(thread.get("steps") or []):
        for action in _buttons(buttons):
            await action.send(for_id=step_id)


@cl.on_settings_update
async def settings_update(values: dict) -> None:
    """Settings are read per question from the session; nothing else to do."""


@cl.on_message
async def on_message(message: cl.Message) -> None:
    """A question typed, or a starter clicked."""
    await answer(message.content)


@cl.action_callback("follow_up")
async def on_follow_up(action: cl.Action) -> None:
    """A follow-up suggestion clicked: ask it as if typed."""
    question = str(action.payload.get("question", "")).strip()
    if question:
        user = cl.user_session.get("user")
        await cl.Message(content=md_text(question), type="user_message",  # LLM-written
                         author=getattr(user, "identifier", "User")).send()
        await answer(question)


async def _run_graph(question: str) -> tuple[dict, list[dict], cl.Message | None, str]:
    """Stream the question through the graph, noting what each node decided.

    With the LLM engine the answer's sentences stream into a message as they pass the
    grounding check. Returns the answer object, every query result the nodes produced, the
    streamed message (None when nothing streamed) and the "How I got this" text.
    """
    assistant = await RUNTIME.assistant(_settings())
    result: dict = {}
    results: list[dict] = []
    views: list = []
    streamed: cl.Message | None = None
    streamed_text = ""
    total_ms = None
    thread_id = cl.context.session.thread_id
    async for node, update, ms in stream_answer(assistant, question, thread_id=thread_id):
        if node == "answer":
            result, total_ms = update, ms
            continue
        if node == "token":
            if streamed is None:
                streamed = cl.Message(content="", author=ASSISTANT_NAME)
            # the LLM's words are escaped as a whole (a piece may end inside an address)
            streamed_text += str(update.get("text", ""))
            await streamed.stream_token(md_text(streamed_text), is_sequence=True)
            continue
        views.append(step_view(node, update, ms))
        results += [r for r in update.get("results") or [] if isinstance(r, dict)]
    return result, results, streamed, how_i_got_this(views, results, total_ms)


def _buttons(buttons: list) -> list[cl.Action]:
    """A button per choice or follow-up; a click asks its question as if typed."""
    return [cl.Action(name="follow_up", payload={"question": q}, label=label,
                      icon="message-circle") for label, q in buttons]


def _file_elements(files: list[ExportFile]) -> list[cl.File]:
    return [cl.File(name=f.name, content=f.content, mime=f.mime, display="inline")
            for f in files]


async def _export_last(fmt: str) -> None:
    """Answer "download this" with the files of the tables of the answer on screen."""
    files = [f for f in cl.user_session.get("last_exports") or []
             if fmt == "both" or f.name.endswith("." + fmt)]
    if not files:
        await cl.Message(content="There is no table on screen to download yet: ask a question "
                         "first, then download its table. I don't export whole tables.",
                         author=ASSISTANT_NAME).send()
        return
    await cl.Message(content="Here is the table of the last answer, as it was shown (up to "
                     "the row limit).", author=ASSISTANT_NAME,
                     elements=_file_elements(files)).send()


async def answer(question: str) -> None:
    """Stream the question through the graph, then the answer in its one layout."""
    from whizzy.chat.export import export_request  # see _render

    if (fmt := export_request(question)) is not None:
        await _export_last(fmt)
        return
    if await _warehouse_problem():
        return
    fresh = warehouse_freshness(OPTIONS.warehouse)
    try:
        result, results, streamed, how = await _run_graph(question)
    except WhizzyError as exc:
        await cl.Message(content=_render().problem_text(exc), author=ASSISTANT_NAME).send()
        return
    except Exception as exc:  # a bug: say so plainly, keep the traceback in the server log
        logger.exception("answering %r failed", question)
        await cl.Message(
            content=f"Something went wrong while answering ({type(exc).__name__}: "
            f"{md_text(exc)}). Nothing was changed; the details are in the server log.",
            author=ASSISTANT_NAME,
        ).send()
        return

    row_limit = _settings().row_limit
    view = _render().answer_view(result, results, fresh, row_limit=row_limit)
    cl.user_session.set("last_exports", [*view.table_files, *sum(view.records_files, [])])
    # One layout, in this order: sentence, picture, one table, deals behind, How I got this.
    elements: list = []
    if view.figure is not None:
        elements.append(cl.Plotly(name="Chart", figure=view.figure, display="inline",
                                  size="large"))
    if view.table is not None:
        elements.append(cl.Dataframe(name="Result", data=view.table, display="inline",
                                     size="large"))
    elements += _file_elements(view.table_files)
    actions = _buttons(view.buttons)
    metadata = {META_KEY: {**view.metadata, "buttons": view.buttons}}  # restored on resume
    if streamed is not None:
        # the final answer replaces the streamed text (the offline answer, if the LLM's
        # wording failed the grounding check part-way)
        streamed.content, streamed.elements, streamed.actions = view.content, elements, actions
        streamed.metadata = metadata
        message = streamed
    else:
        message = cl.Message(content=view.content, author=ASSISTANT_NAME, elements=elements,
                             actions=actions, metadata=metadata)
    await message.send()
    for (title, table), files in zip(view.records, view.records_files, strict=False):
        # collapsed under the answer, never the table again
        async with cl.Step(name=deals_step_name(len(table)), type="tool",
                           parent_id=message.id) as step:
            step.output = md_text(title[:1].upper() + title[1:]) + "."
            step.elements = [cl.Dataframe(name=title, data=table, display="inline",
                                          size="large"), *_file_elements(files)]
    async with cl.Step(name=HOW_TITLE, type="tool", parent_id=message.id) as step:
        step.output = how
