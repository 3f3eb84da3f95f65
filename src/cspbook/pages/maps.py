"""Choropleth maps of the 32 boroughs: a value per borough drawn in classes of a colour-blind-safe
palette (ColorBrewer YlGnBu for a level, PuOr for a change), each class's numbers on the legend,
the report's borough outlined and labelled, the City of London grey ("policed separately").

Not colour alone: the caption gives the borough's value and rank, the alt text the highest and
lowest, and the chart's table lists every borough (the table alternative every chart has).
The outlines come from :mod:`cspbook.data.boundaries` (json and numpy: see its docstring);
the map is SVG (:mod:`cspbook.pages.svg`): one path per area, in whole half-pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cspbook.data.boundaries import Boundaries
from cspbook.pages import narrative, svg
from cspbook.pages.plots import Chart

# ColorBrewer (Brewer, Harrower; colorbrewer2.org): both schemes are marked colour-blind safe.
SEQUENTIAL = ("#ffffcc", "#a1dab4", "#41b6c4", "#2c7fb8", "#253494")  # YlGnBu, 5 classes
DIVERGING = ("#542788", "#998ec3", "#d8daeb", "#fee0b6", "#f1a340", "#b35806")  # PuOr, 6 classes: falls purple, rises orange
NOT_POLICED = "#bdbdbd"  # the City of London: grey, hatched, never a class colour
NO_VALUE = "#ffffff"
CITY = "City of London"
KINDS = ("count", "rate", "change")


@dataclass(frozen=True)
class MapChart(Chart):
    """A map: a :class:`cspbook.pages.plots.Chart` plus the fill each area was drawn with and
    the area outlined (read back from the drawing, for tests and the alt text)."""

    fills: dict = field(default_factory=dict)
    outlined: str = ""


def fmt(value, kind: str) -> str:
    """A value as the legend and caption write it.

    >>> fmt(1774.0, "count"), fmt(7.62, "rate"), fmt(-4.04, "change"), fmt(float("nan"), "rate")
    ('1,774', '7.6', '-4.0%', 'not available')
    """
    if kind == "change":
        return narrative.signed_pct(value)
    if pd.isna(value):
        return "not available"
    return f"{value:,.1f}" if kind == "rate" else narrative.number(value)


def classes(values: pd.Series, kind: str) -> np.ndarray:
    """The class edges (ascending): quintiles of the values for a level, and for a change six
    classes symmetric about zero (so a fall and a rise never share a colour).

    >>> classes(pd.Series([1.0, 2, 3, 4, 5, 6, 7, 8, 9, 10]), "rate").round(1).tolist()
    [1.0, 2.8, 4.6, 6.4, 8.2, 10.0]
    >>> classes(pd.Series([-9.0, 3.0]), "change").tolist()
    [-9.0, -6.0, -3.0, 0.0, 3.0, 6.0, 9.0]
    """
    known = values.dropna().to_numpy(dtype="float64")
    if not len(known):
        return np.array([0.0, 1.0])
    if kind == "change":
        top = max(float(np.abs(known).max()), 1e-9)
        return np.linspace(-top, top, len(DIVERGING) + 1)
    return np.quantile(known, np.linspace(0, 1, len(SEQUENTIAL) + 1))


def colour(value, edges: np.ndarray, kind: str) -> str:
    """The fill of one value: the class it falls in (the top edge belongs to the last class)."""
    if pd.isna(value):
        return NO_VALUE
    palette = DIVERGING if kind == "change" else SEQUENTIAL
    i = int(np.searchsorted(edges, value, side="right")) - 1
    return palette[min(max(i, 0), len(edges) - 2)]


def ranks(values: pd.Series) -> pd.Series:
    """1 for the highest value (ties share the best rank); no rank for a missing value.

    >>> ranks(pd.Series({"a": 3.0, "b": 9.0, "c": None, "d": 9.0})).tolist()
    [3, 1, <NA>, 1]
    """
    return values.rank(ascending=False, method="min").astype("Int64")


def choropleth(shapes: Boundaries, values: pd.Series, borough: str | None, *, what: str, kind: str = "rate",
               name: str = "map", rank: str | None = None) -> MapChart:
    """A map of ``values`` (indexed by borough name; ``kind`` one of count, rate, change),
    ``borough`` outlined and labelled (None: London's map, no borough outlined). ``what`` says
    what is mapped, e.g. "violence with injury per 1,000 residents, 2024-25". ``rank``: the
    borough's rank as the caption says it (e.g. with its interval); by default its rank among
    the values. A change is never ranked (see Methodology: ranks of changes move by chance)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    values = values.astype("float64").reindex([n for n in shapes.names if n != CITY])  # the boroughs on the map
    edges = classes(values, kind)
    fills = {a.name: NOT_POLICED if a.name == CITY else colour(values.get(a.name, np.nan), edges, kind) for a in shapes.areas}
    to_px = _projection(shapes)
    body = [svg.title(WIDTH, what[:1].upper() + what[1:], 22)]
    for area in shapes.areas:
        body.append(f'<path d="{_path(area.rings, to_px)}" fill="{fills[area.name]}" stroke="#4d4d4d" stroke-width="0.6"/>')
    body.append(f'<path d="{_path(shapes[CITY].rings, to_px)}" fill="url(#hatch)" stroke="#4d4d4d" stroke-width="0.6"/>'
                if CITY in shapes.names else "")
    if borough is not None:
        body.append(f'<path d="{_path(shapes[borough].rings, to_px)}" fill="none" stroke="#000000" stroke-width="2.6"/>')
        x, y = to_px(*shapes[borough].label_point)
        w = svg.text_width(borough, 11) + 10
        body.append(f'<rect x="{x - w / 2:.1f}" y="{y - 10:.1f}" width="{w:.1f}" height="19" rx="4" fill="#ffffff" '
                    'stroke="#000000" stroke-width="0.8"/>' + svg.text(x, y + 4, borough, 11, "middle", weight="bold"))
    palette = DIVERGING if kind == "change" else SEQUENTIAL
    keys = [(c, "#4d4d4d", f"{fmt(lo, kind)} to {fmt(hi, kind)}", "") for c, lo, hi in zip(palette, edges[:-1], edges[1:])]
    keys.append((NOT_POLICED, "#4d4d4d", "City of London: policed separately", "url(#hatch)"))
    if values.isna().any():
        keys.append((NO_VALUE, "#4d4d4d", "not available", ""))
    if borough is not None:
        keys.append(("none", "#000000", borough, ""))
    # below the map, in two columns: the image stays narrow enough to read on a phone
    top = MAP_TOP + MAP_HEIGHT + 14
    for k, (fill, edge, said, over) in enumerate(keys):
        x, y = 110 + (k % 2) * 270, top + (k // 2) * 24
        width = 2.6 if fill == "none" else 0.6
        body.append(f'<rect x="{x}" y="{y}" width="22" height="15" fill="{fill}" stroke="{edge}" stroke-width="{width}"/>'
                    + (f'<rect x="{x}" y="{y}" width="22" height="15" fill="{over}"/>' if over else "")
                    + svg.text(x + 30, y + 12, said, 12))
    height = top + ((len(keys) + 1) // 2) * 24 + 6
    image = svg.document(WIDTH, height, body, what[:1].upper() + what[1:], defs=HATCH)
    return MapChart(name, image, _alt(values, borough, what, kind), caption(values, borough, what, kind, rank),
                    _table(values, kind), fills=fills, outlined=borough or "")


WIDTH, MAP_TOP, MAP_HEIGHT = 700, 36, 500
HATCH = ('<pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)">'
         '<line x1="0" y1="0" x2="0" y2="6" stroke="#4d4d4d" stroke-width="1"/></pattern>')


def _projection(shapes: Boundaries):
    """British National Grid metres to the map's pixels: London fitted in WIDTH x MAP_HEIGHT, north up."""
    points = np.concatenate([r for a in shapes.areas for r in a.rings])
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    scale = min((WIDTH - 20) / (x1 - x0), MAP_HEIGHT / (y1 - y0))
    left = (WIDTH - (x1 - x0) * scale) / 2

    def to_px(x, y):
        return left + (x - x0) * scale, MAP_TOP + (y1 - y) * scale

    return to_px


def _path(rings, to_px, tolerance: float = 1.5) -> str:
    """SVG path data of ``rings`` in pixels, each point at least ``tolerance`` px from the one
    kept before it (a borough's outline has thousands of points a map 700 px wide cannot show),
    written relative to the point before, to one decimal."""
    parts = []
    for ring in rings:
        x, y = to_px(ring[:, 0], ring[:, 1])
        kept, (px, py) = [(x[0], y[0])], (x[0], y[0])
        for a, b in zip(x[1:].tolist(), y[1:].tolist()):
            if (a - px) ** 2 + (b - py) ** 2 >= tolerance ** 2:
                kept.append((a, b))
                px, py = a, b
        if len(kept) < 3:
            continue
        xy = np.round(np.asarray(kept), 1)
        steps = np.round(np.diff(xy, axis=0), 1)
        parts.append(f"M{xy[0, 0]:g},{xy[0, 1]:g}l" + " ".join(f"{a:g},{b:g}" for a, b in steps) + "z")
    return "".join(parts)


def caption(values: pd.Series, borough: str, what: str, kind: str, rank: str | None = None) -> str:
    """The borough's value and rank in words (the map never carries them by colour alone); on
    London's map, the highest and the lowest."""
    if borough is None:
        known = values.dropna().sort_values()
        ends = (f" Highest: {known.index[-1]} ({fmt(known.iloc[-1], kind)}); lowest: {known.index[0]} ({fmt(known.iloc[0], kind)})."
                if len(known) else "")
        return f"Map of London's boroughs: {what}.{ends} The City of London (grey) has its own police force."
    place = ranks(values).get(borough)
    if pd.isna(place):
        where = "not ranked"
    elif kind == "change":
        where = "changes are not ranked (see Methodology)"
    else:
        where = f"ranked {rank or narrative.ordinal(int(place))} of {values.notna().sum()} boroughs (1st = the highest)"
    return (f"Map of London's boroughs: {what}. {borough} (outlined): {fmt(values.get(borough), kind)}, {where}. "
            "The City of London (grey) has its own police force.")


def _alt(values: pd.Series, borough: str | None, what: str, kind: str) -> str:
    known = values.dropna().sort_values()
    if not len(known):
        return f"Map of London's 32 boroughs: {what}; no values."
    mine = f"; {borough}: {fmt(values.get(borough), kind)}" if borough else ""
    return (f"Map of London's 32 boroughs shaded by {what}{f', {borough} outlined' if borough else ''}. Highest: {known.index[-1]} "
            f"({fmt(known.iloc[-1], kind)}); lowest: {known.index[0]} ({fmt(known.iloc[0], kind)}){mine}. "
            "The City of London, policed separately, is grey.")


def _table(values: pd.Series, kind: str) -> pd.DataFrame:
    """The map's data, highest first (the ranks, with their intervals, are in the page's table)."""
    order = values.sort_values(ascending=False, na_position="last").index
    return pd.DataFrame({"Borough": list(order), "Value": [fmt(values[b], kind) for b in order]})
