"""Command groups of the `whizzy` CLI; each module exposes `register(subparsers)`."""

from __future__ import annotations

import argparse

from whizzy.config import Settings, warehouse_path


def settings_from(args: argparse.Namespace) -> Settings:
    """Settings for a command, honouring `--warehouse` given before or after the command."""
    return Settings(warehouse=warehouse_path(getattr(args, "warehouse", None)))
