"""Bad input never costs the last good book or the data cache.

Each case runs ``cspbook build`` as a user does (a subprocess) on a tree holding a fetched
cache and a built book, with one thing wrong: a raw file in the mirror, a partner-figures
file, the report configuration, a template, a parameter, the output folder. Each must give
exit code 2 and exactly one message that names the file, line and column, says what was
found and how to fix it, with no traceback; the cache (``data/raw``) and the book
(``_build/html``) stay byte for byte as they were.

The second half feeds :func:`cspbook.data.load.read_wide` hostile bytes (hypothesis): it returns
a valid frame or raises a :class:`~cspbook.errors.CspbookError`, never anything else.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from bookfixtures import BOROUGH, mirror_dir
from conftest import HISTORIC, RECENT, skip_or_fail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lastgood import cspbook, last_good  # noqa: F401 - a fixture

from cspbook import definitions
from cspbook.data import load
from cspbook.errors import CspbookError

COUNTS_FIX = "Counts must be whole numbers of offences, 0 or more; correct the cell"


def refused(result: subprocess.CompletedProcess, tree, message: str | re.Pattern) -> None:
    """Exit code 2, the one expected message as the last thing on stderr, no traceback,
    nothing lost."""
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    last = result.stderr.split("cspbook: error: ")[-1] if "cspbook: error: " in result.stderr else result.stderr
    if isinstance(message, re.Pattern):
        assert message.fullmatch(last), last
    else:
        assert last == message + "\n"
    assert result.stderr.count("cspbook: error: ") == 1, result.stderr
    tree.assert_unchanged()


# --- a raw crime file in the mirror is wrong ---------------------------------------------------


def edit_lines(change):
    """A corruption that edits the file's CRLF lines (a list; line 1 is index 0) in place."""

    def corrupt(data: bytes) -> bytes:
        lines = data.decode("utf-8").split("\r\n")
        change(lines)
        return "\r\n".join(lines).encode("utf-8")

    return corrupt


def set_cell(line: int, column: int, value: str):
    def change(lines):
        fields = lines[line - 1].split(",")
        fields[column] = value
        lines[line - 1] = ",".join(fields)

    return edit_lines(change)


def drop_column(column: int):
    def change(lines):
        for i, text in enumerate(lines):
            if text:
                fields = text.split(",")
                del fields[column]
                lines[i] = ",".join(fields)

    return edit_lines(change)


def replace_in_line(line: int, old: str, new: str):
    def change(lines):
        assert old in lines[line - 1]
        lines[line - 1] = lines[line - 1].replace(old, new, 1)

    return edit_lines(change)


def cut_last_line(data: bytes) -> bytes:
    """The file as a download cut short leaves it: the last line ends mid-row."""
    body = data.rstrip(b"\r\n")
    return body[: body.rfind(b",", 0, body.rfind(b",")) + 3]


def latin1_pound(data: bytes) -> bytes:
    """Saved by Excel as Latin-1, with a '£' in a category name."""
    return replace_in_line(5, ",Criminal Damage,", ",Criminal Damage \u00a3,")(data).decode("utf-8").encode("latin-1")


HTML_PAGE = (b"<!DOCTYPE html>\n<html><head><title>503 Service Unavailable</title></head>"
             b"<body><h1>Service Unavailable</h1></body></html>\n")

