"""What the chat shows: steps per node, tables, footer, follow-ups, stored answer metadata."""

from __future__ import annotations

import datetime as dt
import decimal
import html
import json
import re

from markdown_it import MarkdownIt

from whizzy.chat.freshness import Freshness
from whizzy.chat.render import answer_metadata, answer_text, follow_ups, footer
from whizzy.chat.steps import NODE_TITLES, step_view
from whizzy.chat.tables import display_table, records_tables, result_units

FRESH = Freshness(dt.date(2026, 11, 15), dt.datetime(2026, 11, 16, 8, 30, 12))


def rendered(markdown: str) -> str:
    """The HTML a CommonMark renderer makes of `markdown` (raw HTML allowed, to see it)."""
    return MarkdownIt("commonmark", {"html": True}).render(markdown)


def shown(markdown: str) -> str:
    """The text a reader sees once `markdown` is rendered (tags dropped, lines joined)."""
    text = html.unescape(re.sub(r"<[^>]+>", "", rendered(markdown)))
    return re.sub(r"\s*\n\s*", " ", text).strip()


def test_footer_shows_as_of_date_build_time_models_and_timing():
    text = footer(FRESH, {"models": ["m_pipeline_health"], "elapsed_ms": 23.7})
    assert text == (
        "Data as of 2026-11-15 · warehouse built 2026-11-16 08:30 UTC · from m_pipeline_health"
        " · 24 ms"
    )


def test_footer_with_an_aware_build_time_is_in_utc():
    fresh = Freshness(dt.date(2026, 11, 15),
                      dt.datetime(2026, 11, 16, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))))
    assert "built 2026-11-16 08:00 UTC" in footer(fresh, {})


def test_footer_names_the_models_actually_queried():
    text = footer(FRESH, {"models": ["a", "b", "c"]}, models=["b"])
    assert "from b ·" in text or text.endswith("from b")


def test_footer_without_freshness_falls_back_to_the_answer_date():
    assert footer(None, {"as_of_date": "2026-11-15", "models": list("abcd")}) == (
        "Data as of 2026-11-15 · warehouse build time unknown · from a, b, c …"
    )


def test_every_node_has_a_titled_step():
    for node, title in NODE_TITLES.items():
        view = step_view(node, {}, 3.2)
        assert view.title.startswith(title) and view.title.endswith(" · 3 ms")
        assert view.body


def test_titles_say_what_each_node_decided():
    assert step_view("classify_intent", {"intent": "lookup"}).title == "intent classifier: lookup"
    assert step_view("select_models", {"models": ["a", "b"]}).title == "model selector: a (+1)"
    assert step_view("plan_query", {"plans": []}).title == "query planner: no query fits"
    assert step_view("fuse_results", {"records": {"rows": [[1], [2]]}}).title == (
        "result fusion: 2 records"
    )
    assert step_view("write_answer", {"chart": {"kind": "bar"}}).title == (
        "answer writer: bar chart"
    )


def test_intent_step_says_what_was_understood():
    view = step_view("classify_intent", {"intent": "analytics",
                                         "intent_reason": "asks for a win rate"})
    assert "<strong>analytics</strong>" in rendered(view.body)
    assert "asks for a win rate" in shown(view.body)


def test_model_step_names_each_model_and_why():
    view = step_view("select_models", {
        "models": ["m_pipeline_health", "fct_opportunity"],
        "model_reasons": {"m_pipeline_health": "matches 'health score'",
                          "fct_opportunity": "supporting deals"},
    })
    assert "<code>m_pipeline_health</code> — matches 'health score'" in rendered(view.body)
    assert "<code>fct_opportunity</code> — supporting deals" in rendered(view.body)


