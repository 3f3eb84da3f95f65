"""cspbook.load: reading the wide MPS files, tidying them and combining several files.

Every expected frame below is written out by hand from the little files the tests make.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import crime_csv, months

from cspbook import load

BD, BARNET, HEATHROW = "Barking and Dagenham", "Barnet", "London Heathrow and London City Airports"
DWELLING, OTHER = "Burglary in a Dwelling", "Burglary in Other Buildings"


def expected_wide(lines, rows, month_columns) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "borough": [r[0] for r in rows],
            "major": [r[1] for r in rows],
            "minor": [r[2] for r in rows],
            **{m: pd.Series([r[3][i] for r in rows], dtype="int64") for i, m in enumerate(month_columns)},
        }
    )
    frame.index = pd.Index(lines, name="line")
    return frame


ROWS = [
    (BD, "Burglary", DWELLING, [10, 12]),
    (BARNET, "Burglary", OTHER, [0, 7]),
]


@pytest.mark.parametrize("layout", ["mps", "lookup"])
@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
def test_every_published_dialect_reads_to_the_same_frame(project, tmp_path, layout, newline, bom):
    path = tmp_path / "crime.csv"
    path.write_bytes(crime_csv(ROWS, ["201104", "201105"], layout=layout, newline=newline, bom=bom))

    wide = load.read_wide(path)

    # header is line 1, so the two rows are lines 2 and 3
    pd.testing.assert_frame_equal(wide, expected_wide([2, 3], ROWS, ["201104", "201105"]), check_index_type=False)
    assert wide.attrs == {"classification": "mps_previous", "path": str(path)}


def test_blank_lines_are_skipped_but_still_counted_in_line_numbers(project, tmp_path):
    path = tmp_path / "crime.csv"
    path.write_text(
        "Borough,Major Category,Minor Category,201104\n"
        "\n"
        f"{BD},Burglary,{DWELLING},4\n"
        ",,,\n"
        f"{BARNET},Burglary,{DWELLING},5\n"
    )
    wide = load.read_wide(path)
    assert wide.index.tolist() == [3, 5]
    assert wide["201104"].tolist() == [4, 5]


def test_spaces_around_names_and_counts_are_ignored(project, tmp_path):
    path = tmp_path / "crime.csv"
    path.write_text(f"Borough , Major Category,Minor Category ,201104\n {BD} , Burglary ,{DWELLING}, 4 \n")
    wide = load.read_wide(path)
    assert wide[["borough", "major", "minor", "201104"]].iloc[0].tolist() == [BD, "Burglary", DWELLING, 4]


def test_a_file_in_the_updated_categories_is_recognised(project, tmp_path):
    path = tmp_path / "recent.csv"
    path.write_bytes(crime_csv([(BD, "Burglary", "Burglary - Residential", [3])], ["201701"]))
    assert load.read_wide(path).attrs["classification"] == "home_office"


def test_a_file_with_only_names_shared_by_both_classifications_takes_the_first(project, tmp_path):
    # 'Robbery / Personal Property' exists in both; nothing tells them apart
    path = tmp_path / "robbery.csv"
    path.write_bytes(crime_csv([(BD, "Robbery", "Personal Property", [3])], ["201701"]))
    assert load.read_wide(path).attrs["classification"] == "mps_previous"


def test_describe_counts_boroughs_not_other_areas(project, tmp_path):
    path = tmp_path / "crime.csv"
    path.write_bytes(
        crime_csv(
            [
                (BD, "Burglary", DWELLING, [1, 2, 3]),
                (BD, "Burglary", OTHER, [1, 2, 3]),
                (HEATHROW, "Burglary", DWELLING, [9, 9, 9]),
            ],
            ["201011", "201012", "201101"],
        )
    )
    info = load.describe(path, load.read_wide(path))
    assert info == {
        "rows": 3,
        "boroughs": 1,
        "first_month": "2010-11",
        "last_month": "2011-01",
        "classification": "mps_previous",
    }


def test_tidy_keeps_boroughs_only_and_does_not_touch_its_input(project, tmp_path):
    path = tmp_path / "crime.csv"
    path.write_bytes(
        crime_csv(
            [(BD, "Burglary", DWELLING, [10, 12]), (HEATHROW, "Burglary", DWELLING, [500, 600])],
            ["201104", "201105"],
        )
    )
    wide = load.read_wide(path)
    before = wide.copy()

    tidy = load.tidy(wide)

    pd.testing.assert_frame_equal(wide, before)
    expected = pd.DataFrame(
        {
            "borough": [BD, BD],
            "major": ["Burglary", "Burglary"],
            "minor": [DWELLING, DWELLING],
            "month": pd.PeriodIndex(["2011-04", "2011-05"], freq="M"),
            "count": pd.Series([10, 12], dtype="int64"),
            "classification": ["mps_previous"] * 2,
            "source": ["crime.csv"] * 2,
        }
    )
    pd.testing.assert_frame_equal(tidy, expected)


def _tidy_file(tmp_path, name, first, counts, minor=DWELLING):
    path = tmp_path / name
    path.write_bytes(crime_csv([(BD, "Burglary", minor, counts)], months(first, len(counts))))
    return load.tidy(load.read_wide(path))


@pytest.mark.parametrize("order", ["oldest-first", "newest-first"])
def test_where_months_overlap_the_later_publication_wins(project, tmp_path, order):
    old = _tidy_file(tmp_path, "old.csv", "201101", [1, 2, 3, 4, 5, 6])  # 2011-01 .. 2011-06
    new = _tidy_file(tmp_path, "new.csv", "201104", [40, 50, 60, 70, 80, 90])  # 2011-04 .. 2011-09, revised
    frames = [old, new] if order == "oldest-first" else [new, old]

    combined, supplied = load.combine(frames)

    # January to March only in the old file; April to June in both: the newer file's counts
    assert combined["count"].tolist() == [1, 2, 3, 40, 50, 60, 70, 80, 90]
    assert combined["month"].astype(str).tolist() == [f"2011-{m:02d}" for m in range(1, 10)]
    assert combined["source"].tolist() == ["old.csv"] * 3 + ["new.csv"] * 6
    assert supplied == {"old.csv": ["2011-01..2011-03"], "new.csv": ["2011-04..2011-09"]}


def test_a_restatement_that_ends_in_the_same_month_but_starts_later_counts_as_newer(project, tmp_path):
    year = _tidy_file(tmp_path, "year.csv", "201101", [1] * 12)  # 2011-01 .. 2011-12
    half = _tidy_file(tmp_path, "half.csv", "201107", [7] * 6)  # 2011-07 .. 2011-12
    combined, supplied = load.combine([half, year])
    assert combined["count"].tolist() == [1] * 6 + [7] * 6
    assert supplied == {"year.csv": ["2011-01..2011-06"], "half.csv": ["2011-07..2011-12"]}


def test_a_file_that_supplies_no_month_is_listed_with_no_ranges(project, tmp_path):
    inner = _tidy_file(tmp_path, "inner.csv", "201103", [5, 5])  # 2011-03 .. 2011-04
    outer = _tidy_file(tmp_path, "outer.csv", "201101", [1] * 6)  # 2011-01 .. 2011-06: newer, covers inner
    combined, supplied = load.combine([inner, outer])
    assert combined["count"].tolist() == [1] * 6
    assert supplied == {"inner.csv": [], "outer.csv": ["2011-01..2011-06"]}


def test_load_files_reads_validates_and_combines(project, tmp_path):
    old = tmp_path / "old.csv"
    old.write_bytes(crime_csv([(BD, "Burglary", DWELLING, [1, 2])], ["201612", "201701"]))
    new = tmp_path / "new.csv"
    new.write_bytes(crime_csv([(BD, "Burglary", "Burglary - Residential", [20, 30])], ["201701", "201702"]))

    combined, supplied = load.load_files([new, old])

    assert combined["count"].tolist() == [1, 20, 30]
    assert combined["classification"].tolist() == ["mps_previous", "home_office", "home_office"]
    assert supplied == {"old.csv": ["2016-12..2016-12"], "new.csv": ["2017-01..2017-02"]}


def test_combine_of_nothing_is_an_empty_tidy_frame():
    combined, supplied = load.combine([])
    assert combined.columns.tolist() == ["borough", "major", "minor", "month", "count", "classification", "source"]
    assert len(combined) == 0 and supplied == {}
