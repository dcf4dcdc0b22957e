"""`whizzy mcp`: the assistant as a Model Context Protocol server (official `mcp` SDK).

One module per job: `catalog` (the catalog as MCP data: metrics, dimensions, model details,
freshness), `queries` (the typed query contract, the deals and gated SQL, run read-only),
`server` (the FastMCP server: tools, resources, prompts), `http` (streamable HTTP with a
bearer token) and `client` (an in-process client session, for `whizzy eval --via mcp`).

It sits beside the chat above the eval harness: it imports the assistant, the agents and
the warehouse, and only the CLI imports it.
"""
