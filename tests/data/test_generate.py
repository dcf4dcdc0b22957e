"""The synthetic Salesforce org: shape, contract types, determinism and business behaviours.

Most checks read the session's `raw_warehouse` (3,000 opportunities, seed 7, as-of
2026-11-15); a few generate their own small orgs in tmp_path.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import pytest

from whizzy.core.errors import ConfigError
from whizzy.data.generate import generate_org
from whizzy.data.ids import checksum
from whizzy.warehouse.schema import DEFAULT_STAGES, INDUSTRIES, TABLES

AS_OF = date(2026, 11, 15)

# Stage visits exactly as metrics.md defines them (rows ordered by created_date, then id).
VISITS_SQL = """
with h as (
    select opportunity_id, stage_name, created_date, id,
           lag(stage_name) over w as prev_stage
    from salesforce.opportunity_history
    window w as (partition by opportunity_id order by created_date, id)
),
starts as (select * from h where prev_stage is null or prev_stage <> stage_name)
select *, lead(created_date) over (partition by opportunity_id order by created_date, id)
       as next_start
from starts
"""


@pytest.fixture(scope="module")
def con(raw_warehouse: Path):
    c = duckdb.connect(str(raw_warehouse), read_only=True)
    yield c
    c.close()


def one(con, sql: str):
    return con.execute(sql).fetchone()[0]


def test_exactly_the_contract_tables_with_contract_types(con) -> None:
    tables = {r[0] for r in con.execute(
        "select table_name from duckdb_tables() where schema_name = 'salesforce'").fetchall()}
    assert tables == set(TABLES)
    for name, table in TABLES.items():
        cols = con.execute(
            "select column_name, data_type from duckdb_columns() "
            "where schema_name = 'salesforce' and table_name = ? order by column_index",
            [name],
        ).fetchall()
        assert [c for c, _ in cols] == table.names, name
        assert [t for _, t in cols] == [c.type for c in table.columns], name


def test_returns_row_counts(tmp_path: Path) -> None:
    counts = generate_org(tmp_path / "w.duckdb", opportunities=300, seed=1, as_of=AS_OF)
    c = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    for table in TABLES:
        assert counts[table] == one(c, f'select count(*) from salesforce."{table}"'), table
    assert counts["opportunity"] == 300
    assert counts["opportunity_stage"] == 10


def test_sizes_scale_with_opportunities(con) -> None:
    n = one(con, "select count(*) from salesforce.opportunity")
    assert n == 3000
    reps = one(con, "select count(distinct owner_id) from salesforce.opportunity")
    assert max(8, n // 250) <= reps <= n // 150 + 2
    accounts = one(con, "select count(*) from salesforce.account")
    assert n / 8 <= accounts <= n / 4
    assert one(con, "select count(*) from salesforce.opportunity_history") > 3 * n


def _snapshot(path: Path) -> dict[str, list]:
    c = duckdb.connect(str(path), read_only=True)
    try:
        return {t: c.execute(f'select * from salesforce."{t}"').fetchall() for t in TABLES}
    finally:
        c.close()


def test_deterministic_for_same_arguments_and_seed_sensitive(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.duckdb", tmp_path / "b.duckdb", tmp_path / "c.duckdb"
    generate_org(a, opportunities=400, seed=11, as_of="2026-03-31")
    generate_org(b, opportunities=400, seed=11, as_of="2026-03-31")
    generate_org(c, opportunities=400, seed=12, as_of="2026-03-31")
    sa, sb, sc = _snapshot(a), _snapshot(b), _snapshot(c)
    assert sa == sb
    assert sa["opportunity"] != sc["opportunity"]
    assert sa["opportunity_history"] != sc["opportunity_history"]


def test_salesforce_ids(con) -> None:
    prefixes = {"opportunity": "006", "account": "001", "user": "005", "user_role": "00E",
                "opportunity_history": "008", "opportunity_stage": "01J"}
    for table, prefix in prefixes.items():
        ids = [r[0] for r in con.execute(f'select id from salesforce."{table}"').fetchall()]
        assert len(set(ids)) == len(ids), table
        assert len({i.lower() for i in ids}) == len(ids), table  # case-insensitive unique
        for i in ids[:200]:
            assert len(i) == 18 and i.startswith(prefix), i
            assert checksum(i[:15]) == i[15:], i


def test_referential_integrity(con) -> None:
    checks = {
        "opportunity.account_id": "select count(*) from salesforce.opportunity o "
        "anti join salesforce.account a on a.id = o.account_id",
        "opportunity.owner_id": "select count(*) from salesforce.opportunity o "
        'anti join salesforce."user" u on u.id = o.owner_id',
        "account.owner_id": "select count(*) from salesforce.account a "
        'anti join salesforce."user" u on u.id = a.owner_id',
        "history.opportunity_id": "select count(*) from salesforce.opportunity_history h "
        "anti join salesforce.opportunity o on o.id = h.opportunity_id",
        "history.created_by_id": "select count(*) from salesforce.opportunity_history h "
        'anti join salesforce."user" u on u.id = h.created_by_id',
        "user.user_role_id": 'select count(*) from salesforce."user" u '
        "anti join salesforce.user_role r on r.id = u.user_role_id",
        "user.manager_id": 'select count(*) from salesforce."user" u '
        'anti join salesforce."user" m on m.id = u.manager_id where u.manager_id is not null',
        "user_role.parent_role_id": "select count(*) from salesforce.user_role r "
        "anti join salesforce.user_role p on p.id = r.parent_role_id "
        "where r.parent_role_id is not null",
        "opportunity.stage_name": "select count(*) from salesforce.opportunity o "
        "anti join salesforce.opportunity_stage s on s.api_name = o.stage_name",
        "history.stage_name": "select count(*) from salesforce.opportunity_history h "
        "anti join salesforce.opportunity_stage s on s.api_name = h.stage_name",
    }
    for name, sql in checks.items():
        assert one(con, sql) == 0, name
    # every opportunity has history; owners of deals are account executives
    assert one(con, "select count(*) from salesforce.opportunity o anti join "
                    "salesforce.opportunity_history h on h.opportunity_id = o.id") == 0
    titles = {r[0] for r in con.execute(
        'select distinct u.title from salesforce.opportunity o join salesforce."user" u '
        "on u.id = o.owner_id").fetchall()}
    assert titles <= {"Account Executive", "Senior Account Executive"}


def test_stage_picklist_is_the_default_sales_process(con) -> None:
    rows = con.execute(
        "select api_name, master_label, default_probability, forecast_category_name, is_active,"
        " is_closed, is_won, sort_order from salesforce.opportunity_stage order by sort_order"
    ).fetchall()
    assert [(r[0], r[2], r[3], r[5], r[6]) for r in rows] == list(DEFAULT_STAGES)
    assert all(r[4] for r in rows)
    orders = [r[7] for r in rows]
    assert orders == sorted(orders) and len(set(orders)) == 10


def test_opportunity_fields_follow_the_stage(con) -> None:
    bad = one(con, """
        select count(*) from salesforce.opportunity o
        join salesforce.opportunity_stage s on s.api_name = o.stage_name
        where o.probability <> s.default_probability or o.is_closed <> s.is_closed
           or o.is_won <> s.is_won or o.forecast_category_name <> s.forecast_category_name""")
    assert bad == 0
    api = {"Pipeline": "Pipeline", "Best Case": "BestCase", "Commit": "Forecast",
           "Closed": "Closed", "Omitted": "Omitted"}
    pairs = con.execute("""
        select distinct s.forecast_category_name, h.forecast_category,
               h.probability = s.default_probability
        from salesforce.opportunity_history h
        join salesforce.opportunity_stage s on s.api_name = h.stage_name""").fetchall()
    for label, value, prob_ok in pairs:
        assert api[label] == value and prob_ok


def test_time_bounds(con) -> None:
    end = datetime(2026, 11, 16)
    assert one(con, "select max(created_date) from salesforce.opportunity") < end
    assert one(con, "select max(created_date) from salesforce.opportunity_history") < end
    assert one(con, "select max(close_date) from salesforce.opportunity where is_closed") <= AS_OF
    assert one(con, "select max(last_modified_date) from salesforce.opportunity") < end
    first = one(con, "select min(created_date) from salesforce.opportunity")
    assert date(2023, 10, 1) <= first.date() <= date(2024, 1, 1)  # ~3 years back
    assert one(con, "select count(*) from salesforce.opportunity "
                    "where last_modified_date < created_date") == 0


def test_history_rows_are_consistent_with_the_opportunity(con) -> None:
    # the last row agrees with the opportunity; the first is its creation
    mismatches = one(con, """
        with ranked as (
            select *,
                   row_number() over (partition by opportunity_id
                                      order by created_date desc, id desc) as r_last,
                   row_number() over (partition by opportunity_id
                                      order by created_date, id) as r_first
            from salesforce.opportunity_history)
        select count(*) from salesforce.opportunity o
        join ranked l on l.opportunity_id = o.id and l.r_last = 1
        join ranked f on f.opportunity_id = o.id and f.r_first = 1
        where l.stage_name <> o.stage_name or l.amount is distinct from o.amount
           or l.close_date <> o.close_date or f.created_date <> o.created_date""")
    assert mismatches == 0
    # timestamps strictly increase within an opportunity
    assert one(con, """
        select count(*) from (
            select created_date, lag(created_date) over (partition by opportunity_id
                   order by created_date, id) as prev
            from salesforce.opportunity_history) where created_date <= prev""") == 0
    # a closed stage is always the last row, and closed rows carry the close date of the day
    assert one(con, """
        with h as (select *, lead(id) over (partition by opportunity_id
                                            order by created_date, id) as nxt
                   from salesforce.opportunity_history)
        select count(*) from h where stage_name in ('Closed Won', 'Closed Lost')
          and (nxt is not null or close_date <> created_date::date)""") == 0


def test_outcome_mix(con) -> None:
    win_rate, open_share = con.execute("""
        select sum(is_won::int) / sum(is_closed::int), avg((not is_closed)::int)
        from salesforce.opportunity where not is_deleted""").fetchone()
    assert 0.20 <= win_rate <= 0.35
    assert 0.12 <= open_share <= 0.25
    overdue = one(con, f"""select count(*) from salesforce.opportunity
        where not is_closed and close_date < date '{AS_OF}'""")
    assert overdue >= 20


def test_amounts_are_lognormal_with_a_long_tail(con) -> None:
    median, p99, mx, nulls = con.execute("""
        select median(amount), quantile_cont(amount, 0.99), max(amount), count(*) - count(amount)
        from salesforce.opportunity""").fetchone()
    assert 10_000 <= median <= 60_000
    assert p99 > 8 * median
    assert mx > 500_000
    assert nulls < 30
    # existing business is smaller than new business
    nb, eb = con.execute("""
        select median(amount) filter (where type = 'New Business'),
               median(amount) filter (where type = 'Existing Business')
        from salesforce.opportunity""").fetchone()
    assert eb < nb


def test_big_org_has_million_dollar_deals(tmp_path: Path) -> None:
    generate_org(tmp_path / "w.duckdb", opportunities=20_000, seed=3, as_of=AS_OF)
    c = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert one(c, "select max(amount) from salesforce.opportunity") > 1_000_000


def test_close_date_pushes(con) -> None:
    pushed_share, cross_share, multi = con.execute("""
        with h as (select *, lag(close_date) over (partition by opportunity_id
                   order by created_date, id) as prev from salesforce.opportunity_history),
        p as (select * from h where close_date > prev),
        per_opp as (select opportunity_id, count(*) as pushes from p group by 1)
        select (select count(*) from per_opp) / (select count(*) from salesforce.opportunity),
               (select avg((date_trunc('quarter', prev) < date_trunc('quarter', close_date))::int)
                from p),
               (select count(*) from per_opp where pushes >= 3)""").fetchone()
    assert pushed_share >= 0.25
    assert cross_share >= 0.3
    assert multi >= 50


def test_amount_changes_and_blank_amounts(con) -> None:
    changed = one(con, """
        select count(distinct opportunity_id) from (
            select opportunity_id, amount, lag(amount) over (partition by opportunity_id
                   order by created_date, id) as prev from salesforce.opportunity_history)
        where amount is distinct from prev and prev is not null""")
    assert changed >= 300


def test_bottleneck_stages(con) -> None:
    rows = dict(con.execute(f"""
        select stage_name, avg(next_start::date - created_date::date)
        from ({VISITS_SQL}) where next_start is not null
        group by 1""").fetchall())
    assert 30 < rows["Needs Analysis"] < 50
    assert 30 < rows["Negotiation/Review"] < 50
    for stage in ("Prospecting", "Qualification", "Value Proposition", "Id. Decision Makers",
                  "Perception Analysis", "Proposal/Price Quote"):
        assert 5 <= rows[stage] <= 25, stage


def test_some_deals_revisit_a_stage(con) -> None:
    revisits = one(con, f"""
        select count(distinct opportunity_id) from (
            select opportunity_id, stage_name, count(*) as visits from ({VISITS_SQL})
            group by all) where visits > 1""")
    assert revisits >= 30


def test_rep_skill_and_industry_change_win_rates(con) -> None:
    reps = [r[0] for r in con.execute("""
        select sum(is_won::int) / sum(is_closed::int) from salesforce.opportunity
        group by owner_id having sum(is_closed::int) >= 60""").fetchall()]
    assert len(reps) >= 8
    assert max(reps) - min(reps) >= 0.15
    industries = dict(con.execute("""
        select a.industry, sum(o.is_won::int) / sum(o.is_closed::int)
        from salesforce.opportunity o join salesforce.account a on a.id = o.account_id
        group by 1 having sum(o.is_closed::int) >= 60""").fetchall())
    assert industries["Technology"] - industries["Education"] >= 0.08
    assert max(industries.values()) - min(industries.values()) >= 0.12


def test_quarter_end_and_q4_seasonality(con) -> None:
    by_month = dict(con.execute("""
        select month(close_date), count(*) from salesforce.opportunity
        where is_won and close_date >= date '2024-01-01' and close_date < date '2026-01-01'
        group by 1""").fetchall())
    quarter_end = sum(by_month[m] for m in (3, 6, 9, 12)) / 4
    other = sum(v for m, v in by_month.items() if m % 3) / 8
    assert quarter_end > 1.8 * other
    by_quarter = dict(con.execute("""
        select quarter(close_date), count(*) from salesforce.opportunity
        where is_won and close_date >= date '2024-01-01' and close_date < date '2026-01-01'
        group by 1""").fetchall())
    assert by_quarter[4] > 1.3 * sum(by_quarter[q] for q in (1, 2, 3)) / 3


def test_users_roles_and_accounts_look_real(con) -> None:
    names = [r[0] for r in con.execute('select name from salesforce."user"').fetchall()]
    assert len(set(names)) == len(names)
    shared_first = one(con, """
        select count(*) from (select first_name from salesforce."user"
        where title like '%Account Executive' group by 1 having count(*) > 1)""")
    assert shared_first >= 1
    assert one(con, 'select count(*) from salesforce."user" where not is_active') >= 1
    assert one(con, """select count(*) from salesforce."user" u join salesforce.user_role r
                       on r.id = u.user_role_id where r.name = 'VP, Sales'""") == 1
    # the hierarchy: AE role → manager role → director role → VP → CEO (root)
    depth = one(con, """
        with recursive up as (
            select id, parent_role_id, 1 as depth from salesforce.user_role
            where name like 'Account Executive%'
            union all
            select r.id, r.parent_role_id, up.depth + 1 from up
            join salesforce.user_role r on r.id = up.parent_role_id)
        select max(depth) from up""")
    assert depth == 5
    assert one(con, 'select count(*) from salesforce."user" where email not like \'%@%.%\'') == 0
    accounts = con.execute(
        "select name, industry, billing_country from salesforce.account").fetchall()
    assert len({a[0] for a in accounts}) == len(accounts)
    assert {a[1] for a in accounts} <= set(INDUSTRIES)
    assert len({a[1] for a in accounts}) >= 25
    assert len({a[2] for a in accounts}) >= 8
    assert one(con, "select count(*) from salesforce.account where annual_revenue > 0 "
                    "and number_of_employees > 0") > 400


def test_deleted_rows(con) -> None:
    assert one(con, "select count(*) from salesforce.opportunity where is_deleted") >= 1
    assert one(con, "select count(*) from salesforce.account where is_deleted") >= 1
    # history of deleted opportunities exists, some of it not itself flagged
    assert one(con, """select count(*) from salesforce.opportunity_history h
        join salesforce.opportunity o on o.id = h.opportunity_id
        where o.is_deleted and not h.is_deleted""") >= 1


def test_types_and_lead_sources(con) -> None:
    types = {r[0] for r in con.execute(
        "select distinct type from salesforce.opportunity").fetchall()}
    assert {"New Business", "Existing Business"} <= types
    leads = {r[0] for r in con.execute(
        "select distinct lead_source from salesforce.opportunity").fetchall()}
    assert {"Web", "Partner Referral", "Phone Inquiry", "Trade Show"} <= leads
    # an account's first deal is new business
    assert one(con, """
        select count(*) from (select type, row_number() over (partition by account_id
               order by created_date, id) as k from salesforce.opportunity)
        where k = 1 and type <> 'New Business'""") == 0


@pytest.mark.parametrize("n", [1, 20])
def test_tiny_orgs(tmp_path: Path, n: int) -> None:
    counts = generate_org(tmp_path / "w.duckdb", opportunities=n, seed=5, as_of=AS_OF)
    assert counts["opportunity"] == n
    assert counts["user"] >= 8
    c = duckdb.connect(str(tmp_path / "w.duckdb"), read_only=True)
    assert one(c, "select count(*) from salesforce.opportunity o anti join "
                  "salesforce.account a on a.id = o.account_id") == 0


def test_open_share_and_months_options(tmp_path: Path) -> None:
    p = tmp_path / "w.duckdb"
    generate_org(p, opportunities=500, seed=2, as_of=AS_OF, open_share=0.0)
    c = duckdb.connect(str(p), read_only=True)
    assert one(c, "select count(*) from salesforce.opportunity where not is_closed") == 0
    assert one(c, "select max(close_date) from salesforce.opportunity") <= AS_OF
    c.close()
    generate_org(p, opportunities=500, seed=2, as_of=AS_OF, open_share=0.5)
    c = duckdb.connect(str(p), read_only=True)
    assert one(c, "select count(*) from salesforce.opportunity where not is_closed") == 250
    c.close()
    generate_org(p, opportunities=500, seed=2, as_of=AS_OF, months=3)
    c = duckdb.connect(str(p), read_only=True)
    assert one(c, "select min(created_date) from salesforce.opportunity") >= datetime(2026, 8, 15)
    c.close()


def test_replaces_an_existing_file_and_reports_progress(tmp_path: Path) -> None:
    p = tmp_path / "w.duckdb"
    p.write_bytes(b"not a database")
    steps: list[tuple[str, float]] = []
    generate_org(p, opportunities=50, seed=1, as_of=AS_OF,
                 progress=lambda s, f: steps.append((s, f)))
    fractions = [f for _, f in steps]
    assert fractions == sorted(fractions) and fractions[-1] == 1.0
    c = duckdb.connect(str(p), read_only=True)
    assert one(c, "select count(*) from salesforce.opportunity") == 50
    assert sorted(x.name for x in tmp_path.iterdir()) == ["w.duckdb"]  # no temp files left


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"opportunities": 0}, "opportunities"),
        ({"opportunities": -5}, "opportunities"),
        ({"as_of": "15/11/2026"}, "as-of"),
        ({"months": 0}, "months"),
        ({"open_share": 1.5}, "open_share"),
    ],
)
def test_bad_arguments_are_clear_errors(tmp_path: Path, kwargs: dict, fragment: str) -> None:
    args = {"opportunities": 10, "seed": 1, "as_of": AS_OF} | kwargs
    with pytest.raises(ConfigError, match=fragment):
        generate_org(tmp_path / "w.duckdb", **args)
    assert not (tmp_path / "w.duckdb").exists()
