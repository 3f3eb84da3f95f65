"""Charts for the book: SVG drawn by :mod:`cspbook.pages.svg`, each with alt text written
from the numbers and the data table it shows (the table alternative for screen readers).

Pure in the sense that matters: each function takes frames from :mod:`cspbook.compute.indicators`
and returns a :class:`Chart`; nothing is written to disk here.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cspbook.definitions import periods
from cspbook.pages import narrative, svg

PALETTE = {"borough": "#1b5e8c", "london": "#b35806"}


@dataclass(frozen=True)
class Chart:
    """A drawn chart: its SVG, alt text, caption and the data it plots."""

    name: str
    image: str  # an SVG document
    alt: str
    caption: str
    table: pd.DataFrame
    segments: tuple = ()  # the lines drawn: each a tuple of the x values it joins (none joins across a break)
    markers: tuple = ()  # (x value, label) of each break marked on the chart


def segments(keys, cuts) -> list[list[int]]:
    """Positions of ``keys`` (sorted) in runs that no cut falls inside: a new run starts at the
    first key at or after each cut.

    >>> segments(["2016-04", "2016-05", "2017-04", "2017-05"], ["2017-04"])
    [[0, 1], [2, 3]]
    >>> segments([2019, 2020, 2021], [])
    [[0, 1, 2]]
    """
    runs, current = [], []
    cuts = sorted(cuts)
    for i, key in enumerate(keys):
        if current and any(keys[current[-1]] < cut <= key for cut in cuts):
            runs.append(current)
            current = []
        current.append(i)
    return runs + ([current] if current else [])


def _between(positions: list, key) -> float:
    """Where a break at ``key`` is marked: between the category before it and its own."""
    return positions.index(key) - 0.5


def _between_month(months, month) -> float:
    """Where a break in ``month`` is marked on a monthly chart: before its first month shown."""
    later = [i for i, m in enumerate(months) if m >= month]
    return (later[0] if later else len(months)) - 0.5


def _values(column) -> list:
    """A column's values for drawing: missing as None."""
    return [None if pd.isna(v) else float(v) for v in column]

def monthly(series: pd.DataFrame, label: str, borough: str, year: int, breaks=(), unit: str = "offences") -> Chart:
    """Monthly counts with the reported financial year shaded; every break in the months shown
    marked by a vertical line and its label, and no line drawn across a break that makes the
    two sides not comparable.

    ``series`` comes from :func:`cspbook.compute.indicators.month_series`; ``breaks`` are
    ``(first month, label, not comparable)`` triples; ``unit`` is what is counted.
    """
    data = series.reset_index(drop=True)
    months = [str(m) for m in data["month"]]
    shown = [(pd.Period(m, "M"), text, cut) for m, text, cut in breaks
             if len(data) and data["month"].min() < pd.Period(m, "M") <= data["month"].max()]
    runs = segments(months, [str(m) for m, _, cut in shown if cut])
    in_year = [i for i, flag in enumerate(data["in_year"]) if flag]
    plot = svg.Plot([m.strftime("%b %Y") for m in data["month"]], f"{label}: {unit} per month", ylabel=f"{unit} per month",
                    series=[svg.Series(_values(data["count"]), PALETTE["borough"], borough, runs=runs)],
                    shade=(in_year[0], in_year[-1], periods.label(year)) if in_year else None,
                    marks=[(_between_month(list(data["month"]), m), text) for m, text, _ in shown],
                    every=next(k for k in (1, 3, 6, 12, 24) if len(data) / k <= 12))
    peak = data.loc[data["count"].idxmax()] if len(data) else None
    low = data.loc[data["count"].idxmin()] if len(data) else None
    first, last = (periods.describe_month(data["month"].iloc[i]) for i in (0, -1)) if len(data) else ("", "")
    alt = (
        f"Line chart of {label.lower()} per month in {borough} from {first} to {last}, "
        f"with {periods.label(year)} shaded. "
        + (f"The highest month was {periods.describe_month(peak['month'])} ({narrative.number(peak['count'])}); "
           f"the lowest {periods.describe_month(low['month'])} ({narrative.number(low['count'])})." if peak is not None else "No data.")
    )
    table = pd.DataFrame({
        "Month": [periods.describe_month(m) for m in data["month"]],
        f"{borough}": data["count"].astype("int64").to_numpy(),
        "In the reported year": ["yes" if v else "no" for v in data["in_year"]],
    })
    marks = tuple((str(m), text) for m, text, _ in shown)
    if marks:
        alt += " " + " ".join(f"A dashed line marks {text} ({periods.describe_month(pd.Period(m, 'M'))})." for m, text in marks)
    caption = f"{label} per month, {borough}; the reported year {periods.label(year)} is shaded."
    if marks:
        caption += " Dashed lines mark breaks in the police data"
        caption += ("; the line is not joined across a break that makes the months either side not comparable."
                    if len(runs) > 1 else ".")
    return Chart("monthly", plot.svg(), alt, caption, table,
                 tuple(tuple(months[i] for i in run) for run in runs), marks)


