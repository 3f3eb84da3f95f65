"""Choropleth maps of the 32 boroughs: a value per borough drawn in classes of a colour-blind-safe
palette (ColorBrewer YlGnBu for a level, PuOr for a change), each class's numbers on the legend,
the report's borough outlined and labelled, the City of London grey ("policed separately").

Not colour alone: the caption gives the borough's value and rank, the alt text the highest and
lowest, and the chart's table lists every borough (the table alternative every chart has).
The outlines come from :mod:`cspbook.data.boundaries` (json and numpy: see its docstring);
drawing is one matplotlib PolyCollection, so a map costs a warm kernel nothing to import.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from cspbook.data.boundaries import Boundaries
from cspbook.pages import narrative
from cspbook.pages.plots import Chart, _png, plt

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
    from matplotlib.collections import PolyCollection
    from matplotlib.patches import Patch

    values = values.astype("float64").reindex([n for n in shapes.names if n != CITY])  # the boroughs on the map
    edges = classes(values, kind)
    names = [a.name for a in shapes.areas for _ in a.rings]
    fills = [NOT_POLICED if n == CITY else colour(values.get(n, np.nan), edges, kind) for n in names]
    fig, ax = plt.subplots(figsize=(7.0, 5.6))
    polys = PolyCollection([r for a in shapes.areas for r in a.rings], facecolors=fills, edgecolors="#4d4d4d",
                           linewidths=0.5, hatch=None)
    ax.add_collection(polys)
    city = [r for a in shapes.areas if a.name == CITY for r in a.rings]
    ax.add_collection(PolyCollection(city, facecolors="none", edgecolors="#4d4d4d", hatch="////", linewidths=0.5))
    if borough is not None:
        ax.add_collection(PolyCollection(list(shapes[borough].rings), facecolors="none", edgecolors="#000000", linewidths=2.6))
        x, y = shapes[borough].label_point
        ax.annotate(borough, (x, y), xytext=(0, 0), textcoords="offset points", ha="center", va="center", fontsize=9,
                    fontweight="bold", bbox={"boxstyle": "round,pad=0.25", "fc": "white", "ec": "black", "lw": 0.8})
    ax.autoscale_view()
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(what[:1].upper() + what[1:], fontsize=11)
    palette = DIVERGING if kind == "change" else SEQUENTIAL
    handles = [Patch(facecolor=c, edgecolor="#4d4d4d", label=f"{fmt(lo, kind)} to {fmt(hi, kind)}")
               for c, lo, hi in zip(palette, edges[:-1], edges[1:])]
    handles.append(Patch(facecolor=NOT_POLICED, edgecolor="#4d4d4d", hatch="////", label="City of London: policed separately"))
    if values.isna().any():
        handles.append(Patch(facecolor=NO_VALUE, edgecolor="#4d4d4d", label="not available"))
    if borough is not None:
        handles.append(Patch(facecolor="none", edgecolor="black", linewidth=2.6, label=borough))
    # below the map, in two columns: the image stays narrow enough to read on a phone
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, 0.0), ncol=2, frameon=False, fontsize=10)
    drawn = {n: _hex(c) for n, c in zip(names, polys.get_facecolors())}
    return MapChart(name, _png(fig), _alt(values, borough, what, kind), caption(values, borough, what, kind, rank),
                    _table(values, kind), fills=drawn, outlined=borough or "")


def _hex(rgba) -> str:
    from matplotlib.colors import to_hex

    return to_hex(rgba)


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
