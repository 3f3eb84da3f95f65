"""cspbook.data.validate (and the `cspbook validate` command): every bad raw file is refused with
one message naming the file, the line as counted in the file (the header is line 1), the
column, what was found and how to fix it; nothing in the cache changes.

Each bad file goes through the real command line twice: `cspbook validate FILE`, and
`cspbook fetch --mirror DIR` with the file dropped into a copy of the mirror.
"""

from __future__ import annotations

import shutil

import pytest
from conftest import HISTORIC, RECENT, run_cli, snapshot

from cspbook.data import load
from cspbook.errors import DataFileError

HEADER = "Borough,Major Category,Minor Category,201104,201105"
BD_ROW = "Barking and Dagenham,Burglary,Burglary in a Dwelling,10,12"
BARNET_ROW = "Barnet,Burglary,Burglary in a Dwelling,20,22"
LAYOUT_FIX = (
    "a file needs a borough, a major category and a minor category column, then one column per month (YYYYMM). "
    "A new spelling of a column name can be added under columns: in data/classification.yml"
)
BEST_PREVIOUS = "The file matches best the previous MPS categories (to December 2016) ('mps_previous': 1 of its 2 categories known"
SUGGEST_FIX = ("Say in data/classification.yml what each is, with no code change (`cspbook validate --suggest FILE` on this "
               "file prints this again and writes nothing):")
PASTE_PREVIOUS = "In data/classification.yml, paste this block under the line '  mps_previous:' (one line per renamed category):\n    aliases:\n"
COUNT_FIX = "Counts must be whole numbers of offences, 0 or more; correct the cell"
BAD_NAME = "MPS_Borough_Level_Crime_2019_new_month.csv"  # sorts before the real files: fetch stages it first


def crlf(*lines: str) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def lf(*lines: str) -> bytes:
    return ("\n".join(lines) + "\n").encode("utf-8")


