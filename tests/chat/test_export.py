import csv
import io
import zipfile

import pandas as pd
import pytest

from whizzy.chat.export import export_files, export_frame, export_request
from whizzy.chat.render import answer_view


@pytest.mark.parametrize("question,fmt", [
    ("Download this as CSV", "csv"),
    ("export that to Excel", "xlsx"),
    ("Can you export the table?", "both"),
    ("download it as an xlsx file", "xlsx"),
    ("save these", "both"),
])
def test_download_this_asks_for_the_answer_on_screen(question, fmt):
    assert export_request(question) == fmt


@pytest.mark.parametrize("question", [
    "Export all accounts to a CSV file",
    "Download every opportunity as a spreadsheet",
    "Export the whole opportunity table",
    "Delete this",
    "What is our win rate this quarter?",
])
def test_bulk_dumps_and_other_questions_are_not_download_this(question):
    assert export_request(question) is None


def test_files_hold_the_values_capped_at_the_row_limit_and_say_what_and_when():
    rows = [["Ann", 0.5, 1000.0], ["Bo", 0.4, 2000.0], ["Cy", 0.3, 3000.0]]
    frame = export_frame(["owner_name", "win_rate", "won_amount"], rows, row_limit=2)
    csv_file, xlsx_file = export_files("Top reps by win rate", frame, "2026-11-15")
    assert csv_file.name == "whizzy-top-reps-by-win-rate-as-of-2026-11-15.csv"
    assert xlsx_file.name == "whizzy-top-reps-by-win-rate-as-of-2026-11-15.xlsx"
    got = list(csv.reader(io.StringIO(csv_file.content.decode())))
    assert got == [["Owner name", "Win rate", "Won amount"], ["Ann", "0.5", "1000.0"],
                   ["Bo", "0.4", "2000.0"]]
    with zipfile.ZipFile(io.BytesIO(xlsx_file.content)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<row ") == 3


def test_a_name_that_looks_like_a_formula_stays_text():
    frame = pd.DataFrame({"Account": ['=HYPERLINK("https://evil.example","x")']})
    csv_file, xlsx_file = export_files("deals", frame, None)
    assert csv_file.content.decode().splitlines()[1].startswith('"\'=HYPERLINK')
    with zipfile.ZipFile(io.BytesIO(xlsx_file.content)) as z:
        sheet = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet  # no formula cell


def test_every_table_of_an_answer_has_both_files():
    cols = ["owner_name", "win_rate"]
    view = answer_view({"question": "Top reps?", "columns": cols,
                        "rows": [["Ann", 0.5], ["Bo", 0.4]], "answer": "Ann.",
                        "records": {"title": "the deals behind the figure",
                                    "columns": ["opportunity_name"], "rows": [["D1"], ["D2"]]}},
                       [], None, row_limit=1)
    assert [f.name for f in view.table_files] == ["whizzy-top-reps.csv", "whizzy-top-reps.xlsx"]
    assert [[f.name for f in fs] for fs in view.records_files] == [[
        "whizzy-top-reps-the-deals-behind-the-figure.csv",
        "whizzy-top-reps-the-deals-behind-the-figure.xlsx"]]
    assert view.table_files[0].content.decode().count("\r\n") == 2  # header + 1 row (limit)


def test_a_title_full_of_emoji_still_exports_to_xlsx():
    # the bench's hostile questions: "📉📉 win rate last quarter 😬 …" was 31 characters but
    # more than 31 UTF-16 units, and xlsxwriter refused the sheet name
    frame = pd.DataFrame({"Owner": ["Ann"]})
    files = export_files("📉📉 win rate last quarter   😬 the end of it", frame, "2026-11-15")
    assert [f.name.rsplit(".", 1)[1] for f in files] == ["csv", "xlsx"]
