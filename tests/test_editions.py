"""Today's editions of the MPS borough file, end to end on the real files of the mirror.

The literal counts below were read from the raw CSVs once, with a short csv-module script
independent of cspbook (summing the monthly columns April to March; category names compared
in upper case):

November 2025 edition (``edition-2025-11``), 2023-24 -> 2024-25:

    violence with injury   VIOLENCE WITH INJURY + HOMICIDE          B&D 2224 -> 1774   Hillingdon 2298 -> 2060
    residential burglary   DOMESTIC BURGLARY + RES BURGLARY OF A HOME + RES BURGLARY OF UNCONNECTED
                           BUILDING + BURGLARY - RESIDENTIAL        B&D  729 ->  655   Hillingdon  972 -> 1089
    vehicle crime          THEFT FROM A VEHICLE + THEFT OR UNAUTH TAKING OF A MOTOR VEH
                                                                    B&D 2233 -> 2027   Hillingdon 3047 -> 3189

January 2024 edition (``edition-2024-01``), 2021-22 -> 2022-23:

    violence with injury   Violence with Injury + Homicide          B&D 2096 -> 2046   Hillingdon 2322 -> 2413
    residential burglary   Domestic Burglary                        B&D  918 ->  831   Hillingdon 1019 -> 1096
    vehicle crime          Theft from a Motor Vehicle + Theft or Taking of a Motor Vehicle
                                                                    B&D 2143 -> 2723   Hillingdon 3184 -> 3342
"""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from conftest import run_cli, use_home

from cspbook import definitions
from cspbook.compute import dataset, indicators, table
from cspbook.definitions import reports

BD, HILLINGDON = "Barking and Dagenham", "Hillingdon"
BY_HAND = {
    ("edition-2025-11", "2024-25"): {
        (BD, "violence_with_injury"): (2224, 1774), (BD, "residential_burglary"): (729, 655),
        (BD, "vehicle_crime"): (2233, 2027), (HILLINGDON, "violence_with_injury"): (2298, 2060),
        (HILLINGDON, "residential_burglary"): (972, 1089), (HILLINGDON, "vehicle_crime"): (3047, 3189),
    },
    ("edition-2024-01", "2022-23"): {
        (BD, "violence_with_injury"): (2096, 2046), (BD, "residential_burglary"): (918, 831),
        (BD, "vehicle_crime"): (2143, 2723), (HILLINGDON, "violence_with_injury"): (2322, 2413),
        (HILLINGDON, "residential_burglary"): (1019, 1096), (HILLINGDON, "vehicle_crime"): (3184, 3342),
    },
}


def home_of(edition_tree, monkeypatch, name):
    return use_home(monkeypatch, edition_tree(name))


def data_of(edition_tree, monkeypatch, name) -> dataset.Dataset:
    home_of(edition_tree, monkeypatch, name)
    return dataset.dataset()


def csv_rows(capsys, borough, year) -> dict:
    code, out, err = run_cli(capsys, "indicators", "--borough", borough, "--year", year, "--format", "csv", "--offline")
    assert (code, err) == (0, "")
    return {row["indicator"]: row for row in csv.DictReader(io.StringIO(out))}


@pytest.mark.parametrize(("edition", "year"), list(BY_HAND))
def test_the_counts_match_the_raw_files_worked_out_by_hand(edition_tree, monkeypatch, capsys, edition, year):
    home_of(edition_tree, monkeypatch, edition)
    for borough in (BD, HILLINGDON):
        rows = csv_rows(capsys, borough, year)
        for (who, indicator), (previous, value) in BY_HAND[(edition, year)].items():
            if who != borough:
                continue
            row = rows[indicator]
            assert (float(row["previous_value"]), float(row["value"])) == (previous, value), (borough, indicator)
            if row["comparable"] == "True":  # exact, rounded only where shown
                assert float(row["change_pct"]) == pytest.approx((value - previous) / previous * 100, abs=1e-8)
            else:  # across a break that makes the two years not comparable: no change, and why
                assert row["change_pct"] == "" and row["note"].startswith("not comparable: ") and row["significant"] == ""
            assert row["series"] == ("restated_2025" if edition == "edition-2025-11" else "restated_2024")
            assert row["source_files"].count("sha256") == 2  # the two files of the edition


