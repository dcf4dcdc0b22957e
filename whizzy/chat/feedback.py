"""Rated chat answers → eval cases (the format of `evals/cases/README.md`).

Every answer the chat sends carries, in its step metadata under `whizzy`, what the agent did:
question, intent, models, SQL, result columns and first row, answer text. Thumbs up/down
land in Chainlit's `feedbacks` table. `export_cases` joins the two:

- 👍 the answer was right. The case pins intent and models, and when the answer states values
  of the main query's first row, `gold_sql` selects exactly those columns from that query
  (`first_value` for one, `first_row` for several) — so it re-checks the same figures on any
  warehouse the eval runs on.
- 👎 the right answer is not known. The case keeps the question and the intent as it was
  classified, and `must_not_contain` holds the first sentence of the rejected answer, so
  the eval fails while the assistant still says it. A YAML comment above the case says so and
  asks for a `gold_sql` before the case joins `evals/cases/`.

A rated follow-up needs its conversation: the earlier questions of its thread are exported
before it, in the same `thread`, marked as context turns.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from evals.matching import matches
from whizzy.core.errors import WhizzyError

#: Key of the block in an answer step's metadata that records what the agent did.
META_KEY = "whizzy"


class FeedbackExportError(WhizzyError):
    """The chat database can't be read for export."""


@dataclass(kw_only=True)
class Turn:
    """One answered question of a chat thread, as recorded in the chat database."""

    step_id: str
    thread_id: str
    created_at: str
    question: str
    intent: str
    models: list[str] = field(default_factory=list)
    sql: list[str] = field(default_factory=list)
    columns: list[str] = field(default_factory=list)
    first_row: list[Any] = field(default_factory=list)
    answer: str = ""
    rating: int | None = None  # 1 up, 0 down, None not rated
    comment: str | None = None
    user: str | None = None


@dataclass(kw_only=True)
class ExportedCase:
    """One eval case plus the comment lines written above it."""

    case: dict[str, Any]
    comments: list[str]


def read_turns(chat_db: Path) -> list[Turn]:
    """Every recorded answer in the chat database, oldest first, with its rating."""
    if not chat_db.is_file():
        raise FeedbackExportError(
            f"No chat database at {chat_db}.",
            hint="rate some answers in `whizzy chat` first (persistence is on by default)",
        )
    try:
        con = sqlite3.connect(f"file:{chat_db}?mode=ro", uri=True)
    except sqlite3.Error as exc:  # pragma: no cover - connect only fails on odd files
        raise FeedbackExportError(f"Can't open the chat database {chat_db}: {exc}.") from exc
    try:
        # Chainlit 2 attaches a rating to the run that produced the message (the message's
        # parent step), or to the message itself: accept both.
        rows = con.execute(
            """
            select s."id", s."threadId", s."createdAt", s."metadata", s."output",
                   coalesce(f_msg."value", f_run."value"),
                   coalesce(f_msg."comment", f_run."comment"), t."userIdentifier"
            from steps s
            left join feedbacks f_msg on f_msg."forId" = s."id"
            left join feedbacks f_run on f_run."forId" = s."parentId"
            left join threads t on t."id" = s."threadId"
            where s."type" = 'assistant_message' and s."metadata" like '%"whizzy"%'
            order by s."createdAt", s."id"
            """
        ).fetchall()
    except sqlite3.DatabaseError as exc:
        raise FeedbackExportError(f"{chat_db} is not a Whizzy chat database ({exc}).") from exc
    finally:
        con.close()
    turns: list[Turn] = []
    for step_id, thread_id, created, meta_text, output, value, comment, user in rows:
        try:
            meta = json.loads(meta_text or "{}").get(META_KEY) or {}
        except (ValueError, AttributeError):
            continue
        if not meta.get("question"):
            continue
        turns.append(
            Turn(
                step_id=step_id,
                thread_id=thread_id,
                created_at=created or "",
                question=str(meta["question"]),
                intent=str(meta.get("intent") or "analytics"),
                models=[str(m) for m in meta.get("models") or []],
                sql=[str(s) for s in meta.get("sql") or []],
                columns=[str(c) for c in meta.get("columns") or []],
                first_row=list(meta.get("first_row") or []),
                answer=str(meta.get("answer") or output or ""),
                rating=None if value is None else int(value),
                comment=comment,
                user=user,
            )
        )
    return turns


def slug(text: str, max_len: int = 40) -> str:
    """A short id-safe slug of a question.

    >>> slug("What's our win rate, last quarter?")
    'what-s-our-win-rate-last-quarter'
    """
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return (s[:max_len].rstrip("-") or "question")


def first_sentence(text: str, max_len: int = 160) -> str:
    """The answer's first sentence (what a thumbs-down case must not repeat).

    >>> first_sentence("Win rate was 31.3% in Q3 2026. It rose 2.1 points.")
    'Win rate was 31.3% in Q3 2026.'
    """
    line = text.strip().splitlines()[0] if text.strip() else ""
    m = re.match(r"(.+?[.!?])(\s|$)", line)
    sentence = (m.group(1) if m else line).strip()
    return sentence[:max_len]


