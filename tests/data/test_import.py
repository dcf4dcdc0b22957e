"""CSV import: round trip, accepted forms, each bad-input case, Fivetran reference files."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import shutil
from datetime import datetime
from pathlib import Path

import duckdb
import pytest

from whizzy.core.errors import DataImportError
from whizzy.data.export import export_csv_dir
from whizzy.data.generate import generate_org
from whizzy.data.importer import import_csv_dir
from whizzy.warehouse.schema import TABLES

#: A copy of tests/fixtures/fivetran_salesforce: the four objects as Fivetran lands them.
FIVETRAN = Path(__file__).resolve().parents[1] / "fixtures" / "fivetran_salesforce"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def one(con, sql: str, params=None):
    return con.execute(sql, params or []).fetchone()[0]


@pytest.fixture(scope="module")
def small_export(tmp_path_factory) -> Path:
    """A valid Salesforce-style export of a small generated org."""
    base = tmp_path_factory.mktemp("small")
    generate_org(base / "org.duckdb", opportunities=60, seed=4, as_of="2026-06-30")
    export_csv_dir(base / "org.duckdb", base / "csv")
    return base / "csv"


@pytest.fixture()
def case_dir(small_export: Path, tmp_path: Path) -> Path:
    d = tmp_path / "export"
    shutil.copytree(small_export, d)
    return d


@pytest.fixture()
def warehouse(small_export: Path, tmp_path: Path) -> Path:
    """A warehouse that already holds an imported org (it must survive a failed import)."""
    w = tmp_path / "wh" / "warehouse.duckdb"
    import_csv_dir(small_export, w)
    return w


def read_rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8-sig") as fh:
        return list(csv.reader(fh))


def write_rows(path: Path, rows: list[list[str]]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def set_cell(path: Path, line: int, header: str, value: str) -> None:
    """Set a field on a physical line (1 = header) of a file without multi-line fields."""
    rows = read_rows(path)
    rows[line - 1][rows[0].index(header)] = value
    write_rows(path, rows)


def assert_fails(case: Path, warehouse: Path, *fragments: str) -> str:
    before = sha256(warehouse)
    listing = sorted(p.name for p in warehouse.parent.iterdir())
    with pytest.raises(DataImportError) as info:
        import_csv_dir(case, warehouse)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, message
    assert sha256(warehouse) == before, "a failed import changed the warehouse"
    assert sorted(p.name for p in warehouse.parent.iterdir()) == listing, "temp files left"
    return message


# --------------------------------------------------------------------------------------
# Round trip


def test_round_trip_generate_export_import_is_identical(raw_warehouse: Path, tmp_path: Path):
    written = export_csv_dir(raw_warehouse, tmp_path / "csv")
    assert {p.name for p in written.values()} == {
        "Opportunity.csv", "OpportunityHistory.csv", "OpportunityStage.csv", "Account.csv",
        "User.csv", "UserRole.csv"}
    header = read_rows(tmp_path / "csv" / "Opportunity.csv")[0]
    assert header[:6] == ["Id", "Name", "AccountId", "OwnerId", "StageName", "Amount"]
    target = tmp_path / "fresh" / "warehouse.duckdb"
    counts = import_csv_dir(tmp_path / "csv", target)
    con = duckdb.connect(str(target))
    con.execute(f"attach '{raw_warehouse}' as src (read_only)")
    for table in TABLES:
        q = f'salesforce."{table}"'
        assert counts[table] == one(con, f"select count(*) from src.{q}")
        assert one(con, f"select count(*) from (from src.{q} except all from {q})") == 0, table
        assert one(con, f"select count(*) from (from {q} except all from src.{q})") == 0, table
        types = con.execute(
            "select database_name, column_name, data_type from duckdb_columns() "
            "where schema_name = 'salesforce' and table_name = ? order by column_index",
            [table]).fetchall()
        src = [(c, t) for d, c, t in types if d == "src"]
        new = [(c, t) for d, c, t in types if d != "src"]
        assert new == src, table


def test_import_replaces_raw_tables_and_keeps_other_schemas(warehouse: Path, tmp_path: Path):
    con = duckdb.connect(str(warehouse))
    con.execute("create table main.keep_me as select 42 as answer")
    con.close()
    generate_org(tmp_path / "other.duckdb", opportunities=25, seed=9, as_of="2026-01-31")
    export_csv_dir(tmp_path / "other.duckdb", tmp_path / "other")
    counts = import_csv_dir(tmp_path / "other", warehouse)
    assert counts["opportunity"] == 25
    con = duckdb.connect(str(warehouse), read_only=True)
    assert one(con, "select count(*) from salesforce.opportunity") == 25
    assert one(con, "select answer from main.keep_me") == 42


# --------------------------------------------------------------------------------------
# Accepted forms


def test_headers_in_any_case_and_snake_case_file_names(case_dir: Path, tmp_path: Path):
    # Opportunity.csv with UPPER headers, account as a Fivetran-style snake_case file
    rows = read_rows(case_dir / "Opportunity.csv")
    rows[0] = [h.upper() for h in rows[0]]
    write_rows(case_dir / "Opportunity.csv", rows)
    rows = read_rows(case_dir / "Account.csv")
    rows[0] = ["id", "name", "industry", "type", "billing_country", "billing_state",
               "annual_revenue", "number_of_employees", "owner_id", "created_date", "is_deleted"]
    (case_dir / "Account.csv").unlink()
    write_rows(case_dir / "account.csv", rows)
    (case_dir / "UserRole.csv").rename(case_dir / "user_role.csv")
    counts = import_csv_dir(case_dir, tmp_path / "w.duckdb")
    assert counts["opportunity"] == 60 and counts["account"] > 0 and counts["user_role"] == 12


def test_date_boolean_and_number_forms(case_dir: Path, tmp_path: Path):
    opp = case_dir / "Opportunity.csv"
    set_cell(opp, 2, "CreatedDate", "2024-01-05 14:03:11")
    set_cell(opp, 3, "CreatedDate", "2024-01-05T14:03:11Z")
    set_cell(opp, 4, "CreatedDate", "2024-01-05T14:03:11.250+02:00")
    set_cell(opp, 5, "CreatedDate", "2024-01-05T14:03:11-0530")
    set_cell(opp, 6, "CreatedDate", "2024-01-05")
    set_cell(opp, 2, "CloseDate", "2024-03-31 00:00:00")
    set_cell(opp, 2, "IsDeleted", "FALSE")
    set_cell(opp, 3, "IsDeleted", "0")
    set_cell(opp, 4, "IsDeleted", "True")
    set_cell(opp, 5, "IsDeleted", "1")
    set_cell(opp, 2, "Amount", "1e3")
    set_cell(opp, 3, "Amount", "  2500.5 ")
    set_cell(opp, 4, "Amount", "")
    set_cell(opp, 2, "Probability", "10.0")
    w = tmp_path / "w.duckdb"
    import_csv_dir(case_dir, w)
    con = duckdb.connect(str(w), read_only=True)
    ids = [r[0] for r in read_rows(opp)[1:6]]
    got = dict(con.execute(
        "select id, created_date from salesforce.opportunity where id in ?", [ids]).fetchall())
    assert [got[i] for i in ids] == [
        datetime(2024, 1, 5, 14, 3, 11), datetime(2024, 1, 5, 14, 3, 11),
        datetime(2024, 1, 5, 12, 3, 11, 250000), datetime(2024, 1, 5, 19, 33, 11),
        datetime(2024, 1, 5)]
    rows = con.execute(
        "select id, close_date, is_deleted, amount, probability from salesforce.opportunity "
        "where id in ?", [ids[:4]]).fetchall()
    by_id = {r[0]: r[1:] for r in rows}
    assert str(by_id[ids[0]][0]) == "2024-03-31"
    assert [by_id[i][1] for i in ids[:4]] == [False, False, True, True]
    assert [by_id[i][2] for i in ids[:3]] == [1000, 2500.5, None]
    assert by_id[ids[0]][3] == 10


def test_utf8_bom_is_accepted(case_dir: Path, tmp_path: Path):
    p = case_dir / "Opportunity.csv"
    p.write_bytes(b"\xef\xbb\xbf" + p.read_bytes())
    assert import_csv_dir(case_dir, tmp_path / "w.duckdb")["opportunity"] == 60


def test_unknown_stage_allowed_on_deleted_rows(case_dir: Path, tmp_path: Path):
    opp = case_dir / "Opportunity.csv"
    set_cell(opp, 3, "StageName", "Scrambled==")
    set_cell(opp, 3, "IsDeleted", "true")
    assert import_csv_dir(case_dir, tmp_path / "w.duckdb")["opportunity"] == 60


def test_stage_file_defines_the_stages(case_dir: Path, tmp_path: Path):
    stages = case_dir / "OpportunityStage.csv"
    set_cell(stages, 2, "ApiName", "Discovery")  # replaces Prospecting
    opp = case_dir / "Opportunity.csv"
    rows = read_rows(opp)
    col = rows[0].index("StageName")
    for r in rows[1:]:
        if r[col] == "Prospecting":
            r[col] = "Discovery"
    write_rows(opp, rows)
    hist = case_dir / "OpportunityHistory.csv"
    rows = read_rows(hist)
    col = rows[0].index("StageName")
    for r in rows[1:]:
        if r[col] == "Prospecting":
            r[col] = "Discovery"
    write_rows(hist, rows)
    import_csv_dir(case_dir, tmp_path / "w.duckdb")
    # a default stage that the file does not list is now unknown
    set_cell(opp, 2, "StageName", "Prospecting")
    set_cell(opp, 2, "IsDeleted", "false")
    with pytest.raises(DataImportError, match="Opportunity.csv, line 2, column StageName"):
        import_csv_dir(case_dir, tmp_path / "w2.duckdb")


def test_optional_tables_missing_are_created_empty(case_dir: Path, tmp_path: Path):
    for name in ("OpportunityHistory.csv", "OpportunityStage.csv", "UserRole.csv"):
        (case_dir / name).unlink()
    w = tmp_path / "w.duckdb"
    counts = import_csv_dir(case_dir, w)
    assert counts["opportunity_history"] == counts["opportunity_stage"] == 0
    con = duckdb.connect(str(w), read_only=True)
    cols = [r[0] for r in con.execute(
        "select column_name from duckdb_columns() where schema_name = 'salesforce' "
        "and table_name = 'opportunity_stage' order by column_index").fetchall()]
    assert cols == TABLES["opportunity_stage"].names


def test_fivetran_reference_files(tmp_path: Path):
    w = tmp_path / "w.duckdb"
    counts = import_csv_dir(FIVETRAN, w)
    assert counts == {"opportunity": 10, "opportunity_history": 0, "opportunity_stage": 0,
                      "account": 10, "user": 10, "user_role": 10}
    con = duckdb.connect(str(w), read_only=True)
    types = dict(con.execute(
        "select column_name, data_type from duckdb_columns() where schema_name = 'salesforce' "
        "and table_name = 'opportunity'").fetchall())
    for col in TABLES["opportunity"].columns:
        assert types[col.name] == col.type
    # only the contract's columns and Fivetran's system columns (typed) are loaded
    assert "pricebook_2_id" not in types
    assert types["_fivetran_synced"] == "TIMESTAMP"
    assert types["_fivetran_active"] == "BOOLEAN"
    user_cols = [r[0] for r in con.execute(
        "select column_name from duckdb_columns() where schema_name = 'salesforce' "
        "and table_name = 'user' order by column_index").fetchall()]
    assert user_cols[:len(TABLES["user"].names)] == TABLES["user"].names
    assert set(user_cols[len(TABLES["user"].names):]) <= {
        "_fivetran_synced", "_fivetran_deleted", "_fivetran_active"}
    assert one(con, "select count(*) from salesforce.opportunity where is_deleted") == 10
    assert one(con, "select max(probability) from salesforce.opportunity") == 1000


# --------------------------------------------------------------------------------------
# Bad input: clear error naming file, line, column; warehouse unchanged


def test_missing_required_column(case_dir: Path, warehouse: Path):
    rows = read_rows(case_dir / "Opportunity.csv")
    k = rows[0].index("StageName")
    write_rows(case_dir / "Opportunity.csv", [r[:k] + r[k + 1:] for r in rows])
    assert_fails(case_dir, warehouse, "Opportunity.csv", "line 1", "StageName",
                 "missing required column")


def test_bad_date(case_dir: Path, warehouse: Path):
    set_cell(case_dir / "Opportunity.csv", 5, "CloseDate", "31/12/2024")
    assert_fails(case_dir, warehouse, "Opportunity.csv, line 5, column CloseDate",
                 "'31/12/2024' is not a date")


def test_bad_timestamp(case_dir: Path, warehouse: Path):
    set_cell(case_dir / "OpportunityHistory.csv", 9, "CreatedDate", "2024-02-30T10:00:00Z")
    assert_fails(case_dir, warehouse, "OpportunityHistory.csv, line 9, column CreatedDate",
                 "is not a date-time")


def test_bad_boolean(case_dir: Path, warehouse: Path):
    set_cell(case_dir / "Opportunity.csv", 7, "IsWon", "maybe")
    assert_fails(case_dir, warehouse, "Opportunity.csv, line 7, column IsWon",
                 "'maybe' is not a boolean")


def test_non_numeric_amount(case_dir: Path, warehouse: Path):
    set_cell(case_dir / "Opportunity.csv", 4, "Amount", "$12,500")
    assert_fails(case_dir, warehouse, "Opportunity.csv, line 4, column Amount",
                 "'$12,500' is not a number")


def test_non_integer_probability(case_dir: Path, warehouse: Path):
    set_cell(case_dir / "Opportunity.csv", 3, "Probability", "12.5")
    assert_fails(case_dir, warehouse, "Opportunity.csv, line 3, column Probability",
                 "is not a whole number")


def test_duplicate_id(case_dir: Path, warehouse: Path):
    rows = read_rows(case_dir / "Account.csv")
    rows[6][0] = rows[2][0]
    write_rows(case_dir / "Account.csv", rows)
    assert_fails(case_dir, warehouse, "Account.csv, line 7, column Id", "duplicate Id",
                 "first on line 3")


def test_empty_id(case_dir: Path, warehouse: Path):
    set_cell(case_dir / "User.csv", 4, "Id", "")
    assert_fails(case_dir, warehouse, "User.csv, line 4, column Id", "is empty")


def test_unknown_stage_name(case_dir: Path, warehouse: Path):
    set_cell(case_dir / "Opportunity.csv", 8, "StageName", "Closed Maybe")
    set_cell(case_dir / "Opportunity.csv", 8, "IsDeleted", "false")
    assert_fails(case_dir, warehouse, "Opportunity.csv, line 8, column StageName",
                 "'Closed Maybe' is not one of the stages in OpportunityStage.csv")
    (case_dir / "OpportunityStage.csv").unlink()
    assert_fails(case_dir, warehouse, "line 8", "is not one of the default sales process")


def test_empty_file(case_dir: Path, warehouse: Path):
    (case_dir / "Account.csv").write_bytes(b"")
    assert_fails(case_dir, warehouse, "Account.csv is empty")


def test_invalid_utf8(case_dir: Path, warehouse: Path):
    p = case_dir / "Account.csv"
    lines = p.read_bytes().split(b"\n")
    lines[5] = lines[5].replace(b",", b",caf\xe9 ", 1)
    p.write_bytes(b"\n".join(lines))
    assert_fails(case_dir, warehouse, "Account.csv, line 6", "not valid UTF-8")


def test_utf16_file(case_dir: Path, warehouse: Path):
    p = case_dir / "User.csv"
    p.write_bytes(p.read_text(encoding="utf-8").encode("utf-16"))
    assert_fails(case_dir, warehouse, "User.csv", "UTF-16")


def test_ragged_rows(case_dir: Path, warehouse: Path):
    p = case_dir / "Opportunity.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    lines[10] += ",extra"
    p.write_text("\n".join(lines), encoding="utf-8")
    assert_fails(case_dir, warehouse, "Opportunity.csv, line 11", "17 fields",
                 "header has 16")


def test_short_row_names_the_missing_column(case_dir: Path, warehouse: Path):
    p = case_dir / "UserRole.csv"
    lines = p.read_text(encoding="utf-8").split("\n")
    lines[3] = lines[3].rsplit(",", 1)[0]
    p.write_text("\n".join(lines), encoding="utf-8")
    assert_fails(case_dir, warehouse, "UserRole.csv, line 4, column ParentRoleId",
                 "2 fields but the header has 3")


def test_line_numbers_count_multiline_fields(case_dir: Path, warehouse: Path):
    p = case_dir / "Opportunity.csv"
    rows = read_rows(p)
    rows[1][rows[0].index("Name")] = "Deal with\na two-line name"
    rows[3][rows[0].index("CloseDate")] = "soon"
    write_rows(p, rows)
    assert_fails(case_dir, warehouse, "Opportunity.csv, line 5, column CloseDate",
                 "'soon' is not a date")


def test_first_bad_line_wins(case_dir: Path, warehouse: Path):
    p = case_dir / "Opportunity.csv"
    set_cell(p, 9, "IsClosed", "nope")
    set_cell(p, 6, "Amount", "lots")
    assert_fails(case_dir, warehouse, "line 6, column Amount")


def test_missing_required_file(case_dir: Path, warehouse: Path):
    (case_dir / "User.csv").unlink()
    assert_fails(case_dir, warehouse, "User.csv", "required")


def test_two_files_for_one_object(case_dir: Path, warehouse: Path):
    shutil.copyfile(case_dir / "Account.csv", case_dir / "account.csv")
    assert_fails(case_dir, warehouse, "Account.csv", "account.csv", "keep one")


def test_not_a_folder(tmp_path: Path, warehouse: Path):
    assert_fails(tmp_path / "nope", warehouse, "is not a folder")


def test_failed_import_creates_no_warehouse(case_dir: Path, tmp_path: Path):
    set_cell(case_dir / "Opportunity.csv", 2, "IsWon", "yes please")
    target = tmp_path / "new" / "warehouse.duckdb"
    with pytest.raises(DataImportError):
        import_csv_dir(case_dir, target)
    assert not target.exists()
    assert list(target.parent.iterdir()) == []


def test_warehouse_that_is_not_duckdb(case_dir: Path, tmp_path: Path):
    junk = tmp_path / "junk.duckdb"
    junk.write_bytes(b"this is not a database" * 100)
    before = sha256(junk)
    with pytest.raises(DataImportError, match="not a DuckDB warehouse"):
        import_csv_dir(case_dir, junk)
    assert sha256(junk) == before


# --------------------------------------------------------------------------------------
# Hostile input (issue 17, finding 6 and the import/export items of finding 9)


def _count(warehouse: Path, table: str) -> int:
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        return one(con, f'select count(*) from salesforce."{table}"')
    finally:
        con.close()


def _drop_rows(path: Path, keep: int) -> None:
    write_rows(path, read_rows(path)[:keep + 1])


def test_a_folder_name_is_not_a_glob_pattern(small_export: Path, tmp_path: Path):
    folder = tmp_path / "sfexport[12]"
    shutil.copytree(small_export, folder)
    sibling = tmp_path / "sfexport1"  # what the pattern sfexport[12] matches
    shutil.copytree(small_export, sibling)
    _drop_rows(sibling / "Opportunity.csv", 5)
    own = len(read_rows(folder / "Opportunity.csv")) - 1
    target = tmp_path / "w.duckdb"
    counts = import_csv_dir(folder, target)
    assert counts["opportunity"] == own == _count(target, "opportunity")


def test_a_file_name_is_not_a_glob_pattern(case_dir: Path, tmp_path: Path):
    rows = read_rows(case_dir / "Opportunity.csv")
    (case_dir / "Opportunity.csv").rename(case_dir / "Opportunity*.csv")
    extra = [rows[0], list(rows[1])]
    extra[1][rows[0].index("Id")] = "006EXTRA0000000001"
    write_rows(case_dir / "Opportunity_extra.csv", extra)  # not a contract file: ignored
    target = tmp_path / "w.duckdb"
    counts = import_csv_dir(case_dir, target)
    assert counts["opportunity"] == len(rows) - 1 == _count(target, "opportunity")
    con = duckdb.connect(str(target), read_only=True)
    assert one(con, "select count(*) from salesforce.opportunity "
                    "where id = '006EXTRA0000000001'") == 0


@pytest.mark.parametrize("name", ["exp?rt", "ex*port", "a[b]c", "br]ack"])
def test_glob_characters_anywhere_in_the_path_read_that_one_file(small_export: Path,
                                                                  tmp_path: Path, name: str):
    folder = tmp_path / name
    shutil.copytree(small_export, folder)
    for decoy in ("export", "exaport", "abc", "ex_port"):  # names the patterns would match
        if not (tmp_path / decoy).exists():
            shutil.copytree(small_export, tmp_path / decoy)
            _drop_rows(tmp_path / decoy / "Opportunity.csv", 3)
    counts = import_csv_dir(folder, tmp_path / "w.duckdb")
    assert counts["opportunity"] == len(read_rows(folder / "Opportunity.csv")) - 1


def test_a_link_out_of_the_folder_is_refused(case_dir: Path, warehouse: Path, tmp_path: Path):
    outside = tmp_path / "elsewhere" / "users.csv"
    outside.parent.mkdir()
    shutil.move(case_dir / "User.csv", outside)
    (case_dir / "User.csv").symlink_to(outside)
    assert_fails(case_dir, warehouse, "User.csv", "outside", "link")


def test_a_link_inside_the_folder_is_followed(case_dir: Path, tmp_path: Path):
    (case_dir / "raw").mkdir()
    shutil.move(case_dir / "User.csv", case_dir / "raw" / "users.csv")
    (case_dir / "User.csv").symlink_to(Path("raw") / "users.csv")
    counts = import_csv_dir(case_dir, tmp_path / "w.duckdb")
    assert counts["user"] == len(read_rows(case_dir / "raw" / "users.csv")) - 1
    set_cell(case_dir / "raw" / "users.csv", 3, "IsActive", "maybe")
    with pytest.raises(DataImportError, match=r"^User\.csv, line 3, column IsActive"):
        import_csv_dir(case_dir, tmp_path / "w.duckdb")  # named as it is in the folder


def test_only_the_contract_columns_are_imported(case_dir: Path, tmp_path: Path):
    p = case_dir / "UserRole.csv"
    rows = read_rows(p)
    write_rows(p, [rows[0] + ["Password", "_fivetran_synced"]]
               + [r + ["hunter2", "2024-01-01 00:00:00"] for r in rows[1:]])
    target = tmp_path / "w.duckdb"
    import_csv_dir(case_dir, target)
    con = duckdb.connect(str(target), read_only=True)
    cols = [r[0] for r in con.execute(
        "select column_name from duckdb_columns() where schema_name = 'salesforce' "
        "and table_name = 'user_role' order by column_index").fetchall()]
    assert cols == TABLES["user_role"].names + ["_fivetran_synced"]
    assert one(con, "select count(*) from duckdb_columns() where column_name ilike '%password%'"
               ) == 0


def test_a_row_over_the_size_limit_is_reported_on_its_own_line(case_dir: Path,
                                                                warehouse: Path):
    p = case_dir / "OpportunityHistory.csv"
    rows = read_rows(p)
    assert len(rows) > 200
    rows[189][rows[0].index("ForecastCategory")] = "x" * 10_500_000  # physical line 190
    write_rows(p, rows)
    message = assert_fails(case_dir, warehouse, "OpportunityHistory.csv, line 190",
                           "longer than 10,000,000 bytes")
    assert "line 1:" not in message and "Line: 1" not in message


def test_a_long_row_past_the_sniffed_sample_says_the_same(case_dir: Path, warehouse: Path):
    p = case_dir / "OpportunityHistory.csv"
    rows = read_rows(p)
    body = (rows[1:] * (25_000 // len(rows) + 1))[:25_000]  # past DuckDB's 20,480-row sample
    long_row = list(body[0])
    long_row[rows[0].index("ForecastCategory")] = "x" * 10_500_000
    write_rows(p, [rows[0], *body, long_row])
    assert_fails(case_dir, warehouse, "OpportunityHistory.csv, line 25002",
                 "longer than 10,000,000 bytes")


def test_long_row_line_counts_quoted_newlines(tmp_path: Path):
    from whizzy.data.importer import _long_row_line

    p = tmp_path / "x.csv"
    p.write_bytes(b'a,b\n1,"two\nlines"\n2,' + b"y" * 50 + b"\n3,z\n")
    assert _long_row_line(p, limit=40) == 4
    assert _long_row_line(p, limit=100) is None


FORMULAS = ["=HYPERLINK(\"http://evil.example\",\"x\")", "+1 415 555 0100", "-5 deals",
            "@SUM(A1)", "\tTabbed", "\rReturned", "'=already quoted", "''-two quotes",
            "'plain quote", "Plain Corp"]


def test_export_neutralises_formulas_and_import_reads_them_back(raw_warehouse: Path,
                                                                 tmp_path: Path):
    source = tmp_path / "src.duckdb"
    shutil.copyfile(raw_warehouse, source)
    con = duckdb.connect(str(source))
    ids = [r[0] for r in con.execute(
        "select id from salesforce.account order by id limit ?", [len(FORMULAS)]).fetchall()]
    for account_id, name in zip(ids, FORMULAS, strict=True):
        con.execute("update salesforce.account set name = ? where id = ?", [name, account_id])
    con.close()
    export_csv_dir(source, tmp_path / "csv")
    rows = read_rows(tmp_path / "csv" / "Account.csv")
    names = {r[rows[0].index("Id")]: r[rows[0].index("Name")] for r in rows[1:]}
    written = [names[i] for i in ids]
    for cell in written[:-3]:  # every cell a spreadsheet would run starts with a quote
        assert cell.startswith("'"), cell
    assert written[-2:] == ["'plain quote", "Plain Corp"]  # left as they are
    for other in rows[1:]:  # numbers are untouched
        assert not other[rows[0].index("AnnualRevenue")].startswith("'")
    target = tmp_path / "back.duckdb"
    import_csv_dir(tmp_path / "csv", target)
    con = duckdb.connect(str(target), read_only=True)
    back = dict(con.execute("select id, name from salesforce.account").fetchall())
    assert [back[i] for i in ids] == FORMULAS


def _enospc(*_args, **_kwargs):
    raise OSError(errno.ENOSPC, "No space left on device")


def test_disk_full_during_import_is_a_clear_error(case_dir: Path, warehouse: Path,
                                                  monkeypatch):
    from whizzy.core.errors import DiskFullError
    from whizzy.warehouse import files

    monkeypatch.setattr(files.shutil, "copyfile", _enospc)  # the warehouse copy hits ENOSPC
    before = sha256(warehouse)
    with pytest.raises(DiskFullError, match="is full") as info:
        import_csv_dir(case_dir, warehouse)
    assert "warehouse.duckdb was left unchanged" in info.value.user_message()
    assert sha256(warehouse) == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == ["warehouse.duckdb"]


def test_disk_full_while_duckdb_writes_is_a_clear_error(case_dir: Path, warehouse: Path,
                                                        monkeypatch):
    from whizzy.core.errors import DiskFullError
    from whizzy.data import importer

    def full(*_args, **_kwargs):
        raise duckdb.IOException('Could not write file "x": No space left on device')

    monkeypatch.setattr(importer, "_load", full)
    before = sha256(warehouse)
    with pytest.raises(DiskFullError):
        import_csv_dir(case_dir, warehouse)
    assert sha256(warehouse) == before


def test_disk_full_during_export_is_a_clear_error(raw_warehouse: Path, tmp_path: Path,
                                                  monkeypatch):
    from whizzy.core.errors import DiskFullError
    from whizzy.data import export

    def full(_con, _select, path):
        path.write_bytes(b"half a fi")
        raise duckdb.IOException(f'Could not write file "{path}": No space left on device')

    monkeypatch.setattr(export, "_write_csv", full)
    out = tmp_path / "out"
    with pytest.raises(DiskFullError, match="no space left"):
        export_csv_dir(raw_warehouse, out)
    assert list(out.iterdir()) == []  # no half-written file


# --------------------------------------------------------------------------------------
# Every problem in one run (issue 18)


def run_cli(*args: str) -> tuple[int, str]:
    from whizzy.cli import main

    err = io.StringIO()
    import contextlib

    with contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, err.getvalue()


def test_four_broken_cells_in_two_files_are_all_reported_in_one_run(case_dir: Path,
                                                                      warehouse: Path):
    set_cell(case_dir / "Opportunity.csv", 5, "CloseDate", "31/12/2024")
    set_cell(case_dir / "Opportunity.csv", 9, "Amount", "$12,500")
    set_cell(case_dir / "Account.csv", 4, "Id", "")
    set_cell(case_dir / "Account.csv", 6, "IsDeleted", "maybe")
    before = sha256(warehouse)
    code, err = run_cli("data", "import", str(case_dir), "--warehouse", str(warehouse))
    assert code == 2
    expected = ["Account.csv, line 4, column Id: is empty",
                "Account.csv, line 6, column IsDeleted: 'maybe' is not a boolean",
                "Opportunity.csv, line 5, column CloseDate: '31/12/2024' is not a date",
                "Opportunity.csv, line 9, column Amount: '$12,500' is not a number"]
    lines = [line.strip() for line in err.splitlines()]
    found = [next((k for k, line in enumerate(lines) if line.startswith(e)), None)
             for e in expected]
    assert None not in found and found == sorted(found), err  # all four, file and line order
    assert "4 problems in 2 files" in err and "unchanged" in err
    assert sha256(warehouse) == before


def test_problems_beyond_the_cap_are_counted(case_dir: Path, warehouse: Path):
    from whizzy.data.importer import MAX_PROBLEMS

    p = case_dir / "Opportunity.csv"
    rows = read_rows(p)
    k = rows[0].index("Probability")
    for row in rows[1:31]:
        row[k] = "lots"
    write_rows(p, rows)
    message = assert_fails(case_dir, warehouse, "30 problems in 1 file",
                           f"… and {30 - MAX_PROBLEMS} more problems")
    assert message.count("is not a whole number") == MAX_PROBLEMS


def test_a_semicolon_file_is_named_as_such(case_dir: Path, warehouse: Path):
    p = case_dir / "Account.csv"
    buf = io.StringIO()
    csv.writer(buf, delimiter=";", lineterminator="\n").writerows(read_rows(p))
    p.write_text(buf.getvalue(), encoding="utf-8")
    message = assert_fails(case_dir, warehouse, "Account.csv, line 1",
                           "this file is separated by ';' (semicolons), not commas")
    assert "missing required column" not in message


def test_a_windows_1252_file_is_named_as_such(case_dir: Path, warehouse: Path):
    p = case_dir / "User.csv"
    rows = read_rows(p)
    rows[3][rows[0].index("Name")] = "José Müller"
    first = next(k for k, row in enumerate(rows, 1) if not ",".join(row).isascii())
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    p.write_bytes(buf.getvalue().encode("cp1252"))
    assert_fails(case_dir, warehouse, f"User.csv, line {first}", "not valid UTF-8",
                 "Windows-1252")


def test_check_reports_problems_and_changes_nothing(case_dir: Path, warehouse: Path):
    listing = sorted(p.name for p in warehouse.parent.iterdir())
    before = sha256(warehouse)
    code, err = run_cli("data", "import", "--check", str(case_dir), "--warehouse",
                        str(warehouse))
    assert code == 0 and "No problems" in err and "Nothing was imported" in err
    set_cell(case_dir / "Opportunity.csv", 5, "CloseDate", "soon")
    set_cell(case_dir / "User.csv", 3, "IsActive", "perhaps")
    code, err = run_cli("data", "import", "--check", str(case_dir), "--warehouse",
                        str(warehouse))
    assert code == 2 and "2 problems in 2 files" in err
    assert "Opportunity.csv, line 5, column CloseDate" in err
    assert "User.csv, line 3, column IsActive" in err
    assert sha256(warehouse) == before
    assert sorted(p.name for p in warehouse.parent.iterdir()) == listing


def test_check_without_a_warehouse_creates_none(case_dir: Path, tmp_path: Path):
    from whizzy.data.importer import check_csv_dir

    target = tmp_path / "none" / "warehouse.duckdb"
    code, _ = run_cli("data", "import", "--check", str(case_dir), "--warehouse", str(target))
    assert code == 0 and not target.parent.exists()
    rows = read_rows(case_dir / "Opportunity.csv")
    assert check_csv_dir(case_dir)["opportunity"] == len(rows) - 1