# (file bytes, message after the file name; for fetch, when it differs, the whole message after 'error: ')
BAD_FILES = [
    pytest.param(
        crlf("Borough,Major Category,201104,201105", "Barnet,Burglary,1,2"),
        ", line 1, column 'Minor Category': no minor category column (named 'Minor Category' or 'MinorText'); "
        f"found ['Borough', 'Major Category', '201104', '201105']. Add a column 'Minor Category'; {LAYOUT_FIX}",
        None,
        id="missing-column",
    ),
    pytest.param(
        crlf("Borough,Major Category,Minor Cat,201104,201105", BD_ROW),
        ", line 1, column 'Minor Cat': no minor category column (named 'Minor Category' or 'MinorText'); "
        f"found ['Borough', 'Major Category', 'Minor Cat', '201104', ...]. Rename column 'Minor Cat' to "
        f"'Minor Category'; {LAYOUT_FIX}",
        None,
        id="renamed-column",
    ),
    pytest.param(
        lf("LookUp_BoroughName,MajorText,Minor_Text,201104,201105", BD_ROW),
        ", line 1, column 'Minor_Text': no minor category column (named 'Minor Category' or 'MinorText'); "
        f"found ['LookUp_BoroughName', 'MajorText', 'Minor_Text', '201104', ...]. Rename column 'Minor_Text' to "
        f"'MinorText'; {LAYOUT_FIX}",
        None,
        id="renamed-column-lookup-layout",
    ),
    pytest.param(  # columns are found by name in any order: here the names do not match the values
        crlf("Major Category,Borough,Minor Category,201104,201105", BD_ROW),
        ", line 2, column 'Borough': unknown borough 'Burglary'. Use the borough names in data/boroughs.yml",
        None,
        id="columns-swapped",
    ),
    pytest.param(
        crlf(HEADER, BD_ROW, "Barnet,Burglary,Burglary in a Dwelling,n/a,22"),
        f", line 3, column '201104': found 'n/a', which is not a number. {COUNT_FIX}",
        None,
        id="non-numeric-count",
    ),
    pytest.param(
        crlf(HEADER, BD_ROW, "Barnet,Burglary,Burglary in a Dwelling,20,-3"),
        f", line 3, column '201105': found '-3', a negative count. {COUNT_FIX}",
        None,
        id="negative-count",
    ),
    pytest.param(
        lf(HEADER, BD_ROW, "Barnet,Burglary,Burglary in a Dwelling,2.5,22"),
        f", line 3, column '201104': found '2.5', a fractional count. {COUNT_FIX}",
        None,
        id="fractional-count",
    ),
    pytest.param(
        crlf(HEADER, "Barking and Dagenham,Burglary,Burglary in a Dwelling,,12"),
        f", line 2, column '201104': found an empty cell. {COUNT_FIX}",
        None,
        id="empty-count",
    ),
    pytest.param(
        crlf("Borough,Major Category,Minor Category,2011-04,201105", BD_ROW),
        ", line 1, column '2011-04': month header '2011-04' is not a month in the form YYYYMM. "
        "Name month columns like 201104 (April 2011)",
        None,
        id="month-header-not-yyyymm",
    ),
    pytest.param(
        crlf("Borough,Major Category,Minor Category,201104,201106", BD_ROW),
        ", line 1, column '201106': months jump from 201104 to 201106: month 201105 is missing. "
        "Export the file again with every month as a column",
        None,
        id="gap-in-month-columns",
    ),
    pytest.param(
        crlf("Borough,Major Category,Minor Category,201105,201104", BD_ROW),
        ", line 1, column '201104': month 201104 comes after 201105; months must increase. "
        "Export the file again with every month as a column",
        None,
        id="months-out-of-order",
    ),
    pytest.param(
        crlf(HEADER, BD_ROW, BARNET_ROW, "Barking and Dagenham,Burglary,Burglary in a Dwelling,11,13"),
        ", line 4, column 'Borough': duplicate row for 'Barking and Dagenham' / 'Burglary' / "
        "'Burglary in a Dwelling' (first seen on line 2). Keep one row per borough and category; delete the repeated row",
        None,
        id="duplicate-row",
    ),
    pytest.param(
        crlf(HEADER, BARNET_ROW, "Barking & Dagenham,Burglary,Burglary in a Dwelling,10,12"),
        ", line 3, column 'Borough': unknown borough 'Barking & Dagenham'. "
        "Did you mean 'Barking and Dagenham'? Use the borough names in data/boroughs.yml",
        None,
        id="unknown-borough-with-suggestion",
    ),
    pytest.param(
        crlf(HEADER, BARNET_ROW, "Gotham,Burglary,Burglary in a Dwelling,10,12"),
        ", line 3, column 'Borough': unknown borough 'Gotham'. Use the borough names in data/boroughs.yml",
        None,
        id="unknown-borough-without-suggestion",
    ),
    pytest.param(
        crlf(HEADER, BD_ROW, "Barnet,Burglary,Burglary in a Dwellng,20,22"),
        ", line 3, column 'Minor Category': 1 category that no classification in data/classification.yml knows. "
        f"{BEST_PREVIOUS}; its header is spelled as that edition's)\n"
        "  - 'Burglary in a Dwellng' (major category 'Burglary'), first on line 3, 42 offences over the file; known "
        "categories of 'Burglary' missing from this file: 'Burglary in Other Buildings'; likely a misspelling of "
        "'Burglary in a Dwelling', which the file also uses (correct the file, or alias it). "
        f"{SUGGEST_FIX}\n{PASTE_PREVIOUS}      Burglary in a Dwellng: same as Burglary in a Dwelling",
        None,
        id="unknown-minor-category-with-suggestion",
    ),
    pytest.param(
        lf("LookUp_BoroughName,MajorText,MinorText,201104,201105", BD_ROW, "Barnet,Burglery,Burglary in a Dwelling,1,2"),
        ", line 3, column 'MajorText': 1 category that no classification in data/classification.yml knows. "
        f"{BEST_PREVIOUS})\n"
        "  - major category 'Burglery' (minor 'Burglary in a Dwelling'), not a major category of 'mps_previous', first "
        "on line 3, 3 offences over the file; known major categories missing from this file: 'Criminal Damage', "
        "'Drugs', 'Fraud or Forgery', 'Other Notifiable Offences', 'Robbery', 'Sexual Offences', 'Theft and Handling', "
        "'Violence Against the Person'; likely a misspelling of 'Burglary', which the file also uses (correct the "
        f"file, or alias it). {SUGGEST_FIX}\n{PASTE_PREVIOUS}      Burglery: same as Burglary",
        None,
        id="unknown-major-category-lookup-layout",
    ),
    pytest.param(
        # both names have counts in both months: not two classifications, a renaming to decide
        crlf(HEADER, BD_ROW, "Barnet,Burglary,Burglary - Residential,20,22"),
        ", line 3, column 'Minor Category': 1 category that no classification in data/classification.yml knows. "
        f"{BEST_PREVIOUS}; its header is spelled as that edition's)\n"
        "  - 'Burglary - Residential' (major category 'Burglary'), first on line 3, 42 offences over the file; known "
        "categories of 'Burglary' missing from this file: 'Burglary in Other Buildings'; likely a renaming of "
        f"'Burglary in Other Buildings'. {SUGGEST_FIX}\n{PASTE_PREVIOUS}"
        "      Burglary - Residential: same as Burglary in Other Buildings",
        None,
        id="a-name-of-another-classification-beside-the-rest",
    ),
    pytest.param(
        # the previous categories to April, the updated ones from May, in different rows: truly mixed
        crlf(HEADER, "Barking and Dagenham,Burglary,Burglary in a Dwelling,10,0", "Barnet,Burglary,Burglary - Residential,0,22"),
        ", line 3, column 'Minor Category': the file holds two classifications: the previous MPS categories (to "
        "December 2016) to April 2011 and the updated Home Office categories (2017-2018 file) from May 2011, in "
        "different rows. One file must use one classification: split it at May 2011 into two files with the same "
        "three key columns, one with the month columns up to 201104 and the other with the month columns from 201105 "
        "(delete from each the rows that are all zero), then `cspbook validate` each",
        None,
        id="categories-of-both-classifications",
    ),
    pytest.param(
        b"",
        ": the file is empty. Fetch it again (`cspbook fetch`) or replace it with a complete export",
        "{path} is empty; replace it in the mirror folder with the complete CSV from the London Datastore",
        id="empty-file",
    ),
    pytest.param(
        b" \r\n\r\n",
        ": the file is empty. Fetch it again (`cspbook fetch`) or replace it with a complete export",
        None,
        id="blank-file",
    ),
    pytest.param(
        crlf(HEADER),
        ", line 2: the file has a header but no data rows. Fetch it again or replace it with a complete export",
        None,
        id="header-only",
    ),
    pytest.param(
        lf("<!DOCTYPE html>", "<html><head><title>503 Service Unavailable</title></head>", "<body>busy</body></html>"),
        ", line 1: the file is an HTML page, not a CSV (a website error page was saved instead of the data). "
        "Fetch it again with `cspbook fetch`, or download the CSV from the London Datastore",
        "{path} is an HTML page, not a CSV: a saved web page, not the data file ('503 Service Unavailable'); "
        "replace it with the CSV file from the Datastore",
        id="html-page",
    ),
    pytest.param(
        crlf(HEADER, BD_ROW)[:-2] + b"\r\nBarnet,Burglary,Burgl",
        ", line 3: the row has 3 fields but the header has 5. "
        "The file looks truncated (its last line is cut off); fetch it again with `cspbook fetch`",
        None,
        id="truncated-last-line",
    ),
    pytest.param(
        crlf(HEADER, "Barking and Dagenham,Burglary,Burglary in a Dwelling,10,,12", BARNET_ROW),
        ", line 2: the row has 6 fields but the header has 5. Check for a stray or missing comma on that line",
        None,
        id="stray-comma",
    ),
    pytest.param(
        "\r\n".join([HEADER, BD_ROW, "Barnet,Fraud or Forgery,Other Fraud £ Forgery,1,2", ""]).encode("latin-1"),
        ", line 3, column 'Minor Category': found byte 0xa3 ('£' in Latin-1 or Windows-1252), which is not UTF-8. "
        "Save the file as UTF-8 (in Excel: 'CSV UTF-8'), then run the command again",
        None,
        id="latin-1-pound-sign",
    ),
]


