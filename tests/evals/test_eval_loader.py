"""The case loader: the committed cases load, and bad files give errors naming file and case."""

import doctest
import importlib

import pytest

from evals import CASES_DIR
from evals.loader import EXPECTS, INTENTS, load_cases
from whizzy.core.errors import EvalCaseError

GOOD = """\
- id: hi
  question: hello there
  intent: smalltalk
- id: win-rate-q3
  question: What was our win rate in Q3?
  intent: analytics
  models: [fct_opportunity]
  gold_sql: select 0.31
  expect: first_row
  tolerance: 0.01
  thread: t1
  must_contain: ["Q3"]
  must_not_contain: ["error"]
"""


def write(tmp_path, text, name="family_a.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_good_file_loads_every_key(tmp_path):
    hi, q3 = load_cases([write(tmp_path, GOOD)])
    assert (hi.id, hi.intent, hi.family, hi.expect, hi.thread, hi.models) == (
        "hi", "smalltalk", "family_a", "first_value", None, ())
    assert q3.models == ("fct_opportunity",) and q3.gold_sql.strip() == "select 0.31"
    assert (q3.expect, q3.tolerance, q3.thread, q3.thread_key) == (
        "first_row", 0.01, "t1", "family_a/t1")
    assert q3.must_contain == ("Q3",) and q3.must_not_contain == ("error",)


def test_folder_loads_files_in_name_order(tmp_path):
    write(tmp_path, "- {id: b1, question: b, intent: help}\n", "b.yaml")
    write(tmp_path, "- {id: a1, question: a, intent: help}\n", "a.yaml")
    (tmp_path / "notes.txt").write_text("not a case file")
    assert [c.id for c in load_cases([tmp_path])] == ["a1", "b1"]


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("- id: x\n  question: [unclosed\n", "invalid YAML"),
        ("- id: x\n  question: q\n  intent: help\n  colour: red\n", "unknown key(s) colour"),
        ("- id: x\n  question: q\n", "missing required key(s) intent"),
        ("- question: q\n  intent: help\n", "missing required key(s) id"),
        ("- id: x\n  question: q\n  intent: chit-chat\n", "intent must be one of"),
        ("- id: x\n  question: q\n  intent: help\n  gold_sql: select 1\n  expect: some\n",
         "expect must be one of"),
        ("- id: x\n  question: q\n  intent: help\n  expect: first_row\n", "no gold_sql"),
        ("- id: x\n  question: q\n  intent: help\n  tolerance: 5\n", "tolerance must be"),
        ("- id: x\n  question: q\n  intent: help\n  models: fct_opportunity\n",
         "models must be a list"),
        ("- id: x\n  question: q\n  intent: help\n  must_contain: [1]\n",
         "must_contain must be a list"),
        ("- id: x\n  question: yes\n  intent: help\n", "question must be text"),
        ("- id: has space\n  question: q\n  intent: help\n", "id must be"),
        ("- id: x\n  question: q\n  intent: help\n  gold_sql: ''\n", "gold_sql must be"),
        ("- id: x\n  id: y\n  question: q\n  intent: help\n", "given twice"),
        ("id: x\nquestion: q\n", "expected a YAML list"),
        ("- just a string\n", "expected a mapping"),
        ("", "holds no cases"),
        ("- {id: x, question: q, intent: help}\n- {id: x, question: r, intent: help}\n",
         "duplicate id"),
    ],
)
def test_bad_files_name_file_case_and_problem(tmp_path, text, needle):
    path = write(tmp_path, text)
    with pytest.raises(EvalCaseError) as err:
        load_cases([path])
    message = str(err.value)
    assert needle in message
    assert str(path) in message


def test_error_names_the_case(tmp_path):
    text = "- {id: fine, question: q, intent: help}\n- {id: broken, question: q, intent: nope}\n"
    with pytest.raises(EvalCaseError, match="case 'broken': intent must be one of"):
        load_cases([write(tmp_path, text)])


def test_yaml_error_gives_line(tmp_path):
    with pytest.raises(EvalCaseError, match=r"line 2, column \d+: invalid YAML: mapping values"):
        load_cases([write(tmp_path, "- id: x\n  question: q: r\n  intent: help\n")])


def test_duplicate_ids_across_files_name_both(tmp_path):
    first = write(tmp_path, "- {id: dup, question: q, intent: help}\n", "a.yaml")
    second = write(tmp_path, "- {id: dup, question: q, intent: help}\n", "b.yaml")
    with pytest.raises(EvalCaseError) as err:
        load_cases([tmp_path])
    assert str(second) in str(err.value) and str(first) in str(err.value)


def test_missing_path_is_clear(tmp_path):
    with pytest.raises(EvalCaseError, match="No case file or folder"):
        load_cases([tmp_path / "nope.yaml"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(EvalCaseError, match=r"No \*.yaml case files"):
        load_cases([tmp_path / "empty"])


def test_committed_cases_load_and_cover_the_suite():
    cases = load_cases([CASES_DIR])
    assert len(cases) >= 100
    assert {c.intent for c in cases} == set(INTENTS)
    assert {c.expect for c in cases} <= set(EXPECTS)
    threads = {c.thread_key for c in cases if c.thread_key}
    assert len(threads) >= 4
    for key in threads:
        turns = [c for c in cases if c.thread_key == key]
        assert len(turns) >= 2, f"thread {key} has a single turn"
    # every data answer is checked against gold SQL (hostile inputs may only check what is absent)
    # (a question the data cannot answer, or one answered with a question, has no gold)
    analytic = [c for c in cases
                if c.intent in ("analytics", "lookup", "briefing") and c.family != "hostile"
                and c.expect not in ("unanswerable", "clarify")]
    assert all(c.gold_sql for c in analytic), [c.id for c in analytic if not c.gold_sql]


@pytest.mark.parametrize(
    "module",
    ["evals.matching", "evals.loader", "evals.evaluators", "evals.runner", "evals.report",
     "evals.warehouse"],
)
def test_doctests(module):
    # `make test` collects tests/ only, so the evals modules' docstring examples run here.
    result = doctest.testmod(
        importlib.import_module(module),
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS,
    )
    assert result.failed == 0


def test_an_unquoted_hash_in_a_question_is_an_error(tmp_path):
    # YAML reads " #" as a comment: "top 3 reps by # of opps" would be asked as "top 3 reps by"
    bad = "- id: hash\n  question: top 3 reps by # of opps created\n  intent: analytics\n"
    with pytest.raises(EvalCaseError, match=r"line 2: the question holds ' #'.*quote"):
        load_cases([write(tmp_path, bad)])
    quoted = bad.replace("top 3 reps by # of opps created", '"top 3 reps by # of opps created"')
    (case,) = load_cases([write(tmp_path, quoted)])
    assert case.question == "top 3 reps by # of opps created"
