"""Errors a user can cause, each turned into one clear sentence at the edge (CLI, chat).

Anything raised from here carries a message meant for people; the CLI prints it without a
traceback and exits with status 2.
"""

from __future__ import annotations


class WhizzyError(Exception):
    """Base class: a problem the user can fix, with a message that says how."""

    hint: str | None = None

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        if hint is not None:
            self.hint = hint

    def user_message(self) -> str:
        """The sentence shown to people, with the fixing command when there is one."""
        text = str(self)
        return f"{text}\n  → {self.hint}" if self.hint else text


class ConfigError(WhizzyError):
    """A setting (flag, environment variable, .env) is missing or invalid."""


class WarehouseMissingError(WhizzyError):
    """The warehouse file does not exist or holds no built models."""

    hint = "run `whizzy data generate` (or `whizzy data import DIR`) and then `whizzy build`"


class WarehouseNotBuiltError(WarehouseMissingError):
    """The warehouse holds raw data but the dbt models have not been built."""

    hint = "run `whizzy build`"


class ImportError_(WhizzyError):  # noqa: N801 - avoid shadowing the builtin ImportError
    """A CSV export could not be imported; the message names file, line, column and problem."""


DataImportError = ImportError_


class BuildError(WhizzyError):
    """`dbt build` failed; the message names the model or test that failed."""


class WarehouseChangedError(WhizzyError):
    """Another writer replaced the warehouse while this one worked on its copy.

    Swapping the copy in would undo that writer's change (a lost update), so this writer's
    result is dropped instead and the warehouse keeps the other writer's version.
    """

    hint = "run the command again: it starts from the warehouse as it is now"


class DiskFullError(WhizzyError):
    """The disk ran out of space while writing; whatever was being replaced is unchanged."""

    hint = "free some disk space (or choose another --warehouse / folder) and run it again"


class UnsafeQueryError(WhizzyError):
    """A query was refused by the SQL gate."""


class QueryTimeoutError(WhizzyError):
    """A warehouse query ran past the per-query time limit and was interrupted."""

    hint = "ask about a shorter period or fewer breakdowns (WHIZZY_QUERY_TIMEOUT sets the limit)"


class QueryLimitError(WhizzyError):
    """A warehouse query needed more memory, or returned more bytes, than its limit."""

    hint = ("ask for fewer rows, columns or a shorter period (WHIZZY_QUERY_MEMORY_MB and "
            "WHIZZY_RESULT_MAX_BYTES set the limits)")


class EvalCaseError(WhizzyError):
    """An eval case file is invalid; the message names the file, the case and the problem."""


class LLMUnavailableError(WhizzyError):
    """The LLM engine gave no usable output (timeout, HTTP error, invalid or ungrounded text).

    Never shown as a failure: the offline engine answers and the answer notes the reason.
    The message never contains a secret (keys are redacted before it is built).
    """

    hint = "the offline engine answered instead; check the OPENAI_* / AZURE_OPENAI_* settings"

    def __init__(self, message: str, *, kind: str = "error", hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        #: A short machine-readable cause: timeout, http_error, rate_limit, connection,
        #: malformed, schema_invalid, ungrounded, unsafe_sql, sql_error, config, error.
        self.kind = kind