@pytest.mark.parametrize(("content", "message", "fetch_message"), BAD_FILES)
def test_validate_refuses_a_bad_file_with_one_exact_message(real_home, tmp_path, capsys, content, message, fetch_message):
    path = tmp_path / BAD_NAME
    path.write_bytes(content)
    before = snapshot(real_home / "data")

    code, out, err = run_cli(capsys, "validate", path)

    assert (code, out, err) == (2, "", f"cspbook: error: {path}{message}\n")
    assert snapshot(real_home / "data") == before


@pytest.mark.parametrize(("content", "message", "fetch_message"), BAD_FILES)
def test_fetch_of_a_mirror_holding_a_bad_file_keeps_the_cache(fetched, mirror, tmp_path, capsys, content, message, fetch_message):
    folder = tmp_path / "mirror"
    shutil.copytree(mirror, folder)
    bad = folder / BAD_NAME
    bad.write_bytes(content)
    before = snapshot(fetched / "data" / "raw")
    assert sorted(n for n in before if not n.startswith("open")) == [HISTORIC, RECENT, "manifest.json"]

    code, out, err = run_cli(capsys, "fetch", "--mirror", folder)

    source = str(bad.resolve())  # fetch names the mirror file, never its staging copy
    expected = fetch_message.format(path=source) if fetch_message else f"{source}{message}"
    assert (code, out, err) == (2, "", f"cspbook: error: {expected}\n")
    assert snapshot(fetched / "data" / "raw") == before


