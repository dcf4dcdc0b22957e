"""Warehouse access.

Read-only connections, atomic file swaps, the raw schema, the SQL gate, the catalog read
from dbt's manifest and the shared per-warehouse reader.
"""