RAW_CASES = [
    pytest.param(
        RECENT, set_cell(5, 6, "abc"),
        "{file}, line 5, column '201704': found 'abc', which is not a number. " + COUNTS_FIX,
        id="non-numeric-count"),
    pytest.param(
        RECENT, set_cell(5, 6, "-3"),
        "{file}, line 5, column '201704': found '-3', a negative count. " + COUNTS_FIX,
        id="negative-count"),
    pytest.param(
        HISTORIC, set_cell(40, 10, "2.5"),
        "{file}, line 40, column '200808': found '2.5', a fractional count. " + COUNTS_FIX,
        id="fractional-count"),
    pytest.param(
        RECENT, drop_column(10),
        "{file}, line 1, column '201709': months jump from 201707 to 201709: month 201708 is missing. "
        "Export the file again with every month as a column",
        id="missing-month-column"),
    pytest.param(
        RECENT, replace_in_line(1, ",Minor Category,", ",Minor Cat,"),
        "{file}, line 1, column 'Minor Cat': no minor category column (named 'Minor Category' or 'MinorText'); "
        "found ['Borough', 'Major Category', 'Minor Cat', '201701', ...]. Rename column 'Minor Cat' to "
        "'Minor Category'; a file needs a borough, a major category and a minor category column, then one column "
        "per month (YYYYMM). A new spelling of a column name can be added under columns: in data/classification.yml",
        id="renamed-key-column"),
    pytest.param(
        RECENT, edit_lines(lambda lines: lines.insert(3, lines[2])),
        "{file}, line 4, column 'Borough': duplicate row for 'Barking and Dagenham' / 'Burglary' / "
        "'Burglary - Residential' (first seen on line 3). Keep one row per borough and category; delete the repeated row",
        id="duplicated-row"),
    pytest.param(
        RECENT, replace_in_line(2, "Barking and Dagenham,", "Barking,"),
        "{file}, line 2, column 'Borough': unknown borough 'Barking'. Did you mean 'Barking and Dagenham'? "
        "Use the borough names in data/boroughs.yml",
        id="unknown-borough"),
    pytest.param(
        RECENT, replace_in_line(7, ",28,31,", ",28,,31,"),
        "{file}, line 7: the row has 28 fields but the header has 27. Check for a stray or missing comma on that line",
        id="stray-comma"),
    pytest.param(
        RECENT, lambda data: b"",
        "{file} is empty; replace it in the mirror folder with the complete CSV from the London Datastore",
        id="empty-file"),
    pytest.param(
        RECENT, cut_last_line,
        "{file}, line 1051: the row has 26 fields but the header has 27. "
        "The file looks truncated (its last line is cut off); fetch it again with `cspbook fetch`",
        id="truncated-file"),
    pytest.param(
        HISTORIC, lambda data: HTML_PAGE,
        "{file} is an HTML page, not a CSV: a saved web page, not the data file ('503 Service Unavailable'); "
        "replace it with the CSV file from the Datastore",
        id="html-error-page"),
    pytest.param(
        RECENT, latin1_pound,
        "{file}, line 5, column 'Major Category': found byte 0xa3 ('\u00a3' in Latin-1 or Windows-1252), "
        "which is not UTF-8. Save the file as UTF-8 (in Excel: 'CSV UTF-8'), then run the command again",
        id="latin-1-encoding"),
]


@pytest.fixture
def bad_mirror(tmp_path) -> Path:
    """A writable copy of the real mirror, for a test to spoil one file of."""
    folder = tmp_path / "mirror"
    shutil.copytree(mirror_dir(), folder)
    for path in [folder, *folder.iterdir()]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return folder


@pytest.mark.slow
@pytest.mark.parametrize(("name", "corrupt", "message"), RAW_CASES)
def test_a_bad_raw_file_is_refused_and_nothing_is_lost(last_good, bad_mirror, name, corrupt, message):
    path = bad_mirror / name
    path.write_bytes(corrupt(path.read_bytes()))
    result = cspbook(last_good.home, mirror=bad_mirror)
    refused(result, last_good, message.format(file=path.resolve()))


@pytest.mark.slow
def test_a_mirror_folder_that_does_not_exist(last_good, tmp_path):
    missing = tmp_path / "no-such-folder"
    result = cspbook(last_good.home, "build", "--borough", BOROUGH, "--year", "2011-12", "--mirror", missing)
    refused(result, last_good, f"mirror folder '{missing}' does not exist; give an existing folder with --mirror "
                               "or CSPBOOK_MIRROR, or omit it to download from the London Datastore")


# --- parameters --------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("argv", "message"), [
    pytest.param(["--year", "2011/12"],
                 "year '2011/12' is not a financial year like 2011-12 (April 2011 to March 2012); write it as 2011-12",
                 id="year-with-a-slash"),
    pytest.param(["--year", "2031-32"],
                 "2031-32 starts April 2031; the data end December 2018, so no month of it is in the data. "
                 "Fetch newer data (`cspbook fetch`) or choose an earlier year",
                 id="year-beyond-the-data"),
    pytest.param(["--year", "2011-13"],
                 "year '2011-13': the second part must be the year after 2011; write it as 2011-12",
                 id="year-that-is-not-one-year"),
])
def test_a_bad_year_is_refused(last_good, argv, message):
    result = cspbook(last_good.home, "build", "--borough", BOROUGH, *argv)
    refused(result, last_good, message)


@pytest.mark.slow
def test_an_unknown_borough_gets_a_suggestion(last_good):
    result = cspbook(last_good.home, "build", "--borough", "Barking", "--year", "2011-12")
    refused(result, last_good, re.compile(r"unknown borough 'Barking'.*did you mean 'Barking and Dagenham'\?.*\n"))


# --- definitions under data/ -------------------------------------------------------------------