def test_a_bad_file_after_good_ones_in_the_mirror_also_leaves_the_cache_alone(fetched, mirror, tmp_path, capsys):
    folder = tmp_path / "mirror"
    shutil.copytree(mirror, folder)
    bad = folder / "MPS_Borough_Level_Crime_zz_latest.csv"  # sorts last: both real files are staged first
    bad.write_bytes(crlf(HEADER, BD_ROW, "Barnet,Burglary,Burglary in a Dwelling,2.5,22"))
    before = snapshot(fetched / "data" / "raw")

    code, out, err = run_cli(capsys, "fetch", "--mirror", folder)

    assert (code, out) == (2, "")
    assert err == f"cspbook: error: {bad.resolve()}, line 3, column '201104': found '2.5', a fractional count. {COUNT_FIX}\n"
    assert snapshot(fetched / "data" / "raw") == before
    assert not list((fetched / "data" / "raw").glob(".partial-*"))


def test_the_error_carries_file_line_column_problem_and_fix(project, tmp_path):
    path = tmp_path / "crime.csv"
    path.write_bytes(crlf(HEADER, BD_ROW, "Barnet,Burglary,Burglary in a Dwelling,20,-3"))
    with pytest.raises(DataFileError) as caught:
        load.read_wide(path)
    error = caught.value
    assert (error.path, error.line, error.column) == (str(path), 3, "201105")
    assert error.problem == "found '-3', a negative count"
    assert error.fix == COUNT_FIX


def test_the_first_bad_cell_in_file_order_is_reported(project, tmp_path):
    # line 3 column 201105 and line 4 column 201104 are both bad: line 3 comes first
    path = tmp_path / "crime.csv"
    path.write_bytes(crlf(HEADER, BD_ROW, "Barnet,Burglary,Burglary in a Dwelling,20,x", "Bexley,Burglary,Burglary in a Dwelling,y,1"))
    with pytest.raises(DataFileError) as caught:
        load.read_wide(path)
    assert (caught.value.line, caught.value.column) == (3, "201105")


def test_a_missing_file_says_run_fetch(project, tmp_path, capsys):
    path = tmp_path / "nope.csv"
    code, out, err = run_cli(capsys, "validate", path)
    assert (code, err) == (2, f"cspbook: error: {path}: file not found. Run `cspbook fetch` to download the data\n")


def test_validate_without_files_checks_the_cache_and_every_definition(fetched, capsys):
    code, out, err = run_cli(capsys, "validate")
    data = fetched / "data"
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"ok  {data / 'raw' / HISTORIC}: 1,056 rows, 32 boroughs, 2008-01..2016-12 (mps_previous, series mps_2008_2018)",
        f"ok  {data / 'raw' / RECENT}: 1,050 rows, 32 boroughs, 2017-01..2018-12 (home_office, series mps_2008_2018)",
        f"ok  {data / 'classification.yml'}: 4 classifications in 3 series, 7 breaks decided",
        f"ok  {data / 'indicators.yml'}: 27 indicators",
        f"ok  {data / 'reports' / 'defaults.yml'}",
        f"ok  {data / 'reports' / 'barking-and-dagenham-2011-12.yml'}",
        f"ok  {data / 'reports' / 'barking-and-dagenham-2012-13.yml'}",
        f"ok  {data / 'partner' / 'barking-and-dagenham-2011-12.csv'}: 6 figures",
        f"ok  {data / 'published' / 'barking-and-dagenham-2011-12.csv'}: 3 figures",
    ]


def test_validate_reports_a_bad_indicator_definition(project, capsys):
    path = project / "data" / "indicators.yml"
    path.write_text(path.read_text().replace("mps_previous: [Burglary in a Dwelling]", "mps_previous: [Burglary in a Dwellin]"))
    code, out, err = run_cli(capsys, "validate")
    assert code == 2
    assert err == (
        f"cspbook: error: {path}: indicator 'residential_burglary', mps_previous: category 'Burglary in a Dwellin' "
        f"is not one of {sorted(_previous_minors(project))}; did you mean 'Burglary in a Dwelling'?\n"
    )


def test_validate_reports_a_partner_file_with_a_name_that_is_not_a_borough(project, capsys):
    bad = project / "data" / "partner" / "gotham-2011-12.csv"
    shutil.copy(project / "data" / "partner" / "template.csv", bad)
    code, out, err = run_cli(capsys, "validate")
    assert (code, err) == (
        2,
        f"cspbook: error: {bad}: the file name must be <borough-slug>-<year>.csv, e.g. barking-and-dagenham-2011-12.csv\n",
    )


def _previous_minors(project) -> set[str]:
    import yaml

    data = yaml.safe_load((project / "data" / "classification.yml").read_text())
    return {minor for minors in data["classifications"]["mps_previous"]["categories"].values() for minor in minors}
