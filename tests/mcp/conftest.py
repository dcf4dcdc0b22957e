"""Fixtures of the MCP tests (helpers live in `mcp_support`)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