def trend(frame: pd.DataFrame, label: str, borough: str, breaks=(), unit: str = "offences") -> Chart:
    """Annual counts over up to five years (:func:`cspbook.compute.indicators.trend`); a
    dashed line between two bars marks each break (``(year, label)``: the first year counted
    the new way) between them."""
    years = list(frame["year"]) if "year" in frame else []
    shown = [(years.index(y), text) for y, text in breaks if y in years[1:]]  # by year: a year to date's labels name its months
    marks = tuple((frame["label"].iloc[i], text) for i, text in shown)
    plot = svg.Plot(list(frame["label"]), f"{label}: {borough}, by year", ylabel=unit, xlabel="financial year",
                    series=[svg.Series(_values(frame["value"]), PALETTE["borough"], kind="bar")],
                    marks=[(i - 0.5, text) for i, text in shown])
    years = list(frame["label"])
    values = [narrative.number(v) for v in frame["value"]]
    alt = (
        f"Bar chart of {label.lower()} in {borough} by financial year: "
        + "; ".join(f"{y}: {v}" for y, v in zip(years, values)) + "."
    ) if len(frame) else f"Bar chart of {label.lower()} in {borough}: no comparable years."
    table = pd.DataFrame({"Financial year": years, borough: frame["value"].astype("int64").to_numpy()})
    caption = f"{label} in {borough} by financial year, since the last break that makes years not comparable."
    if marks:
        caption += " A dashed line marks a break to interpret with caution."
    return Chart("trend", plot.svg(), alt, caption, table, (), marks)


def versus_london(frame: pd.DataFrame, label: str, borough: str, breaks=(),
                  london: str = "the whole Metropolitan Police area") -> Chart:
    """The borough against London as an index (the base year = 100: the first shown that is
    not a lockdown year, see :func:`cspbook.compute.indicators.index_base`); the lines are
    split, and marked, at each break (``(year, label)``)."""
    years = list(frame["year"]) if "year" in frame else []
    labels = list(frame["label"])
    marks = tuple((labels[years.index(y)], text) for y, text in breaks if y in years[1:])
    runs = segments(years, [y for y, _ in breaks])
    base = frame.loc[frame["index"].round(9) == 100, "label"] if len(frame) else pd.Series(dtype=str)
    first = base.iloc[0] if len(base) else (labels[0] if labels else "")
    plot = svg.Plot(labels, f"{label}: {borough} and London", ylabel=f"index ({first} = 100)", xlabel="financial year",
                    series=[svg.Series(_values(frame["index"]), PALETTE["borough"], borough, runs=runs),
                            svg.Series(_values(frame["london_index"]), PALETTE["london"], "London", dashed=True, runs=runs)],
                    marks=[(_between(labels, y), text) for y, text in marks], reference=100.0)
    if len(frame):
        end_b, end_l = frame["index"].iloc[-1], frame["london_index"].iloc[-1]
        alt = (
            f"Line chart comparing {label.lower()} in {borough} and London as an index where {first} is 100. "
            f"By {frame['label'].iloc[-1]} {borough} stood at {end_b:.0f} and London at {end_l:.0f}."
        )
    else:
        alt = f"Line chart comparing {label.lower()} in {borough} and London: no comparable years."
    table = pd.DataFrame({
        "Financial year": list(frame["label"]),
        f"{borough} (index)": frame["index"].round(1).to_numpy(),
        "London (index)": frame["london_index"].round(1).to_numpy(),
    })
    caption = f"{label}: {borough} against London ({london}), {first} = 100."
    if marks:
        caption += " The lines are not joined across a break in the police data (dashed line)."
    return Chart("london", plot.svg(), alt, caption, table,
                 tuple(tuple(labels[i] for i in run) for run in runs), marks)


def by_period(frame: pd.DataFrame, label: str, borough: str, unit: str, london_note: str = "") -> Chart:
    """A published value per period (a rate or a share, no counts:
    :func:`cspbook.compute.open_series.values_by_period`), the borough's line beside
    London's where the source gives London; ``london_note`` says why when it does not."""
    labels = list(frame["label"])
    has_london = bool(len(frame)) and frame["london_value"].notna().any()
    drawn = [svg.Series(_values(frame["value"]), PALETTE["borough"], borough)]
    if has_london:
        drawn.append(svg.Series(_values(frame["london_value"]), PALETTE["london"], "London", dashed=True))
    rolling = bool(labels) and all(str(p).startswith("12 months to ") for p in labels)  # the axis says it once
    ticks = [str(p)[len("12 months to "):] for p in labels] if rolling else labels
    plot = svg.Plot(ticks, f"{label}: {borough}" + (" and London" if has_london else ""), ylabel=unit,
                    xlabel="12 months to the quarter end" if rolling else "", series=drawn)

    def said(v) -> str:  # a share to one decimal (its counts are rounded, not its share), a rate whole
        return "no figure" if pd.isna(v) else f"{v:.1f}" if unit.startswith("%") else narrative.number(v)

    if len(frame):
        alt = (f"Line chart of {label[:1].lower()}{label[1:]} ({unit}) in {borough}"
               + (" and London" if has_london else "") + f" from {labels[0]} to {labels[-1]}: "
               + "; ".join(f"{p}: {said(v)}" for p, v in zip(labels, frame["value"])) + ".")
        if has_london:
            alt += f" London went from {said(frame['london_value'].iloc[0])} to {said(frame['london_value'].iloc[-1])}."
    else:
        alt = f"Line chart of {label[:1].lower()}{label[1:]} in {borough}: the source has no figure for it."
    columns = {"Period": labels, f"{borough} ({unit})": [said(v) for v in frame["value"]]}
    if has_london:
        columns[f"London ({unit})"] = [said(v) for v in frame["london_value"]]
    caption = f"{label} ({unit}), {borough}" + (" and London" if has_london else "") + ", by published period."
    if not has_london and london_note:
        caption += f" {london_note[:1].upper()}{london_note[1:]}."
    return Chart("periods", plot.svg(), alt, caption, pd.DataFrame(columns))
