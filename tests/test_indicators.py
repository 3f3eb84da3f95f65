"""cspbook.compute.indicators on tiny hand-made files whose answers are worked out here by hand.

The main example: two boroughs, two financial years (2010-11 and 2011-12), residential
burglary counted every month:

    Barking and Dagenham  5 a month in 2010-11 = 60,   6 a month in 2011-12 = 72   (+20%)
    Barnet               30 a month in 2010-11 = 360, 24 a month in 2011-12 = 288  (-20%)
    London (the two)                           420                          360  (-60/420 = -14.2857%)

plus 1 a month of 'Burglary in Other Buildings' in Barking and Dagenham only (Barnet has no
row for it: it counts 0), and 100 a month at Heathrow, which is not a borough and is left out.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import crime_csv, months

from scipy.stats import binomtest

from cspbook.compute import indicators
from cspbook.data import load
from cspbook.definitions import Break, Indicator
from cspbook.errors import PeriodError

BD, BARNET, BEXLEY = "Barking and Dagenham", "Barnet", "Bexley"
HEATHROW = "London Heathrow and London City Airports"
DWELLING, OTHER, RESIDENTIAL = "Burglary in a Dwelling", "Burglary in Other Buildings", "Burglary - Residential"
Z = 1.959963984540054
UNDECIDED_NOTE = (
    "not comparable: {prev} and {year} are counted in different crime categories and no decision about the "
    "change is recorded in data/classification.yml"
)


def indicator(iid, previous, home_office, lower_is_better=True) -> Indicator:
    return Indicator(iid, iid, "", "acquisitive_crime", "mps", "offences", lower_is_better,
                     {"mps_previous": previous, "home_office": home_office})


INDICATORS = {
    "burglary": indicator("burglary", (DWELLING,), (RESIDENTIAL,)),
    "all_burglary": indicator("all_burglary", (DWELLING, OTHER), (RESIDENTIAL, "Burglary - Business and Community")),
    "rising_is_good": indicator("rising_is_good", (DWELLING,), (RESIDENTIAL,), lower_is_better=False),
}


def interval_by_hand(current, previous):
    half = Z * math.sqrt(1 / current + 1 / previous)
    ratio = math.log(current / previous)
    return (math.exp(ratio - half) - 1) * 100, (math.exp(ratio + half) - 1) * 100


def pipeline(paths, boroughs=(BD, BARNET), defs=INDICATORS, breaks=()):
    monthly = indicators.monthly(load.load_files(paths), defs, boroughs)
    annual = indicators.annual(monthly)
    return monthly, annual, indicators.changes(annual, breaks)


@pytest.fixture
def two_boroughs(project, tmp_path):
    path = tmp_path / "two.csv"
    path.write_bytes(crime_csv(
        [
            (BD, "Burglary", DWELLING, [5] * 12 + [6] * 12),
            (BD, "Burglary", OTHER, [1] * 24),
            (BARNET, "Burglary", DWELLING, [30] * 12 + [24] * 12),
            (HEATHROW, "Burglary", DWELLING, [100] * 24),
        ],
        months("201004", 24),  # April 2010 .. March 2012
    ))
    return pipeline([path])


def row(changes, iid, borough, year):
    rows = changes[(changes["indicator"] == iid) & (changes["borough"] == borough) & (changes["year"] == year)]
    assert len(rows) == 1
    return rows.iloc[0]


def test_annual_totals_by_hand(two_boroughs):
    _, annual, _ = two_boroughs
    burglary = annual[annual["indicator"] == "burglary"].reset_index(drop=True)
    expected = pd.DataFrame({
        "indicator": ["burglary"] * 4,
        "series": ["mps_2008_2018"] * 4,
        "borough": [BD, BD, BARNET, BARNET],
        "year": [2010, 2011, 2010, 2011],
        "count": [60, 72, 360, 288],
        "months": [12, 12, 12, 12],
        "classification": ["mps_previous"] * 4,
        "sources": ["two.csv"] * 4,
    })
    pd.testing.assert_frame_equal(burglary, expected, check_dtype=False)


def test_change_interval_and_london_change_by_hand(two_boroughs):
    _, _, changes = two_boroughs
    bd, barnet = row(changes, "burglary", BD, 2011), row(changes, "burglary", BARNET, 2011)

    assert (bd["value"], bd["previous_value"], bd["change"]) == (72, 60, 12)
    assert bd["change_pct"] == pytest.approx(20.0)  # 12 / 60
    assert (barnet["value"], barnet["previous_value"], barnet["change"]) == (288, 360, -72)
    assert barnet["change_pct"] == pytest.approx(-20.0)  # -72 / 360

    # London is the two boroughs, not Heathrow: 60 + 360 = 420 -> 72 + 288 = 360
    for r in (bd, barnet):
        assert (r["london_value"], r["london_previous"]) == (360, 420)
        assert r["london_change_pct"] == pytest.approx(-60 / 420 * 100)  # -14.2857

    # the exact test (phi = 1 here: no monthly series given): 72 | 132 ~ Binomial(132, 0.5) -> p = 0.337,
    # Clopper-Pearson pi in (0.4568, 0.6317) -> R in (0.841, 1.716): -15.9% .. +71.6%: not significant
    pi = binomtest(72, 132).proportion_ci(method="exact")
    assert bd["p_value"] == pytest.approx(binomtest(72, 132).pvalue)
    assert (bd["ci_low_pct"], bd["ci_high_pct"]) == pytest.approx(
        ((pi.low / (1 - pi.low) - 1) * 100, (pi.high / (1 - pi.high) - 1) * 100))
    assert bd["significant"] == False  # noqa: E712 - tested and not significant (NA would mean untested)
    # 288 vs 360: p = 0.0053 < 0.05: significant
    assert barnet["p_value"] == pytest.approx(binomtest(288, 648).pvalue) and barnet["p_value"] < 0.01
    assert barnet["significant"]
    # the borough against the rest of London: B&D's share this year 72/132 against Barnet's 288/648
    assert bd["differs_from_london"] == (binomtest(72, 132, 288 / 648).pvalue < 0.05)

    assert bd["comparable"] and barnet["comparable"]
    assert bd["note"] == barnet["note"] == ""


def test_a_missing_category_row_counts_as_zero(two_boroughs):
    _, annual, changes = two_boroughs
    # Barking and Dagenham: dwelling + other = 60 + 12 -> 72 + 12; Barnet has no 'other' row: 360 -> 288
    got = annual[annual["indicator"] == "all_burglary"].set_index(["borough", "year"])["count"].to_dict()
    assert got == {(BD, 2010): 72, (BD, 2011): 84, (BARNET, 2010): 360, (BARNET, 2011): 288}
    assert row(changes, "all_burglary", BD, 2011)["change_pct"] == pytest.approx(12 / 72 * 100)


def test_a_borough_absent_from_the_data_counts_zero_and_gets_no_change(project, tmp_path):
    path = tmp_path / "one.csv"
    path.write_bytes(crime_csv([(BD, "Burglary", DWELLING, [5] * 24)], months("201004", 24)))
    _, annual, changes = pipeline([path], boroughs=(BD, BEXLEY))
    assert annual[(annual["indicator"] == "burglary") & (annual["borough"] == BEXLEY)]["count"].tolist() == [0, 0]
    bexley = row(changes, "burglary", BEXLEY, 2011)
    assert math.isnan(bexley["change_pct"]) and math.isnan(bexley["ci_low_pct"])  # from 0: no %, no interval
    assert pd.isna(bexley["significant"])  # not tested: NA, never False


def test_heathrow_is_read_but_left_out_of_every_borough_and_london_figure(two_boroughs):
    monthly, annual, changes = two_boroughs
    assert set(monthly["borough"]) == set(annual["borough"]) == set(changes["borough"]) == {BD, BARNET}
    april = monthly[(monthly["indicator"] == "burglary") & (monthly["month"] == pd.Period("2010-04", "M"))]
    assert april["count"].sum() == 35  # 5 + 30, not 135


def test_the_first_year_has_no_previous_year_and_says_so(two_boroughs):
    _, _, changes = two_boroughs
    first = row(changes, "burglary", BD, 2010)
    assert first["value"] == 60 and pd.isna(first["previous_value"])
    assert not first["comparable"] and pd.isna(first["significant"])
    assert first["note"] == "no complete data for 2009-10, so no change is shown"


def test_an_incomplete_year_gives_no_row(project, tmp_path):
    path = tmp_path / "short.csv"
    path.write_bytes(crime_csv([(BD, "Burglary", DWELLING, [5] * 23)], months("201004", 23)))  # to February 2012
    _, annual, changes = pipeline([path])
    assert annual[(annual["indicator"] == "burglary") & (annual["borough"] == BD)]["months"].tolist() == [12, 11]
    assert sorted(changes["year"].unique()) == [2010]


def test_changes_does_not_modify_its_input(two_boroughs):
    _, annual, _ = two_boroughs
    before = annual.copy()
    indicators.changes(annual)
    pd.testing.assert_frame_equal(annual, before)


def across_2016(tmp_path):
    old = tmp_path / "old.csv"  # 2015-16 in the previous MPS categories
    old.write_bytes(crime_csv([(BD, "Burglary", DWELLING, [10] * 12), (BARNET, "Burglary", DWELLING, [20] * 12)],
                              months("201504", 12)))
    new = tmp_path / "new.csv"  # 2016-17 in the Home Office categories
    new.write_bytes(crime_csv([(BD, "Burglary", RESIDENTIAL, [11] * 12), (BARNET, "Burglary", RESIDENTIAL, [21] * 12)],
                              months("201604", 12)))
    return [old, new]


def decided(decision, month="2016-04", series="all", ids="all"):
    return Break("b", month, series, ids, decision, "A break", f"the reason for {decision}", "evidence")


def test_a_change_of_classification_that_no_break_decides_is_not_comparable(project, tmp_path):
    _, annual, changes = pipeline(across_2016(tmp_path))

    bd = row(changes, "burglary", BD, 2016)
    assert (bd["value"], bd["previous_value"]) == (132, 120)  # 11 x 12, 10 x 12: shown, but not compared
    assert not bd["comparable"]
    assert bd["note"] == UNDECIDED_NOTE.format(prev="2015-16", year="2016-17")
    for column in ("change_pct", "ci_low_pct", "ci_high_pct", "london_change_pct"):
        assert math.isnan(bd[column]), column
    assert pd.isna(bd["significant"])
    assert annual.loc[annual["borough"] == BD, "classification"].unique().tolist() == ["mps_previous", "home_office"]


def test_a_not_comparable_break_empties_the_change_and_gives_its_reason(project, tmp_path):
    _, _, changes = pipeline(across_2016(tmp_path), breaks=[decided("not_comparable")])
    bd = row(changes, "burglary", BD, 2016)
    assert not bd["comparable"] and bd["note"] == "not comparable: the reason for not_comparable"
    assert math.isnan(bd["change_pct"]) and bd["caution"] == ""


def test_a_caution_break_keeps_the_change_with_its_reason_and_london(project, tmp_path):
    _, _, changes = pipeline(across_2016(tmp_path), breaks=[decided("caution")])
    bd = row(changes, "burglary", BD, 2016)
    assert bd["comparable"] and bd["note"] == "" and bd["caution"] == "the reason for caution"
    assert bd["change_pct"] == pytest.approx(10.0)  # 132 vs 120
    assert bd["london_change_pct"] == pytest.approx((132 + 252 - 360) / 360 * 100)  # 384 vs 360


def test_a_comparable_break_flags_nothing(project, tmp_path):
    _, _, changes = pipeline(across_2016(tmp_path), breaks=[decided("comparable")])
    bd = row(changes, "burglary", BD, 2016)
    assert bd["comparable"] and bd["note"] == "" and bd["caution"] == ""


@pytest.mark.parametrize(("month", "series", "ids"), [
    ("2017-04", "all", "all"),  # after 2016-17: spans nothing
    ("2015-04", "all", "all"),  # the first month of 2015-16: the change of 2016-17 does not span it
    ("2016-04", ("another_series",), "all"),
    ("2016-04", "all", ("another_indicator",)),
], ids=["later", "earlier", "other-series", "other-indicator"])
def test_a_break_applies_only_to_its_months_series_and_indicators(project, tmp_path, month, series, ids):
    _, _, changes = pipeline(across_2016(tmp_path), breaks=[decided("caution", month, series, ids)])
    assert row(changes, "burglary", BD, 2016)["note"] == UNDECIDED_NOTE.format(prev="2015-16", year="2016-17")


def test_a_year_that_spans_the_break_is_mixed_and_so_is_the_year_after(project, tmp_path):
    old = tmp_path / "old.csv"
    old.write_bytes(crime_csv([(BD, "Burglary", DWELLING, [10] * 21)], months("201504", 21)))  # 2015-04 .. 2016-12
    new = tmp_path / "new.csv"
    new.write_bytes(crime_csv([(BD, "Burglary", RESIDENTIAL, [12] * 15)], months("201701", 15)))  # 2017-01 .. 2018-03
    _, annual, changes = pipeline([old, new], boroughs=(BD,))

    got = annual[annual["indicator"] == "burglary"][["year", "count", "classification"]].values.tolist()
    # 2016-17 = 9 months x 10 (Apr..Dec 2016) + 3 months x 12 (Jan..Mar 2017) = 126
    assert got == [[2015, 120, "mps_previous"], [2016, 126, "mixed"], [2017, 144, "home_office"]]
    for year, label, prev in ((2016, "2016-17", "2015-16"), (2017, "2017-18", "2016-17")):
        r = row(changes, "burglary", BD, year)
        assert not r["comparable"] and math.isnan(r["change_pct"])
        assert r["note"] == UNDECIDED_NOTE.format(prev=prev, year=label)
    # a break decided in January 2017 covers both changes
    _, _, changes = pipeline([old, new], boroughs=(BD,), breaks=[decided("caution", "2017-01")])
    assert [row(changes, "burglary", BD, y)["caution"] for y in (2016, 2017)] == ["the reason for caution"] * 2


def test_select_takes_for_each_year_the_newest_series_that_covers_both_years():
    def rows(series, year, previous):
        return dict(indicator="a", series=series, borough=BD, year=year, previous_value=previous)
    table = pd.DataFrame([
        rows("old", 2010, None), rows("old", 2011, 5.0), rows("old", 2012, 6.0),
        rows("new", 2011, None), rows("new", 2012, 7.0), rows("new", 2013, 8.0),
    ])
    got = indicators.select(table, ["new", "old"])
    # 2010: only old; 2011: new lacks 2010-11, old has both; 2012, 2013: new
    assert got[["year", "series"]].values.tolist() == [[2010, "old"], [2011, "old"], [2012, "new"], [2013, "new"]]


# --- check_year and for_borough -------------------------------------------------------------


def have(first, last):
    return pd.period_range(first, last, freq="M")


@pytest.mark.parametrize(
    ("available", "year", "message"),
    [
        (have("2008-01", "2018-12"), 2031,
         "2031-32 needs April 2031 to March 2032; the data ends December 2018 (it covers January 2008 to "
         "December 2018). Fetch newer data (`cspbook fetch`) or choose an earlier year"),
        (have("2008-01", "2018-12"), 2007,
         "2007-08 needs April 2007 to March 2008; the data starts January 2008 (it covers January 2008 to "
         "December 2018). Choose a later year or add an older file to the data"),
        (have("2010-04", "2011-09").append(have("2011-12", "2012-03")), 2011,
         "2011-12 needs April 2011 to March 2012; the data has a gap: October 2011 to November 2011 missing "
         "(it covers April 2010 to March 2012). Add a file that covers those months (`cspbook fetch`)"),
        (have("2010-04", "2011-04").append(have("2011-06", "2011-09")).append(have("2012-03", "2012-03")), 2011,
         "2011-12 needs April 2011 to March 2012; the data has a gap: May 2011, October 2011 to February 2012 missing "
         "(it covers April 2010 to March 2012). Add a file that covers those months (`cspbook fetch`)"),
        (pd.PeriodIndex([], freq="M"), 2011,
         "2011-12 needs April 2011 to March 2012; there is no data. Run `cspbook fetch`"),
    ],
    ids=["after-the-data", "before-the-data", "gap", "two-gaps", "no-data"],
)
def test_check_year_says_which_months_are_missing(available, year, message):
    with pytest.raises(PeriodError) as caught:
        indicators.check_year(available, year)
    assert str(caught.value) == message


def test_check_year_accepts_a_year_the_data_covers():
    indicators.check_year(have("2011-04", "2012-03"), 2011)


def test_for_borough_picks_one_borough_and_year(two_boroughs):
    monthly, _, changes = two_boroughs
    rows = indicators.for_borough(changes, indicators.data_months(monthly), BARNET, 2011)
    assert rows["indicator"].tolist() == ["all_burglary", "burglary", "rising_is_good"]
    assert set(rows["borough"]) == {BARNET} and set(rows["year"]) == {2011}
    assert rows.index.tolist() == [0, 1, 2]
    with pytest.raises(PeriodError, match="^2012-13 needs April 2012 to March 2013; the data ends March 2012"):
        indicators.for_borough(changes, indicators.data_months(monthly), BARNET, 2012)


# --- trend and month_series -----------------------------------------------------------------


def test_trend_indexes_borough_and_london_to_100_in_the_first_year(two_boroughs):
    _, annual, _ = two_boroughs
    got = indicators.trend(annual, "burglary", BD, 2011)
    assert got["year"].tolist() == [2010, 2011]
    assert got["label"].tolist() == ["2010-11", "2011-12"]
    assert got["value"].tolist() == [60, 72]
    assert got["london_value"].tolist() == [420, 360]
    assert got["index"].tolist() == pytest.approx([100.0, 120.0])  # 72 / 60
    assert got["london_index"].tolist() == pytest.approx([100.0, 360 / 420 * 100])  # 85.714


def test_trend_leaves_out_years_before_a_change_that_is_not_comparable(project, tmp_path):
    old = tmp_path / "old.csv"
    old.write_bytes(crime_csv([(BD, "Burglary", DWELLING, [10] * 12)], months("201504", 12)))
    new = tmp_path / "new.csv"
    new.write_bytes(crime_csv([(BD, "Burglary", RESIDENTIAL, [11] * 12)], months("201604", 12)))
    _, annual, changes = pipeline([old, new], boroughs=(BD,))
    since = indicators.comparable_since(changes, "burglary", "mps_2008_2018", 2016)
    got = indicators.trend(annual, "burglary", BD, 2016, series="mps_2008_2018", since=since)
    assert since == 2016 and got[["year", "value", "index"]].values.tolist() == [[2016, 132, 100.0]]
    _, _, changes = pipeline([old, new], boroughs=(BD,), breaks=[decided("caution")])
    assert indicators.comparable_since(changes, "burglary", "mps_2008_2018", 2016) == 2015


def test_month_series_marks_the_reported_year(two_boroughs):
    monthly, _, _ = two_boroughs
    got = indicators.month_series(monthly, "burglary", BARNET, 2011)
    assert got["month"].astype(str).tolist() == months_as_periods("2010-04", 24)
    assert got["count"].tolist() == [30] * 12 + [24] * 12
    assert got["london_count"].tolist() == [35] * 12 + [30] * 12  # 5 + 30, then 6 + 24
    assert got["in_year"].tolist() == [False] * 12 + [True] * 12


def months_as_periods(first, count):
    return [str(p) for p in pd.period_range(first, periods=count, freq="M")]


def test_monthly_has_a_row_for_every_borough_and_month_even_when_zero(two_boroughs):
    monthly, _, _ = two_boroughs
    # 3 indicators x 2 boroughs x 24 months
    assert len(monthly) == 3 * 2 * 24
    assert monthly["count"].dtype == np.int64
    assert set(monthly["classification"]) == {"mps_previous"}
