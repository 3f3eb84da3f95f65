"""The borough map: outlines read from the real GeoJSON, fills that follow the data, the
report's borough outlined, the City of London never coloured."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from cspbook import definitions
from cspbook.data import boundaries
from cspbook.definitions import periods
from cspbook.errors import DataFileError
from cspbook.pages import maps

BNG = "open/boundaries/bng/London_Borough_Excluding_MHW.geojson"
WGS84 = "open/boundaries/wgs84/London_Borough_Excluding_MHW.geojson"


@pytest.fixture(scope="module")
def shapes(mirror):
    return boundaries.read(mirror / BNG)


@pytest.fixture(scope="module")
def counts(mirror):
    """A value per borough computed here with plain pandas from the November 2025 edition: the
    offences of 2024-25 (every category) per borough."""
    frame = pd.read_csv(mirror / "edition-2025-11" / "MPS Borough Level Crime (most recent 24 months).csv")
    months = [str(m) for m in pd.period_range("2024-04", "2025-03", freq="M").strftime("%Y%m")]
    totals = frame.groupby("BoroughName")[months].sum().sum(axis=1).astype("float64")
    return totals.drop(["London Heathrow and London City Airports", "Unknown"])


def test_the_file_holds_the_32_boroughs_and_the_city(shapes, project):
    assert sorted(shapes.names) == sorted([*definitions.boroughs(), "City of London"])
    assert len(shapes["Barking and Dagenham"].rings) == 2  # a MultiPolygon: two parts


def test_a_borough_s_fill_follows_its_value(shapes, counts):
    borough = "Barking and Dagenham"
    before = maps.choropleth(shapes, counts, borough, what="offences, 2024-25", kind="count")
    lowest = counts.idxmin()
    changed = counts.copy()
    changed[lowest] = counts.max() * 2  # from the lowest class to the highest
    after = maps.choropleth(shapes, changed, borough, what="offences, 2024-25", kind="count")
    assert before.fills[lowest] == maps.SEQUENTIAL[0]
    assert after.fills[lowest] == maps.SEQUENTIAL[-1]
    assert before.png != after.png
    assert after.table.iloc[0]["Borough"] == lowest  # the table alternative follows too


def test_the_outlined_borough_is_the_report_s_and_the_city_is_never_coloured(shapes, counts):
    with_city = pd.concat([counts, pd.Series({"City of London": counts.max() * 3})])
    for borough in ("Barking and Dagenham", "Hillingdon"):
        chart = maps.choropleth(shapes, with_city, borough, what="offences, 2024-25", kind="count")
        assert chart.outlined == borough
        assert chart.fills["City of London"] == maps.NOT_POLICED
        assert maps.NOT_POLICED not in [c for n, c in chart.fills.items() if n != "City of London"]
        rank = int((counts > counts[borough]).sum()) + 1
        assert f"{borough} (outlined): {maps.fmt(counts[borough], 'count')}, ranked {rank}" in chart.caption
        assert borough in chart.alt and "City of London" in chart.alt
    assert "City of London" not in list(chart.table["Borough"])


def test_a_change_map_splits_falls_from_rises(shapes, project):
    values = pd.Series({b: (-10.0 if i % 2 else 10.0) for i, b in enumerate(definitions.boroughs())})
    chart = maps.choropleth(shapes, values, "Barnet", what="change", kind="change")
    falls = {chart.fills[b] for b in values.index if values[b] < 0}
    rises = {chart.fills[b] for b in values.index if values[b] > 0}
    assert falls <= set(maps.DIVERGING[:3]) and rises <= set(maps.DIVERGING[3:])


def test_a_missing_value_is_drawn_as_such(shapes, counts):
    chart = maps.choropleth(shapes, counts.drop("Barnet"), "Barnet", what="offences", kind="count")
    assert chart.fills["Barnet"] == maps.NO_VALUE
    assert "Barnet (outlined): not available, not ranked" in chart.caption


def test_longitude_and_latitude_are_refused(mirror):
    with pytest.raises(DataFileError, match=r"wgs84.*outside London's British National Grid box.*boundaries/bng"):
        boundaries.read(mirror / WGS84)


def test_a_feature_without_a_name_is_named(tmp_path):
    bad = tmp_path / "b.geojson"
    bad.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"GSS_CODE": "E1"}, "geometry": {"type": "Point", "coordinates": [1, 2]}}]}))
    with pytest.raises(DataFileError, match=r"b.geojson, column 'NAME': feature 1 has no 'NAME' property"):
        boundaries.read(bad)


def test_a_measure_no_borough_can_compare_has_no_change_map_but_says_why(shapes, counts):
    """2024-25 violence with injury: every borough's change lies across a break, so a change map
    would colour nothing; the page says so instead, and keeps the map of the year's counts."""
    from cspbook.pages import london

    rows = pd.DataFrame({"indicator": "violence_with_injury", "label": "Violence with injury", "year": 2024,
                         "borough": counts.index, "value": counts.to_numpy(), "previous_value": counts.to_numpy(),
                         "change_pct": 0.0, "comparable": False, "caution": "", "rate_per_1000": float("nan"),
                         "rate_rank": pd.NA, "rate_rank_low": pd.NA, "rate_rank_high": pd.NA, "series": "restated_2025"})
    rank = rows["value"].rank(ascending=False, method="min").astype(int)
    rows = rows.assign(count_rank=rank, count_rank_low=rank, count_rank_high=rank)
    html = "".join(part._repr_html_() for part in london.measure_parts(rows, shapes, "Barnet", 2024))
    assert 'id="fig-london-violence_with_injury-map"' in html and "map-change" not in html
    assert "No map of the change, 2023-24 to 2024-25: no borough&#x27;s change in violence with injury" in html
    compared = rows.assign(comparable=True, change_pct=1.5)
    html = "".join(part._repr_html_() for part in london.measure_parts(compared, shapes, "Barnet", 2024))
    assert 'id="fig-london-violence_with_injury-map-change"' in html and "No map of the change" not in html
    # a year to date: the captions name its months and what its change is on
    to_date = periods.Period(2025, 8)
    html = "".join(part._repr_html_() for part in london.measure_parts(compared, shapes, "Barnet", 2025, period=to_date))
    assert "violence with injury, offences in 2025-26 to date (April to November 2025)" in html
    assert ("change in violence with injury, 2025-26 to date (April to November 2025) on the same months of 2024-25"
            in html)
    assert "Offences April to November 2024</button>" in html and "2024-25 to 2025-26" not in html


