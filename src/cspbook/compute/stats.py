"""Statistics for year-on-year changes in counts.

Counts of offences in a year are treated as Poisson. The change from ``previous`` to
``current`` is measured by the rate ratio ``current / previous``; its 95% confidence
interval is the standard large-sample interval on the log scale,

    exp( log(current / previous) +/- 1.96 * sqrt(1/current + 1/previous) ),

and the change is *significant* when that interval excludes a ratio of 1 (no change).
This is the Wald test for the ratio of two Poisson rates over equal exposure (one year
each); it is accurate for the counts of hundreds a borough records, and cspbook reports no
interval when either count is zero.
"""

from __future__ import annotations

import numpy as np

Z95 = 1.959963984540054


def change_pct(current, previous):
    """Percentage change; a previous count of 0 gives NaN, not inf.

    >>> float(change_pct(110, 100))
    10.0
    >>> float(change_pct(5, 0))
    nan
    """
    current = np.asarray(current, dtype="float64")
    previous = np.asarray(previous, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (current - previous) / previous * 100.0
    return np.where(previous > 0, out, np.nan)


def poisson_change_interval(current, previous, z: float = Z95):
    """95% interval for the % change between two Poisson counts (log rate-ratio method).

    Returns ``(low_pct, high_pct)`` arrays; NaN where either count is zero or missing.

    >>> low, high = poisson_change_interval(1711, 1573)
    >>> round(float(low), 1), round(float(high), 1)
    (1.6, 16.5)
    >>> poisson_change_interval(0, 10)
    (array(nan), array(nan))
    """
    current = np.asarray(current, dtype="float64")
    previous = np.asarray(previous, dtype="float64")
    ok = (current > 0) & (previous > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(current / previous)
        se = np.sqrt(1.0 / current + 1.0 / previous)
        low = (np.exp(log_ratio - z * se) - 1.0) * 100.0
        high = (np.exp(log_ratio + z * se) - 1.0) * 100.0
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def significant(low_pct, high_pct):
    """True where the interval excludes 0% (no change); False where it includes it or is NaN.

    >>> significant([2.0, -1.0, float("nan")], [15.8, 3.0, float("nan")]).tolist()
    [True, False, False]
    """
    low = np.asarray(low_pct, dtype="float64")
    high = np.asarray(high_pct, dtype="float64")
    return ((low > 0) | (high < 0)) & ~np.isnan(low)
