"""The charts as SVG: well-formed documents whose shapes follow the data (ticks cover the
values, a break splits the line and is marked, bars start at zero, a map's fills are the
data's classes), with titles that fit."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import pandas as pd
import pytest

from cspbook.pages import plots, svg, wards

NS = {"s": "http://www.w3.org/2000/svg"}


def parsed(image: str) -> ET.Element:
    root = ET.fromstring(image)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    assert float(root.get("width")) > 0 and float(root.get("height")) > 0
    return root


def texts(root) -> list[str]:
    return [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]


def monthly(counts, breaks=()):
    months = pd.period_range("2023-04", periods=len(counts), freq="M")
    frame = pd.DataFrame({"month": months, "count": counts, "in_year": [m >= pd.Period("2024-04", "M") for m in months]})
    return plots.monthly(frame, "Residential burglary", "Barnet", 2024, breaks=breaks)


def test_a_break_splits_the_line_and_is_marked_once():
    chart = monthly(list(range(100, 124)), breaks=[("2024-03", "New recording system", True)])
    root = parsed(chart.image)
    lines = root.findall(".//s:polyline", NS)
    assert len(lines) == 2  # not joined across the break
    assert [len(line.get("points").split()) for line in lines] == [11, 13]  # April 2023..February 2024, March 2024..
    dashed = [line for line in root.findall(".//s:line", NS) if line.get("stroke-dasharray") == "5 3"]
    assert len(dashed) == 1 and "New recording system" in texts(root)
    assert len(root.findall(".//s:circle", NS)) == 24 + 1  # a marker per month, one in the legend
    joined = parsed(monthly(list(range(100, 124)), breaks=[("2024-03", "renamed", False)]).image)
    assert len(joined.findall(".//s:polyline", NS)) == 1  # a break that keeps months comparable: one line


def test_the_ticks_cover_the_values_and_bars_start_at_zero():
    frame = pd.DataFrame({"year": [2022, 2023, 2024], "label": ["2022-23", "2023-24", "2024-25"], "value": [1774, 1810, 2033]})
    root = parsed(plots.trend(frame, "Violence with injury", "Barnet").image)
    ticks = [float(t.replace(",", "")) for t in texts(root) if re.fullmatch(r"[\d,]+", t or "")]
    assert min(ticks) == 0 and max(ticks) >= 2033
    bars = root.findall(".//s:rect", NS)[1:]  # after the white background
    heights = [float(b.get("height")) for b in bars]
    assert heights[0] < heights[1] < heights[2]
    assert heights[2] / heights[0] == pytest.approx(2033 / 1774, rel=0.01)  # drawn from zero: heights in proportion


def test_missing_values_are_not_drawn_and_a_ward_chart_lists_every_ward():
    frame = pd.DataFrame({"label": ["12 months to Mar 2023", "12 months to Jun 2023", "12 months to Sep 2023"],
                          "value": [60.0, None, 62.0], "london_value": [None, None, None]})
    root = parsed(plots.by_period(frame, "Trust in the police", "Barnet", "% of residents").image)
    assert len(root.findall(".//s:circle", NS)) == 2 + 1  # two values and the legend's marker
    table = pd.DataFrame({"ward": ["Burnt Oak", "Colindale South", "Hendon & Mill Hill"], "value": [300, 200, 10]})
    root = parsed(wards.chart(table, "Violence with injury", "Barnet", 2024).image)
    assert {"Burnt Oak", "Colindale South", "Hendon & Mill Hill"} <= set(texts(root))  # escaped and kept


def test_a_long_title_is_made_to_fit():
    long = "Residents who agree the police understand the issues that affect their community: Kingston upon Thames and London"
    node = ET.fromstring(svg.document(750, 100, [svg.title(750, long)]))[1]
    assert svg.text_width(long, float(node.get("font-size"))) <= 750 - 20 + 0.5


def test_the_map_paints_each_borough_with_its_class(shapes, counts):
    from cspbook.pages import maps

    chart = maps.choropleth(shapes, counts, "Barnet", what="offences, 2024-25", kind="count")
    root = parsed(chart.image)
    paths = root.findall(".//s:path", NS)
    painted = [p.get("fill") for p in paths[:len(shapes.areas)]]  # one path per area, in the file's order
    assert painted == [chart.fills[a.name] for a in shapes.areas]
    assert sum(p.get("fill") == "url(#hatch)" for p in paths) == 1  # the City, hatched over its grey
    assert paths[-1].get("stroke-width") == "2.6"  # Barnet outlined last, on top
    assert len(chart.image) < 150_000  # outlines simplified: a map is not a megabyte


@pytest.fixture(scope="module")
def shapes(mirror):
    from cspbook.data import boundaries

    return boundaries.read(mirror / "open" / "boundaries" / "bng" / "London_Borough_Excluding_MHW.geojson")


@pytest.fixture(scope="module")
def counts(shapes):
    names = [n for n in shapes.names if n != "City of London"]
    return pd.Series({n: float(i * 10) for i, n in enumerate(names)})
