"""The raw Salesforce data contract (`docs/data-contract.md`) as data.

Generator, importer, dbt sources and tests all take table and column definitions from
here, so there is one place that knows the landed shape.

>>> [c.name for c in TABLES["user_role"].columns]
['id', 'name', 'parent_role_id']
>>> TABLES["opportunity"].column("amount").type
'DECIMAL(18,2)'
"""

from __future__ import annotations

from dataclasses import dataclass

RAW_SCHEMA = "salesforce"


@dataclass(frozen=True)
class Column:
    """One contract column: snake_case API name, DuckDB type, whether a loader requires it."""

    name: str
    type: str
    required: bool = False


@dataclass(frozen=True)
class Table:
    """One contract table and the Salesforce object (CSV file stem) it comes from."""

    name: str
    sf_object: str
    columns: tuple[Column, ...]

    def column(self, name: str) -> Column:
        """The column called `name`."""
        return next(c for c in self.columns if c.name == name)

    @property
    def names(self) -> list[str]:
        """Column names in contract order."""
        return [c.name for c in self.columns]

    def ddl(self, schema: str = RAW_SCHEMA) -> str:
        """`create table` statement for this table in `schema`."""
        cols = ",\n  ".join(f"{c.name} {c.type}" for c in self.columns)
        return f'create table {schema}."{self.name}" (\n  {cols}\n)'


def _t(name: str, sf_object: str, *cols: tuple[str, str] | tuple[str, str, bool]) -> Table:
    return Table(name, sf_object, tuple(Column(*c) for c in cols))


V, D, TS, B, I, M = "VARCHAR", "DATE", "TIMESTAMP", "BOOLEAN", "INTEGER", "DECIMAL(18,2)"  # noqa: E741

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        _t(
            "opportunity", "Opportunity",
            ("id", V, True), ("name", V), ("account_id", V), ("owner_id", V),
            ("stage_name", V, True), ("amount", M), ("probability", I), ("close_date", D, True),
            ("created_date", TS, True), ("last_modified_date", TS), ("is_closed", B, True),
            ("is_won", B, True), ("forecast_category_name", V), ("type", V), ("lead_source", V),
            ("is_deleted", B),
        ),
        _t(
            "opportunity_history", "OpportunityHistory",
            ("id", V, True), ("opportunity_id", V, True), ("stage_name", V, True), ("amount", M),
            ("probability", I), ("close_date", D), ("forecast_category", V),
            ("created_date", TS, True), ("created_by_id", V), ("is_deleted", B),
        ),
        _t(
            "opportunity_stage", "OpportunityStage",
            ("id", V, True), ("api_name", V, True), ("master_label", V),
            ("default_probability", I), ("forecast_category_name", V), ("is_active", B),
            ("is_closed", B, True), ("is_won", B, True), ("sort_order", I),
        ),
        _t(
            "account", "Account",
            ("id", V, True), ("name", V), ("industry", V), ("type", V), ("billing_country", V),
            ("billing_state", V), ("annual_revenue", M), ("number_of_employees", I),
            ("owner_id", V), ("created_date", TS), ("is_deleted", B),
        ),
        _t(
            "user", "User",
            ("id", V, True), ("name", V), ("first_name", V), ("last_name", V), ("email", V),
            ("title", V), ("user_role_id", V), ("manager_id", V), ("is_active", B),
            ("department", V), ("created_date", TS),
        ),
        _t("user_role", "UserRole", ("id", V, True), ("name", V), ("parent_role_id", V)),
    )
}

#: The default Salesforce sales process:
#: (api_name, default_probability, forecast_category_name, is_closed, is_won).
DEFAULT_STAGES: tuple[tuple[str, int, str, bool, bool], ...] = (
    ("Prospecting", 10, "Pipeline", False, False),
    ("Qualification", 10, "Pipeline", False, False),
    ("Needs Analysis", 20, "Pipeline", False, False),
    ("Value Proposition", 50, "Pipeline", False, False),
    ("Id. Decision Makers", 60, "Pipeline", False, False),
    ("Perception Analysis", 70, "Best Case", False, False),
    ("Proposal/Price Quote", 75, "Best Case", False, False),
    ("Negotiation/Review", 90, "Commit", False, False),
    ("Closed Won", 100, "Closed", True, True),
    ("Closed Lost", 0, "Omitted", True, False),
)

#: Salesforce's standard Industry picklist.
INDUSTRIES: tuple[str, ...] = (
    "Agriculture", "Apparel", "Banking", "Biotechnology", "Chemicals", "Communications",
    "Construction", "Consulting", "Education", "Electronics", "Energy", "Engineering",
    "Entertainment", "Environmental", "Finance", "Food & Beverage", "Government",
    "Healthcare", "Hospitality", "Insurance", "Machinery", "Manufacturing", "Media",
    "Not For Profit", "Recreation", "Retail", "Shipping", "Technology",
    "Telecommunications", "Transportation", "Utilities", "Other",
)


def create_raw_schema(con, schema: str = RAW_SCHEMA) -> None:  # noqa: ANN001 - duckdb connection
    """Create the empty contract tables in `schema` on a DuckDB connection."""
    con.execute(f"create schema if not exists {schema}")
    for table in TABLES.values():
        con.execute(table.ddl(schema))