def test_plan_step_lists_measures_filters_order_and_limit():
    plan = {"model": "fct_opportunity", "purpose": "main", "description": "win rate by owner",
            "selections": [{"name": "owner_name", "role": "dimension", "label": "Owner"},
                           {"name": "win_rate", "role": "measure", "label": "Win rate"}],
            "filters": [{"column": "close_quarter_label", "op": "eq", "values": ["2026-Q3"],
                         "label": "quarter is 2026-Q3"}],
            "order_by": [{"name": "win_rate", "desc": True}], "limit": 5,
            "period_label": "Q3 2026"}
    body = step_view("plan_query", {"plans": [plan]}).body
    assert "<code>fct_opportunity</code>" in rendered(body)
    body = shown(body)
    for text in ("fct_opportunity", "win rate by owner", "measures: Win rate", "by: Owner",
                 "quarter is 2026-Q3", "period: Q3 2026", "order: win_rate desc", "limit: 5"):
        assert text in body


def test_sql_step_has_one_child_per_query_with_rows_and_time():
    view = step_view("run_queries", {"results": [
        {"purpose": "main", "sql": "select 1", "row_count": 12, "elapsed_ms": 4.2},
        {"purpose": "records", "sql": "select 2", "rows": [[1]], "elapsed_ms": 1.0},
    ]})
    assert [q.sql for q in view.queries] == ["select 1", "select 2"]
    assert view.queries[0].title == "Query 1 · main · 12 rows · 4 ms"
    assert view.queries[1].title == "Query 2 · records · 1 row · 1 ms"
    assert view.body.startswith("2 queries")


def test_a_failed_query_is_reported_not_hidden():
    view = step_view("run_queries", {"results": [
        {"sql": "select nope", "error": "Binder Error: column nope not found"}]})
    assert "failed" in view.queries[0].title
    assert "Binder Error" in shown(view.body)


def test_answer_text_never_invents_an_answer():
    assert answer_text({"answer": "Win rate is 31.3%."}) == "Win rate is 31.3%."
    assert answer_text({"answer": "", "error": "query failed"}) == (
        "I couldn't answer that: query failed"
    )


def test_display_table_formats_by_plan_units_and_labels_columns():
    result = {"plans": [{"selections": [{"name": "share", "unit": "percent"},
                                        {"name": "value", "unit": "currency"}]}]}
    table = display_table(["owner_name", "share", "value", "avg_days_in_stage", "close_date"],
                          [["Ana", 0.125, decimal.Decimal("1234567.8"), 42.36,
                            dt.date(2026, 11, 30)]],
                          units=result_units(result))
    assert table.columns.tolist() == ["Owner name", "Share", "Value", "Avg days in stage",
                                      "Close date"]
    assert table.iloc[0].tolist() == ["Ana", "12.5%", "$1,234,568", 42.4, "2026-11-30"]


def test_records_tables_accept_the_shapes_fusion_returns():
    single = {"title": "Overdue deals", "columns": ["opportunity_name", "amount"],
              "rows": [["Big deal", 50000]]}
    assert [(t, d.shape) for t, d in records_tables(single)] == [("Overdue deals", (1, 2))]
    many = [single, {"columns": ["a"], "rows": []}]
    assert len(records_tables(many)) == 1
    assert records_tables(None) == [] and records_tables([]) == []


def test_follow_ups_are_distinct_and_capped():
    got = follow_ups({"follow_ups": [{"question": "Why?"}, "why?", "By owner?", "A", "B"]})
    assert got == ["Why?", "By owner?", "A"]


def test_answer_metadata_is_json_and_keeps_what_export_needs():
    meta = answer_metadata({
        "question": "Win rate?", "intent": "analytics", "models": ["m_forecast"],
        "sql": ["select 1"], "columns": ["quarter", "win_rate"],
        "rows": [[dt.date(2026, 7, 1), decimal.Decimal("0.3125")]], "answer": "31.3%",
        "as_of_date": dt.date(2026, 11, 15), "elapsed_ms": 3.0,
    })
    assert json.loads(json.dumps(meta)) == meta
    assert meta["first_row"] == ["2026-07-01", 0.3125]
    assert meta["as_of_date"] == "2026-11-15"


