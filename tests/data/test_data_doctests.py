"""Run the docstring examples of the data modules (`make test` collects only tests/)."""

from __future__ import annotations

import doctest
import importlib

import pytest


@pytest.mark.parametrize("module", ["whizzy.data.ids", "whizzy.data.names",
                                    "whizzy.data.importer", "whizzy.data.export"])
def test_docstring_examples(module: str) -> None:
    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
