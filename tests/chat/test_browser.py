"""The chat in a real browser: Playwright drives Debian's Chromium against `whizzy chat`.

Each server runs on a free port as a subprocess over a copy of the demo warehouse; each
test saves a screenshot in its own tmp folder. Every request the page makes must stay on
the chat's own origin (the app makes no outbound connection).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from evals.matching import matches
from whizzy.core.settings import PROJECT_ROOT
from whizzy.warehouse.connection import connect_readonly

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not CHROMIUM.exists(),
        reason="needs Debian's chromium at /usr/bin/chromium (apt-get install -y chromium)",
    ),
]


# --------------------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ChatServer:
    """`whizzy chat` in a subprocess (its own process group, so it stops with its child)."""

    def __init__(self, home: Path, *, env: dict[str, str] | None = None,
                 args: tuple[str, ...] = ()) -> None:
        self.home = home
        self.warehouse = home / "warehouse.duckdb"
        self.extra_env = env or {}
        self.args = args
        self.proc: subprocess.Popen | None = None
        self.log = home / "server.log"
        self.url = ""

    def start(self, timeout: float = 180) -> ChatServer:
        port = _free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "DO_NOT_TRACK": "1", **self.extra_env}
        if "WHIZZY_AUTH_USERS" not in self.extra_env:
            env.pop("WHIZZY_AUTH_USERS", None)
        with self.log.open("a") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "whizzy.cli", "chat", "--warehouse", str(self.warehouse),
                 "--host", "127.0.0.1", "--port", str(port), *self.args],
                cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chat server exited:\n{self.log.read_text()[-3000:]}")
            with contextlib.suppress(OSError, urllib.error.URLError):
                with urllib.request.urlopen(self.url + "/health", timeout=2) as r:
                    if r.status == 200:
                        return self
            time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"chat server did not start:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)  # our own process group only
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)


def _home(built_warehouse: Path, folder: Path) -> Path:
    """A chat home: a copy of the demo warehouse and its manifest."""
    from whizzy.warehouse.connection import manifest_path_for

    folder.mkdir(parents=True, exist_ok=True)
    wh = folder / "warehouse.duckdb"
    shutil.copyfile(built_warehouse, wh)
    shutil.copyfile(manifest_path_for(built_warehouse), manifest_path_for(wh))
    return folder


def _raw_win_rate(warehouse: Path, start: dt.date, end: dt.date) -> float:
    """Win rate by count of opportunities closed in [start, end], straight from the raw tables."""
    con = connect_readonly(warehouse)
    try:
        won, closed = con.execute(
            """
            select count(*) filter (where is_won), count(*)
            from salesforce.opportunity
            where is_closed and not coalesce(is_deleted, false)
              and close_date between ? and ?
            """,
            [start, end],
        ).fetchone()
    finally:
        con.close()
    return won / closed


@pytest.fixture(scope="module")
def expected(built_warehouse):
    """Figures computed on the raw tables before any server holds the file."""
    return {  # as of 2026-11-15: this quarter is Q4 2026 to date, last quarter Q3 2026
        "q4": _raw_win_rate(built_warehouse, dt.date(2026, 10, 1), dt.date(2026, 11, 15)),
        "q3": _raw_win_rate(built_warehouse, dt.date(2026, 7, 1), dt.date(2026, 9, 30)),
        "q2": _raw_win_rate(built_warehouse, dt.date(2026, 4, 1), dt.date(2026, 6, 30)),
    }


@pytest.fixture(scope="module")
def server(built_warehouse, tmp_path_factory, expected):
    srv = ChatServer(_home(built_warehouse, tmp_path_factory.mktemp("chat"))).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield b
        b.close()


REQUESTS: dict[int, list[str]] = {}


def _new_page(browser):
    """A page in a fresh context (own cookies) that records every URL it requests."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    pg = context.new_page()
    REQUESTS[id(pg)] = []
    pg.on("request", lambda r: REQUESTS[id(pg)].append(r.url))
    return context, pg


@pytest.fixture
def page(browser):
    context, pg = _new_page(browser)
    yield pg
    context.close()


def _assert_local_only(pg, *origins: str) -> None:
    requested = REQUESTS[id(pg)]
    assert requested, "no request was recorded"
    outside = [u for u in requested if not u.startswith((*origins, "data:", "blob:", "about:"))]
    assert not outside, f"the page reached outside {origins}: {outside[:5]}"


# --------------------------------------------------------------------------- helpers


def _open(pg, url: str) -> None:
    pg.goto(url)
    pg.wait_for_selector("#chat-input", timeout=60_000)
    # The settings button appears once on_chat_start ran: the socket session is live.
    pg.wait_for_selector("#chat-settings-open-modal", timeout=60_000)


_MESSAGE_IDS = (
    "[...document.querySelectorAll('[data-step-type=\"assistant_message\"] [id^=\"step-\"]')]"
    ".map(e => e.id)"
)


def _mark_answers(pg) -> None:
    """Remember which answers are on the page (by step id: React may re-create their nodes)."""
    pg.seen_answers = set(pg.evaluate(_MESSAGE_IDS))


def _wait_new_answer(pg, timeout: float = 60) -> tuple[str, float]:
    """Text of the first paragraph of an answer that was not on the page before, and seconds."""
    started = time.perf_counter()
    deadline = started + timeout
    seen = sorted(getattr(pg, "seen_answers", set()))
    script = """(seen) => {
        for (const m of document.querySelectorAll('[data-step-type="assistant_message"]')) {
            const step = m.querySelector('[id^="step-"]');
            if (!step || seen.includes(step.id)) continue;
            const a = m.querySelector('[role="article"]');
            if (a && a.textContent.trim()) return a.textContent;
        }
        return null;
    }"""
    while time.perf_counter() < deadline:
        text = pg.evaluate(script, seen)
        if text:
            return text, time.perf_counter() - started
        pg.wait_for_timeout(20)
    raise AssertionError(f"no answer within {timeout} s")


