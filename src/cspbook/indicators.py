"""Indicators computed from tidy MPS crime data: pure functions, no I/O.

Pipeline: tidy crime rows -> :func:`monthly` (indicator x borough x month) ->
:func:`annual` (financial years) -> :func:`changes` (year-on-year change, Poisson
interval, London change and rank, comparability) for every borough and year at once;
:func:`for_borough` picks one borough and year and checks that the data cover it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cspbook import periods, stats
from cspbook.definitions import Indicator
from cspbook.errors import PeriodError

MIXED = "mixed"


def monthly(tidy: pd.DataFrame, indicators: dict[str, Indicator], boroughs) -> pd.DataFrame:
    """Monthly count of each MPS indicator for every borough and every month in the data.

    Columns: ``indicator, borough, month, count, classification``. A borough with no row
    for a category in a month counts 0 for it (MPS files omit all-zero rows).

    >>> tidy = pd.DataFrame({"borough": ["A", "A", "B"], "major": ["Burglary"] * 3,
    ...     "minor": ["Burglary in a Dwelling", "Burglary in Other Buildings", "Burglary in a Dwelling"],
    ...     "month": pd.PeriodIndex(["2011-04"] * 3, freq="M"), "count": [3, 4, 5],
    ...     "classification": ["mps_previous"] * 3})
    >>> ind = Indicator("burglary", "Burglary", "", "p", "mps", "offences", True,
    ...     {"mps_previous": ("Burglary in a Dwelling",)})
    >>> monthly(tidy, {"burglary": ind}, ["A", "B", "C"])[["borough", "count"]].to_dict("list")
    {'borough': ['A', 'B', 'C'], 'count': [3, 5, 0]}
    """
    month_class = tidy.groupby("month", sort=True)["classification"].agg(_one_class)
    grid = pd.MultiIndex.from_product([list(boroughs), month_class.index], names=["borough", "month"])
    parts = []
    for ind in indicators.values():
        if ind.source != "mps":
            continue
        mask = np.zeros(len(tidy), dtype=bool)
        for cid, minors in ind.categories.items():
            in_class = (tidy["classification"] == cid).to_numpy()
            mask |= in_class if minors == "all" else in_class & tidy["minor"].isin(minors).to_numpy()
        sums = tidy[mask].groupby(["borough", "month"])["count"].sum()
        frame = sums.reindex(grid, fill_value=0).rename("count").reset_index()
        frame.insert(0, "indicator", ind.id)
        parts.append(frame)
    out = pd.concat(parts, ignore_index=True)
    out["count"] = out["count"].astype("int64")
    out["classification"] = out["month"].map(month_class).astype(str)
    return out


def _one_class(values: pd.Series) -> str:
    unique = values.unique()
    return unique[0] if len(unique) == 1 else MIXED


def annual(monthly_counts: pd.DataFrame) -> pd.DataFrame:
    """Financial-year totals: columns ``indicator, borough, year, count, months, classification``.

    ``year`` is the calendar year the financial year starts in (2011 for 2011-12); ``months``
    is how many of its 12 months the data has; ``classification`` is 'mixed' when the year
    spans a change of classification.
    """
    frame = monthly_counts.assign(year=_fy(monthly_counts["month"]))
    grouped = frame.groupby(["indicator", "borough", "year"], sort=True)
    out = grouped.agg(
        count=("count", "sum"),
        months=("month", "nunique"),
        classification=("classification", _one_class),
    ).reset_index()
    return out


def _fy(months: pd.Series) -> pd.Series:
    years = months.dt.year.to_numpy()
    return pd.Series(np.where(months.dt.month.to_numpy() >= 4, years, years - 1), index=months.index)


BREAK_TEXT = "the MPS moved to the Home Office categories in January 2017"


def changes(annual_counts: pd.DataFrame, indicators: dict[str, Indicator], break_text: str = BREAK_TEXT) -> pd.DataFrame:
    """Year-on-year change for every indicator, borough and complete financial year.

    Adds ``previous_value, change, change_pct, ci_low_pct, ci_high_pct, significant,
    london_value, london_previous, london_change_pct, london_rank, comparable, note``.
    London is the sum of all boroughs in the frame. ``london_rank`` is 1 for the borough
    with the best change (the largest fall where a fall is good) among boroughs whose change
    is comparable. A change is comparable only when both years are complete and come from
    the same crime classification; otherwise every change column is empty and ``note``
    says why (``break_text`` names the change of classification).
    """
    full = annual_counts[annual_counts["months"] == 12]
    prev = full.assign(year=full["year"] + 1).rename(
        columns={"count": "previous_value", "classification": "previous_classification"}
    )[["indicator", "borough", "year", "previous_value", "previous_classification"]]
    out = full.merge(prev, on=["indicator", "borough", "year"], how="left")
    out = out.rename(columns={"count": "value"}).drop(columns="months")
    out["change"] = out["value"] - out["previous_value"]
    out["change_pct"] = stats.change_pct(out["value"], out["previous_value"])
    low, high = stats.poisson_change_interval(out["value"], out["previous_value"])
    out["ci_low_pct"], out["ci_high_pct"] = low, high
    out["significant"] = stats.significant(low, high)
    out["comparable"] = (
        out["previous_value"].notna()
        & (out["classification"] != MIXED)
        & (out["classification"] == out["previous_classification"])
    )
    out["note"] = [_note(r, break_text) for r in out[["year", "classification", "previous_classification", "previous_value"]].itertuples()]
    london = out.groupby(["indicator", "year"])[["value", "previous_value"]].sum(min_count=1)
    london.columns = ["london_value", "london_previous"]
    london["london_change_pct"] = stats.change_pct(london["london_value"], london["london_previous"])
    out = out.merge(london.reset_index(), on=["indicator", "year"], how="left")
    out["london_rank"] = _rank(out, indicators)
    for col in ("change", "ci_low_pct", "ci_high_pct", "change_pct", "london_change_pct"):
        out.loc[~out["comparable"], col] = np.nan
    out.loc[~out["comparable"], "significant"] = False
    return out


def _note(row, break_text: str) -> str:
    if pd.isna(row.previous_value):
        return f"no complete data for {periods.label(row.year - 1)}, so no change is shown"
    if row.classification == MIXED or row.previous_classification == MIXED or row.classification != row.previous_classification:
        return (
            f"not comparable: {periods.label(row.year - 1)} and {periods.label(row.year)} are not both counted "
            f"in the same crime categories ({break_text})"
        )
    return ""


def _rank(frame: pd.DataFrame, indicators: dict[str, Indicator]) -> pd.Series:
    sign = frame["indicator"].map(lambda i: 1.0 if indicators[i].lower_is_better else -1.0)
    score = (frame["change_pct"] * sign).where(frame["comparable"])
    return score.groupby([frame["indicator"], frame["year"]]).rank(method="min").astype("Int64")


def data_months(monthly_counts: pd.DataFrame) -> pd.PeriodIndex:
    return pd.PeriodIndex(sorted(monthly_counts["month"].unique()), freq="M")


def check_year(available: pd.PeriodIndex, year: int) -> None:
    """Raise a PeriodError unless every month of financial year ``year`` is in the data.

    >>> have = pd.period_range("2008-01", "2010-12", freq="M")
    >>> check_year(have, 2011)
    Traceback (most recent call last):
    ...
    cspbook.errors.PeriodError: 2011-12 needs April 2011 to March 2012; the data ends December 2010 (it covers January 2008 to December 2010). Fetch newer data (`cspbook fetch`) or choose an earlier year
    """
    need = periods.months(year)
    label = periods.label(year)
    span = f"{periods.describe_month(need[0])} to {periods.describe_month(need[-1])}"
    if len(available) == 0:
        raise PeriodError(f"{label} needs {span}; there is no data. Run `cspbook fetch`")
    covers = f"it covers {periods.describe_month(available.min())} to {periods.describe_month(available.max())}"
    if need[-1] > available.max():
        raise PeriodError(
            f"{label} needs {span}; the data ends {periods.describe_month(available.max())} ({covers}). "
            "Fetch newer data (`cspbook fetch`) or choose an earlier year"
        )
    if need[0] < available.min():
        raise PeriodError(
            f"{label} needs {span}; the data starts {periods.describe_month(available.min())} ({covers}). "
            "Choose a later year or add an older file to the data"
        )
    missing = need.difference(available)
    if len(missing):
        raise PeriodError(
            f"{label} needs {span}; the data has a gap: {_spans(missing)} missing "
            f"({covers}). Add a file that covers those months (`cspbook fetch`)"
        )


def _spans(months) -> str:
    """Months as readable runs.

    >>> _spans(pd.PeriodIndex(["2011-04", "2011-05", "2011-06", "2011-09"], freq="M"))
    'April 2011 to June 2011, September 2011'
    """
    runs: list[list[pd.Period]] = []
    for month in sorted(months):
        if runs and month == runs[-1][-1] + 1:
            runs[-1].append(month)
        else:
            runs.append([month])
    return ", ".join(
        periods.describe_month(run[0]) + (f" to {periods.describe_month(run[-1])}" if len(run) > 1 else "")
        for run in runs
    )


def for_borough(change_table: pd.DataFrame, available: pd.PeriodIndex, borough: str, year: int) -> pd.DataFrame:
    """The change rows of one borough and year, after checking the data cover the year."""
    check_year(available, year)
    rows = change_table[(change_table["borough"] == borough) & (change_table["year"] == year)]
    return rows.reset_index(drop=True)


def trend(annual_counts: pd.DataFrame, indicator: str, borough: str, year: int, years: int = 5) -> pd.DataFrame:
    """The borough's and London's annual counts for up to ``years`` complete years ending at ``year``.

    Columns: ``year, label, value, london_value, index, london_index, classification``;
    the two index columns are 100 in the first year shown, so borough and London can share
    an axis. Years in another classification than ``year`` are left out (not comparable).
    """
    rows = annual_counts[(annual_counts["indicator"] == indicator) & (annual_counts["months"] == 12)]
    rows = rows[(rows["year"] <= year) & (rows["year"] > year - years)]
    own = rows[rows["borough"] == borough].set_index("year")
    london = rows.groupby("year")["count"].sum()
    out = pd.DataFrame({"value": own["count"], "london_value": london, "classification": own["classification"]})
    current = out["classification"].get(year)
    out = out[out["classification"] == current] if current is not None else out.iloc[0:0]
    out = out.reset_index().rename(columns={"index": "year"})
    out.insert(1, "label", out["year"].map(periods.label))
    if len(out):
        out["index"] = out["value"] / out["value"].iloc[0] * 100
        out["london_index"] = out["london_value"] / out["london_value"].iloc[0] * 100
    else:
        out["index"] = out["london_index"] = pd.Series(dtype="float64")
    return out


def month_series(monthly_counts: pd.DataFrame, indicator: str, borough: str, year: int, years_before: int = 1) -> pd.DataFrame:
    """Monthly counts from April of ``year - years_before`` to March after ``year``.

    Columns: ``month, count, london_count, in_year`` (``in_year`` marks the reported year).
    """
    first = periods.months(year - years_before)[0]
    last = periods.months(year)[-1]
    rows = monthly_counts[(monthly_counts["indicator"] == indicator) & monthly_counts["month"].between(first, last)]
    own = rows[rows["borough"] == borough].set_index("month")["count"]
    london = rows.groupby("month")["count"].sum()
    out = pd.DataFrame({"count": own, "london_count": london}).reset_index()
    out["in_year"] = out["month"] >= periods.months(year)[0]
    return out
