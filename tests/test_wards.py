"""Wards: the MPS ward files read, counted per ward and financial year, and a chapter's ward
section; hand-worked counts for two wards of two boroughs, worked out here with plain pandas."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest

from cspbook import definitions
from cspbook.compute import wards
from cspbook.data import wards as ward_files
from cspbook.definitions import periods
from cspbook.errors import DataFileError
from cspbook.pages import wards as ward_page

RECENT = "open/mps-ward/MPS Ward Level Crime (most recent 24 months).csv"
HISTORICAL = "open/mps-ward/recorded-crime-ward-historical.parquet"
VIOLENCE = ["VIOLENCE WITH INJURY", "HOMICIDE"]  # data/indicators.yml, the UPPER CASE classification
BURGLARY = ["DOMESTIC BURGLARY", "RES BURGLARY OF A HOME", "RES BURGLARY OF UNCONNECTED BUILDING", "BURGLARY - RESIDENTIAL"]


def _fy(first: int) -> list[str]:
    return [p.strftime("%Y%m") for p in pd.period_range(f"{first}-04", periods=12, freq="M")]


@pytest.fixture(scope="module")
def ward_years(mirror):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSPBOOK_HOME", str(_repo()))  # the repository's definitions
        return wards.annual([ward_files.read(mirror / RECENT), ward_files.read(mirror / HISTORICAL)], definitions.indicators())


def _repo():
    from pathlib import Path

    return Path(__file__).resolve().parents[1]


def test_two_wards_of_barking_and_dagenham_from_the_recent_file(ward_years, mirror):
    raw = pd.read_csv(mirror / RECENT)
    mine = raw[(raw["LookUp_BoroughName"] == "Barking and Dagenham") & raw["MinorText"].isin(VIOLENCE)]
    by_hand = mine.groupby("WardName")[_fy(2024)].sum().sum(axis=1)
    table = wards.for_borough(ward_years, "violence_with_injury", "Barking and Dagenham", 2024).set_index("ward")
    for ward in ("Northbury", "Eastbury"):
        assert table.loc[ward, "value"] == by_hand[ward]
    assert table["value"].sum() == by_hand.sum() and len(table) == by_hand.size
    assert table.iloc[0]["rank"] == 1 and table["value"].is_monotonic_decreasing


def test_two_wards_of_westminster_from_the_historical_file_with_their_change(ward_years, mirror):
    raw = pd.read_parquet(mirror / HISTORICAL)
    mine = raw[(raw["lookup_boroughname"] == "Westminster") & raw["minortext"].isin(BURGLARY)]
    now, before = (mine.groupby("wardname")[_fy(y)].sum().sum(axis=1) for y in (2022, 2021))
    table = wards.for_borough(ward_years, "residential_burglary", "Westminster", 2022).set_index("ward")
    for ward in ("St James's", "West End"):
        assert table.loc[ward, "value"] == now[ward] and table.loc[ward, "previous_value"] == before[ward]
        assert table.loc[ward, "change_pct"] == pytest.approx((now[ward] - before[ward]) / before[ward] * 100)
    top3 = now.sort_values(ascending=False).head(3).sum() / now.sum() * 100
    assert wards.top_share(table) == pytest.approx(top3)


def test_a_year_across_the_two_files_takes_each_month_once(ward_years, mirror):
    """2023-24: April 2023 to February 2024 from the historical file, March 2024 from the recent one."""
    old, new = pd.read_parquet(mirror / HISTORICAL), pd.read_csv(mirror / RECENT)
    months = _fy(2023)
    by_hand = (old[(old["lookup_boroughname"] == "Barking and Dagenham") & old["minortext"].isin(VIOLENCE)][months[:-1]].to_numpy().sum()
               + new[(new["LookUp_BoroughName"] == "Barking and Dagenham") & new["MinorText"].isin(VIOLENCE)][months[-1:]].to_numpy().sum())
    table = wards.for_borough(ward_years, "violence_with_injury", "Barking and Dagenham", 2023)
    assert table["value"].sum() == by_hand


def test_the_chapter_states_the_gap_to_the_borough_figure_with_its_size(ward_years):
    table = wards.for_borough(ward_years, "violence_with_injury", "Hillingdon", 2024)
    total, borough_count = table["value"].sum(), 2060.0
    ctx = SimpleNamespace(wards=ward_years, borough="Hillingdon", year=2024, year_label="2024-25", period=periods.Period(2024))
    rows = pd.DataFrame({"indicator": ["violence_with_injury"], "label": ["Violence with injury"], "source": ["mps"],
                         "value": [borough_count]})
    text = " ".join(p.markup for p in ward_page.parts(ctx, rows))
    fewer = borough_count - total
    assert f"their total, {total:,.0f}, is {fewer:,.0f} ({fewer / borough_count * 100:.1f}%) below the borough figure of 2,060" in text
    assert "Aviation Security (SO18)" in text  # Heathrow's crimes sit there
    assert 'id="fig-violence_with_injury-wards"' in text and text.count("<tr>") >= len(table)


def test_a_year_to_date_counts_the_same_months_in_its_wards(mirror):
    """A book of 2025-26 to date (April to November 2025) set its wards' whole year (the ward
    files reach March 2026) beside the borough's eight months: 626 burglaries in the wards against
    386 in the borough, and a change on the whole of 2024-25. Its wards now count its months, and
    the year before the same months."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSPBOOK_HOME", str(_repo()))
        to_date = wards.annual([ward_files.read(mirror / RECENT), ward_files.read(mirror / HISTORICAL)],
                               definitions.indicators(), months=8)
    raw = pd.read_csv(mirror / RECENT)
    mine = raw[(raw["LookUp_BoroughName"] == "Barking and Dagenham") & raw["MinorText"].isin(BURGLARY)]
    now, before = (mine.groupby("WardName")[_fy(y)[:8]].sum().sum(axis=1) for y in (2025, 2024))
    table = wards.for_borough(to_date, "residential_burglary", "Barking and Dagenham", 2025).set_index("ward")
    for ward in ("Mayesbrook", "Eastbury"):
        assert table.loc[ward, "value"] == now[ward] and table.loc[ward, "previous_value"] == before[ward]
    assert table["value"].sum() == now.sum()
    period = periods.Period(2025, 8)
    ctx = SimpleNamespace(wards=to_date, borough="Barking and Dagenham", year=2025, year_label="2025-26", period=period)
    rows = pd.DataFrame({"indicator": ["residential_burglary"], "label": ["Residential burglary"], "source": ["mps"],
                         "value": [386.0]})
    text = " ".join(p.markup for p in ward_page.parts(ctx, rows))
    assert "Residential burglary, 2025-26 to date (April to November 2025): the 19 wards" in text
    assert "the same months of 2024-25 (April to November 2024)" in text
    assert "Offences April to November 2025" in text and "Offences April to November 2024" in text
    assert "Offences 2025-26" not in text and "Against 2024-25" not in text


@pytest.mark.parametrize(("series", "said"), [("restated_2025", False), ("mps_2008_2018", True)])
def test_a_borough_figure_from_other_categories_is_said_to_be(ward_years, project, series, said):
    ctx = SimpleNamespace(wards=ward_years, borough="Barnet", year=2011, year_label="2011-12", period=periods.Period(2011))
    rows = pd.DataFrame({"indicator": ["violence_with_injury"], "label": ["Violence with injury"], "source": ["mps"],
                         "value": [2000.0], "series": [series]})
    text = " ".join(p.markup for p in ward_page.parts(ctx, rows))
    assert ("part of the difference is a difference of categories" in text) is said
    assert "Aviation Security" not in text  # not Barnet's


def test_a_bad_count_is_named_with_its_file_line_and_column(tmp_path, mirror):
    bad = tmp_path / "MPS Ward Level Crime (most recent 24 months).csv"
    lines = (mirror / RECENT).read_text().splitlines()
    lines[3] = re.sub(r",(\d+)$", ",x", lines[3])
    bad.write_text("\n".join(lines) + "\n")
    with pytest.raises(DataFileError, match=r"line 4, column '202603': 'x' is not a count of crimes"):
        ward_files.read(bad)