def _idle(pg) -> None:
    """Wait until the last answer's task has ended (its steps may still be arriving).

    While a task runs, Chainlit swaps the send button for a stop button and Enter sends
    nothing: a question typed then is never asked (a follow-up typed right after the
    previous answer's first words waited 60 s for nothing on a busy machine).
    """
    pg.wait_for_selector("#stop-button", state="detached", timeout=60_000)


def _ask(pg, question: str) -> tuple[str, float]:
    _idle(pg)
    _mark_answers(pg)
    pg.click("#chat-input")
    pg.keyboard.type(question)
    pg.keyboard.press("Enter")
    return _wait_new_answer(pg)


def _click_until_asked(pg, button, question: str, tries: int = 3) -> None:
    """Click a follow-up button until its question shows as asked.

    Chainlit ignores an action clicked while the last task is still winding down (no stop
    button yet, or one just gone): on a busy machine that click was lost and the test waited
    60 s for an answer never asked. The condition waited on is the question appearing as the
    user's message; a click is repeated only when nothing was asked and no task runs.
    """
    asked = pg.locator('[data-step-type="user_message"]', has_text=question)
    before = asked.count()
    for _ in range(tries):
        _idle(pg)
        button.click()
        try:
            pg.wait_for_function(
                """([q, n]) => [...document.querySelectorAll('[data-step-type="user_message"]')]
                    .filter(m => m.textContent.includes(q)).length > n
                    || document.querySelector('#stop-button') !== null""",
                arg=[question, before], timeout=20_000)
            return
        except Exception:  # noqa: BLE001 - nothing asked: the click was lost, click again
            continue
    raise AssertionError(f"clicking {question!r} never asked it")


def _last_message(pg):
    return pg.locator('[data-step-type="assistant_message"]').last


def _wait_visible(pg, locator, shot: Path, what: str, timeout: float = 60_000) -> None:
    """Wait for `locator`; on timeout save a screenshot and say what was missing."""
    try:
        locator.wait_for(timeout=timeout)
    except Exception as exc:
        pg.screenshot(path=shot)
        raise AssertionError(f"{what} did not appear (screenshot: {shot})") from exc


def _settle(pg) -> None:
    """Wait until the answers' charts and tables have rendered (no loading placeholder left)."""
    from playwright.sync_api import expect

    expect(pg.locator('[data-step-type="assistant_message"] .animate-pulse')).to_have_count(
        0, timeout=60_000)


_PLOT = """(el) => ({
    data: el.data.map((t) => ({name: t.name, type: t.type, x: t.x, y: t.y, text: t.text})),
    annotations: (el.layout.annotations || []).map((a) => a.text),
    title: el.layout.title && el.layout.title.text,
})"""


def _plot(pg, message, shot: Path, what: str) -> dict:
    """The drawn figure of an answer: its traces and annotation texts, as Plotly holds them."""
    plot = message.locator(".js-plotly-plot").first
    _wait_visible(pg, plot.locator(".main-svg").first, shot, what)
    return plot.evaluate(_PLOT)


# --------------------------------------------------------------------------- tests


def _report(capsys, text: str) -> None:
    """Print past pytest's capture: latency figures belong in every run's output."""
    with capsys.disabled():
        print(f"\n[chat latency] {text}", end="")


def test_starter_gives_an_answer_with_steps_sql_table_and_chart(page, server, tmp_path, capsys):
    _open(page, server.url)
    page.get_by_role("button", name="Sales manager").click()
    _mark_answers(page)
    page.get_by_role("button", name="Win rate by rep").click()
    text, seconds = _wait_new_answer(page)
    _report(capsys, f"starter click → first answer text after {seconds * 1000:.0f} ms")
    message = _last_message(page)
    _wait_visible(page, message.locator(".js-plotly-plot").first, tmp_path / "no-chart.png",
                  f"the chart of {text!r}")
    # Each table loads on its own, so the deals table can arrive before the result table:
    # wait for the one whose header has the measure, not for whichever table is first.
    result = message.locator("table").filter(
        has=page.locator("th", has_text=re.compile("win rate", re.I)))
    _wait_visible(page, result.first, tmp_path / "no-table.png", "the result table")
    assert "win rate" in text.lower()
    # The table's first owner is the one the answer names first.
    first_owner = result.first.locator("tbody tr").first.locator("td").first.inner_text()
    assert first_owner.strip() and first_owner.strip() in text
    # One "How I got this" step under the answer, with the SQL shown as code.
    how = page.get_by_text("How I got this", exact=False)
    assert how.count() == 1
    how.last.click()
    sql = page.locator("code", has_text="SELECT").last
    sql.wait_for(timeout=10_000)
    assert "FROM" in sql.inner_text()
    footer = message.get_by_text("Data as of 2026-11-15", exact=False)
    assert footer.is_visible()
    _settle(page)
    page.screenshot(path=tmp_path / "starter-steps.png")
    message.screenshot(path=tmp_path / "starter-answer.png")
    _assert_local_only(page, server.url)


