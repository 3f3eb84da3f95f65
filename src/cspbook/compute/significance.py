"""What may be said about a change: London over the whole MPS, the dispersion of each
monthly series, and the exact test of each change that nothing stands in the way of.

A change is tested only when it is comparable and spans no break to interpret with caution:
a significance test measures chance, not a change of counting rules (ONS, *User guide to crime
statistics for England and Wales*: police recorded crime is a full count, and a change across a
recording change is not tested). Everything else gets NA: not tested, never "not significant".
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cspbook.compute import stats

KEYS = ["indicator", "series", "year"]


def london_totals(changes: pd.DataFrame, london: pd.DataFrame | None = None) -> pd.DataFrame:
    """London's two years per indicator, series and year: ``london_value, london_previous,
    london_change_pct``; from ``london`` (annual counts of the whole MPS: columns
    ``indicator, series, year, count, months``) when given, else the sum of the boroughs.

    >>> ch = pd.DataFrame({"indicator": "a", "series": "s", "year": 2024, "value": [10, 20], "previous_value": [10, 10]})
    >>> london_totals(ch)[["london_value", "london_previous"]].to_dict("records")
    [{'london_value': 30, 'london_previous': 20}]
    >>> whole = pd.DataFrame({"indicator": "a", "series": "s", "year": [2023, 2024], "count": [25, 31], "months": 12})
    >>> london_totals(ch, whole)[["london_value", "london_previous"]].to_dict("records")
    [{'london_value': 31.0, 'london_previous': 25.0}]
    """
    if london is None:
        out = changes.groupby(KEYS)[["value", "previous_value"]].sum(min_count=1)
        out.columns = ["london_value", "london_previous"]
        out = out.reset_index()
    else:
        full = london[london["months"] == 12][KEYS + ["count"]]
        wanted = changes[KEYS].drop_duplicates()
        this = full.rename(columns={"count": "london_value"})
        last = full.assign(year=full["year"] + 1).rename(columns={"count": "london_previous"})
        out = wanted.merge(this, on=KEYS, how="left").merge(last, on=KEYS, how="left")
        out[["london_value", "london_previous"]] = out[["london_value", "london_previous"]].astype("float64")
    out["london_change_pct"] = stats.change_pct(out["london_value"], out["london_previous"])
    return out


def dispersions(monthly_counts: pd.DataFrame) -> pd.DataFrame:
    """The dispersion factor phi of each change: for the change of ``year`` against the year
    before, the Pearson chi-square of the borough's 24 monthly counts about their expected
    values, over 22 degrees of freedom (24 months less the two yearly levels), at least 1.

    The expected count of a month is the borough's total for its financial year shared out
    as London's (the sum of the boroughs) is over that year's months: the yearly level of
    the borough with London's seasons. Seasons are left out of phi because every year has
    them: they do not make one year's total vary more than Poisson. Columns ``indicator,
    series, borough, year, dispersion``.

    >>> m = pd.DataFrame({"indicator": "a", "series": "s", "borough": ["B"] * 24 + ["C"] * 24,
    ...     "month": list(pd.period_range("2010-04", periods=24, freq="M")) * 2, "count": [5, 25] * 12 + [10] * 24})
    >>> d = dispersions(m).set_index("borough")["dispersion"]   # London 15, 35, ...: B expects 9, 21; C 6, 14
    >>> round(float(d["B"]), 3), round(float(d["C"]), 3)    # B: (16/9 + 16/21) x 12 / 22; C: (16/6 + 16/14) x 12 / 22
    (1.385, 2.078)
    """
    ordinals = monthly_counts["month"].array.asi8
    frame = pd.DataFrame({
        "indicator": monthly_counts["indicator"].astype(str), "series": monthly_counts["series"].astype(str),
        "borough": monthly_counts["borough"].astype(str), "year": (ordinals - 3) // 12 + 1970,
        "month": ordinals, "x": monthly_counts["count"].astype("float64"),
    })
    keys = ["indicator", "series", "borough", "year"]
    frame["n"] = frame.groupby(keys, sort=False)["x"].transform("size")
    frame["total"] = frame.groupby(keys, sort=False)["x"].transform("sum")
    london = frame.groupby(["indicator", "series", "month"], sort=False)["x"].transform("sum")
    frame["share"] = london / frame.groupby(["indicator", "series", "year"], sort=False)["x"].transform("sum")
    expected = frame["total"] * frame["share"]
    with np.errstate(invalid="ignore", divide="ignore"):
        frame["chi2"] = np.where(expected > 0, (frame["x"] - expected) ** 2 / expected, 0.0)
    per = frame[frame["n"] == 12].groupby(keys, sort=False)["chi2"].sum().reset_index()
    prev = per.assign(year=per["year"] + 1)
    both = per.merge(prev, on=keys, suffixes=("", "_prev"))
    both["dispersion"] = np.maximum(1.0, (both["chi2"] + both["chi2_prev"]) / 22.0)
    return both[keys + ["dispersion"]]


def judge(out: pd.DataFrame, dispersion: pd.DataFrame | None = None) -> pd.DataFrame:
    """Add ``dispersion, p_value, ci_low_pct, ci_high_pct, significant, differs_from_london``
    to the change rows ``out`` (with London's columns): each NA or NaN where the change is
    not tested (not comparable, or across a break to interpret with caution).

    ``differs_from_london`` tests the borough against the rest of London with the same
    exact test: conditional on the borough's two-year total, its share in this year is
    compared with the rest of London's share (the rest's counts, about 30 times larger, taken
    as known).
    """
    out = out.copy()
    if dispersion is not None and len(dispersion):
        out = out.merge(dispersion, on=["indicator", "series", "borough", "year"], how="left")
        out["dispersion"] = out["dispersion"].fillna(1.0)
    else:
        out["dispersion"] = 1.0
    tested = (out["comparable"] & (out["caution"] == "") & out["previous_value"].notna()).to_numpy()
    cur = out["value"].where(tested).astype("float64")
    prev = out["previous_value"].where(tested).astype("float64")
    phi = out["dispersion"].to_numpy()
    out["p_value"] = stats.exact_test(cur, prev, phi)
    out["ci_low_pct"], out["ci_high_pct"] = stats.exact_interval(cur, prev, phi)
    out["significant"] = stats.significant_p(out["p_value"])
    rest_cur = out["london_value"] - out["value"]
    rest_prev = out["london_previous"] - out["previous_value"]
    with np.errstate(invalid="ignore", divide="ignore"):
        share = (rest_cur / (rest_cur + rest_prev)).to_numpy(dtype="float64")
    ok = tested & (rest_cur + rest_prev > 0).to_numpy() & ~np.isnan(share)
    p_london = stats.exact_test(cur.where(ok), prev.where(ok), phi, np.where(ok, share, 0.5))
    out["differs_from_london"] = stats.significant_p(p_london)
    return out