def test_2024_25_is_shown_with_the_caution_of_the_new_recording_system(edition_tree, monkeypatch, capsys):
    home_of(edition_tree, monkeypatch, "edition-2025-11")
    rows = csv_rows(capsys, BD, "2024-25")
    breaks = {b.id: b for b in definitions.classifications().breaks}
    for indicator in ("residential_burglary", "vehicle_crime", "robbery"):
        assert rows[indicator]["comparable"] == "True"
        assert rows[indicator]["caution"] == breaks["connect-2024-03"].reason
        assert rows[indicator]["london_change_pct"] != ""  # London beside the borough
        # across a break nothing is tested: empty, not False
        assert (rows[indicator]["significant"], rows[indicator]["p_value"]) == ("", "")
    # violence with injury: not comparable on its own (crimes moved into violence without injury)
    vwi = rows["violence_with_injury"]
    assert vwi["comparable"] == "False" and vwi["change_pct"] == "" and vwi["significant"] == ""
    assert vwi["note"] == f"not comparable: {breaks['violence-categories-2024-03'].reason}"
    assert vwi["instead"] == "violence_against_the_person"
def test_each_break_decision_on_real_data(edition_tree, monkeypatch):
    changes = data_of(edition_tree, monkeypatch, "edition-2025-11").changes
    bd = changes[changes["borough"] == BD].set_index(["indicator", "year"])
    reason = {b.id: b.reason for b in definitions.classifications().breaks}
    # April 2017: outbuildings join residential burglary, in the restated editions too
    assert not bd.loc[("residential_burglary", 2017), "comparable"]
    assert bd.loc[("residential_burglary", 2017), "note"] == f"not comparable: {reason['outbuildings-2017-04']}"
    assert bd.loc[("residential_burglary", 2016), "comparable"]
    # January 2017 is no break in a restated edition: one set of categories throughout
    assert bd.loc[("robbery", 2017), "comparable"] and bd.loc[("robbery", 2017), "caution"] == ""
    # April 2023: the burglary split is a renaming; 2023-24 carries only the March 2024 caution
    assert bd.loc[("residential_burglary", 2023), "comparable"]
    assert bd.loc[("residential_burglary", 2023), "caution"] == reason["connect-2024-03"]
    # a change within the series, away from every break, is flagged with nothing
    for year in (2021, 2022):
        assert bd.loc[("residential_burglary", year), "comparable"]
        assert bd.loc[("residential_burglary", year), "caution"] == ""


def london_month(monthly, indicator, month) -> int:
    rows = monthly[(monthly["indicator"] == indicator) & (monthly["month"] == pd.Period(month, "M"))]
    return int(rows["count"].sum())


def test_the_evidence_quoted_for_each_decision_is_in_the_data(edition_tree, monkeypatch):
    """The numbers written as evidence in data/classification.yml, recomputed."""
    e2025 = data_of(edition_tree, monkeypatch, "edition-2025-11")
    assert [london_month(e2025.monthly, "residential_burglary", m) for m in ("2023-04", "2023-05")] == [2900, 2927]
    london = e2025.london_annual.query("months == 12").groupby(["indicator", "year"])["count"].sum()
    def change(indicator, year):
        return (london[(indicator, year)] / london[(indicator, year - 1)] - 1) * 100
    assert change("violence_with_injury", 2024) == pytest.approx(-18.8, abs=0.05)
    assert change("violence_against_the_person", 2024) == pytest.approx(-7.4, abs=0.05)
    assert change("total_notifiable_offences", 2024) == pytest.approx(-0.7, abs=0.05)
    e2024 = data_of(edition_tree, monkeypatch, "edition-2024-01")
    assert [london_month(e2024.monthly, "residential_burglary", m) for m in ("2023-04", "2023-05")] == [2992, 2941]
    assert [london_month(e2024.monthly, "residential_burglary", m) for m in ("2016-04", "2017-04")] == [3147, 4334]
    assert e2024.annual.query("indicator == 'residential_burglary' and year == 2016")["count"].sum() == 43424


