"""LLM mode: langchain-openai behind the same nodes, grounded and safe, offline as its net.

`settings` (engine choice, endpoint, secrets kept secret), `client` (ChatOpenAI /
AzureChatOpenAI factory, bounded retries, usage), `prompts` (the template object over
``prompts/*.md``), `catalog_text` (the catalog compactly for prompts), `schemas` (structured
output), `reading` (the LLM's reading checked against the catalog), `freesql` (gated,
dry-run free SQL with repair rounds), `grounding` (every number must come from the
results), `writer` (the streamed, grounded answer), `usage` (tokens and latency per node)
and `engine` (one object the nodes call).
"""
