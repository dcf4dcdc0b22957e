"""Start Chainlit's command line with Literal AI's tracing SDK loaded only if it is used.

``import chainlit`` imports ``literalai``, whose client and step modules run ``from
traceloop.sdk import Traceloop`` at import. Loading ``traceloop.sdk`` (OpenTelemetry
exporters, pandas, aiohttp, …) was about 1 s of the chat's 1.6 s ``import chainlit`` on a
quiet 2-core machine, and 2–3 s under load. Traceloop is only called when a Literal AI
client traces something; Whizzy's chat keeps threads in its own data layer and never does.

So, before Chainlit is imported, ``traceloop.sdk`` is a stand-in module whose ``Traceloop``
loads the real SDK on first use and passes every attribute on: nothing is patched on disk,
and anything that does use it gets the real thing. With ``LITERAL_API_KEY`` set (Chainlit's
Literal AI data layer) the real SDK is imported as usual.

Run as ``python -m whizzy.chat.serve run app.py …`` (the arguments of ``chainlit``).
"""

from __future__ import annotations

import importlib
import os
import sys
import threading
import types
from collections.abc import Mapping
from typing import Any

#: The module replaced by a stand-in until first use.
SDK = "traceloop.sdk"
_LOCK = threading.RLock()


class _LazySDK(types.ModuleType):
    """Stands for `traceloop.sdk`; any attribute but `Traceloop` loads the real module."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(real_sdk(), name)


class _LazyTraceloop:
    """Stands for `traceloop.sdk.Traceloop` (a namespace of static methods) until used."""

    def __getattr__(self, name: str) -> Any:
        return getattr(real_sdk().Traceloop, name)

    def __repr__(self) -> str:
        return "<Traceloop, loaded on first use>"


def _stand_in() -> _LazySDK:
    module = _LazySDK(SDK, "Stands for traceloop.sdk until it is used (whizzy.chat.serve).")
    module.Traceloop = _LazyTraceloop()  # type: ignore[attr-defined]
    return module


def real_sdk() -> types.ModuleType:
    """The real `traceloop.sdk`, imported now if the stand-in was still in its place."""
    with _LOCK:
        current = sys.modules.get(SDK)
        if isinstance(current, _LazySDK):
            del sys.modules[SDK]
        return importlib.import_module(SDK)


def defer_tracing_sdk(env: Mapping[str, str] = os.environ) -> bool:
    """Put the stand-in in place (before Chainlit is imported); False when it is not used.

    >>> defer_tracing_sdk({"LITERAL_API_KEY": "key"})
    False
    """
    if env.get("LITERAL_API_KEY"):
        return False
    with _LOCK:
        if SDK not in sys.modules:
            sys.modules[SDK] = _stand_in()
    return isinstance(sys.modules.get(SDK), _LazySDK)


def main(argv: list[str] | None = None) -> None:
    """Chainlit's command line (``chainlit run app.py …``), tracing SDK deferred."""
    defer_tracing_sdk()
    from chainlit.cli import cli

    cli(args=argv if argv is not None else sys.argv[1:], prog_name="chainlit")


if __name__ == "__main__":
    main()
