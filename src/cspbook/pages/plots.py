"""Charts for the book: seaborn figures rendered to PNG, each with alt text written from
the numbers and the data table it shows (the table alternative for screen readers).

Pure in the sense that matters: each function takes frames from :mod:`cspbook.compute.indicators`
and returns a :class:`Chart`; nothing is written to disk here.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import seaborn as sns  # noqa: E402

from cspbook.definitions import periods  # noqa: E402
from cspbook.pages import narrative

PALETTE = {"borough": "#1b5e8c", "london": "#b35806", "shade": "#e8e8e8"}


@dataclass(frozen=True)
class Chart:
    """A rendered chart: PNG bytes, alt text, caption and the data it plots."""

    name: str
    png: bytes
    alt: str
    caption: str
    table: pd.DataFrame


def _png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight", metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def _style():
    sns.set_theme(style="whitegrid", context="notebook", font_scale=0.95)


def monthly(series: pd.DataFrame, label: str, borough: str, year: int) -> Chart:
    """Monthly counts with the reported financial year shaded.

    ``series`` comes from :func:`cspbook.compute.indicators.month_series`.
    """
    _style()
    data = series.assign(when=series["month"].dt.to_timestamp())
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    in_year = data[data["in_year"]]
    if len(in_year):
        ax.axvspan(in_year["when"].min() - pd.Timedelta(days=15), in_year["when"].max() + pd.Timedelta(days=15),
                   color=PALETTE["shade"], label=periods.label(year))
    sns.lineplot(data=data, x="when", y="count", marker="o", color=PALETTE["borough"], ax=ax, label=borough)
    ax.set(xlabel="", ylabel="offences per month", title=f"{label}: offences per month")
    ax.legend(loc="best", frameon=False)
    fig.autofmt_xdate()
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
    return Chart("monthly", _png(fig), alt, f"{label} per month, {borough}; the reported year {periods.label(year)} is shaded.", table)


def trend(frame: pd.DataFrame, label: str, borough: str) -> Chart:
    """Annual counts over up to five years (:func:`cspbook.compute.indicators.trend`)."""
    _style()
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    sns.barplot(data=frame, x="label", y="value", color=PALETTE["borough"], ax=ax)
    ax.set(xlabel="financial year", ylabel="offences", title=f"{label}: {borough}, by year")
    years = list(frame["label"])
    values = [narrative.number(v) for v in frame["value"]]
    alt = (
        f"Bar chart of {label.lower()} in {borough} by financial year: "
        + "; ".join(f"{y}: {v}" for y, v in zip(years, values)) + "."
    ) if len(frame) else f"Bar chart of {label.lower()} in {borough}: no comparable years."
    table = pd.DataFrame({"Financial year": years, borough: frame["value"].astype("int64").to_numpy()})
    return Chart("trend", _png(fig), alt, f"{label} in {borough} by financial year (comparable years only).", table)


def versus_london(frame: pd.DataFrame, label: str, borough: str) -> Chart:
    """The borough against London as an index (first year shown = 100)."""
    _style()
    long = pd.concat([
        pd.DataFrame({"year": frame["label"], "index": frame["index"], "area": borough}),
        pd.DataFrame({"year": frame["label"], "index": frame["london_index"], "area": "London"}),
    ])
    fig, ax = plt.subplots(figsize=(7.5, 3.2))
    sns.lineplot(data=long, x="year", y="index", hue="area", style="area", markers=True, dashes=True,
                 palette=[PALETTE["borough"], PALETTE["london"]], ax=ax)
    ax.axhline(100, color="#666666", linewidth=0.8)
    first = frame["label"].iloc[0] if len(frame) else ""
    ax.set(xlabel="financial year", ylabel=f"index ({first} = 100)", title=f"{label}: {borough} and London")
    ax.legend(title="", frameon=False)
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
    return Chart("london", _png(fig), alt, f"{label}: {borough} against London, {first} = 100.", table)
