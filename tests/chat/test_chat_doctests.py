"""The docstring examples of the chat helpers run as tests (`make test` collects only tests/)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["auth", "charts", "datalayer", "feedback", "freshness", "offline", "options",
           "personas", "render"]


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    module = importlib.import_module(f"whizzy.chat.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"whizzy.chat.{name} has no examples"
    assert result.failed == 0