def test_forecast_band_and_stage_bottleneck_charts_render(page, server, tmp_path):
    _open(page, server.url)
    page.get_by_role("button", name="RevOps").click()
    _mark_answers(page)
    page.get_by_role("button", name="Days in stage").click()
    text, _ = _wait_new_answer(page)
    chart = _last_message(page).locator(".js-plotly-plot").first
    _wait_visible(page, chart, tmp_path / "no-stage-chart.png", f"the chart of {text!r}")
    assert chart.get_by_text("30-day bottleneck line").count() == 1
    _last_message(page).screenshot(path=tmp_path / "stage-durations.png")
    _ask(page, "Show the revenue forecast trend")
    chart = _last_message(page).locator(".js-plotly-plot").first
    _wait_visible(page, chart, tmp_path / "no-forecast-chart.png", "the forecast chart")
    assert chart.get_by_text("95% interval").count() >= 1  # the band's legend entry
    _last_message(page).screenshot(path=tmp_path / "forecast.png")
    _assert_local_only(page, server.url)


def test_follow_up_in_the_same_thread_uses_context(page, server, expected, tmp_path, capsys):
    _open(page, server.url)
    first, seconds = _ask(page, "What is our win rate this quarter?")
    _report(capsys, f"typed question → first answer text after {seconds * 1000:.0f} ms")
    assert matches(expected["q4"], first) and matches("2026-Q4", first), first
    follow, seconds = _ask(page, "and last quarter?")  # only the period: the rest is context
    _report(capsys, f"follow-up → first answer text after {seconds * 1000:.0f} ms")
    assert matches(expected["q3"], follow) and matches("2026-Q3", follow), follow
    assert "win rate" in follow.lower()
    page.screenshot(path=tmp_path / "follow-up.png")
    _assert_local_only(page, server.url)


def test_follow_up_buttons_ask_the_suggested_question(page, server, tmp_path):
    _open(page, server.url)
    _ask(page, "How has our win rate changed by quarter?")
    button = _last_message(page).get_by_role("button", name="Why?")
    button.wait_for(timeout=10_000)
    _idle(page)
    _mark_answers(page)
    _click_until_asked(page, button, "Why?")
    text, _ = _wait_new_answer(page)
    assert page.locator('[data-step-type="user_message"]', has_text="Why?").count() >= 1
    assert text.strip()
    page.screenshot(path=tmp_path / "follow-up-button.png")


def test_out_of_scope_question_gets_a_polite_refusal(page, server, tmp_path):
    _open(page, server.url)
    text, _ = _ask(page, "Delete all the closed lost opportunities")
    lowered = text.lower()
    assert "can't" in lowered or "cannot" in lowered
    assert "read" in lowered  # says what it does instead: it only reads
    message = _last_message(page)
    assert message.locator(".js-plotly-plot").count() == 0
    assert message.locator("table").count() == 0
    page.screenshot(path=tmp_path / "refusal.png")
    _assert_local_only(page, server.url)


def test_thumbs_up_is_stored_and_exported_as_an_eval_case(page, server, tmp_path):
    from evals.loader import load_file
    from whizzy.cli import main

    _open(page, server.url)
    _ask(page, "What is our weighted pipeline?")
    _last_message(page).locator(".positive-feedback-off").first.click()
    page.get_by_placeholder("Your feedback...").fill("right figure")
    page.screenshot(path=tmp_path / "thumbs-up.png")
    # the rating is saved through the REST API: wait for its answer, not for a while
    with page.expect_response(lambda r: r.url.endswith("/feedback") and r.request.method == "PUT",
                              timeout=60_000) as saved:
        page.get_by_role("button", name="Submit feedback").click()
    assert saved.value.ok, saved.value.status
    out = tmp_path / "feedback.yaml"
    assert main(["feedback", "export", "--warehouse", str(server.warehouse),
                 "--out", str(out)]) == 0
    cases = {c.question: c for c in load_file(out)}
    case = cases["What is our weighted pipeline?"]
    assert case.id.startswith("fb-up-") and case.intent == "analytics"
    assert case.gold_sql, "a thumbs-up answer that states a figure pins it with gold_sql"
    assert "# thumbs up on" in out.read_text() and "right figure" in out.read_text()


def test_reload_keeps_the_thread_and_it_resumes_after_a_restart(
    browser, built_warehouse, tmp_path, expected
):
    home = _home(built_warehouse, tmp_path / "home")
    srv = ChatServer(home).start()
    try:
        context, pg = _new_page(browser)
        _open(pg, srv.url)
        trend, _ = _ask(pg, "How has our win rate changed by quarter?")
        _wait_visible(pg, _last_message(pg).locator(".js-plotly-plot").first,
                      tmp_path / "trend-missing-chart.png", f"the chart of {trend!r}")
        first, _ = _ask(pg, "What is our win rate this quarter?")
        assert matches(expected["q4"], first), first
        thread_url = pg.url
        assert "/thread/" in thread_url
        first_url = srv.url
    finally:
        srv.stop()
    srv = ChatServer(home).start()  # same chat.sqlite and checkpoints.sqlite, new process
    try:
        pg.goto(srv.url)
        pg.wait_for_selector("#chat-input", timeout=60_000)
        entry = pg.locator(f"#thread-{thread_url.rsplit('/', 1)[-1]}")
        entry.wait_for(timeout=30_000)
        assert "win rate changed by quarter" in entry.inner_text()
        entry.click()
        pg.wait_for_selector("#chat-settings-open-modal", timeout=60_000)
        old = pg.locator('[data-step-type="assistant_message"]').first
        _wait_visible(pg, old.locator(".js-plotly-plot").first, tmp_path / "resume-no-chart.png",
                      "the restored chart")
        assert old.locator("table").count() >= 1  # restored table
        pg.screenshot(path=tmp_path / "resumed.png")
        follow, _ = _ask(pg, "and last quarter?")  # memory from before the restart
        assert matches(expected["q3"], follow) and matches("2026-Q3", follow), follow
        pg.screenshot(path=tmp_path / "resumed-follow-up.png")
        _assert_local_only(pg, first_url, srv.url)  # the restarted server has another port
        context.close()
    finally:
        srv.stop()


