import pytest

from whizzy.core.errors import UnsafeQueryError
from whizzy.warehouse.gate import gate

ALLOWED = {("main", "fct_opportunity"), ("main", "m_pipeline_health"),
           ("salesforce", "opportunity")}

REFUSED = [
    "drop table fct_opportunity",
    "delete from fct_opportunity",
    "insert into fct_opportunity values (1)",
    "update fct_opportunity set amount = 0",
    "create table x as select 1",
    "alter table fct_opportunity add column x int",
    "attach 'other.duckdb' as other",
    "detach other",
    "copy fct_opportunity to 'out.csv'",
    "export database 'dump'",
    "pragma database_list",
    "set threads = 1",
    "install httpfs",
    "load httpfs",
    "call pragma_version()",
    "select * from read_csv('/etc/passwd')",
    "select * from read_parquet('s3://bucket/x.parquet')",
    "select * from read_json_auto('x.json')",
    "select * from glob('*')",
    "select read_text('/etc/passwd')",
    "select getenv('HOME')",
    "select * from 'data.csv'",
    "select * from information_schema.tables",
    "select * from duckdb_settings()",
    "select * from other.main.fct_opportunity",
    "select * from secrets",
    "select 1; select 2",
    "select 1 into newtable",
    "",
    "this is not sql",
]


@pytest.mark.parametrize("sql", REFUSED)
def test_refused(sql):
    with pytest.raises(UnsafeQueryError):
        gate(sql, ALLOWED)


ALLOWED_SQL = [
    "select count(*) from fct_opportunity",
    "select * from main.m_pipeline_health order by quarter desc",
    "with x as (select * from salesforce.opportunity) select count(*) from x",
    "select a.id from salesforce.opportunity a join fct_opportunity b on a.id = b.opportunity_id",
    "select * from fct_opportunity union all select * from fct_opportunity",
]


@pytest.mark.parametrize("sql", ALLOWED_SQL)
def test_allowed_and_limited(sql):
    out = gate(sql, ALLOWED, row_limit=50, pretty=False)
    assert out.endswith("LIMIT 50")


def test_smaller_limit_is_kept_larger_is_lowered():
    assert gate("select 1 from fct_opportunity limit 5", ALLOWED, row_limit=50,
                pretty=False).endswith("LIMIT 5")
    assert gate("select 1 from fct_opportunity limit 5000", ALLOWED, row_limit=50,
                pretty=False).endswith("LIMIT 50")
