"""Free SQL: gated, EXPLAINed, repaired at most twice; writes and file access refused at once."""

from __future__ import annotations

import hashlib

import pytest
from llm_support import AS_OF
from openai_stub import fail, structured

from agents.llm.freesql import MAX_REPAIRS, explain_on, hostile, write_sql
from whizzy.core.errors import LLMUnavailableError

QUESTION = "What is the average deal size by stage?"


def _sql(sql: str, explanation: str = "average amount by stage"):
    return structured({"sql": sql, "explanation": explanation})


def _write(llm_client, mini_catalog, mini_warehouse, row_limit=100):
    return write_sql(llm_client, question=QUESTION, catalog=mini_catalog,
                     allowed=mini_catalog.relations(), explain=explain_on(mini_warehouse),
                     as_of=AS_OF.isoformat(), row_limit=row_limit)


def _sha(path):
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_good_query_is_gated_and_limited(llm_client, llm_stub, mini_catalog, mini_warehouse):
    llm_stub.queue(_sql("select stage_name, avg(amount) as avg_amount from fct_opportunity "
                        "group by stage_name"))
    result = _write(llm_client, mini_catalog, mini_warehouse, row_limit=50)
    assert result.attempts == 1 and result.errors == []
    assert result.sql.rstrip().endswith("LIMIT 50")
    assert result.explanation == "average amount by stage"
    assert len(result.usage) == 1 and result.usage[0].node == "plan_query"
    prompt = llm_stub.requests[0]["body"]["messages"][0]["content"]
    assert "m_win_rate" in prompt and "won_count integer" in prompt
    assert "fct_opportunity" not in prompt  # only answerable models are described


@pytest.mark.parametrize("attack", [
    "drop table fct_opportunity",
    "delete from fct_opportunity",
    "copy fct_opportunity to '/tmp/out.csv'",
    "select * from read_csv('/etc/passwd')",
    "select * from read_parquet('https://example.com/x.parquet')",
    "attach '/tmp/other.duckdb' as other",
    "select 1; drop table m_win_rate",
    "install httpfs",
    "pragma database_list",
])
def test_unsafe_sql_is_refused_without_repair(attack, llm_client, llm_stub, mini_catalog,
                                              mini_warehouse):
    before = _sha(mini_warehouse)
    llm_stub.queue(_sql(attack), _sql("select 1 as x"))
    with pytest.raises(LLMUnavailableError) as info:
        _write(llm_client, mini_catalog, mini_warehouse)
    assert info.value.kind == "unsafe_sql"
    assert "refused" in str(info.value)
    assert len(llm_stub.requests) == 1 and llm_stub.pending == 1  # no repair round
    assert _sha(mini_warehouse) == before


def test_unknown_table_is_repaired(llm_client, llm_stub, mini_catalog, mini_warehouse):
    llm_stub.queue(_sql("select * from opportunities"),
                   _sql("select count(*) as deals from fct_opportunity"))
    result = _write(llm_client, mini_catalog, mini_warehouse)
    assert result.attempts == 2
    assert "not a catalog model" in result.errors[0]
    repair = llm_stub.requests[1]["body"]["messages"]
    assert repair[-2]["role"] == "assistant" and "opportunities" in repair[-2]["content"]
    assert "not a catalog model" in repair[-1]["content"]


def test_explain_error_is_fed_back(llm_client, llm_stub, mini_catalog, mini_warehouse):
    llm_stub.queue(_sql("select avg(deal_size) from fct_opportunity"),
                   _sql("select avg(amount) as avg_amount from fct_opportunity"))
    result = _write(llm_client, mini_catalog, mini_warehouse)
    assert result.attempts == 2
    assert "deal_size" in result.errors[0]
    assert "deal_size" in llm_stub.requests[1]["body"]["messages"][-1]["content"]


def test_at_most_two_repairs(llm_client, llm_stub, mini_catalog, mini_warehouse):
    llm_stub.queue(*[_sql("select nope from fct_opportunity")] * 4)
    with pytest.raises(LLMUnavailableError) as info:
        _write(llm_client, mini_catalog, mini_warehouse)
    assert info.value.kind == "sql_error"
    assert len(llm_stub.requests) == 1 + MAX_REPAIRS and llm_stub.pending == 1
    assert len(info.value.usage_calls) == 3


def test_parse_error_is_repaired(llm_client, llm_stub, mini_catalog, mini_warehouse):
    llm_stub.queue(_sql("select from where"), _sql("select count(*) as n from m_win_rate"))
    assert _write(llm_client, mini_catalog, mini_warehouse).attempts == 2


def test_refusal_marker_ends_the_attempt(llm_client, llm_stub, mini_catalog, mini_warehouse):
    llm_stub.queue(_sql("select 'refused' as refused"))
    with pytest.raises(LLMUnavailableError) as info:
        _write(llm_client, mini_catalog, mini_warehouse)
    assert info.value.kind == "refused"


def test_http_failure_carries_usage(llm_client, llm_stub, mini_catalog, mini_warehouse):
    llm_stub.queue(fail(500), fail(500))
    with pytest.raises(LLMUnavailableError) as info:
        _write(llm_client, mini_catalog, mini_warehouse)
    assert info.value.kind == "server_error"
    assert info.value.usage_calls[0].attempts == 2


def test_hostile_does_not_flag_plain_reads():
    assert hostile("with t as (select * from m_win_rate) select count(*) from t") is None
    assert hostile("select * from unknown_table") is None


BYPASS = ("with recursive a as (select database_name, path from duckdb_databases), "
          "duckdb_databases as (select 1) select * from a")


def test_the_recursive_cte_bypass_never_runs(llm_client, llm_stub, mini_catalog,
                                             mini_warehouse):
    # issue 17, finding 2: the later CTE's name is DuckDB's system view
    llm_stub.queue(*[_sql(BYPASS)] * (1 + MAX_REPAIRS))
    ran: list[str] = []
    with pytest.raises(LLMUnavailableError) as info:
        write_sql(llm_client, question=QUESTION, catalog=mini_catalog,
                  allowed=mini_catalog.relations(), explain=ran.append,
                  as_of=AS_OF.isoformat(), row_limit=100)
    assert info.value.kind in {"unsafe_sql", "sql_error"}
    assert "duckdb_databases" in str(info.value)
    assert ran == []  # not even dry-run


def test_a_figure_with_no_from_is_no_answer(llm_client, llm_stub, mini_catalog, mini_warehouse):
    llm_stub.queue(_sql("select 1000000000 as total_revenue"),
                   _sql("select sum(amount) as total_revenue from fct_opportunity"))
    result = _write(llm_client, mini_catalog, mini_warehouse)
    assert result.attempts == 2 and "reads no catalog model" in result.errors[0]
    assert "fct_opportunity" in result.sql
