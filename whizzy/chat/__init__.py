"""The Chainlit chat: pure helpers that `app.py` wires to Chainlit events.

One module per job: `options` (settings from the environment), `personas` (starters and
chat settings), `runtime` (checkpointer, assistants, streaming the graph), `render` (step
summaries, tables, footer, the answer message), `charts` (Plotly figures), `freshness`
(as-of date and build time of the warehouse), `datalayer` (Chainlit's SQLAlchemy data layer
on a local SQLite file), `auth` (optional password login, sign-in throttle, signed-out
tokens), `origins` and `guard` (which web pages may call the chat), `markup` (data and LLM
words shown as text, never as links or markup), `offline` (keeps the page from
fetching anything off the machine) and `feedback` (rated answers → eval cases).
"""