def test_with_auth_on_the_page_asks_for_login(browser, built_warehouse, tmp_path):
    home = _home(built_warehouse, tmp_path / "home")
    srv = ChatServer(home, env={"WHIZZY_AUTH_USERS": "ana:s3cret-pass"}).start()
    try:
        context, pg = _new_page(browser)
        pg.goto(srv.url)
        pg.wait_for_url("**/login", timeout=60_000)
        pg.wait_for_selector("input#password")
        assert pg.locator("#chat-input").count() == 0
        pg.screenshot(path=tmp_path / "login.png")
        for path in ("/project/settings", "/user", "/project/translations?language=en-US"):
            status = pg.request.get(srv.url + path).status
            assert status == 401 or path.startswith("/project/translations"), (path, status)
        assert pg.request.post(srv.url + "/project/threads",
                               data={"pagination": {"first": 5}, "filter": {}}).status == 401
        assert pg.get_by_text("User name", exact=True).count() >= 1  # not "Email address"
        assert pg.get_by_text("Email address").count() == 0
        pg.fill("input#email", "ana")
        pg.fill("input#password", "wrong")
        pg.get_by_role("button", name="Sign In").click()
        refused = pg.get_by_text("That user name and password don't match", exact=False)
        _wait_visible(pg, refused.first, tmp_path / "no-login-error.png", "the sign-in error")
        assert "credentialssignin" not in pg.locator("body").inner_text().lower()
        assert "/login" in pg.url and pg.locator("#chat-input").count() == 0
        pg.fill("input#password", "s3cret-pass")
        pg.get_by_role("button", name="Sign In").click()
        pg.wait_for_selector("#chat-input", timeout=60_000)
        assert pg.request.get(srv.url + "/user").status == 200
        pg.screenshot(path=tmp_path / "logged-in.png")
        _assert_local_only(pg, srv.url)
        context.close()
    finally:
        srv.stop()


def test_a_missing_warehouse_is_explained_with_the_fixing_command(browser, tmp_path):
    home = tmp_path / "empty"
    home.mkdir()
    srv = ChatServer(home).start()
    try:
        context, pg = _new_page(browser)
        _open(pg, srv.url)
        text, _ = _wait_new_answer(pg)
        assert "There is no warehouse" in text or "No warehouse" in text
        message = _last_message(pg).inner_text()
        assert "whizzy data generate" in message and "whizzy build" in message
        pg.screenshot(path=tmp_path / "no-warehouse.png")
        context.close()
    finally:
        srv.stop()


def test_no_persist_keeps_nothing_and_needs_no_login(browser, built_warehouse, tmp_path):
    import json

    home = _home(built_warehouse, tmp_path / "home")
    srv = ChatServer(home, args=("--no-persist",)).start()
    try:
        with urllib.request.urlopen(srv.url + "/auth/config") as r:
            assert not json.load(r)["requireLogin"]
        with urllib.request.urlopen(srv.url + "/project/settings?language=en-US") as r:
            settings = json.load(r)
        assert settings["dataPersistence"] is False
        assert "Data as of 2026-11-15" in settings["markdown"]  # the readme shows the as-of date
        context, pg = _new_page(browser)
        _open(pg, srv.url)
        text, _ = _ask(pg, "What is our weighted pipeline?")
        assert "weighted pipeline" in text.lower()
        pg.screenshot(path=tmp_path / "no-persist.png")
        context.close()
    finally:
        srv.stop()
    assert not (home / "chat.sqlite").exists()
    assert not (home / "checkpoints.sqlite").exists()


# --------------------------------------------------------------------------- red team


ATTACKER_PAGE = """<!doctype html><html><body><h1>Totally unrelated page</h1><script>
window.result = {events: [], connected: false, done: false, polling: null};
const chat = "127.0.0.1:CHAT_PORT";
const ws = new WebSocket(`ws://${chat}/ws/socket.io/?EIO=4&transport=websocket`);
ws.onopen = () => window.result.events.push("open");
ws.onmessage = (e) => {
  window.result.events.push("message:" + e.data);
  if (e.data.startsWith("0{")) {  // engine.io open: ask socket.io to connect, as the chat does
    ws.send('40' + JSON.stringify({sessionId: crypto.randomUUID(), clientType: "webapp",
                                   userEnv: "{}", chatProfile: null, threadId: null}));
  } else if (e.data.startsWith("40")) {
    window.result.connected = true;  // a session in the user's name: the hijack worked
  }
};
ws.onerror = () => window.result.events.push("error");
ws.onclose = (e) => { window.result.events.push("close:" + e.code); window.result.done = true; };
fetch(`http://${chat}/ws/socket.io/?EIO=4&transport=polling`, {credentials: "include"})
  .then((r) => r.text()).then((t) => { window.result.polling = "read:" + t; })
  .catch(() => { window.result.polling = "blocked"; });
</script></body></html>"""


