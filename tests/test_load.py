"""cspbook.data.load: reading the wide MPS files of every edition, and which file supplies which month.

Every expected frame below is written out by hand from the little files the tests make.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import crime_csv, months

from cspbook.data import load
from cspbook.errors import DataFileError

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


@pytest.mark.parametrize("layout", ["mps", "lookup", "edition-2024", "edition-2025"])
@pytest.mark.parametrize("newline", ["\r\n", "\n"], ids=["crlf", "lf"])
@pytest.mark.parametrize("bom", [False, True], ids=["no-bom", "bom"])
def test_every_published_dialect_reads_to_the_same_frame(project, tmp_path, layout, newline, bom):
    path = tmp_path / "crime.csv"
    path.write_bytes(crime_csv(ROWS, ["201104", "201105"], layout=layout, newline=newline, bom=bom))

    wide = load.read_wide(path)

    # header is line 1, so the two rows are lines 2 and 3
    pd.testing.assert_frame_equal(wide, expected_wide([2, 3], ROWS, ["201104", "201105"]), check_index_type=False)
    assert wide.attrs == {"classification": "mps_previous", "series": "mps_2008_2018", "path": str(path)}


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


TITLECASE_ROWS = [
    (BD, "Burglary", "Domestic Burglary", [10, 12]),
    (BD, "Miscellaneous Crimes Against Society", "Disclosure, Obstruction, False or Misleading State", [1, 0]),
    (HEATHROW, "Burglary", "Domestic Burglary", [3, 4]),
]


def test_the_january_2024_edition_reads_with_its_quoted_names(project, tmp_path):
    path = tmp_path / "MPS Borough Level Crime (Historical).csv"
    path.write_bytes(crime_csv(TITLECASE_ROWS, ["202304", "202305"], layout="edition-2024", newline="\n"))
    wide = load.read_wide(path)
    assert wide.attrs["classification"] == "restated_titlecase" and wide.attrs["series"] == "restated_2024"
    assert wide["minor"].tolist() == ["Domestic Burglary", "Disclosure, Obstruction, False or Misleading State",
                                      "Domestic Burglary"]
    assert wide["202305"].tolist() == [12, 0, 4] and wide.index.tolist() == [2, 3, 4]


def test_category_names_match_without_regard_to_case_or_surrounding_space(project, tmp_path):
    path = tmp_path / "crime.csv"
    path.write_bytes(crime_csv([
        (BD, "burglary", "  Res Burglary of a Home ", [5]),
        (BD, "BURGLARY", "RES BURGLARY OF UNCONNECTED BUILDING", [2]),
        ("Unknown", "Burglary", "Res Burglary Of A Home", [7]),
    ], ["202404"], layout="edition-2025"))
    wide = load.read_wide(path)
    assert wide.attrs["classification"] == "restated_uppercase"
    # spelled as in data/classification.yml from here on
    assert wide[["major", "minor"]].values.tolist() == [
        ["BURGLARY", "RES BURGLARY OF A HOME"], ["BURGLARY", "RES BURGLARY OF UNCONNECTED BUILDING"],
        ["BURGLARY", "RES BURGLARY OF A HOME"]]


def test_a_category_no_classification_knows_is_refused_naming_it_and_the_file_to_edit(project, tmp_path):
    path = tmp_path / "MPS Borough Level Crime (most recent 24 months).csv"
    path.write_bytes(crime_csv([
        (BD, "BURGLARY", "RES BURGLARY OF A HOME", [5]),
        (BD, "BURGLARY", "ONLINE CRIME", [1]),
    ], ["202510"], layout="edition-2025"))
    with pytest.raises(DataFileError) as caught:
        load.read_wide(path)
    message = str(caught.value)
    assert message.startswith(f"{path}, line 3, column 'MinorText': 1 category that no classification in "
                              "data/classification.yml knows. The file matches best the Home Office categories, coarse "
                              "(November 2025 edition) ('restated_uppercase': 1 of its 2 categories known; its header is "
                              "spelled as that edition's)")
    assert ("'ONLINE CRIME' (major category 'BURGLARY'), first on line 3, 1 offence over the file; known categories of "
            "'BURGLARY' missing from this file: 'BURGLARY - RESIDENTIAL'") in message
    assert "likely a new category" in message and "data/indicators.yml (under restated_uppercase:)" in message
    assert "one file must use one classification" not in message


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
        "series": "mps_2008_2018",
    }


def _file(tmp_path, name, first, counts, minor=DWELLING):
    path = tmp_path / name
    path.write_bytes(crime_csv([(BD, "Burglary", minor, counts)], months(first, len(counts))))
    wide = load.read_wide(path)
    wide.attrs["source"] = name
    return wide


def supplied(wides) -> dict:
    return {w.attrs["source"]: load.ranges(m) for w, m in zip(wides, load.supplies(wides))}


@pytest.mark.parametrize("order", ["oldest-first", "newest-first"])
def test_where_months_of_a_series_overlap_the_later_publication_wins(project, tmp_path, order):
    old = _file(tmp_path, "old.csv", "201101", [1, 2, 3, 4, 5, 6])  # 2011-01 .. 2011-06
    new = _file(tmp_path, "new.csv", "201104", [40, 50, 60, 70, 80, 90])  # 2011-04 .. 2011-09, revised
    frames = [old, new] if order == "oldest-first" else [new, old]
    # January to March only in the old file; April to June in both: the newer file's counts
    assert supplied(frames) == {"old.csv": ["2011-01..2011-03"], "new.csv": ["2011-04..2011-09"]}


def test_a_restatement_that_ends_in_the_same_month_but_starts_later_counts_as_newer(project, tmp_path):
    year = _file(tmp_path, "year.csv", "201101", [1] * 12)  # 2011-01 .. 2011-12
    half = _file(tmp_path, "half.csv", "201107", [7] * 6)  # 2011-07 .. 2011-12
    assert supplied([half, year]) == {"year.csv": ["2011-01..2011-06"], "half.csv": ["2011-07..2011-12"]}


def test_a_file_that_supplies_no_month_is_listed_with_no_ranges(project, tmp_path):
    inner = _file(tmp_path, "inner.csv", "201103", [5, 5])  # 2011-03 .. 2011-04
    outer = _file(tmp_path, "outer.csv", "201101", [1] * 6)  # 2011-01 .. 2011-06: newer, covers inner
    assert supplied([inner, outer]) == {"inner.csv": [], "outer.csv": ["2011-01..2011-06"]}


def test_files_of_different_series_never_take_each_others_months(project, tmp_path):
    old = _file(tmp_path, "old.csv", "201101", [1] * 6)  # 2008-2018 series
    restated = _file(tmp_path, "restated.csv", "201101", [2] * 12, minor="Domestic Burglary")  # another series
    restated["major"] = "Burglary"
    assert restated.attrs["series"] == "restated_2024"
    assert supplied([old, restated]) == {"old.csv": ["2011-01..2011-06"], "restated.csv": ["2011-01..2011-12"]}


def test_load_files_reads_validates_and_names_each_source(project, tmp_path):
    old = tmp_path / "old.csv"
    old.write_bytes(crime_csv([(BD, "Burglary", DWELLING, [1, 2])], ["201612", "201701"]))
    new = tmp_path / "new.csv"
    new.write_bytes(crime_csv([(BD, "Burglary", "Burglary - Residential", [20, 30])], ["201701", "201702"]))

    wides = load.load_files([new, old])

    assert [w.attrs["source"] for w in wides] == ["new.csv", "old.csv"]
    assert [w.attrs["classification"] for w in wides] == ["home_office", "mps_previous"]
    # both are the 2008-2018 series: January 2017 comes from the newer file
    assert supplied(wides) == {"old.csv": ["2016-12..2016-12"], "new.csv": ["2017-01..2017-02"]}


def test_supplies_of_nothing_is_nothing():
    assert load.supplies([]) == []