def stated_columns(columns: Sequence[str], first_row: Sequence[Any], answer: str) -> list[str]:
    """Columns of the first result row whose values the answer states.

    >>> stated_columns(["quarter_label", "win_rate", "won_count"], ["2026-Q3", 0.3125, 41],
    ...                "Win rate in Q3 2026 was 31.3%.")
    ['quarter_label', 'win_rate']
    """
    picked = []
    for col, value in zip(columns, first_row, strict=False):
        if value is None or isinstance(value, bool):
            continue
        if matches(_revive(value), answer):
            picked.append(col)
    return picked


def _revive(value: Any) -> Any:
    """Stored ISO dates back to dates (JSON has no date type)."""
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return dt.date.fromisoformat(value)
    return value


def gold_sql_for(sql: str, columns: Sequence[str]) -> str:
    """The main query narrowed to the stated columns of its first row.

    >>> print(gold_sql_for("select a, b from t order by b desc;", ["b"]))
    select "b"
    from (
      select a, b from t order by b desc
    ) as rated_answer
    limit 1
    """
    body = sql.strip().rstrip(";").strip()
    indented = "\n".join("  " + line for line in body.splitlines())
    cols = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    return f"select {cols}\nfrom (\n{indented}\n) as rated_answer\nlimit 1"


def _case_id(turn: Turn, used: set[str], prefix: str) -> str:
    base = f"{prefix}-{slug(turn.question)}-{turn.step_id[:8]}"
    cid, n = base, 2
    while cid in used:
        cid, n = f"{base}-{n}", n + 1
    used.add(cid)
    return cid


def _when(turn: Turn) -> str:
    return turn.created_at[:10] if turn.created_at else "unknown date"


def cases_for(turns: Sequence[Turn]) -> list[ExportedCase]:
    """Eval cases for the rated turns, with the earlier turns of their threads as context."""
    by_thread: dict[str, list[Turn]] = {}
    for t in turns:
        by_thread.setdefault(t.thread_id, []).append(t)
    out: list[ExportedCase] = []
    used: set[str] = set()
    for thread_id, thread_turns in by_thread.items():
        rated_idx = [i for i, t in enumerate(thread_turns) if t.rating is not None]
        if not rated_idx:
            continue
        last = max(rated_idx)
        thread_name = f"chat-{thread_id[:8]}" if last > 0 else None
        for turn in thread_turns[: last + 1]:
            if turn.rating is None:
                case = {"id": _case_id(turn, used, "context"), "question": turn.question,
                        "intent": turn.intent}
                comments = ["context turn (not rated): asked before a rated follow-up"]
            elif turn.rating >= 1:
                case, comments = _thumbs_up(turn, used)
            else:
                case, comments = _thumbs_down(turn, used)
            if thread_name:
                case["thread"] = thread_name
            out.append(ExportedCase(case=case, comments=comments))
    return out


def _thumbs_up(turn: Turn, used: set[str]) -> tuple[dict[str, Any], list[str]]:
    case: dict[str, Any] = {"id": _case_id(turn, used, "fb-up"), "question": turn.question,
                            "intent": turn.intent}
    if turn.models and turn.intent in ("analytics", "lookup", "briefing"):
        case["models"] = turn.models[:1]
    comments = [f"thumbs up on {_when(turn)}" + (f" by {turn.user}" if turn.user else "")
                + (f": {turn.comment}" if turn.comment else ""),
                f"answer given: {first_sentence(turn.answer)}"]
    stated = stated_columns(turn.columns, turn.first_row, turn.answer) if turn.sql else []
    if stated:
        case["gold_sql"] = gold_sql_for(turn.sql[0], stated)
        case["expect"] = "first_value" if len(stated) == 1 else "first_row"
    elif turn.sql:
        comments.append("the answer states no value of the main query's first row: no gold_sql")
    return case, comments


def _thumbs_down(turn: Turn, used: set[str]) -> tuple[dict[str, Any], list[str]]:
    case: dict[str, Any] = {"id": _case_id(turn, used, "fb-down"), "question": turn.question,
                            "intent": turn.intent}
    bad = first_sentence(turn.answer)
    if bad:
        case["must_not_contain"] = [bad]
    comments = [
        f"thumbs down on {_when(turn)}" + (f" by {turn.user}" if turn.user else "")
        + (f": {turn.comment}" if turn.comment else ""),
        "the right answer is unknown: intent is as classified at the time, and the case only",
        "checks that the rejected answer is not given again. Write gold_sql (on the raw",
        "salesforce tables) before adding this case to evals/cases/.",
    ]
    if turn.sql:
        comments.append("SQL that was run: " + " ".join(turn.sql[0].split())[:300])
    return case, comments


class _Dumper(yaml.SafeDumper):
    """Writes multi-line text (gold SQL) as YAML block scalars."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(cases: Sequence[ExportedCase], *, source: Path | None = None) -> str:
    """The cases as one YAML list, each preceded by its comment lines."""
    head = ["# Eval cases exported from rated chat answers by `whizzy feedback export`."]
    if source:
        head.append(f"# Source: {source}")
    head.append(f"# Cases: {len(cases)}")
    parts = ["\n".join(head)]
    for item in cases:
        text = yaml.dump(
            [item.case], Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
        )
        comments = "\n".join("# " + line for line in item.comments)
        parts.append(f"{comments}\n{text}".rstrip())
    return "\n\n".join(parts) + "\n"


def export_cases(chat_db: Path) -> tuple[str, int]:
    """YAML text of the eval cases for every rated answer, and how many cases it holds."""
    cases = cases_for(read_turns(chat_db))
    return to_yaml(cases, source=chat_db), len(cases)
