"""Every module's docstring examples run as tests, found by walking the packages.

No list to keep up to date: a new module under agents/, whizzy/ or evals/ (and graph.py) is
collected as soon as it exists. app.py is left out: importing it starts the Chainlit app.
"""

import doctest
import importlib
import pkgutil

import pytest

import agents
import evals
import whizzy

MODULES = sorted(
    ["graph"] + [info.name for package in (agents, whizzy, evals)
                 for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
                 if not info.name.endswith(".__main__")]
)


def test_every_package_is_walked():
    assert {"whizzy.core.formatting", "agents.periods", "evals.loader", "whizzy.cli.ask",
            "whizzy.warehouse.gate"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} docstring example(s) of {name} failed"
