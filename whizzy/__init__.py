"""Whizzy: shared code for the CLI, configuration and warehouse access."""

__version__ = "0.1.0"
