"""A new edition of the MPS file, as the next one will be: the November 2025 edition with one
category renamed (in both files) and one dropped. cspbook names the classification the file
matches best, the unknown category with its line and total, the likely renaming and the block
to paste; once the block is pasted into data/classification.yml (of a scratch project tree)
the figures are those of the unchanged edition. The "one file must use one classification"
advice is kept for a file that truly holds two classifications (also in test_validate.py).
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from conftest import make_project, run_cli, snapshot, use_home

EDITION = "edition-2025-11"
RECENT = "MPS Borough Level Crime (most recent 24 months).csv"
HISTORICAL = "MPS Borough Level Crime (Historical).csv"
OLD, NEW = "ROBBERY OF PERSONAL PROPERTY", "PERSONAL PROPERTY"  # 'Robbery / Personal Property' is also a previous MPS name
DROPPED = "NFIB FRAUD"  # a major category the next edition leaves out (counted by no indicator)
BD = "Barking and Dagenham"


def renamed_copy(source, folder):
    """The edition's files with OLD renamed NEW and the DROPPED rows left out, as an edition
    would publish them (LF line ends kept, names quoted only where they hold a comma)."""
    folder.mkdir(parents=True)
    for name in (HISTORICAL, RECENT):
        text = (source / name).read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if not line.startswith(DROPPED + ",")]
        (folder / name).write_text("\n".join(line.replace(f",{OLD},", f",{NEW},") for line in lines) + "\n", encoding="utf-8")
    return folder


@pytest.fixture
def new_edition(mirror, tmp_path, monkeypatch):
    folder = renamed_copy(mirror / EDITION, tmp_path / "downloads")
    home = use_home(monkeypatch, make_project(tmp_path / "project"))
    return folder, home


def by_hand(path):
    """First line of NEW, its total over the file and the file's distinct categories, with plain pandas."""
    frame = pd.read_csv(path, dtype=str)
    rows = frame[frame["MinorText"] == NEW]
    months = [c for c in frame.columns if c.isdigit()]
    distinct = len(frame[["MajorText", "MinorText"]].drop_duplicates())
    return int(rows.index[0]) + 2, int(rows[months].astype(int).to_numpy().sum()), distinct


def indicator_csv(capsys, year):
    code, out, err = run_cli(capsys, "indicators", "--borough", BD, "--year", year, "--format", "csv", "--offline")
    assert (code, err) == (0, ""), err
    return [{k: v for k, v in row.items() if k != "source_files"} for row in csv.DictReader(io.StringIO(out))]


def test_a_renamed_category_is_named_with_its_line_total_and_likely_renaming(new_edition, capsys):
    folder, home = new_edition
    path = folder / RECENT
    line, total, distinct = by_hand(path)
    assert total > 1000  # a real category: dropping it would change the robbery figures

    code, out, err = run_cli(capsys, "validate", path)

    assert code == 2 and out == ""
    assert err.startswith(f"cspbook: error: {path}, line {line}, column 'MinorText': 1 category that no classification")
    assert ("The file matches best the Home Office categories, coarse (November 2025 edition) ('restated_uppercase': "
            f"{distinct - 1} of its {distinct} categories known; its header is spelled as that edition's)") in err
    assert (f"  - '{NEW}' (major category 'ROBBERY'), first on line {line}, {total:,} offences over the file; known "
            f"categories of 'ROBBERY' missing from this file: '{OLD}'; likely a renaming of '{OLD}'") in err
    assert f"    aliases:\n      {NEW}: same as {OLD}\n" in err
    assert "one file must use one classification" not in err.lower() and "export the months" not in err


def test_suggest_prints_the_block_and_after_pasting_it_the_figures_are_the_unchanged_editions(
        new_edition, edition_tree, monkeypatch, capsys):
    folder, home = new_edition
    before = snapshot(home)

    code, out, err = run_cli(capsys, "validate", "--suggest", folder / RECENT, "--suggest", folder / HISTORICAL)

    assert (code, err) == (0, "")
    assert snapshot(home) == before  # writes nothing
    where = "paste this block under the line '  restated_uppercase:'"
    assert out.count(where) == 2 and out.count(f"      {NEW}: same as {OLD}") == 2
    block = out.split(where)[1].split("\n")[1:]
    block = "\n".join(line for line in block[:next(i for i, s in enumerate(block) if not s.startswith("    "))]) + "\n"
    assert block == f"    aliases:\n      {NEW}: same as {OLD}\n"

    yml = home / "data" / "classification.yml"
    text = yml.read_text()
    yml.write_text(text.replace("  restated_uppercase:\n", "  restated_uppercase:\n" + block, 1))
    use_home(monkeypatch, home)
    from conftest import clear_caches

    clear_caches()
    code, out, err = run_cli(capsys, "validate", "--suggest", folder / RECENT)
    assert (code, err) == (0, "") and "every category is known" in out
    assert run_cli(capsys, "fetch", "--mirror", folder)[0] == 0
    renamed = {year: indicator_csv(capsys, year) for year in ("2024-25", "2019-20")}

    use_home(monkeypatch, edition_tree(EDITION))
    unchanged = {year: indicator_csv(capsys, year) for year in ("2024-25", "2019-20")}
    for year in renamed:
        assert [r["indicator"] for r in renamed[year]] == [r["indicator"] for r in unchanged[year]]
        for new, old in zip(renamed[year], unchanged[year]):
            if new["indicator"] == "total_notifiable_offences":
                # it counts every category, the dropped one too: London's total (the whole MPS,
                # where the dropped rows were) changes; the borough's counts (it had none) do not
                new = {k: v for k, v in new.items() if k in ("value", "previous_value", "change")}
                old = {k: v for k, v in old.items() if k in ("value", "previous_value", "change")}
            assert new == old, (year, {k: (new[k], old[k]) for k in new if new[k] != old[k]})
    robbery = next(r for r in unchanged["2024-25"] if r["indicator"] == "robbery")
    assert float(robbery["value"]) > 0


