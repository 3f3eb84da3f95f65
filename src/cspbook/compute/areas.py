"""Movements of crimes between a row that is not a borough (the airports, 'Unknown') and one
borough, found in the data: the evidence behind a borough's own break in
``data/classification.yml``.

A non-borough row that starts (or stops) holds crimes that were counted in a borough before
(or are counted there after). Over the months the row runs, the borough that gave them up
dips below the same months a year before and a year after by about the row's size; comparing
with both sides takes out the season and a straight-line trend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

MIN_LEVEL = 100  # crimes a month: smaller rows (a handful of crimes) are no evidence of a movement
TOLERANCE = 0.25  # the borough's dip must match the row's size within this share of it


@dataclass(frozen=True)
class Move:
    """A run of months in which a non-borough ``area`` held crimes that ``borough`` held
    outside it; ``first``/``last`` are the run's months, ``starts``/``stops`` whether the
    row starts and stops within the data."""

    series: str
    area: str
    borough: str
    first: pd.Period
    last: pd.Period
    level: float  # the area's mean count a month over the run
    dip: float  # the borough's mean count a month over the run, less the same months a year before and after
    starts: bool
    stops: bool


def _runs(counts: pd.Series):
    """(first, last) positions of each run of non-zero months."""
    nonzero = (counts.to_numpy() > 0).astype(int)
    edges = np.diff(np.concatenate([[0], nonzero, [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))


def moves(areas_monthly: pd.DataFrame, monthly: pd.DataFrame, indicator: str = "total_notifiable_offences") -> list[Move]:
    """Every movement of crimes between a non-borough row and one borough in the data, from the
    monthly ``indicator`` counts of the other areas (``areas_monthly``) and of the boroughs.

    >>> months = pd.period_range("2020-04", periods=48, freq="M")
    >>> area = [0] * 24 + [400] * 12 + [0] * 12
    >>> a = pd.DataFrame({"indicator": "t", "series": "s", "borough": "Airport", "month": months, "count": area})
    >>> b = pd.DataFrame({"indicator": "t", "series": "s", "borough": ["X"] * 48 + ["Y"] * 48, "month": list(months) * 2,
    ...     "count": [2000 - v for v in area] + [3000] * 48})
    >>> [(m.borough, str(m.first), str(m.last), m.level, m.dip) for m in moves(a, b, "t")]
    [('X', '2022-04', '2023-03', 400.0, -400.0)]
    """
    found = []
    if areas_monthly is None or not len(areas_monthly):
        return found
    for (series, area), rows in areas_monthly[areas_monthly["indicator"] == indicator].groupby(
            ["series", "borough"], observed=True):
        counts = rows.set_index("month")["count"].sort_index()
        boroughs = monthly[(monthly["indicator"] == indicator) & (monthly["series"] == series)].pivot_table(
            index="month", columns="borough", values="count", aggfunc="sum", observed=True).sort_index()
        for i, j in _runs(counts):
            starts, stops = i > 0, j < len(counts) - 1
            level = float(counts.iloc[i:j + 1].mean())
            if not (starts or stops) or level < MIN_LEVEL:
                continue
            run = counts.index[i:j + 1]
            dips = _dips(boroughs, run)
            if dips is None or dips.empty:
                continue
            best = (dips + level).abs().idxmin()
            if abs(dips[best] + level) <= TOLERANCE * level:
                found.append(Move(str(series), str(area), str(best), run[0], run[-1], level, float(dips[best]), starts, stops))
    return found


def _dips(boroughs: pd.DataFrame, run) -> pd.Series | None:
    """Each borough's mean over ``run`` less the mean of the same months a year before and a
    year after (only the side the data have, when one is missing)."""
    before = [m - 12 for m in run]
    after = [m + 12 for m in run]
    sides = [boroughs.reindex(s).to_numpy() for s in (before, after) if all(m in boroughs.index for m in s)]
    if not sides:
        return None
    around = sum(sides) / len(sides)
    return pd.Series((boroughs.reindex(run).to_numpy() - around).mean(axis=0), index=boroughs.columns)