def test_unknown_and_the_airports_are_not_boroughs(edition_tree, monkeypatch, capsys):
    home_of(edition_tree, monkeypatch, "edition-2025-11")
    for name in ("Unknown", "London Heathrow and London City Airports"):
        code, out, err = run_cli(capsys, "indicators", "--borough", name, "--year", "2024-25", "--offline")
        assert (code, out) == (2, "")
        assert err.startswith(f"cspbook: error: '{name}' is not a borough") and "Barking and Dagenham, Barnet" in err
    data = dataset.dataset()
    assert set(data.changes["borough"]) == set(definitions.boroughs())


def test_london_is_the_whole_mps_in_every_edition(edition_tree, monkeypatch):
    """London is the 32 boroughs plus the rows that are not boroughs (airports, Unknown)."""
    for edition in ("edition-2024-01", "edition-2025-11"):
        data = data_of(edition_tree, monkeypatch, edition)
        rows = data.changes[(data.changes["indicator"] == "residential_burglary") & (data.changes["year"] == 2021)]
        others = data.areas_monthly[(data.areas_monthly["indicator"] == "residential_burglary")
                                    & (data.areas_monthly["series"] == rows["series"].iloc[0])]
        in_year = others["month"].between(pd.Period("2021-04", "M"), pd.Period("2022-03", "M"))
        assert len(rows) == 32 and set(rows["london_value"]) == {rows["value"].sum() + others.loc[in_year, "count"].sum()}


def test_with_every_edition_in_the_cache_each_year_uses_the_newest_series_covering_both_years(edition_tree, monkeypatch):
    data = data_of(edition_tree, monkeypatch, "all")
    assert data.series == ("restated_2025", "restated_2024", "mps_2008_2018")
    assert [data.series_for(y) for y in (2008, 2009, 2010, 2011, 2017, 2022, 2024)] == [
        "mps_2008_2018", "mps_2008_2018", "mps_2008_2018", "restated_2025", "restated_2025", "restated_2025",
        "restated_2025"]
    # no month counted twice: one count per indicator, series, borough and month
    assert not data.monthly.duplicated(["indicator", "series", "borough", "month"]).any()
    assert not data.changes.duplicated(["indicator", "borough", "year"]).any()
    assert {info["series"] for info in data.supplied.values()} == {"mps_2008_2018", "restated_2024", "restated_2025"}


def test_the_reconciliation_uses_the_series_actually_used(edition_tree, monkeypatch):
    data = data_of(edition_tree, monkeypatch, "all")
    report = reports.load(BD, 2011)
    rec = table.reconciliation(data, report).set_index("indicator")
    # 2011-12 now comes from the November 2025 edition: violence with injury 1944 -> 1800 (-7.41%)
    row = data.changes.query("indicator == 'violence_with_injury' and borough == @BD and year == 2011").iloc[0]
    assert (row["previous_value"], row["value"], row["series"]) == (1944, 1800, "restated_2025")
    assert rec.loc["violence_with_injury", "recomputed_change_pct"] == pytest.approx(-7.41, abs=0.005)


def test_trend_and_month_series_stay_in_the_series_of_the_year(edition_tree, monkeypatch):
    data = data_of(edition_tree, monkeypatch, "all")
    series = data.series_for(2024)
    since = indicators.comparable_since(data.all_changes, "residential_burglary", series, 2024)
    assert since == 2017  # 2017-18 is the first year after the April 2017 break
    trend = indicators.trend(data.annual, "residential_burglary", BD, 2024, series=series, since=since)
    assert trend["year"].tolist() == [2020, 2021, 2022, 2023, 2024]
    months = indicators.month_series(data.monthly, "residential_burglary", BD, 2024, series=series)
    assert len(months) == 24