def test_answer_view_of_a_ranking_has_chart_table_records_and_footer():
    from whizzy.chat.render import answer_view

    result = {
        "question": "Top reps?", "intent": "analytics", "models": ["fct_opportunity", "x"],
        "columns": ["owner", "win_rate"], "rows": [["Ana", 0.5], ["Bo", 0.4]],
        "chart": {"kind": "bar", "x": "owner", "y": "win_rate"},
        "records": {"title": "the deals behind the figure",
                    "columns": ["opportunity_name", "amount"], "rows": [["Deal", 10.0]]},
        "answer": "Ana leads with 50.0%.", "follow_ups": ["Why?"], "elapsed_ms": 9,
    }
    view = answer_view(result, [{"model": "fct_opportunity", "units": {"win_rate": "percent"}}],
                       FRESH)
    assert shown(view.content).startswith("Ana leads with 50.0%.")
    assert "Supporting" not in view.content  # the deals are in their own collapsed step
    assert view.content.endswith("*")  # the footer, in italics
    assert rendered(view.content).rstrip().endswith("from fct_opportunity · 9 ms</em></p>")
    assert view.figure.data[0].type == "bar"
    assert view.table.iloc[0].tolist() == ["Ana", "50.0%"]
    assert [t for t, _ in view.records] == ["The deals behind the figure"]
    assert view.follow_ups == ["Why?"] and view.metadata["question"] == "Top reps?"


def test_answer_view_of_one_number_is_text_only():
    from whizzy.chat.render import answer_view

    view = answer_view({"columns": ["weighted_pipeline"], "rows": [[5_120_000]],
                        "answer": "Weighted pipeline is $5.12M."}, [], FRESH)
    assert view.figure is None and view.table is None and view.records == []
    assert shown(view.content.splitlines()[0]) == "Weighted pipeline is $5.12M."


def test_answer_view_of_a_refusal_has_no_data():
    from whizzy.chat.render import answer_view

    view = answer_view({"intent": "out_of_scope", "answer": "I can't do that: I only read.",
                        "columns": [], "rows": []})
    assert view.figure is None and view.table is None
    assert "Data date unknown" in view.content


# --------------------------------------------------------------------------- markup from data

#: Names an org could hold (or an LLM could write) that would be markup if left as they are.
HOSTILE = [
    "[Click here](https://evil.example/steal)",
    "Visit www.evil.example or HTTP://evil.example/x, mail boss@evil.example",
    ":button[Click]{href=https://evil.example} and > [!WARNING] alert",
    "![x](https://evil.example/pixel.png)",
    "Acme\n# Injected heading",
    "Acme\n===",
    '<a href="https://evil.example">Acme</a>',
    "<img src=x onerror=alert(1)>",
    "&#91;Acme&#93;(https://evil.example)",
    "[Acme][ref]\n\n[ref]: https://evil.example",
    "<https://evil.example>",
    "| a | b |\n|---|---|\n| c | d |",
    "`code` and ``more``",
    "> quoted\n- listed\n1. numbered",
    "*em* __strong__ ~~gone~~",
    "Acme\r\n## CRLF heading\u2028### LS heading",
]
_MARKUP_TAGS = re.compile(r"<(a|img|h[1-6]|table|code|pre|em|strong|del|blockquote|ul|ol|li|hr)"
                          r"\b", re.I)


