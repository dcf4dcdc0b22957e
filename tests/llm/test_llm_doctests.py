"""The docstring examples of agents/llm run as tests (testpaths only collects tests/)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import agents.llm

MODULES = sorted(m.name for m in pkgutil.iter_modules(agents.llm.__path__, "agents.llm."))


def test_modules_are_listed():
    assert {"agents.llm.grounding", "agents.llm.settings", "agents.llm.prompts"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    assert result.failed == 0