def test_a_file_that_truly_holds_two_classifications_is_told_where_to_split_it(mirror, project, tmp_path, capsys):
    """The 2008-2018 files joined into one wide file (previous categories to December 2016,
    updated from January 2017, in different rows): the advice names the month to split at."""
    frames = [pd.read_csv(mirror / name, dtype=str) for name in ("MPS_Borough_Level_Crime_Historic.csv",
                                                                 "MPS_Borough_Level_Crime_most_recent_24_months.csv")]
    keys = ["Borough", "Major Category", "Minor Category"]
    joined = pd.concat(frames, ignore_index=True).fillna("0")
    joined = joined[keys + sorted(c for c in joined.columns if c not in keys)]
    path = tmp_path / "joined.csv"
    joined.to_csv(path, index=False)

    code, out, err = run_cli(capsys, "validate", path)

    assert code == 2
    assert ("the file holds two classifications: the previous MPS categories (to December 2016) to December 2016 and "
            "the updated Home Office categories (2017-2018 file) from January 2017, in different rows") in err
    assert "One file must use one classification: split it at January 2017" in err
    assert "month columns up to 201612 and the other with the month columns from 201701" in err
    code, out, err = run_cli(capsys, "validate", "--suggest", path)
    assert code == 2 and "split it at January 2017" in err


def test_the_split_advice_can_be_followed(mirror, project, tmp_path, capsys):
    """Splitting the joined file as advised gives two files that validate."""
    frames = [pd.read_csv(mirror / name, dtype=str) for name in ("MPS_Borough_Level_Crime_Historic.csv",
                                                                 "MPS_Borough_Level_Crime_most_recent_24_months.csv")]
    keys = ["Borough", "Major Category", "Minor Category"]
    joined = pd.concat(frames, ignore_index=True).fillna("0")
    months = sorted(c for c in joined.columns if c not in keys)
    for name, part in (("before.csv", [m for m in months if m <= "201612"]), ("after.csv", [m for m in months if m >= "201701"])):
        half = joined[keys + part]
        half = half[half[part].astype(int).sum(axis=1) > 0]
        half.to_csv(tmp_path / name, index=False)
    code, out, err = run_cli(capsys, "validate", tmp_path / "before.csv", tmp_path / "after.csv")
    assert (code, err) == (0, ""), err
    assert "(mps_previous, series mps_2008_2018)" in out and "(home_office, series mps_2008_2018)" in out


def test_an_alias_must_name_a_category_of_its_classification(project, capsys):
    yml = project / "data" / "classification.yml"
    yml.write_text(yml.read_text().replace("  restated_uppercase:\n", "  restated_uppercase:\n    aliases:\n"
                                           "      PERSONAL PROPERTY: same as ROBBERY OF PERSONL PROPERTY\n", 1))
    code, out, err = run_cli(capsys, "validate")
    assert code == 2
    assert ("alias 'PERSONAL PROPERTY' is the same as 'ROBBERY OF PERSONL PROPERTY', which is not a category of this "
            "classification") in err


def test_rows_under_the_old_and_the_new_name_are_one_category(project, tmp_path):
    """An edition that publishes a category under its old name to a month and its new name
    after it, each as its own row: with the alias, one category whose counts run on."""
    from conftest import crime_csv

    from cspbook.data import load

    yml = project / "data" / "classification.yml"
    yml.write_text(yml.read_text().replace("  restated_uppercase:\n", "  restated_uppercase:\n    aliases:\n"
                                           f"      {NEW}: same as {OLD}\n", 1))
    path = tmp_path / RECENT
    path.write_bytes(crime_csv([
        (BD, "ROBBERY", OLD, [5, 6, 0, 0]), (BD, "ROBBERY", NEW, [0, 0, 7, 8]),
        ("Barnet", "ROBBERY", NEW, [1, 2, 3, 4]), (BD, "THEFT", "SHOPLIFTING", [1, 1, 1, 1]),
    ], ["202501", "202502", "202503", "202504"], layout="edition-2025"))
    wide = load.read_wide(path)
    assert wide[["borough", "minor", "202501", "202504"]].values.tolist() == [
        [BD, OLD, 5, 8], ["Barnet", OLD, 1, 4], [BD, "SHOPLIFTING", 1, 1]]
    assert wide.index.tolist() == [2, 4, 5]
