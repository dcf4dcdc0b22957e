"""Synthetic Salesforce org: users, roles, accounts, opportunities and their history.

`generate_org` writes a new DuckDB file holding exactly the raw tables of the data contract
(schema `salesforce`). The org is built to give the analytics something to find:

- a role hierarchy (CEO → VP Sales → regional directors → managers → account executives,
  plus sales operations), a few reps who left (inactive) and whose open deals moved to the
  account owner;
- accounts across the standard Industry picklist with sizes and countries;
- opportunities created over the `months` before the as-of date (a growing business),
  log-normal amounts by industry, type and account size;
- each opportunity walks the default sales process in `opportunity_history`; Needs Analysis
  and Negotiation/Review are the bottlenecks; deals drop to Closed Lost along the way or win;
  reps' skill, the industry, the type and the lead source change the odds; a few deals step
  back a stage and come forward again;
- planned close dates start optimistic and are pushed (often across a quarter end); amounts
  are revised; won deals bunch up at quarter ends, most of all in Q4; some open deals are
  overdue; a few rows are deleted.

Everything is vectorised over opportunities and history rows with numpy (loops run over
stages, push rounds or industries, never over rows); ids and text are assembled by DuckDB.
The same arguments give the same table contents.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from whizzy.core.errors import ConfigError
from whizzy.data.simulate import (
    amount_changes,
    build_accounts,
    build_opportunities,
    build_users,
    epoch_day,
    force_open_share,
    history_rows,
    months_before,
    plan_close_dates,
    seasonality,
    walk_stages,
)
from whizzy.data.tables import org_frames, write_tables
from whizzy.warehouse.files import replacing

Progress = Callable[[str, float], None]
def generate_org(
    path: Path,
    *,
    opportunities: int = 5000,
    seed: int = 42,
    as_of: str | date | None = None,
    progress: Progress | None = None,
    open_share: float | None = None,
    months: int = 36,
) -> dict[str, int]:
    """Write a new synthetic Salesforce org to the DuckDB file `path`; return rows per table.

    Any existing file at `path` is replaced atomically (written beside it, then moved over).

    Args:
        path: warehouse file to create or replace.
        opportunities: number of opportunities (≥ 1); users and accounts scale with it.
        seed: random seed; the same arguments give the same table contents.
        as_of: the "today" of the org (`YYYY-MM-DD` or a date; default today). Nothing
            happens after the end of that day; closed deals have close dates up to it.
        progress: optional callable `(step_name, fraction_done)`.
        open_share: fraction of opportunities left open at `as_of` (default: whatever the
            sales cycle gives, about a sixth; 0 gives an org with no open deals; whole
            timelines are shifted, and squeezed when needed, to reach the share).
        months: how far back opportunities are created (default 36).

    Returns:
        Row counts keyed by contract table name.
    """
    report = progress or (lambda _step, _fraction: None)
    as_of_date = _parse_as_of(as_of)
    if isinstance(opportunities, bool) or not isinstance(opportunities, int) or opportunities < 1:
        raise ConfigError(f"opportunities must be a whole number ≥ 1, got {opportunities!r}.")
    if opportunities > 50_000_000:
        raise ConfigError(f"opportunities must be at most 50,000,000, got {opportunities:,}.")
    if not isinstance(months, int) or not 1 <= months <= 240:
        raise ConfigError(f"months must be between 1 and 240, got {months!r}.")
    if open_share is not None and not 0.0 <= open_share <= 1.0:
        raise ConfigError(f"open_share must be between 0 and 1, got {open_share!r}.")
    if Path(path).is_dir():
        raise ConfigError(f"{path} is a folder; the warehouse must be a file path.")
    frames = build_org(
        opportunities=opportunities, seed=seed, as_of=as_of_date, months=months,
        open_share=open_share, progress=report,
    )
    report("writing warehouse", 0.85)
    with replacing(Path(path), tag="generate") as tmp:
        counts = write_tables(tmp, frames)
    report("done", 1.0)
    return counts


def _parse_as_of(value: str | date | None) -> date:
    if value is None:
        return date.today()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ConfigError(f"as-of date must look like 2026-11-15, got {value!r}.") from None

# --------------------------------------------------------------------------------------
# Assembly


def build_org(*, opportunities: int, seed: int, as_of: date, months: int,
              open_share: float | None, progress: Progress) -> dict[str, pd.DataFrame]:
    """Simulate the org; return one frame per table, ready for `write_tables`."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed) & 0xFFFFFFFF, 20260101]))
    n = opportunities
    as_of_day = epoch_day(as_of)
    span_start = float(epoch_day(months_before(as_of, months)))
    span_days = int(as_of_day - span_start)
    cutoff = as_of_day + 0.999  # nothing happens after the as-of day
    progress("users and accounts", 0.02)
    n_reps = max(8, round(n / 200))
    org = build_users(rng, n_reps, as_of_day, span_days)
    acc = build_accounts(rng, max(3, round(n / 6)), org)
    progress("opportunities", 0.10)
    opp = build_opportunities(rng, n, org, acc, span_start, as_of_day)
    progress("stage walk", 0.20)
    walk = walk_stages(rng, opp, org)
    seasonality(rng, opp, walk)
    if open_share is not None:
        force_open_share(rng, opp, walk, open_share, span_start, cutoff)
    rows = np.arange(n)
    end = opp["created"] + walk["rel"][rows, walk["count"]]
    # Deals of reps who left go to the account owner (the open ones, and any closing later).
    leave = org["leave"][opp["owner"]]
    moved = np.isfinite(leave) & (end > leave)
    opp["owner"][moved] = acc["owner"][opp["account"][moved]]
    progress("close dates", 0.35)
    plan = plan_close_dates(rng, opp, walk, cutoff)
    amounts = amount_changes(rng, opp, walk, cutoff)
    progress("history", 0.50)
    hist = history_rows(opp, walk, plan, amounts, cutoff)
    del walk, plan, amounts
    progress("tables", 0.70)
    return org_frames(rng, org, acc, opp, hist, span_start, cutoff)
