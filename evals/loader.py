"""Load eval cases from YAML files and check them; every problem names its file and case.

A case file is a YAML list of cases in the format of `evals/cases/README.md`. The family of a
case is its file's name without the extension (`win_rate.yaml` → `win_rate`).

>>> import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "smalltalk.yaml").write_text("- id: hi\\n  question: hello\\n  intent: smalltalk\\n")
>>> [(c.id, c.family, c.expect) for c in load_cases([d])]
[('hi', 'smalltalk', 'first_value')]
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from agents.contract import INTENTS
from whizzy.core.errors import EvalCaseError

EXPECTS = ("first_value", "first_row", "all_rows", "clarify", "unanswerable")
#: Expectations that take values from the gold query (the others need none).
VALUE_EXPECTS = ("first_value", "first_row", "all_rows")
REQUIRED_KEYS = ("id", "question", "intent")
OPTIONAL_KEYS = (
    "models", "gold_sql", "expect", "tolerance", "thread", "must_contain", "must_not_contain",
    "bind",
)
#: A placeholder in a question, gold SQL or must_contain string: ``{{name}}`` of `bind`.
PLACEHOLDER = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]*$")


@dataclass(frozen=True, kw_only=True)
class EvalCase:
    """One question with what a right answer must show."""

    id: str
    question: str
    intent: str
    family: str
    file: Path
    models: tuple[str, ...] = ()
    gold_sql: str | None = None
    expect: str = "first_value"
    tolerance: float | None = None
    thread: str | None = None
    must_contain: tuple[str, ...] = ()
    must_not_contain: tuple[str, ...] = ()
    #: Placeholder name → SQL returning one value on the raw tables (see cases/README.md).
    bind: tuple[tuple[str, str], ...] = ()
    line: int | None = field(default=None, compare=False)

    @property
    def thread_key(self) -> str | None:
        """The conversation this case belongs to (threads are scoped to their file)."""
        return f"{self.family}/{self.thread}" if self.thread else None

    @property
    def is_refusal(self) -> bool:
        """Whether the right answer is a refusal."""
        return self.intent == "out_of_scope"


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that rejects a key given twice in one mapping (PyYAML keeps the last)."""

    def construct_mapping(self, node, deep=False):  # noqa: ANN001, ANN201, D102, FBT002
        seen: set = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice", key_node.start_mark
                )
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


def case_files(paths: Iterable[Path]) -> list[Path]:
    """YAML files named by `paths`: files as given, folders expanded to their sorted `*.yaml`.

    >>> case_files([Path("/surely/not/there.yaml")])
    Traceback (most recent call last):
    ...
    whizzy.core.errors.EvalCaseError: No case file or folder at /surely/not/there.yaml.
    """
    files: list[Path] = []
    for path in map(Path, paths):
        if path.is_dir():
            files += sorted(p for p in path.iterdir() if p.suffix in (".yaml", ".yml"))
        elif path.is_file():
            files.append(path)
        else:
            raise EvalCaseError(f"No case file or folder at {path}.")
    if not files:
        raise EvalCaseError(f"No *.yaml case files in {', '.join(map(str, paths))}.")
    return files


def load_cases(paths: Iterable[Path]) -> list[EvalCase]:
    """Every case in the files (or folders of files) `paths`, in file order.

    Raises:
        EvalCaseError: a file is not valid YAML, or a case has an unknown or missing key, a
            bad value, or an id another case already uses.
    """
    cases: list[EvalCase] = []
    where: dict[str, Path] = {}
    for file in case_files(paths):
        for case in load_file(file):
            if case.id in where:
                raise EvalCaseError(
                    f"{file}: case {case.id!r}: duplicate id (already used in {where[case.id]})."
                )
            where[case.id] = file
            cases.append(case)
    return cases


def load_file(file: Path) -> list[EvalCase]:
    """The cases in one YAML file, checked."""
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise EvalCaseError(f"{file}: not UTF-8 text ({exc.reason}).") from exc
    try:
        data = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise EvalCaseError(f"{file}:{at} invalid YAML: {problem}.") from exc
    for number, line in enumerate(text.splitlines(), 1):
        said = re.match(r"\s*-?\s*question:\s*(?P<q>[^\"'\s].*)$", line)
        if said and re.search(r"\s#", said.group("q")):
            # "question: top 3 reps by # of opps": YAML reads " #" as a comment and cuts it
            raise EvalCaseError(f"{file}: line {number}: the question holds ' #', which YAML "
                                "reads as the start of a comment; quote the question.")
    if data is None:
        raise EvalCaseError(f"{file}: holds no cases (expected a YAML list of cases).")
    if not isinstance(data, list):
        raise EvalCaseError(f"{file}: expected a YAML list of cases, found {_kind(data)}.")
    lines = _item_lines(text)
    seen: set[str] = set()
    cases = []
    for index, raw in enumerate(data):
        case = _case(file, index, raw, lines[index] if index < len(lines) else None)
        if case.id in seen:
            raise EvalCaseError(f"{file}: case {case.id!r}: duplicate id in the same file.")
        seen.add(case.id)
        cases.append(case)
    return cases


