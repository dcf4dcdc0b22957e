"""Run the doctests of the agents package and graph.py (testpaths only covers tests/)."""

import doctest
import importlib

import pytest

MODULES = [
    "agents.formatting", "agents.periods", "agents.text", "agents.values", "agents.catalog",
    "agents.plan", "agents.sqlbuild", "agents.gate", "agents.intent", "agents.question",
    "agents.selector", "agents.state", "agents.executor", "agents.fusion", "agents.responder",
    "agents.assistant", "graph",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
