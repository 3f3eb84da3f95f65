"""The series an open figure's charts draw (an ``open:`` block of ``data/indicators.yml``):

- monthly counts (``financial_year_of_months``) in the shape of the MPS monthly counts
  (:func:`cspbook.compute.indicators.month_series` and :func:`~cspbook.compute.indicators.trend`
  then work on them as on the police file's), London being the 32 boroughs' sum;
- a value per published period (a rate, or a share of residents or of people in treatment)
  for the borough and London up to the figure's own period, for the periods the source has.

Pure: frames in, frames out."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cspbook.definitions import periods


def monthly_counts(frame: pd.DataFrame, ind, boroughs) -> pd.DataFrame:
    """Every borough-month of the open measure (a month in the data with no row for a
    borough counts 0): columns ``indicator, series, borough, month, count, classification,
    source``, as :func:`cspbook.compute.indicators.annual` takes them."""
    rows = frame[(frame["measure"] == ind.open["measure"]) & frame["area"].isin(list(boroughs))]
    months = sorted(frame.loc[frame["measure"] == ind.open["measure"], "period"].unique())
    grid = pd.MultiIndex.from_product([list(boroughs), months], names=["area", "period"])
    counts = rows.groupby(["area", "period"])["value"].sum().reindex(grid, fill_value=0.0)
    files = rows.drop_duplicates("period").set_index("period")["file"]
    return pd.DataFrame({
        "indicator": ind.id, "series": ind.open["source"], "borough": grid.get_level_values("area"),
        "month": pd.PeriodIndex(grid.get_level_values("period"), freq="M"), "count": counts.to_numpy(),
        "classification": ind.open["source"], "source": files.reindex(grid.get_level_values("period")).to_numpy(),
    })


def last_period(kind: str, year: int) -> str:
    """The latest source period a financial year's figure may use.

    >>> last_period("calendar_year", 2024), last_period("quarter_end_nearest_year_end", 2024), last_period("financial_year", 2019)
    ('2024', '2025-03', '2019-20')
    """
    if kind == "calendar_year":
        return str(year)
    if kind == "financial_year":
        return periods.label(year)
    return f"{year + 1}-03"


def say_period(kind: str, period: str) -> str:
    """
    >>> say_period("calendar_year", "2023"), say_period("quarter_end_nearest_year_end", "2023-12")
    ('2023', '12 months to Dec 2023')
    >>> say_period("financial_year", "2019-20")
    '2019-20'
    """
    if kind == "quarter_end_nearest_year_end":
        return f"12 months to {pd.Period(period, 'M').strftime('%b %Y')}"
    return period


def values_by_period(frame: pd.DataFrame, ind, borough: str, year: int, count: int = 12) -> pd.DataFrame:
    """The borough's and London's value of each published period up to the figure's own
    (at most ``count`` periods, the last being the latest one the figure may use): columns
    ``period, label, value, london_value`` (NaN where the source has none). For a share of
    two counts (``numerator``/``denominator``) the share is worked out per period."""
    kind = ind.open["period"]
    scale = float(ind.open.get("scale", 1))
    if "numerator" in ind.open:
        wide = frame[frame["measure"].isin([ind.open["numerator"], ind.open["denominator"]])]
        wide = wide.pivot_table(index=["area", "period"], columns="measure", values="value", aggfunc="first")
        if wide.empty:
            return pd.DataFrame(columns=["period", "label", "value", "london_value"])
        with np.errstate(divide="ignore", invalid="ignore"):
            share = wide[ind.open["numerator"]] / wide[ind.open["denominator"]].replace(0, np.nan) * 100
        values = share.rename("value").reset_index()
    else:
        values = frame.loc[frame["measure"] == ind.open["measure"], ["area", "period", "value"]]
        values = values.assign(value=values["value"] * scale)
    values = values[values["period"] <= last_period(kind, year)]
    mine = values[values["area"] == borough].set_index("period")["value"]
    shown = sorted(mine.dropna().index)[-count:]
    london = values[values["area"] == "London"].set_index("period")["value"]
    return pd.DataFrame({
        "period": shown, "label": [say_period(kind, p) for p in shown],
        "value": mine.reindex(shown).to_numpy(dtype="float64"),
        "london_value": london[~london.index.duplicated()].reindex(shown).to_numpy(dtype="float64"),
    })