def _case(file: Path, index: int, raw: object, line: int | None) -> EvalCase:
    label = f"case #{index + 1}" + (f" (line {line})" if line else "")
    if not isinstance(raw, dict):
        raise EvalCaseError(f"{file}: {label}: expected a mapping of keys, found {_kind(raw)}.")
    if isinstance(raw.get("id"), str) and raw["id"].strip():
        label = f"case {raw['id']!r}"

    def fail(problem: str) -> EvalCaseError:
        return EvalCaseError(f"{file}: {label}: {problem}")

    unknown = [str(k) for k in raw if k not in REQUIRED_KEYS + OPTIONAL_KEYS]
    if unknown:
        allowed = ", ".join(REQUIRED_KEYS + OPTIONAL_KEYS)
        raise fail(f"unknown key(s) {', '.join(unknown)} (allowed: {allowed}).")
    missing = [k for k in REQUIRED_KEYS if k not in raw]
    if missing:
        raise fail(f"missing required key(s) {', '.join(missing)}.")
    case_id = raw["id"]
    if not isinstance(case_id, str) or not _ID.match(case_id):
        raise fail(f"id must be letters, digits, '-', '_', '.' or ':' (got {case_id!r}).")
    if not isinstance(raw["question"], str):
        raise fail(f"question must be text (got {_kind(raw['question'])}; quote it in YAML).")
    if raw["intent"] not in INTENTS:
        raise fail(f"intent must be one of {', '.join(INTENTS)} (got {raw['intent']!r}).")
    gold_sql = raw.get("gold_sql")
    if gold_sql is not None and (not isinstance(gold_sql, str) or not gold_sql.strip()):
        raise fail("gold_sql must be a non-empty SQL text.")
    expect = raw.get("expect", "first_value")
    if expect not in EXPECTS:
        raise fail(f"expect must be one of {', '.join(EXPECTS)} (got {expect!r}).")
    if expect in VALUE_EXPECTS and "expect" in raw and gold_sql is None:
        raise fail("expect is set but there is no gold_sql to take values from.")
    if expect not in VALUE_EXPECTS and gold_sql is not None:
        raise fail(f"expect {expect} takes no gold_sql (the right answer states no figure).")
    bind = raw.get("bind") or {}
    if not isinstance(bind, dict) or not all(
        isinstance(k, str) and re.fullmatch(r"[a-z_][a-z0-9_]*", k)
        and isinstance(v, str) and v.strip() for k, v in bind.items()
    ):
        raise fail("bind must map lower-case names to SQL texts, e.g. {rep: select ...}.")
    used = {m for text in [raw["question"], gold_sql or "", *(raw.get("must_contain") or []),
                           *(raw.get("must_not_contain") or [])]
            if isinstance(text, str) for m in PLACEHOLDER.findall(text)}
    if used - set(bind):
        raise fail(f"placeholder(s) {', '.join(sorted(used - set(bind)))} have no bind query.")
    tolerance = raw.get("tolerance")
    if tolerance is not None and (
        isinstance(tolerance, bool) or not isinstance(tolerance, (int, float))
        or not 0 <= tolerance < 1
    ):
        raise fail(f"tolerance must be a number from 0 to 1, e.g. 0.005 (got {tolerance!r}).")
    thread = raw.get("thread")
    if thread is not None and (isinstance(thread, bool) or not isinstance(thread, (str, int))):
        raise fail(f"thread must be a name (got {_kind(thread)}).")
    return EvalCase(
        id=case_id,
        question=raw["question"],
        intent=raw["intent"],
        family=file.stem,
        file=file,
        models=_strings(raw, "models", fail),
        gold_sql=gold_sql,
        expect=expect,
        tolerance=None if tolerance is None else float(tolerance),
        thread=None if thread is None else str(thread),
        must_contain=_strings(raw, "must_contain", fail),
        must_not_contain=_strings(raw, "must_not_contain", fail),
        bind=tuple((k, v) for k, v in bind.items()),
        line=line,
    )


def _strings(raw: dict, key: str, fail) -> tuple[str, ...]:  # noqa: ANN001
    value = raw.get(key)
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise fail(f"{key} must be a list of non-empty strings, e.g. [a, b] (got {value!r}).")
    return tuple(value)


def _kind(value: object) -> str:
    return {dict: "a mapping", list: "a list", str: "text"}.get(type(value), type(value).__name__)


def _item_lines(text: str) -> list[int]:
    """1-based line numbers of the top-level list items (for messages)."""
    return [n for n, line in enumerate(text.splitlines(), start=1) if line.startswith("- ")]
