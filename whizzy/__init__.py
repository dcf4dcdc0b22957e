"""Whizzy: shared code for the CLI, configuration and warehouse access."""

from whizzy.logs import install as _install_log_redaction

__version__ = "0.1.0"

# Every process that imports whizzy (the CLI, the chat server, tests) logs without secrets.
_install_log_redaction()