@contextlib.contextmanager
def _attacker_site(chat_port: int):
    """A page on another loopback port that tries to open the chat's socket."""
    import http.server
    import threading

    page = ATTACKER_PAGE.replace("CHAT_PORT", str(chat_port)).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(page)))
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: object) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_page_on_another_loopback_port_cannot_open_the_chats_socket(browser, server,
                                                                      tmp_path):
    context, chat_page = _new_page(browser)
    try:
        _open(chat_page, server.url)  # the user has the chat open: the browser holds its cookie
        port = int(server.url.rsplit(":", 1)[1])
        with _attacker_site(port) as evil_url:
            assert evil_url.split(":")[2] != str(port)
            evil = context.new_page()
            evil.goto(evil_url)
            evil.wait_for_function(
                "window.result.done || window.result.connected", timeout=60_000)
            evil.wait_for_function("window.result.polling !== null", timeout=60_000)
            result = evil.evaluate("window.result")
            evil.screenshot(path=tmp_path / "attacker.png")
        assert not result["connected"], result
        assert "open" not in result["events"], result  # the upgrade itself was refused
        assert not any(e.startswith("message:") for e in result["events"]), result
        assert result["polling"] == "blocked", result
        # the user's own chat is unaffected
        text, _ = _ask(chat_page, "What is our weighted pipeline?")
        assert "weighted pipeline" in text.lower()
    finally:
        context.close()


HOSTILE_ACCOUNTS = [
    "Evil [Click me](https://evil.example/x) Corp",
    '<a href="https://evil.example/y">Acme</a> Ltd',
    "Heading\n# Injected ![img](https://evil.example/p.png)",
]


@pytest.fixture(scope="module")
def hostile_warehouse(raw_warehouse, demo_as_of, tmp_path_factory):
    """The demo org with its three largest open-pipeline accounts renamed into markup."""
    import duckdb

    from whizzy.build import build_warehouse

    home = tmp_path_factory.mktemp("hostile")
    path = home / "warehouse.duckdb"
    shutil.copyfile(raw_warehouse, path)
    con = duckdb.connect(str(path))
    try:
        top = con.execute("""
            select a.id from salesforce.opportunity o
            join salesforce.account a on a.id = o.account_id
            where not o.is_closed group by a.id order by sum(o.amount) desc limit 3""").fetchall()
        for (account_id,), name in zip(top, HOSTILE_ACCOUNTS, strict=True):
            con.execute("update salesforce.account set name = ? where id = ?", [name, account_id])
    finally:
        con.close()
    build_warehouse(path, as_of=demo_as_of, unit_tests=False)
    return home


_LINKS_TO_EVIL = """(root) => [...root.querySelectorAll('*')].flatMap((el) =>
    [...el.attributes].filter((a) => /href|src/i.test(a.name) && a.value.includes('evil.example'))
    .map((a) => el.tagName + ' ' + a.name + '=' + a.value))"""


def test_a_link_in_an_account_name_renders_as_text(browser, hostile_warehouse, tmp_path):
    srv = ChatServer(hostile_warehouse).start()
    try:
        context, pg = _new_page(browser)
        _open(pg, srv.url)
        text, _ = _ask(pg, "top 5 accounts by open pipeline")
        message = _last_message(pg)
        _wait_visible(pg, message.locator(".js-plotly-plot").first, tmp_path / "no-chart.png",
                      f"the chart of {text!r}")
        _settle(pg)
        pg.screenshot(path=tmp_path / "hostile-names.png")
        shown = message.locator('[role="article"]').first.inner_text().replace("\u2060", "")
        # the answer's text reads the names as they are written, markup and all
        assert "Evil [Click me](https://evil.example/x) Corp" in shown, shown
        assert "# Injected ![img](https://evil.example/p.png)" in shown, shown
        assert message.locator("h1, h2, h3, h4, h5, h6").count() == 0
        assert message.locator('[role="article"] img').count() == 0  # not even a placeholder
        # no link and no image anywhere on the page: not in the answer, not on the chart
        assert pg.evaluate(_LINKS_TO_EVIL, pg.locator("body").element_handle()) == []
        labels = " ".join(message.locator(".js-plotly-plot text").all_text_contents())
        assert '<a href="https://evil.example/y">Acme</a> Ltd' in labels, labels
        _assert_local_only(pg, srv.url)
        context.close()
    finally:
        srv.stop()


# --------------------------------------------------------------------------- files per server


def test_stopping_a_second_server_leaves_the_first_ones_charts(browser, built_warehouse,
                                                               tmp_path):
    """Two chats from the same checkout: stopping one never removes the other's files."""
    first = ChatServer(_home(built_warehouse, tmp_path / "first")).start()
    try:
        context, pg = _new_page(browser)
        files: list[str] = []
        pg.on("response", lambda r: files.append(r.url) if "/project/file/" in r.url else None)
        _open(pg, first.url)
        trend, _ = _ask(pg, "How has our win rate changed by quarter?")
        _wait_visible(pg, _last_message(pg).locator(".js-plotly-plot").first,
                      tmp_path / "first-chart.png", f"the chart of {trend!r}")
        assert files, "the chart's file was never fetched"
        second = ChatServer(_home(built_warehouse, tmp_path / "second")).start()
        second.stop()  # Chainlit removes its app root's .files on exit
        # the first server still serves the files it wrote before the second one stopped
        for url in files:
            assert pg.request.get(url).status == 200, url
        # and writes new ones: the next answer has its chart too
        text, _ = _ask(pg, "What is the average deal size by quarter?")
        _wait_visible(pg, _last_message(pg).locator(".js-plotly-plot").first,
                      tmp_path / "after-stop-chart.png", f"the chart of {text!r}")
        context.close()
    finally:
        first.stop()


# --------------------------------------------------------------------------- answer layout

