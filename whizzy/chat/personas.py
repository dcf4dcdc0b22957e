"""Who is asking: personas, their starter questions, and the chat settings they can change.

Starters are questions the offline engine answers from the built models (a browser test
clicks one); each persona gets the questions its role asks first.

>>> tuple(p.key for p in PERSONAS) == PERSONA_KEYS
True
>>> all(len(p.starters) >= 3 for p in PERSONAS)
True
>>> persona("revops").label
'RevOps'
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.context import DEFAULT_PERSONA
from agents.context import PERSONAS as PERSONA_KEYS
from agents.llm.settings import ENGINES
from whizzy.chat.options import MAX_ROW_LIMIT


@dataclass(frozen=True)
class Starter:
    """A clickable first question."""

    label: str
    message: str


@dataclass(frozen=True)
class Persona:
    """A role with its own starter questions."""

    key: str
    label: str
    icon: str
    starters: tuple[Starter, ...]


_I = "/public/icons/"

_DETAILS: tuple[Persona, ...] = (
    Persona(
        "executive",
        "Executive",
        _I + "executive.svg",
        (
            Starter("Executive summary", "Give me the executive summary"),
            Starter("Pipeline health", "How healthy is our pipeline this quarter?"),
            Starter("Revenue forecast", "Show the revenue forecast trend"),
            Starter("Bookings this year", "What are our YTD bookings?"),
        ),
    ),
    Persona(
        "sales_manager",
        "Sales manager",
        _I + "sales_manager.svg",
        (
            Starter("Win rate by rep", "Who are the top 5 reps by win rate?"),
            Starter("Coaching candidates", "Which reps need coaching?"),
            Starter("Bottleneck stages", "Which stage is our bottleneck?"),
            Starter("Win rate trend", "How has our win rate changed by quarter?"),
        ),
    ),
    Persona(
        "account_executive",
        "Account executive",
        _I + "account_executive.svg",
        (
            Starter("Biggest deals", "What are the biggest deals closing this quarter?"),
            Starter("Overdue deals", "Show overdue open deals"),
            Starter("Weighted pipeline", "What is our weighted pipeline?"),
            Starter("Win rate by industry", "What is our win rate by industry?"),
        ),
    ),
    Persona(
        "revops",
        "RevOps",
        _I + "revops.svg",
        (
            Starter("Slippage", "What is our slippage rate this quarter?"),
            Starter("Slippage by stage", "Where do deals slip, by stage?"),
            Starter("Days in stage", "Average days in each stage"),
            Starter("Forecast accuracy", "How accurate is our revenue forecast?"),
        ),
    ),
)

#: The personas of `agents.context.PERSONAS`, in that order, with their labels and starters.
PERSONAS: tuple[Persona, ...] = tuple(
    next(p for p in _DETAILS if p.key == key) for key in PERSONA_KEYS
)


def persona(key: str) -> Persona:
    """The persona called `key` (the default one for an unknown key)."""
    by_key = {p.key: p for p in PERSONAS}
    return by_key.get(key, by_key[DEFAULT_PERSONA])


@dataclass(frozen=True)
class SettingsSpec:
    """The chat settings panel: persona, engine and row limit, with their starting values."""

    persona: str = DEFAULT_PERSONA
    engine: str = "offline"
    row_limit: int = 1000

    @staticmethod
    def from_values(values: dict | None, *, engine: str, row_limit: int,
                    llm_configured: bool = True) -> SettingsSpec:
        """Settings chosen in the UI (or restored with a thread), checked and clamped.

        The LLM engine is kept only when one is configured (a thread saved with it may be
        resumed on a server without one).

        >>> SettingsSpec.from_values({"persona": "revops", "row_limit": 99999},
        ...                          engine="offline", row_limit=1000)
        SettingsSpec(persona='revops', engine='offline', row_limit=10000)
        >>> SettingsSpec.from_values({"persona": "nobody", "engine": "quantum"},
        ...                          engine="offline", row_limit=50).persona
        'sales_manager'
        >>> SettingsSpec.from_values({"engine": "llm"}, engine="offline", row_limit=50,
        ...                          llm_configured=False).engine
        'offline'
        """
        values = values or {}
        key = values.get("persona") or DEFAULT_PERSONA
        if key not in {p.key for p in PERSONAS}:
            key = DEFAULT_PERSONA
        eng = values.get("engine") or engine
        if eng not in ENGINES or (eng == "llm" and not llm_configured):
            eng = "offline" if engine == "llm" and not llm_configured else engine
        try:
            limit = int(values.get("row_limit") or row_limit)
        except (TypeError, ValueError):
            limit = row_limit
        return SettingsSpec(persona=key, engine=eng, row_limit=max(1, min(MAX_ROW_LIMIT, limit)))


def engine_choices(llm_configured: bool) -> dict[str, str]:
    """The engines the settings panel offers: the LLM only when one is configured.

    >>> list(engine_choices(False).values()), list(engine_choices(True).values())
    (['offline'], ['offline', 'llm'])
    """
    choices = {"Offline (deterministic, no network)": "offline"}
    if llm_configured:
        choices["LLM (the configured model)"] = "llm"
    return choices
