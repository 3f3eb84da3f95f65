"""2025-26 to date from the November 2025 edition: April to November 2025 against April to
November 2024, and the latest twelve months on the overview of every book.

The expected counts are worked out in the test from the raw files with plain pandas
(category names compared in upper case; Barking and Dagenham's rows; the month columns
added up), independently of cspbook.
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from conftest import run_cli, use_home

from cspbook.definitions import periods

EDITION = "edition-2025-11"
BD = "Barking and Dagenham"
CATEGORIES = {  # as published in the November 2025 edition
    "violence_with_injury": {"VIOLENCE WITH INJURY", "HOMICIDE"},
    "residential_burglary": {"DOMESTIC BURGLARY", "RES BURGLARY OF A HOME", "RES BURGLARY OF UNCONNECTED BUILDING",
                             "BURGLARY - RESIDENTIAL"},
    "vehicle_crime": {"THEFT FROM A VEHICLE", "THEFT OR UNAUTH TAKING OF A MOTOR VEH"},
}


@pytest.fixture(scope="module")
def raw(mirror):
    """Both files of the edition as one frame of rows (month columns YYYYMM as text)."""
    frames = [pd.read_csv(path, dtype=str) for path in sorted((mirror / EDITION).glob("*.csv"))]
    return pd.concat(frames, ignore_index=True)


def by_hand(raw, indicator, first, last, borough=BD) -> int:
    """The indicator's count from month ``first`` to ``last`` (YYYYMM, both included)."""
    rows = raw[raw["MinorText"].str.upper().isin(CATEGORIES[indicator])]
    rows = rows if borough is None else rows[rows["BoroughName"] == borough]  # London: the whole MPS
    months = [c for c in raw.columns if c.isdigit() and first <= c <= last]
    return int(rows[months].fillna("0").astype(int).to_numpy().sum())


@pytest.fixture
def home(edition_tree, monkeypatch):
    return use_home(monkeypatch, edition_tree(EDITION))


def rows_of(capsys, *argv) -> dict:
    code, out, err = run_cli(capsys, "indicators", "--borough", BD, *argv, "--format", "csv", "--offline")
    assert (code, err) == (0, ""), err
    return {row["indicator"]: row for row in csv.DictReader(io.StringIO(out))}


def test_2025_26_to_date_is_april_to_november_against_the_same_months_of_2024_25(home, raw, capsys):
    rows = rows_of(capsys, "--year", "2025-26")
    for indicator in CATEGORIES:
        row = rows[indicator]
        assert row["year"] == row["period"] == "2025-26 to date (April to November 2025)"  # never 'financial year'
        assert not row["rate_per_1000"]  # a part year has no rate per 1,000 residents
        value, previous = by_hand(raw, indicator, "202504", "202511"), by_hand(raw, indicator, "202404", "202411")
        assert (float(row["value"]), float(row["previous_value"])) == (value, previous), indicator
        assert float(row["change_pct"]) == pytest.approx((value - previous) / previous * 100, abs=1e-8)
        assert row["significant"] in ("True", "False") and row["ci_low_pct"] and row["ci_high_pct"]  # tested on the part year
        assert row["series"] == "restated_2025"
    # London: the same months of the whole MPS (the boroughs, the airports and 'Unknown')
    london = by_hand(raw, "vehicle_crime", "202504", "202511", None), by_hand(raw, "vehicle_crime", "202404", "202411", None)
    assert float(rows["vehicle_crime"]["london_change_pct"]) == pytest.approx((london[0] - london[1]) / london[1] * 100, abs=1e-8)


def test_to_chooses_an_earlier_end_month(home, raw, capsys):
    rows = rows_of(capsys, "--year", "2025-26", "--to", "2025-09")
    row = rows["residential_burglary"]
    assert row["year"] == "2025-26 to date (April to September 2025)"
    assert (float(row["value"]), float(row["previous_value"])) == (
        by_hand(raw, "residential_burglary", "202504", "202509"), by_hand(raw, "residential_burglary", "202404", "202409"))


def test_breaks_are_checked_on_the_months_compared(home, capsys):
    # March 2024 (new recording system) falls between April-November 2023 and April-November 2024 ...
    spanned = rows_of(capsys, "--year", "2024-25", "--to", "2024-11")["violence_with_injury"]
    assert spanned["year"] == "2024-25 to date (April to November 2024)"
    assert "new crime recording system" in spanned["caution"]
    # ... but before April 2024, the first month 2025-26 to date is compared with
    assert rows_of(capsys, "--year", "2025-26")["violence_with_injury"]["caution"] == ""
    assert "new crime recording system" in rows_of(capsys, "--year", "2024-25")["violence_with_injury"]["caution"]


def test_a_year_is_refused_only_when_no_month_of_it_is_in_the_data(home, capsys):
    code, out, err = run_cli(capsys, "indicators", "--borough", BD, "--year", "2026-27", "--offline")
    assert (code, out) == (2, "")
    assert err == ("cspbook: error: 2026-27 starts April 2026; the data end November 2025, so no month of it is in "
                   "the data. Fetch newer data (`cspbook fetch`) or choose an earlier year\n")


def test_the_table_format_names_the_period(home, capsys):
    code, out, err = run_cli(capsys, "indicators", "--borough", BD, "--year", "2025-26", "--offline")
    assert code == 0
    assert out.splitlines()[0] == (f"{BD}, 2025-26 to date (April to November 2025) compared with the same months of "
                                   "2024-25 (April to November 2024)")


@pytest.mark.parametrize("year", ["2024-25", "2025-26"])
def test_the_overview_gives_the_latest_twelve_months_worked_out_by_hand(home, raw, year):
    from cspbook.pages import context, views

    ctx = context.context(BD, year)
    html = "".join(part._repr_html_() for part in views.overview(ctx).parts)
    assert ("The twelve months to November 2025 (December 2024 to November 2025) compared with the twelve months "
            "before (December 2023 to November 2024)") in html
    for indicator, label in (("residential_burglary", "Residential burglary"), ("vehicle_crime", "Theft of and from motor vehicles")):
        now, before = by_hand(raw, indicator, "202412", "202511"), by_hand(raw, indicator, "202312", "202411")
        assert f"{label} {'rose' if now > before else 'fell'} by {abs(now - before) / before * 100:.1f}% ({before:,} to {now:,})" in html
    # the months compared span March 2024: the caution of the new recording system is given, and
    # violence with injury, counted differently from then, is not compared
    assert "interpret with caution" in html and "new crime recording system" in html
    now = by_hand(raw, "violence_with_injury", "202412", "202511")
    assert f"Violence with injury: {now:,} in the twelve months to November 2025; no change is shown" in html


def test_periods_name_themselves():
    period = periods.resolve(2025, "2025-11")
    assert (period.name, period.title, period.previous_name) == (
        "2025-26 to date", "2025-26 to date (April to November 2025)", "the same months of 2024-25 (April to November 2024)")
    assert periods.parse_period(period.text) == period
    assert periods.resolve(2024, "2025-11") == periods.Period(2024)