@pytest.mark.slow
def test_a_partner_percentage_of_140(last_good):
    path = last_good.home / "data" / "partner" / "barking-and-dagenham-2011-12.csv"
    text = path.read_text(encoding="utf-8")
    assert "public_confidence,42,50," in text
    path.write_text(text.replace("public_confidence,42,50,", "public_confidence,42,140,"), encoding="utf-8")
    line = 1 + text.splitlines().index(next(t for t in text.splitlines() if ",public_confidence," in t))
    result = cspbook(last_good.home)
    refused(result, last_good, f"{path}, line {line}, column 'value': found 140, outside 0 to 100. "
                               "'public_confidence' is a percentage; correct the figure")


@pytest.mark.slow
def test_a_report_configuration_with_an_unknown_indicator(last_good, monkeypatch):
    path = last_good.home / "data" / "reports" / "barking-and-dagenham-2011-12.yml"
    text = path.read_text(encoding="utf-8")
    assert "\nheadline:" not in text
    path.write_text(text + "headline:\n  - violence_with_injury\n  - violence_with_injuries\n", encoding="utf-8")
    line = len(text.splitlines()) + 3
    monkeypatch.setenv("CSPBOOK_HOME", str(last_good.home))
    known = ", ".join(definitions.indicators())
    result = cspbook(last_good.home)
    refused(result, last_good, f"{path}, line {line}: headline: unknown indicator id 'violence_with_injuries'; "
                               f"did you mean 'violence_with_injury'? (defined in data/indicators.yml: {known})")


# --- a template with a syntax error ----------------------------------------------------------


@pytest.mark.slow
def test_a_template_with_a_syntax_error_names_the_notebook_and_the_cell(last_good):
    template = last_good.home / "book" / "templates" / "methodology.ipynb"
    nb = nbformat.read(template, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("def (:\n    pass"))
    nbformat.write(nb, template)
    result = cspbook(last_good.home)
    kept = last_good.home / ".cspbook" / "failed" / "2011-12-methodology.ipynb"
    refused(result, last_good, re.compile(
        re.escape(f"notebook 2011-12/methodology ({template}) failed in cell 4:\n    def (:\n        pass\n"
                  "SyntaxError: invalid syntax (") + r"[^)]*\.py, line 1" + re.escape(
            f")\nthe executed notebook is kept at {kept}; correct the cell in the template\n")))
    executed = nbformat.read(kept, as_version=4)
    errors = [o for c in executed.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert [e.ename for e in errors] == ["SyntaxError"]


# --- the output folder cannot be written -------------------------------------------------------


@contextmanager
def read_only(folder: Path):
    """Make ``folder`` really read-only: chmod for a normal user; ``chattr +i`` for root,
    whom permissions do not stop. Skips when neither works here."""
    if os.geteuid() != 0:
        mode = folder.stat().st_mode
        folder.chmod(0o555)
        reason = "Permission denied"
        undo = lambda: folder.chmod(mode)  # noqa: E731
    else:
        chattr = shutil.which("chattr")
        if not chattr or subprocess.run([chattr, "+i", str(folder)], capture_output=True).returncode:
            skip_or_fail("cannot make a folder read-only for root here (chattr +i is unavailable)")
        reason = "Operation not permitted"
        undo = lambda: subprocess.run([chattr, "-i", str(folder)], check=True)  # noqa: E731
    try:
        try:
            (folder / "probe").touch()
        except PermissionError:
            pass
        else:
            (folder / "probe").unlink()
            skip_or_fail(f"{folder} is still writable")
        yield reason
    finally:
        undo()


@pytest.mark.slow
def test_a_read_only_output_folder(last_good):
    output = last_good.home / "_build"
    with read_only(output) as reason:
        result = cspbook(last_good.home)
        refused(result, last_good, f"cannot write the book to {output / 'html'}: {reason} in {output}; "
                                   "check the folder's permissions and free space (the last good book is unchanged)")
    assert not (last_good.home / ".cspbook" / "build.lock").exists()


# --- hostile data: whatever the bytes, read_wide gives a valid frame or a CspbookError ---------

SEED_HEADER = ["Borough", "Major Category", "Minor Category", "201104", "201105", "201106"]
SEED_ROWS = [
    ["Barking and Dagenham", "Burglary", "Burglary in a Dwelling", "10", "12", "9"],
    ["Barking and Dagenham", "Burglary", "Burglary in Other Buildings", "3", "0", "4"],
    ["Barnet", "Violence Against the Person", "Wounding/GBH", "25", "31", "28"],
    ["London Heathrow and London City Airports", "Burglary", "Burglary in a Dwelling", "0", "0", "1"],
]
HOSTILE = [
    "", " ", "-1", "1.5", "1e3", "NaN", "inf", "\u0663", "0x10", "+4", "007", "99999999999999999999999",
    '"', '""', "'", ",", "\r", "\n", "\r\n", "\x00", "\ufeff", "\u00a3", "\u202e", "<script>alert(1)</script>",
    "{{ x }}", "**bold**", "[link](javascript:alert(1))", "$$", "x" * 5000, "Barking", "barking and dagenham",
    "201104", "Borough", '=HYPERLINK("http://x")',
]
cells = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=30))
FUZZ = settings(max_examples=150, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture])