def _inert(markdown: str, *, allowed: str = "") -> None:
    html_out = rendered(markdown)
    tags = {m.group(1).lower() for m in _MARKUP_TAGS.finditer(html_out)} - set(allowed.split())
    assert not tags, (markdown, html_out)
    # Chainlit's renderer (remark-gfm) also links bare addresses in the text it shows, after
    # escapes are resolved: its two patterns must find nothing outside code spans
    text = html.unescape(re.sub(r"<[^>]+>", "", re.sub(r"<code>.*?</code>", "", html_out)))
    assert not re.search(r"(?i)(https?://|www(?=\.))[-.\w]+", text), (markdown, text)
    assert not re.search(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+", text, re.A), (markdown, text)


def test_names_and_llm_words_in_an_answer_show_as_text():
    from whizzy.chat.markup import WORD_JOINER
    from whizzy.chat.render import answer_view

    for name in HOSTILE:
        answer = f"Top account: {name}, $1.2M."
        view = answer_view({"answer": answer, "columns": ["account_name", "open_amount"],
                            "rows": [[name, 1.2e6], ["Bo", 1.0]],
                            "chart": {"kind": "bar", "title": name},
                            "records": {"title": name, "columns": ["n"], "rows": [[name]]}},
                           [{"model": name}], FRESH)
        _inert(view.content, allowed="em")  # the footer is the chat's own italics
        flat = re.sub(r"\s+", " ", name.replace("\u2028", " "))
        seen = shown(view.content).replace(WORD_JOINER, "")
        assert flat in re.sub(r"\s+", " ", seen), (name, view.content)


def test_names_in_steps_show_as_text():
    for name in HOSTILE:
        updates = {
            "classify_intent": {"intent": name, "intent_reason": name, "filters": [name]},
            "select_models": {"models": [name], "model_reasons": {name: name}},
            "plan_query": {"plans": [{"model": name, "purpose": name, "description": name,
                                      "selections": [{"name": name, "role": "measure"}],
                                      "filters": [{"label": name}], "period_label": name,
                                      "order_by": [{"name": name}], "limit": name}]},
            "run_queries": {"results": [{"sql": "select 1", "error": name}]},
            "fuse_results": {"records": {"title": name, "rows": [[1]]},
                             "results": [{"purpose": name, "description": name}],
                             "facts": {"drivers": [name]}},
            "write_answer": {"chart": {"kind": name, "x": name}, "follow_ups": [name],
                             "llm_fallbacks": [{"node": "x", "kind": name, "reason": name}]},
            "other_node": {"x": name},
        }
        for node, update in updates.items():
            body = step_view(node, update).body
            allowed = "code strong ul li"  # model names in code, bold labels, the lists
            _inert(body, allowed=allowed)


def test_a_link_in_a_name_is_text_on_a_chart():
    import plotly.io as pio

    from whizzy.chat.charts import chart_figure

    link = '<a href="https://evil.example">Acme</a>'
    for kind in ("bar", "line", "stacked_bar", "stage_durations"):
        columns = ["stage_name" if kind == "stage_durations" else "account_name",
                   "avg_days_in_stage" if kind == "stage_durations" else "open_amount"]
        rows = [[link, 40.0], ["<b>Bo</b><br>x", 10.0]]
        if kind in ("line", "stacked_bar"):
            columns, rows = (["quarter_label", "account_name", "open_amount"],
                             [["2026-Q1", link, 1.0], ["2026-Q2", link, 2.0],
                              ["2026-Q1", "Bo", 1.0], ["2026-Q2", "Bo", 3.0]])
        fig = chart_figure(columns, rows, {"kind": kind, "title": link})
        assert fig is not None, kind
        spec = pio.to_json(fig)
        assert "<a" not in spec and "<b>" not in spec and "<br>" not in spec, (kind, spec[:400])
        assert "&lt;a href" in spec


def test_problems_quote_data_as_text():
    from whizzy.chat.render import problem_text
    from whizzy.core.errors import ConfigError, WarehouseMissingError

    for name in HOSTILE:
        _inert(problem_text(ConfigError(f"No such thing: {name}")))
        _inert(problem_text(WarehouseMissingError(f"No warehouse at {name}")),
               allowed="strong code")


def test_sql_from_the_data_cannot_end_its_code_block():
    sql = "select 1 as x where name = '\n```\n[Click](https://evil.example)\n```'"
    view = step_view("run_queries", {"results": [{"sql": sql}]})
    shown_sql = view.queries[0].sql
    # as Chainlit shows a step with language="sql": inside a ``` fence it writes itself
    html_out = rendered(f"```sql\n{shown_sql}\n```")
    assert html_out.count("<pre>") == 1 and "<a" not in html_out
    assert shown_sql.replace("\u2060", "") == sql  # it reads the same


def test_a_deal_list_does_not_show_its_deals_twice():
    from whizzy.chat.render import answer_view

    cols = ["opportunity_name", "amount"]
    rows = [["Acme - Renewal", 800.0], ["Bolt - Seats", 700.0]]
    view = answer_view({"columns": cols, "rows": rows, "answer": "2 deals.",
                        "records": {"title": "deals open", "columns": cols, "rows": rows}},
                       [], FRESH)
    assert view.table is not None and view.records == []
    ranking = answer_view({"columns": ["owner", "win_rate"], "rows": [["Ana", 0.5], ["Bo", 0.4]],
                           "answer": "Ana.", "records": {"title": "deals", "columns": cols,
                                                         "rows": rows}}, [], FRESH)
    assert [t for t, _ in ranking.records] == ["Deals"]


def test_how_i_got_this_holds_understanding_every_querys_sql_and_timings():
    from whizzy.chat.howto import HOW_TITLE, how_i_got_this

    views = [step_view("classify_intent", {"intent": "analytics"}, 3.0),
             step_view("plan_query", {"plans": [{"model": "m_pipeline_health"}]}, 2.0)]
    results = [{"purpose": "main", "model": "m_pipeline_health", "sql": "select 1 as a",
                "row_count": 1, "elapsed_ms": 5.0},
               {"purpose": "records", "model": "fct_opportunity", "sql": "select 2 as b",
                "row_count": 10, "elapsed_ms": 7.0}]
    text = how_i_got_this(views, results, total_ms=20.0)
    html = rendered(text)
    assert "Intent: <strong>analytics</strong>" in html and "m_pipeline_health" in html
    assert html.count("<code") >= 2 and "select 1 as a" in html and "select 2 as b" in html
    assert "Query 2 · the deals behind it · fct_opportunity · 10 rows · 7 ms" in shown(text)
    assert "intent classifier 3 ms" in shown(text) and "total 20 ms" in shown(text)
    assert HOW_TITLE.replace(" ", "").isalnum()  # /avatars/<name> accepts it


def test_an_answer_says_when_the_row_limit_cut_its_rows():
    from whizzy.chat.render import answer_view

    result = {"columns": ["opportunity_name", "amount"], "rows": [["A", 1.0], ["B", 2.0]],
              "answer": "2 deals."}
    cut = answer_view(result, [{"purpose": "main", "truncated": True, "row_count": 2}], FRESH,
                      row_limit=2)
    assert "The row limit (2 rows, in Settings) cut the table at 2 rows" in shown(cut.content)
    whole = answer_view(result, [{"purpose": "main", "truncated": False, "row_count": 2}], FRESH,
                        row_limit=2)
    assert "row limit" not in shown(whole.content)


def test_the_llm_engine_is_offered_only_when_configured():
    from whizzy.chat.personas import SettingsSpec, engine_choices

    assert "llm" not in engine_choices(False).values()
    assert "llm" in engine_choices(True).values()
    restored = SettingsSpec.from_values({"engine": "llm"}, engine="offline", row_limit=100,
                                        llm_configured=False)
    assert restored.engine == "offline"


def test_choices_and_follow_ups_are_buttons_kept_for_resume():
    from whizzy.chat.render import answer_view, saved_buttons

    view = answer_view({"question": "How is Sofia doing?", "answer": "Which one?",
                        "query": {"clarify": {"question": "Which one?", "text": "sofia",
                                              "options": ["Sofia Sanchez", "Sofia Vargas"]}},
                        "follow_ups": ["Why?"]}, [], FRESH)
    assert view.buttons == [("Sofia Sanchez", "How is Sofia Sanchez doing?"),
                            ("Sofia Vargas", "How is Sofia Vargas doing?"), ("Why?", "Why?")]
    steps = [{"id": "a1", "type": "assistant_message",
              "metadata": json.dumps({"whizzy": {"buttons": view.buttons}})}]
    assert saved_buttons(steps) == [("a1", [list(b) for b in view.buttons])]
