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
    assert before.image != after.image
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