def check_valid(frame: pd.DataFrame) -> None:
    """What a frame from read_wide promises: key columns, whole non-negative int64 counts,
    consecutive YYYYMM months, line numbers, known areas, one row per key."""
    months = list(frame.columns[3:])
    assert list(frame.columns[:3]) == load.KEYS
    assert months and all(re.fullmatch(r"\d{4}(0[1-9]|1[0-2])", m) for m in months)
    periods = [pd.Period(f"{m[:4]}-{m[4:]}", "M") for m in months]
    assert all(b == a + 1 for a, b in zip(periods, periods[1:]))
    assert all(frame[m].dtype == "int64" for m in months)
    assert (frame[months] >= 0).all().all()
    assert frame.index.name == load.LINE and frame.index.is_unique and (frame.index >= 2).all()
    assert set(frame["borough"]) <= set(definitions.boroughs()) | set(definitions.other_areas())
    assert not frame.duplicated(subset=load.KEYS).any()
    assert frame.attrs["classification"] in definitions.classifications().by_id


def read_or_refuse(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    try:
        frame = load.read_wide(path)
    except CspbookError as exc:
        assert str(exc).startswith(str(path)), str(exc)  # every message names the file
        return
    check_valid(frame)


def to_csv(rows: list[list[str]], newline: str = "\r\n") -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator=newline).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def test_the_seed_file_is_valid(project, tmp_path):
    path = tmp_path / "seed.csv"
    path.write_bytes(to_csv([SEED_HEADER, *SEED_ROWS]))
    check_valid(load.read_wide(path))


@FUZZ
@given(data=st.binary(max_size=2000))
def test_random_bytes(project, tmp_path, data):
    read_or_refuse(tmp_path / "random.csv", data)


@FUZZ
@given(data=st.binary(max_size=300))
def test_random_bytes_after_a_valid_header(project, tmp_path, data):
    read_or_refuse(tmp_path / "random.csv", ",".join(SEED_HEADER).encode() + b"\r\n" + data)


@FUZZ
@given(
    header=st.lists(st.one_of(st.sampled_from(SEED_HEADER + ["MajorText", "LookUp_BoroughName", "201113"]), cells),
                    max_size=7),
    rows=st.lists(st.lists(cells, max_size=8), max_size=6),
    newline=st.sampled_from(["\r\n", "\n", "\r"]),
)
def test_random_csv_text(project, tmp_path, header, rows, newline):
    read_or_refuse(tmp_path / "text.csv", to_csv([header, *rows], newline))


@FUZZ
@given(row=st.integers(0, len(SEED_ROWS)), column=st.integers(0, len(SEED_HEADER) - 1), value=cells,
       encoding=st.sampled_from(["utf-8", "utf-8-sig", "latin-1", "utf-16"]))
def test_a_valid_file_with_one_cell_changed(project, tmp_path, row, column, value, encoding):
    table = [list(SEED_HEADER), *[list(r) for r in SEED_ROWS]]
    table[row][column] = value
    text = to_csv(table).decode("utf-8")
    try:
        data = text.encode(encoding)
    except UnicodeEncodeError:
        data = text.encode("utf-8")
    read_or_refuse(tmp_path / "mutated.csv", data)


@FUZZ
@given(cut=st.integers(0, 400))
def test_a_valid_file_cut_anywhere(project, tmp_path, cut):
    read_or_refuse(tmp_path / "cut.csv", to_csv([SEED_HEADER, *SEED_ROWS])[:cut])


@pytest.mark.parametrize(("cell", "problem"), [
    ("99999999999999999999", "found '99999999999999999999', too large to be a count"),
    ("\u0663", "found '\u0663', which is not written as a whole number"),
    ("NaN", "found 'NaN', which is not a number"),
])
def test_counts_that_would_break_the_int64_columns_are_refused(project, tmp_path, cell, problem):
    table = [list(SEED_HEADER), *[list(r) for r in SEED_ROWS]]
    table[2][4] = cell
    path = tmp_path / "crime.csv"
    path.write_bytes(to_csv(table))
    with pytest.raises(CspbookError) as caught:
        load.read_wide(path)
    assert str(caught.value) == f"{path}, line 3, column '201105': {problem}. {COUNTS_FIX}"
