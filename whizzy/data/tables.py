"""Simulated arrays become the raw contract tables: frames, Salesforce ids, one DuckDB file.

Ids and text are assembled by DuckDB; `write_tables` writes every table of the data contract.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from whizzy.data import names
from whizzy.data.ids import sf_id, sql_id
from whizzy.data.simulate import (
    FORECAST_API,
    FORECAST_NAMES,
    STAGE_FORECAST,
    STAGE_NAMES,
    STAGE_PROBABILITY,
    WON,
)
from whizzy.warehouse.schema import (
    DEFAULT_STAGES,
    INDUSTRIES,
    RAW_SCHEMA,
    TABLES,
    create_raw_schema,
)


def _cat(codes: np.ndarray, labels: list[str]) -> pd.Categorical:
    return pd.Categorical.from_codes(np.asarray(codes, dtype=np.int64), categories=labels)


def _ts(seconds: np.ndarray) -> np.ndarray:
    """Epoch seconds as numpy timestamps (DuckDB reads them as TIMESTAMP)."""
    return (np.asarray(seconds, dtype=np.int64) * 1_000_000).astype("datetime64[us]")


def _frame(columns: dict) -> pd.DataFrame:
    return pd.DataFrame(columns, copy=False)


#: Record numbers per key prefix start here (ids look like a mid-sized org's).
ID_BASE = {"00E": 1_017, "005": 20_009, "01J": 250, "001": 3_000_321, "006": 7_001_234,
           "008": 11_000_077}


def org_frames(rng: np.random.Generator, org: dict, acc: dict, opp: dict, hist: dict,
            span_start: float, cutoff: float) -> dict[str, pd.DataFrame]:
    """One frame per contract table: numbers, categoricals and timestamps for `write_tables`."""
    n = opp["n"]
    last = hist["group_start"] + hist["counts"] - 1
    stage = hist["stage"][last].astype(np.int64)
    is_closed = stage >= WON
    created_sec = hist["sec"][hist["group_start"]]
    last_sec = hist["sec"][last]
    cutoff_sec = int(round(cutoff * 86_400))
    last_mod = np.minimum(last_sec + (rng.exponential(1.5, n) * 86_400).astype(np.int64),
                          np.maximum(cutoff_sec, last_sec))
    # Deletions: a few accounts (with their deals) and a few single deals.
    n_acc = acc["n"]
    acc_deleted = rng.random(n_acc) < 0.005
    opp_deleted = (rng.random(n) < 0.003) | acc_deleted[opp["account"]]
    if n >= 50 and not opp_deleted.any():
        opp_deleted[rng.integers(n)] = True
    if n_acc >= 50 and not acc_deleted.any():
        acc_deleted[rng.integers(n_acc)] = True
    # ids follow creation order, as Salesforce's do
    opp_num = np.empty(n, np.int64)
    opp_order = np.argsort(created_sec, kind="stable")
    opp_num[opp_order] = np.arange(n) + ID_BASE["006"]
    users = org["users"]
    user_ids = [sf_id("005", ID_BASE["005"] + k) for k in range(len(users))]

    # accounts: created before their first deal
    first_deal = np.full(n_acc, np.inf)
    np.minimum.at(first_deal, opp["account"], created_sec / 86_400)
    acc_created = np.where(
        np.isfinite(first_deal), first_deal - rng.uniform(1, 90, n_acc),
        span_start + rng.random(n_acc) * (cutoff - 1 - span_start),
    )
    won_any = np.zeros(n_acc, bool)
    won_any[opp["account"][(stage == WON) & ~opp_deleted]] = True
    u = rng.random(n_acc)
    # customers (direct 80%, channel); the rest mostly prospects, some partners, some other
    acc_type = np.where(won_any, np.where(u < 0.8, 1, 2),
                        np.select([u < 0.85, u < 0.90, u < 0.95, u < 0.98], [0, 6, 3, 5], 4))
    acc_order = np.argsort(acc_created, kind="stable")
    acc_num = np.empty(n_acc, np.int64)
    acc_num[acc_order] = np.arange(n_acc) + ID_BASE["001"]
    country_names = [c[0] for c in names.COUNTRIES]
    account = _frame({
        "num": acc_num, "name": acc["names"],
        "industry": _cat(acc["industry"], list(INDUSTRIES)),
        "type": _cat(acc_type, list(names.ACCOUNT_TYPES)),
        "country": _cat(acc["country"], country_names),
        "state": _cat(acc["state"], acc["state_names"]),
        "revenue": acc["revenue"], "employees": acc["employees"],
        "owner": _cat(org["rep_user"][acc["owner"]], user_ids),
        "created": _ts(np.round(acc_created * 86_400)),
        "is_deleted": acc_deleted,
    }).iloc[acc_order]

    lead_labels = [s for s, _ in names.LEAD_SOURCES]
    lead = np.where(opp["lead"] >= len(lead_labels), -1, opp["lead"])
    opportunity = _frame({
        "num": opp_num,
        "account_name": _cat(opp["account"], acc["names"]),
        "product": _cat(opp["product"], list(names.OPPORTUNITY_PRODUCTS)),
        "account_num": acc_num[opp["account"]],
        "owner": _cat(org["rep_user"][opp["owner"]], user_ids),
        "stage": _cat(stage, STAGE_NAMES),
        "amount": hist["amount"][last],
        "probability": STAGE_PROBABILITY[stage],
        "close_day": hist["cd"][last].astype(np.int32),
        "created": _ts(created_sec),
        "modified": _ts(last_mod),
        "is_closed": is_closed,
        "is_won": stage == WON,
        "forecast": _cat(STAGE_FORECAST[stage], FORECAST_NAMES),
        "type": _cat(opp["type"], list(names.OPPORTUNITY_TYPES)),
        "lead": _cat(lead, lead_labels),
        "is_deleted": opp_deleted,
    }).iloc[opp_order]

    ho = hist["opp"]
    h_n = ho.size
    h_num = np.empty(h_n, np.int64)
    h_num[np.argsort(hist["sec"])] = np.arange(h_n) + ID_BASE["008"]  # ids follow time
    u = rng.random(h_n)
    owner = opp["owner"][ho]
    creator = np.where(u < 0.08, org["rep_manager"][owner],
                       np.where(u < 0.12, org["ops_user"], org["rep_user"][owner]))
    h_stage = hist["stage"].astype(np.int64)
    # Salesforce drops the history of deleted records with them, mostly; keep some to test.
    hist_deleted = opp_deleted & (rng.random(n) < 0.5)
    history = _frame({
        "num": h_num,
        "opp_num": opp_num[ho],
        "stage": _cat(h_stage, STAGE_NAMES),
        "amount": hist["amount"],
        "probability": STAGE_PROBABILITY[h_stage],
        "close_day": hist["cd"].astype(np.int32),
        "forecast": _cat(STAGE_FORECAST[h_stage], FORECAST_API),
        "created": _ts(hist["sec"]),
        "creator": _cat(creator, user_ids),
        "is_deleted": hist_deleted[ho],
    })

    user = _frame({
        "num": np.arange(len(users)) + ID_BASE["005"],
        "name": [u["name"] for u in users],
        "first_name": [u["first"] for u in users],
        "last_name": [u["last"] for u in users],
        "email": [u["email"] for u in users],
        "title": [u["title"] for u in users],
        "role": [u["role"] for u in users],
        "manager": [-1 if u["manager"] is None else u["manager"] for u in users],
        "is_active": [u["active"] for u in users],
        "department": [u["department"] for u in users],
        "created": _ts([round(u["hired"] * 86_400) for u in users]),
    })
    roles = org["roles"]
    user_role = _frame({
        "num": np.arange(len(roles)),
        "name": [r[0] for r in roles],
        "parent": [-1 if r[1] is None else r[1] for r in roles],
    })
    stages = _frame({
        "num": np.arange(len(DEFAULT_STAGES)),
        "api_name": STAGE_NAMES,
        "probability": STAGE_PROBABILITY,
        "forecast": [s[2] for s in DEFAULT_STAGES],
        "is_closed": [s[3] for s in DEFAULT_STAGES],
        "is_won": [s[4] for s in DEFAULT_STAGES],
        "sort_order": (np.arange(len(DEFAULT_STAGES)) + 1) * 10,
    })
    return dict(opportunity=opportunity, opportunity_history=history,
                opportunity_stage=stages, account=account, user=user, user_role=user_role)


#: How each contract table is filled from its frame `f` (numbers become ids in SQL).
_INSERTS = {
    "user_role": f"""
        select {sql_id("00E", f"{ID_BASE['00E']} + num")}, name,
               case when parent >= 0 then {sql_id("00E", f"{ID_BASE['00E']} + parent")} end
        from f order by num""",
    "user": f"""
        select {sql_id("005", "num")}, name, first_name, last_name, email, title,
               {sql_id("00E", f"{ID_BASE['00E']} + role")},
               case when manager >= 0 then {sql_id("005", f"{ID_BASE['005']} + manager")} end,
               is_active, department, created
        from f order by num""",
    "opportunity_stage": f"""
        select {sql_id("01J", f"{ID_BASE['01J']} + num")}, api_name, api_name, probability,
               forecast, true, is_closed, is_won, sort_order
        from f order by num""",
    "account": f"""
        select {sql_id("001", "num")}, name, industry::varchar, type::varchar, country::varchar,
               state::varchar, revenue::decimal(18,2), employees::integer, owner::varchar,
               created, is_deleted
        from f""",
    "opportunity": f"""
        select {sql_id("006", "num")}, account_name::varchar || ' - ' || product::varchar,
               {sql_id("001", "account_num")}, owner::varchar, stage::varchar,
               amount::decimal(18,2), probability, date '1970-01-01' + close_day,
               created, modified, is_closed, is_won, forecast::varchar, type::varchar,
               lead::varchar, is_deleted
        from f""",
    "opportunity_history": f"""
        select {sql_id("008", "num")}, {sql_id("006", "opp_num")}, stage::varchar,
               amount::decimal(18,2), probability, date '1970-01-01' + close_day,
               forecast::varchar, created, creator::varchar, is_deleted
        from f""",
}


def write_tables(path: Path, frames: dict[str, pd.DataFrame]) -> dict[str, int]:
    """Create the contract tables in a new DuckDB file and fill them from the frames."""
    con = duckdb.connect(str(path), config={"threads": 2, "preserve_insertion_order": True})
    try:
        create_raw_schema(con)
        counts = {}
        for table, select in _INSERTS.items():
            cols = ", ".join(TABLES[table].names)
            con.register("f", frames[table])
            con.execute(f'insert into {RAW_SCHEMA}."{table}" ({cols}) {select}')
            con.unregister("f")
            counts[table] = len(frames[table])
        con.execute("checkpoint")
    finally:
        con.close()
    return counts
