"""A documented model added to the dbt project becomes answerable without Python changes."""

import shutil
import uuid

import pytest

from whizzy.assistant import Assistant
from whizzy.core.formatting import format_count
from whizzy.core.settings import DBT_PROJECT_DIR
from whizzy.warehouse.connection import connect_readonly

MODEL_SQL = """
with opportunities as (

    select * from {{ ref('fct_opportunity') }}

),

scored as (

    select
        lead_source as channel,
        count(*) as referral_deal_count,
        sum(case when is_won then 1 else 0 end) as channel_wins,
    from opportunities
    where lead_source is not null
    group by lead_source

)

select * from scored
"""

MODEL_YML = """
version: 2
models:
  - name: m_channel_scorecard
    description: "One row per lead source (channel): how many deals it brought and won."
    config:
      contract: {enforced: true}
      meta:
        whizzy:
          label: Channel scorecard
          family: channels
          synonyms: [channel scorecard, channel mix]
          example_questions:
            - How many deals did each channel bring?
            - Which channel brought the most deals?
            - What are the channel wins for Web?
          grain: [channel]
          time_grain: none
          default_sort: [{column: referral_deal_count, desc: true}]
          dimensions:
            - name: lead_source
              column: channel
              synonyms: [channel, lead source]
          measures:
            - name: referral_deal_count
              column: referral_deal_count
              unit: count
              synonyms: [channel deal count, deals brought, brought, bring, brings]
            - name: channel_wins
              column: channel_wins
              unit: count
              synonyms: [channel wins, wins by channel]
    columns:
      - name: channel
        description: The lead source.
        data_type: varchar
        data_tests: [unique, not_null]
      - name: referral_deal_count
        description: Deals from that source.
        data_type: bigint
      - name: channel_wins
        description: Won deals from that source.
        data_type: hugeint
"""


#: Each example question of the model, then three paraphrases of it, with the gold SQL on the
#: raw tables (the figure the answer must state) and whether the answer names the channel.
QUESTIONS = {
    "How many deals did each channel bring?": "each",
    "deals brought, by channel": "each",
    "count of deals each lead source brought": "each",
    "channel scorecard: how many deals per channel?": "each",
    "Which channel brought the most deals?": "top",
    "top channel by deals brought": "top",
    "which lead source brings the most deals?": "top",
    "the channel that brought the most deals, please": "top",
    "What are the channel wins for Web?": "web",
    "Web channel wins": "web",
    "how many channel wins does Web have?": "web",
    "channel wins, Web only": "web",
}


@pytest.fixture(scope="module")
def scorecard(tmp_path_factory, raw_warehouse):
    from whizzy.build import build_warehouse

    tmp_path = tmp_path_factory.mktemp("newmodel")
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project,
                    ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (project / "models" / "marts" / "m_channel_scorecard.sql").write_text(MODEL_SQL)
    (project / "models" / "marts" / "_fixture__models.yml").write_text(MODEL_YML)
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copyfile(raw_warehouse, warehouse)
    build_warehouse(warehouse, as_of="2026-11-15", project_dir=project)
    return warehouse


@pytest.mark.slow
@pytest.mark.parametrize("question", list(QUESTIONS))
def test_a_model_the_code_never_saw_answers_its_questions_and_paraphrases(scorecard, question):
    con = connect_readonly(scorecard)
    rows = con.execute("""
        select lead_source, count(*), count(*) filter (where is_won)
        from salesforce.opportunity where not is_deleted and lead_source is not null
        group by 1 order by 2 desc, 1
    """).fetchall()
    con.close()
    out = Assistant(scorecard).ask(question, thread_id=uuid.uuid4().hex)
    assert out["models"][:1] == ["m_channel_scorecard"], (question, out["models"], out["answer"])
    kind = QUESTIONS[question]
    if kind == "web":
        (wins,) = [w for source, _, w in rows if source == "Web"]
        assert format_count(wins) in out["answer"], out["answer"]
    else:
        source, count, _ = rows[0]
        assert source in out["answer"] and format_count(count) in out["answer"], out["answer"]


@pytest.mark.slow
def test_documented_fixture_model_is_answerable(scorecard):
    warehouse = scorecard
    con = connect_readonly(warehouse)
    source, count = con.execute("""
        select lead_source, count(*) from salesforce.opportunity
        where not is_deleted and lead_source is not null group by 1 order by 2 desc limit 1
    """).fetchone()
    con.close()
    out = Assistant(warehouse).ask("Which channel brought the most deals? (channel scorecard)",
                                   thread_id=uuid.uuid4().hex)
    assert "m_channel_scorecard" in out["models"], out
    assert source in out["answer"] and format_count(count) in out["answer"], out["answer"]
