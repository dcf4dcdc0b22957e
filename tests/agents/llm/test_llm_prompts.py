"""Prompts are files, loaded through one template object that fails on a missing variable."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from agents.llm.prompts import PROMPTS_DIR, Prompt, PromptError, load_prompt, persona_text

NODE_PROMPTS = ["intent", "planner", "sql_writer", "responder"]
PERSONAS = ["executive", "sales_manager", "account_executive", "revops"]


@pytest.mark.parametrize("name", NODE_PROMPTS)
def test_each_node_prompt_loads_and_renders(name):
    prompt = load_prompt(name)
    assert {"system", "user"} <= set(prompt.sections)
    assert prompt.description
    values = {v: f"<{v}>" for v in prompt.variables}
    needed = prompt.placeholders("system") | prompt.placeholders("user")
    messages = prompt.messages(**{k: v for k, v in values.items() if k in needed})
    text = messages[0].content + messages[1].content
    assert "{{" not in text and "}}" not in text
    for var in needed:
        assert f"<{var}>" in text


@pytest.mark.parametrize("name", ["intent", "planner", "responder"])
def test_persona_is_a_variable(name):
    assert "persona" in load_prompt(name).placeholders("system")


@pytest.mark.parametrize("name", NODE_PROMPTS)
def test_missing_variable_fails(name):
    prompt = load_prompt(name)
    needed = sorted(prompt.placeholders("system") | prompt.placeholders("user"))
    values = {v: "x" for v in needed[1:]}
    with pytest.raises(PromptError, match=needed[0]):
        prompt.messages(**values)


def test_unknown_variable_fails():
    prompt = load_prompt("intent")
    values = {v: "x" for v in prompt.variables}
    with pytest.raises(PromptError, match="no variable"):
        prompt.messages(**values, temperature="hot")


def test_repair_section_of_sql_writer():
    text = load_prompt("sql_writer").render("repair", sql="select 1", error="boom")
    assert "select 1" in text and "boom" in text


def test_every_persona_has_a_text():
    for persona in PERSONAS:
        assert len(persona_text(persona)) > 40
    assert persona_text("nobody") == persona_text("sales_manager")


def test_invalid_files_fail_on_load(tmp_path: Path):
    bad = {
        "undeclared": "---\nvariables: []\n---\n## system\nHi {{who}}\n## user\nx\n",
        "unused": "---\nvariables: [a, b]\n---\n## system\n{{a}}\n## user\nx\n",
        "nofront": "## system\nx\n",
        "nosections": "---\nvariables: []\n---\njust text\n",
    }
    for name, text in bad.items():
        (tmp_path / f"{name}.md").write_text(text)
        with pytest.raises(PromptError):
            load_prompt(name, tmp_path)
    with pytest.raises(PromptError, match="no prompt file"):
        load_prompt("absent", tmp_path)


def test_no_prompt_text_in_python():
    """House style 6: the instructions live in prompts/, not in Python strings."""
    source = "\n".join(p.read_text() for p in (PROMPTS_DIR.parent / "agents" / "llm").glob("*.py"))
    for phrase in ("You write", "You are", "Rules:", "Choose exactly one intent"):
        assert not re.search(rf"[\"']{re.escape(phrase)}", source), phrase


def test_parse_is_pure():
    prompt = Prompt.parse("t", "---\nvariables: [x]\n---\n## system\n{{ x }}!\n## user\nok\n")
    assert prompt.render("system", x="hi") == "hi!"
