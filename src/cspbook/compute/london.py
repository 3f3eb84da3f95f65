"""London's 32 boroughs side by side: for each police measure of a year, every borough's count,
the year before, the change, and the rate per 1,000 residents where the dataset has rates, with
the ranks of the count and the rate (each with its 95% interval). One long frame, the same rows the London page shows and its CSV download."""

from __future__ import annotations

import pandas as pd

from cspbook import definitions
from cspbook.definitions import periods

COLUMNS = [
    "indicator", "label", "year", "borough", "value", "previous_value", "change_pct", "comparable", "caution",
    "rate_per_1000", "rate_rank", "rate_rank_low", "rate_rank_high", "count_rank", "count_rank_low", "count_rank_high",
    "series",
]


def populations(data) -> pd.DataFrame | None:
    """Residents per borough and mid-year (:func:`cspbook.compute.rates.populations`) when the
    dataset holds the open sources, else None."""
    if getattr(data, "open", None) is None:
        return None
    from cspbook.compute import rates

    return rates.populations(data.open)


def boroughs_side_by_side(changes: pd.DataFrame, year: int, indicator_ids, population: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per borough and police measure of ``indicator_ids`` for ``year`` (from
    :attr:`cspbook.compute.dataset.Dataset.changes`), columns ``COLUMNS``, each measure's
    boroughs sorted by rate per 1,000 when the dataset has rates, else by count, highest first.

    ``count_rank`` and ``rate_rank`` are 1 for the highest value, each with the 95% interval of
    the rank (``_low``, ``_high``: :func:`cspbook.compute.rates.with_rank_intervals`); changes
    are not ranked (a rank of changes in per cent moves a long way by chance). A measure that is not a police measure, or has no
    row for the year, is left out. ``population`` (:func:`populations`) gives the rates per 1,000
    residents (:func:`cspbook.compute.rates.with_rates`); without it, or for a year with no
    estimate, the rates are empty.
    """
    defs = definitions.indicators()
    wanted = [i for i in indicator_ids if i in defs and defs[i].source == "mps"]
    rows = changes[(changes["year"] == year) & changes["indicator"].isin(wanted)].copy()
    if population is not None and len(rows):
        from cspbook.compute import rates

        rows = rates.with_rates(rows, population)
    rows["rate_per_1000"] = rows["rate_per_1000"].astype("float64") if "rate_per_1000" in rows else float("nan")
    rows["label"] = rows["indicator"].map(lambda i: defs[i].label)
    rows["year"] = periods.label(year)
    by = rows.groupby("indicator")
    rows["count_rank"] = by["value"].rank(ascending=False, method="min").astype("Int64")
    rows["rate_rank"] = by["rate_per_1000"].rank(ascending=False, method="min").astype("Int64")
    from cspbook.compute import rates

    rows = rates.with_rank_intervals(rows, population=None, prefix="count_rank")
    if "population" in rows and rows["rate_per_1000"].notna().any():
        rows = rates.with_rank_intervals(rows)
    else:
        rows["rate_rank_low"] = rows["rate_rank_high"] = pd.array([pd.NA] * len(rows), dtype="Int64")
    rows["order"] = rows["indicator"].map({i: n for n, i in enumerate(wanted)})
    key = "rate_per_1000" if rows["rate_per_1000"].notna().any() else "value"
    rows = rows.sort_values(["order", key, "borough"], ascending=[True, False, True])
    rows["caution"] = rows["caution"].fillna("")
    return rows[COLUMNS].reset_index(drop=True)


def side_by_side_for(data, period: periods.Period, indicator_ids) -> pd.DataFrame:
    """:func:`boroughs_side_by_side` for a report's period: a year to date compares the same
    months of every borough (``data.to_date``) and gives no rates per 1,000 residents (a part
    year is not a year's rate)."""
    data = data.to_date(period.months)
    return boroughs_side_by_side(data.changes, period.start, indicator_ids, populations(data) if period.complete else None)