#: Six typical answers, one per question family (health, trend, bottleneck, forecast,
#: executive summary, deal list); the screenshots the issue asks for are of these.
TYPICAL = [
    ("health", "How healthy is our pipeline this quarter?"),
    ("win-rate-trend", "How has our win rate changed by quarter?"),
    ("bottleneck", "Which stage is our bottleneck?"),
    ("forecast", "Show the revenue forecast trend"),
    ("executive-summary", "Give me the executive summary"),
    ("deal-list", "What are the biggest deals closing this quarter?"),
]

#: Where the 1440x900 screenshots of the typical answers go (kept after the run).
SHOTS = PROJECT_ROOT / ".whizzy" / "screenshots"

_ANSWER_PARTS = """(m) => {
    const article = m.querySelector('[role="article"]');
    const plot = m.querySelector('.js-plotly-plot');
    const table = m.querySelector('table');
    const pos = (el) => el ? el.getBoundingClientRect().top : null;
    return {text: pos(article), plot: pos(plot), table: pos(table),
            tables: m.querySelectorAll('table').length,
            plots: m.querySelectorAll('.js-plotly-plot').length,
            tableWidth: table ? table.getBoundingClientRect().width : 0,
            width: article ? article.getBoundingClientRect().width : 0};
}"""


def _check_picture(name: str, text: str, plot: dict) -> None:
    """What each typical answer's picture must show (the numbers are the queries')."""
    names = [t["name"] for t in plot["data"]]
    if name == "health":  # its four components, each out of 25, adding up to the score
        points = next(t for t in plot["data"] if t["name"] == "points")
        assert len(points["x"]) == 4 and all(t.endswith("/ 25") for t in points["text"]), points
        score = int(re.search(r"score in \S+ \S+ is (\d+)", text).group(1))
        assert sum(points["x"]) == score, (points, text)
        assert "each out of 25 points" in plot["title"]
    elif name == "forecast":  # actuals from the query, then the months ahead, band from $0
        actual = next(t for t in plot["data"] if t["name"] == "Actual revenue")
        shown = [x for x, y in zip(actual["x"], actual["y"], strict=True) if y is not None]
        assert shown and max(shown) <= "2026-11", shown  # actuals up to the as-of month
        assert max(actual["x"]) >= "2027-05", actual["x"]  # and 6 months ahead of it
        lower = plot["data"][names.index("95% interval") - 1]
        assert min(v for v in lower["y"] if v is not None) >= 0, lower["y"]
    elif name == "executive-summary":  # cards: caption (period, scope), figure, change
        notes = plot["annotations"]
        at = notes.index("Won revenue")
        assert notes[at + 2] == "quarter to date", notes
        assert " vs same days last quarter (" in notes[at + 3], notes
        at = notes.index("Overdue open deals")  # each overdue figure says its scope
        assert notes[at + 2] == "share of all open pipeline now", notes


def test_every_typical_answer_has_one_layout(browser, server, tmp_path):
    context = browser.new_context(viewport={"width": 1440, "height": 900})
    pg = context.new_page()
    failed: list[str] = []
    pg.on("response", lambda r: failed.append(f"{r.status} {r.url}") if r.status >= 400
          else None)
    SHOTS.mkdir(parents=True, exist_ok=True)
    try:
        for name, question in TYPICAL:
            _open(pg, server.url)  # one answer per thread: the screenshot shows it alone
            text, _ = _ask(pg, question)
            message = _last_message(pg)
            how = pg.get_by_text("How I got this", exact=False)
            _wait_visible(pg, how.first, tmp_path / f"{name}-no-how.png",
                          f"the How I got this step of {text!r}")
            # every table comes with its CSV: once the answer's elements are all shown (no
            # loading placeholder left), it has one table per CSV, and no more
            from playwright.sync_api import expect

            csv_files = message.get_by_text(re.compile(r"\.csv$")).count()
            expect(message.locator(".animate-pulse")).to_have_count(0, timeout=60_000)
            expect(message.locator("table")).to_have_count(csv_files, timeout=60_000)
            # laid out before measured: while the step re-renders (a busy machine), every
            # box reads 0; wait on the answer's own box having a width, not on a clock
            pg.wait_for_function(
                "() => { const ms = document.querySelectorAll("
                "'[data-step-type=\"assistant_message\"]');"
                " const a = ms.length && ms[ms.length - 1].querySelector('[role=\"article\"]');"
                " return a && a.getBoundingClientRect().width > 0; }", timeout=60_000)
            parts = message.evaluate(_ANSWER_PARTS)
            assert parts["tables"] <= 1, (name, parts)  # one table, never two side by side
            if parts["plot"] is not None and parts["table"] is not None:
                assert parts["text"] < parts["plot"] < parts["table"], (name, parts)
            if parts["table"] is not None:  # full width, not a column of a split row
                assert parts["tableWidth"] >= 0.9 * parts["width"], (name, parts)
            assert how.count() == 1, f"{name}: {how.count()} How I got this steps"
            assert pg.get_by_text("Used intent classifier", exact=False).count() == 0
            deals = pg.get_by_text("behind this answer", exact=False)
            assert deals.count() <= 1, name
            if name == "deal-list":  # the deals are the table: never shown twice
                assert deals.count() == 0
            if deals.count():  # collapsed: its table shows only when opened
                assert pg.locator("table").count() == parts["tables"], name
            if name != "deal-list":  # a picture for every figure (a list of deals is none)
                assert parts["plots"] == 1, (name, parts)
                _check_picture(name, text, _plot(pg, message, tmp_path / f"{name}-no-plot.png",
                                                 f"the picture of {text!r}"))
            if parts["plots"]:
                message.locator(".js-plotly-plot .main-svg").first.wait_for()
            pg.screenshot(path=SHOTS / f"{name}.png")
            # the step holds the SQL of every query, the deals query included
            how.first.click()
            sql = pg.locator("code", has_text=re.compile("select", re.I))
            _wait_visible(pg, sql.first, tmp_path / f"{name}-no-sql.png", "the SQL")
            if deals.count():
                assert pg.get_by_text("the deals behind it", exact=False).count() >= 1, name
        # no avatar (or any other request) fails; /user answers 401 once, before sign-in
        assert [f for f in failed if not f.endswith("/user")] == [], failed
    finally:
        context.close()


