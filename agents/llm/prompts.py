"""Prompts as validated data: one file per node in ``prompts/``, one template object.

A prompt file is Markdown with a YAML front matter that declares its variables, and
sections introduced by ``## <name>`` (``system``, ``user``, and any extra such as
``repair``). Placeholders are written ``{{name}}``. Loading fails when a placeholder is not
declared or a declared variable is never used; rendering fails when a value is missing or
unexpected — a prompt can never go out with a hole in it (house style 6).

>>> p = Prompt.parse("demo", '''---
... description: demo
... variables: [persona, question]
... ---
... ## system
... You help a {{persona}}.
... ## user
... {{question}}
... ''')
>>> p.render("system", persona="sales manager")
'You help a sales manager.'
>>> p.render("user")
Traceback (most recent call last):
...
agents.llm.prompts.PromptError: prompt demo/user is missing the variable(s) question
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from whizzy.core.settings import PROJECT_ROOT

#: Where the prompt files live.
PROMPTS_DIR = PROJECT_ROOT / "prompts"

_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
_SECTION = re.compile(r"^##\s+([A-Za-z_][A-Za-z0-9_]*)\s*$", re.M)


class PromptError(ValueError):
    """A prompt file is invalid, or a render is missing (or given an unknown) variable."""


@dataclass(frozen=True)
class Prompt:
    """One prompt file: its sections and the variables they use."""

    name: str
    description: str
    variables: tuple[str, ...]
    sections: dict[str, str]

    @classmethod
    def parse(cls, name: str, text: str) -> Prompt:
        """Parse and validate the text of a prompt file."""
        match = re.match(r"^---\n(.*?)\n---\n(.*)$", text, re.S)
        if not match:
            raise PromptError(f"prompt {name} has no front matter (--- ... ---)")
        meta = yaml.safe_load(match.group(1)) or {}
        if not isinstance(meta, dict):
            raise PromptError(f"prompt {name}: front matter is not a mapping")
        declared = tuple(str(v) for v in meta.get("variables") or ())
        parts = _SECTION.split(match.group(2))
        sections = {parts[i]: parts[i + 1].strip() for i in range(1, len(parts) - 1, 2)}
        if not sections:
            raise PromptError(f"prompt {name} has no '## section' headings")
        used = {v for body in sections.values() for v in _PLACEHOLDER.findall(body)}
        if undeclared := sorted(used - set(declared)):
            raise PromptError(f"prompt {name} uses undeclared variable(s) {', '.join(undeclared)}")
        if unused := sorted(set(declared) - used):
            raise PromptError(f"prompt {name} declares unused variable(s) {', '.join(unused)}")
        return cls(name=name, description=str(meta.get("description") or ""),
                   variables=declared, sections=sections)

    def placeholders(self, section: str) -> set[str]:
        """Variables a section needs."""
        return set(_PLACEHOLDER.findall(self._section(section)))

    def _section(self, section: str) -> str:
        try:
            return self.sections[section]
        except KeyError:
            raise PromptError(f"prompt {self.name} has no section {section!r}") from None

    def render(self, section: str, **values: Any) -> str:
        """Fill one section; every placeholder must get a value and no value may be unknown."""
        body = self._section(section)
        needed = self.placeholders(section)
        if missing := sorted(needed - set(values)):
            raise PromptError(
                f"prompt {self.name}/{section} is missing the variable(s) {', '.join(missing)}")
        if unknown := sorted(set(values) - set(self.variables)):
            raise PromptError(f"prompt {self.name} has no variable(s) {', '.join(unknown)}")
        return _PLACEHOLDER.sub(lambda m: str(values[m.group(1)]), body)

    def messages(self, **values: Any) -> list[BaseMessage]:
        """The ``system`` and ``user`` sections as chat messages (all variables required)."""
        needed = self.placeholders("system") | self.placeholders("user")
        if missing := sorted(needed - set(values)):
            raise PromptError(f"prompt {self.name} is missing the variable(s) {', '.join(missing)}")
        system = self.render("system", **{k: v for k, v in values.items()
                                          if k in self.placeholders("system")})
        user = self.render("user", **{k: v for k, v in values.items()
                                      if k in self.placeholders("user")})
        if unknown := sorted(set(values) - set(self.variables)):
            raise PromptError(f"prompt {self.name} has no variable(s) {', '.join(unknown)}")
        return [SystemMessage(content=system), HumanMessage(content=user)]


_CACHE: dict[Path, tuple[float, Prompt]] = {}
_LOCK = threading.Lock()


def load_prompt(name: str, directory: Path = PROMPTS_DIR) -> Prompt:
    """The prompt ``<directory>/<name>.md``, parsed once per file version."""
    path = (directory / f"{name}.md").resolve()
    try:
        mtime = path.stat().st_mtime
    except FileNotFoundError:
        raise PromptError(f"no prompt file {path}") from None
    with _LOCK:
        cached = _CACHE.get(path)
        if cached and cached[0] == mtime:
            return cached[1]
    prompt = Prompt.parse(name, path.read_text(encoding="utf-8"))
    with _LOCK:
        _CACHE[path] = (mtime, prompt)
    return prompt


def persona_text(persona: str, directory: Path = PROMPTS_DIR) -> str:
    """How to speak to a persona, from ``prompts/personas.md`` (a section per persona).

    Unknown personas get the sales manager's text.
    """
    prompt = load_prompt("personas", directory)
    key = persona if persona in prompt.sections else "sales_manager"
    return prompt.render(key)
