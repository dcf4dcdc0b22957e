"""Whizzy's agents: the roles of the LangGraph graph and the helpers they share.

One role per module (house style 2): `intent`, `selector`, `planner`, `executor`, `fusion`,
`responder`; their shared helpers are `catalog` (the only reader of dbt's manifest),
`values` (names in the warehouse), `periods`, `formatting`, `plan`, `sqlbuild` and `gate`.
`assistant` is the facade the CLI, the evals and the chat use.
"""
