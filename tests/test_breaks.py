"""Breaks decide what may be said; London is the whole MPS (the November 2025 edition).

Every expected value here is worked out from the raw files of the mirror with plain pandas,
independently of cspbook: the two files of the edition are read, the months summed April to
March (the 'most recent 24 months' file supplies the months from December 2023).
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import use_home

from cspbook import definitions
from cspbook.compute import areas, dataset

BD, HILLINGDON = "Barking and Dagenham", "Hillingdon"
AIRPORTS = "London Heathrow and London City Airports"


@pytest.fixture(scope="module")
def raw(mirror) -> pd.DataFrame:
    """The November 2025 edition, long: borough, major, minor, month, count."""
    folder = mirror / "edition-2025-11"
    frames = [pd.read_csv(folder / f"MPS Borough Level Crime ({name}).csv") for name in ("Historical", "most recent 24 months")]
    long = pd.concat([f.melt(id_vars=["MajorText", "MinorText", "BoroughName"], var_name="month", value_name="n") for f in frames])
    long["month"] = pd.PeriodIndex([f"{m[:4]}-{m[4:]}" for m in long["month"]], freq="M")
    long["fy"] = [m.year if m.month >= 4 else m.year - 1 for m in long["month"]]
    return long


@pytest.fixture
def data(edition_tree, monkeypatch) -> dataset.Dataset:
    use_home(monkeypatch, edition_tree("edition-2025-11"))
    return dataset.dataset()


def row(data, indicator, borough, year):
    rows = data.changes
    return rows[(rows["indicator"] == indicator) & (rows["borough"] == borough) & (rows["year"] == year)].iloc[0]


def test_london_total_notifiable_offences_2024_25_is_the_whole_mps(raw, data):
    total = raw.groupby("fy")["n"].sum()  # every row: 32 boroughs, the airports and Unknown
    by_hand = (total[2024] / total[2023] - 1) * 100
    boroughs_only = raw[~raw["BoroughName"].isin([AIRPORTS, "Unknown"])].groupby("fy")["n"].sum()
    assert round(by_hand, 1) == -0.7 and round((boroughs_only[2024] / boroughs_only[2023] - 1) * 100, 1) == 1.6
    got = row(data, "total_notifiable_offences", BD, 2024)
    assert (got["london_previous"], got["london_value"]) == (total[2023], total[2024])
    assert got["london_change_pct"] == pytest.approx(by_hand)


def test_barking_and_dagenham_violence_with_injury_2024_25_is_not_tested_or_compared(raw, data):
    vwi = raw[(raw["BoroughName"] == BD) & raw["MinorText"].isin(["VIOLENCE WITH INJURY", "HOMICIDE"])].groupby("fy")["n"].sum()
    got = row(data, "violence_with_injury", BD, 2024)
    assert (got["previous_value"], got["value"]) == (vwi[2023], vwi[2024]) == (2224, 1774)
    reason = next(b for b in definitions.classifications().breaks if b.id == "violence-categories-2024-03").reason
    assert not got["comparable"] and got["note"] == f"not comparable: {reason}"
    assert pd.isna(got["significant"]) and pd.isna(got["p_value"])
    assert pd.isna(got["change_pct"]) and got["instead"] == "violence_against_the_person"
    # the comparable measure offered beside it: all of violence against the person, by hand
    vap = raw[(raw["BoroughName"] == BD) & (raw["MajorText"] == "VIOLENCE AGAINST THE PERSON")].groupby("fy")["n"].sum()
    other = row(data, "violence_against_the_person", BD, 2024)
    assert (other["previous_value"], other["value"]) == (vap[2023], vap[2024])
    assert other["comparable"] and other["caution"]  # the new recording system's caution: shown, not tested
    assert pd.isna(other["significant"])


def test_no_change_across_a_break_is_tested(data):
    across = data.all_changes[~data.all_changes["comparable"] | (data.all_changes["caution"] != "")]
    assert len(across) and across["significant"].isna().all()
    assert across["p_value"].isna().all()


@pytest.mark.parametrize("year", [2023, 2024])
def test_hillingdon_total_notifiable_offences_carry_the_airports_break(raw, data, year):
    got = row(data, "total_notifiable_offences", HILLINGDON, year)
    hill = raw[raw["BoroughName"] == HILLINGDON].groupby("fy")["n"].sum()
    assert (got["previous_value"], got["value"]) == (hill[year - 1], hill[year])
    assert not got["comparable"] and "airports" in got["note"] and "Hillingdon" in got["note"]
    assert "Airport crimes" in got["break"]
    assert pd.isna(got["significant"])
    # with the airports row added back, the change is small (about +5.6% and +6.6%)
    airports = raw[raw["BoroughName"] == AIRPORTS].groupby("fy")["n"].sum().reindex(hill.index, fill_value=0)
    both = hill + airports
    assert round((both[year] / both[year - 1] - 1) * 100, 1) == {2023: 5.6, 2024: 6.6}[year]
    # another borough is untouched by it
    assert row(data, "total_notifiable_offences", "Ealing", 2023)["note"] == ""


def test_the_airports_move_is_found_in_the_data_and_recorded_as_a_break(raw, data):
    found = areas.moves(data.areas_monthly, data.monthly)
    assert [(m.area, m.borough, str(m.first), str(m.last)) for m in found] == [(AIRPORTS, HILLINGDON, "2023-04", "2024-02")]
    # by hand: the airports row over its run, and Hillingdon against the same months a year before and after
    tno = raw.groupby(["BoroughName", "month"])["n"].sum()
    run = pd.period_range("2023-04", "2024-02", freq="M")
    level = tno[AIRPORTS].reindex(run).mean()
    dip = (tno[HILLINGDON].reindex(run).to_numpy()
           - (tno[HILLINGDON].reindex(run - 12).to_numpy() + tno[HILLINGDON].reindex(run + 12).to_numpy()) / 2).mean()
    assert found[0].level == pytest.approx(level) and found[0].dip == pytest.approx(dip)
    assert round(level) == 421 and round(dip) == -441  # the numbers quoted as evidence
    recorded = {b.id: b for b in definitions.classifications().breaks}
    for bid, month in (("airports-hillingdon-2023-04", "2023-04"), ("airports-hillingdon-2024-03", "2024-03")):
        assert recorded[bid].boroughs == (HILLINGDON,) and recorded[bid].month == month
        assert recorded[bid].decision == "not_comparable"
    assert str(found[0].first) == "2023-04" and str(found[0].last + 1) == "2024-03"


def test_the_violence_break_evidence_is_in_the_data(raw):
    """London's (whole MPS) year-on-year change by month, as quoted in classification.yml."""
    london = raw.groupby(["MinorText", "month"])["n"].sum()
    yoy = {minor: (london[minor] / london[minor].shift(12) - 1) * 100 for minor in ("VIOLENCE WITH INJURY", "VIOLENCE WITHOUT INJURY")}
    before = yoy["VIOLENCE WITH INJURY"]["2023-04":"2024-02"]
    after = yoy["VIOLENCE WITH INJURY"]["2024-03":"2025-02"]
    without = yoy["VIOLENCE WITHOUT INJURY"]["2024-03":"2025-02"]
    assert (round(before.min(), 1), round(before.max(), 1)) == (-0.6, 13.3)
    assert (round(after.min(), 1), round(after.max(), 1)) == (-24.7, -13.3)
    assert (round(without.min(), 1), round(without.max(), 1)) == (-4.2, 7.1)