# --------------------------------------------------------------------------- export


def _xlsx_rows(path: Path) -> list[list[str]]:
    """The cells of an XLSX file's first sheet as text (stdlib only: it is a zip of XML)."""
    import xml.etree.ElementTree as ET
    import zipfile

    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(path) as z:
        shared = []
        if "xl/sharedStrings.xml" in z.namelist():
            root = ET.fromstring(z.read("xl/sharedStrings.xml"))
            shared = ["".join(t.text or "" for t in si.iter(f"{{{ns['m']}}}t"))
                      for si in root.findall("m:si", ns)]
        sheet = ET.fromstring(z.read("xl/worksheets/sheet1.xml"))
    rows = []
    for row in sheet.iter(f"{{{ns['m']}}}row"):
        cells = []
        for c in row.findall("m:c", ns):
            v = c.find("m:v", ns)
            text = "" if v is None else v.text or ""
            cells.append(shared[int(text)] if c.get("t") == "s" else text)
        rows.append(cells)
    return rows


def test_a_table_downloads_as_csv_and_xlsx_and_export_this_answers_with_the_file(
        page, server, tmp_path):
    import csv

    _open(page, server.url)
    text, _ = _ask(page, "Who are the top 5 reps by win rate?")
    message = _last_message(page)
    table = message.locator("table").first
    _wait_visible(page, table, tmp_path / "no-table.png", f"the table of {text!r}")
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    first_col = [r.strip() for r in table.locator("tbody tr td:first-child").all_inner_texts()]
    csv_link = message.get_by_text(re.compile(r"whizzy-who-are-the-top-5-reps.*as-of-2026-11-15"
                                              r"\.csv"))
    xlsx_link = message.get_by_text(re.compile(r"whizzy-who-are-the-top-5-reps.*\.xlsx"))
    _wait_visible(page, csv_link.first, tmp_path / "no-csv.png", "the CSV download")
    with page.expect_download() as got:
        csv_link.first.click()
    csv_path = tmp_path / got.value.suggested_filename
    got.value.save_as(csv_path)
    with csv_path.open(newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0][: len(headers)] == headers, (rows[0], headers)
    assert [r[0] for r in rows[1:]][: len(first_col)] == first_col
    with page.expect_download() as got:
        xlsx_link.first.click()
    xlsx_path = tmp_path / got.value.suggested_filename
    got.value.save_as(xlsx_path)
    sheet = _xlsx_rows(xlsx_path)
    assert sheet[0][: len(headers)] == headers and len(sheet) == len(rows)
    assert [r[0] for r in sheet[1:]][: len(first_col)] == first_col
    # "download this" about the answer on screen is answered with the file
    reply, _ = _ask(page, "Download this as CSV")
    assert "table of the last answer" in reply
    files = _last_message(page).get_by_text(re.compile(r"\.(csv|xlsx)$"))
    _wait_visible(page, files.first, tmp_path / "no-export-file.png", "the exported file")
    names = [t.strip() for t in files.all_inner_texts()]
    assert names and all(n.endswith(".csv") for n in names), names  # CSV only, as asked
    assert any(n.startswith("whizzy-who-are-the-top-5-reps") for n in names), names
    # a bulk dump stays refused
    refusal, _ = _ask(page, "Export all accounts to a CSV file")
    assert "can't" in refusal.lower() or "cannot" in refusal.lower(), refusal


# --------------------------------------------------------------------------- choices


def test_a_choice_button_asks_the_resolved_question_and_buttons_come_back_on_resume(
        browser, server, tmp_path):
    context, pg = _new_page(browser)
    try:
        _open(pg, server.url)
        text, _ = _ask(pg, "How is Sofia doing?")
        assert "which one" in text.lower(), text
        choice = _last_message(pg).get_by_role("button", name="Sofia Vargas")
        _wait_visible(pg, choice, tmp_path / "no-choice.png", "the Sofia Vargas button")
        _idle(pg)
        _mark_answers(pg)
        choice.click()
        answer, _ = _wait_new_answer(pg)
        asked = pg.locator('[data-step-type="user_message"]', has_text="How is Sofia Vargas doing?")
        _wait_visible(pg, asked.first, tmp_path / "no-asked.png", "the resolved question")
        assert "Sofia Vargas" in answer, answer
        follow = _last_message(pg).get_by_role("button", name="Why?")
        _wait_visible(pg, follow, tmp_path / "no-follow-up.png", "the follow-up button")
        thread_url = pg.url
        assert "/thread/" in thread_url
        # the thread's URL in another browser (same owner): that thread, with its buttons
        other, pg2 = _new_page(browser)
        try:
            pg2.goto(thread_url)
            old = pg2.locator('[data-step-type="user_message"]',
                              has_text="How is Sofia Vargas doing?")
            _wait_visible(pg2, old.first, tmp_path / "url-not-thread.png", "the thread")
            restored = pg2.locator('[data-step-type="assistant_message"]').last \
                .get_by_role("button", name="Why?")
            _wait_visible(pg2, restored, tmp_path / "no-restored-follow-up.png",
                          "the restored follow-up button")
            pg2.screenshot(path=tmp_path / "resumed-buttons.png")
        finally:
            other.close()
    finally:
        context.close()