def test_every_kind_of_chart_is_cropped_as_savefig_tight_crops_it(shapes, counts, monkeypatch):
    """`plots._png` measures the tight box with one layout pass instead of savefig's two: its
    bytes must be those of ``savefig(bbox_inches="tight")`` for every kind of chart in the book."""
    import pickle

    from cspbook.pages import plots, wards

    made, ours = [], plots._png

    def both(fig):
        made.append(plots._png_tight(pickle.loads(pickle.dumps(fig))))
        made.append(ours(fig))
        return made[-1]

    for module in (plots, maps, wards):
        monkeypatch.setattr(module, "_png", both)
    months = pd.period_range("2023-04", "2025-03", freq="M")
    plots.monthly(pd.DataFrame({"month": months, "count": range(24), "in_year": [m.year >= 2024 and m.month >= 4
                                                                                   or m.year == 2025 for m in months]}),
                  "Residential burglary", "Barnet", 2024, breaks=[("2024-03", "new recording system", True)])
    years = pd.DataFrame({"year": [2021, 2022, 2023, 2024], "label": ["2021-22", "2022-23", "2023-24", "2024-25"],
                          "value": [10, 12, 9, 14], "index": [100, 120, 90, 140], "london_index": [100, 101, 99, 98]})
    plots.trend(years, "Residential burglary", "Barnet", breaks=[(2023, "a break")])
    plots.versus_london(years, "Residential burglary", "Barnet", breaks=[(2023, "a break")])
    plots.by_period(years.assign(london_value=[5.0, 6, 7, 8]), "Trust", "Barnet", "%")
    wards.chart(pd.DataFrame({"ward": ["Long Ward Name Number One", "B", "C"], "value": [30, 20, 10]}),
                "Residential burglary", "Barnet", 2024)
    maps.choropleth(shapes, counts, "Barnet", what="offences, 2024-25", kind="count")
    assert len(made) == 12
    for tight, cropped in zip(made[::2], made[1::2]):
        assert cropped == tight
