"""`whizzy bench`: how generation, build, answers and the chat server scale with the org size.

For each size the benchmark generates an org, builds it, measures the DuckDB *floor* of the
build (the same compiled SQL run directly, without dbt), asks every eval question offline, and
starts the chat server and answers every question through its websocket. Each heavy phase runs
in a child process (``python -m whizzy.bench PHASE ARGS``, `whizzy.bench.phases`) so its
peak memory is its own.

The result is one JSON document (see `run_bench`) with, per size and phase, the machine's load
average at the start and end (other work on the machine slows every figure), the growth of
each figure between the smallest and the largest size (log-log slope) and the targets.

Modules: `common` (sizes, targets, helpers), `phases` (the child processes), `server` (the
chat server over its websocket), `run` (the parent: `run_bench`).
"""