# --------------------------------------------------------------------------- dark mode


def _luminance(css_color: str) -> float:
    r, g, b = (int(x) for x in re.findall(r"\d+", css_color)[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_charts_follow_the_dark_theme(browser, server, tmp_path):
    context, pg = _new_page(browser)
    try:
        context.add_init_script("localStorage.setItem('vite-ui-theme', 'dark')")
        _open(pg, server.url)
        assert "dark" in (pg.locator("html").get_attribute("class") or "")
        text, _ = _ask(pg, "How has our win rate changed by quarter?")
        plot = _last_message(pg).locator(".js-plotly-plot .main-svg").first
        _wait_visible(pg, plot, tmp_path / "dark-no-chart.png", f"the chart of {text!r}")
        label = _last_message(pg).locator(".js-plotly-plot .xtick text").first
        label.wait_for()
        ink = label.evaluate("e => getComputedStyle(e).fill")
        background = plot.evaluate("e => getComputedStyle(e).backgroundColor")
        page_bg = pg.locator("body").evaluate("e => getComputedStyle(e).backgroundColor")
        pg.screenshot(path=tmp_path / "dark.png")
        assert _luminance(page_bg) < 0.3, page_bg  # the page is dark
        assert _luminance(ink) > 0.6, ink  # the chart's text is light on it
        assert background in ("rgba(0, 0, 0, 0)", "transparent"), background  # no white box
        # a KPI card's words are the page's ink too
        text, _ = _ask(pg, "What is our weighted pipeline?")
        _plot(pg, _last_message(pg), tmp_path / "dark-no-card.png", f"the card of {text!r}")
        value = _last_message(pg).locator(".js-plotly-plot .annotation-text").nth(1)
        assert _luminance(value.evaluate("e => getComputedStyle(e).fill")) > 0.6
        pg.screenshot(path=tmp_path / "dark-card.png")
    finally:
        context.close()


# --------------------------------------------------------------------------- pictures


def test_a_single_figure_is_a_card_with_its_period_change_and_trend(page, server, expected,
                                                                   tmp_path):
    from whizzy.core.formatting import format_change, format_percent

    _open(page, server.url)
    text, _ = _ask(page, "What was the win rate in the previous quarter?")
    assert matches(expected["q3"], text), text
    plot = _plot(page, _last_message(page), tmp_path / "no-card.png", f"the card of {text!r}")
    notes = plot["annotations"]
    assert notes[:3] == ["Win rate", format_percent(expected["q3"]), "Q3 2026"], notes
    change = format_change(expected["q3"] - expected["q2"], "percent")
    assert f"{change} vs Q2 2026 ({format_percent(expected['q2'])})" in notes, notes
    (trend,) = plot["data"]  # the small trend: the quarters up to Q3 2026, oldest first
    assert trend["x"][-1] == "2026-Q3" and len(trend["x"]) == 8, trend["x"]
    assert trend["x"] == sorted(trend["x"])
    assert abs(trend["y"][-1] - expected["q3"]) < 1e-6 and abs(
        trend["y"][-2] - expected["q2"]) < 1e-6
    _last_message(page).screenshot(path=tmp_path / "kpi-card.png")
    # a figure of no period has no period before: a card, and not a word of a change
    text, _ = _ask(page, "What is our weighted pipeline?")
    plot = _plot(page, _last_message(page), tmp_path / "no-card-2.png", f"the card of {text!r}")
    assert plot["annotations"][0] == "Weighted pipeline", plot["annotations"]
    assert not any(" vs " in n for n in plot["annotations"]), plot["annotations"]
    assert plot["data"] == []  # no trend drawn without one


def test_a_ranked_rate_shows_each_bars_sample_and_marks_the_thin_ones(page, server, tmp_path):
    _open(page, server.url)
    text, _ = _ask(page, "Win rate by rep this quarter")
    message = _last_message(page)
    plot = _plot(page, message, tmp_path / "no-bars.png", f"the bars of {text!r}")
    (bars,) = plot["data"]
    sizes = [int(re.search(r"n = ([\d,]+)", t).group(1).replace(",", "")) for t in bars["text"]]
    assert len(sizes) == len(bars["y"]) >= 2
    thin = ["thin sample" in t for t in bars["text"]]
    assert thin == [n < 20 for n in sizes], bars["text"]  # the catalog's minimum: 20
    assert any(thin), bars["text"]  # this quarter's samples are small
    assert any("fewer than 20 closed deals" in n for n in plot["annotations"])
    # each bar's sample is the table's: the same query
    table = message.locator("table").filter(
        has=page.locator("th", has_text=re.compile("sample", re.I))).first
    _wait_visible(page, table, tmp_path / "no-table.png", "the table with the sample sizes")
    headers = [h.strip().lower() for h in table.locator("thead th").all_inner_texts()]
    at = next(i for i, h in enumerate(headers) if "sample" in h)
    cells = [r.strip().replace(",", "") for r in
             table.locator(f"tbody tr td:nth-child({at + 1})").all_inner_texts()]
    assert [int(c) for c in cells[: len(sizes)]] == sizes[: len(cells)]
    message.screenshot(path=tmp_path / "thin-samples.png")
