"""The latest twelve months: where things stand now, whatever year a book reports on.

The twelve months to the latest month in the data against the twelve months before, for one
borough and London, from one series (the newest that has all 24 months), with the breaks of
``data/classification.yml`` applied to the months compared (a break after the first month
compared and no later than the last: *not comparable* shows no change, *caution* gives the
reason; a change of classification that no break decides is not comparable).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from cspbook.compute import stats
from cspbook.definitions import periods


@dataclass(frozen=True)
class Window:
    """Twelve months to ``last`` against the twelve months before."""

    last: pd.Period

    @property
    def months(self) -> pd.PeriodIndex:
        return pd.period_range(end=self.last, periods=12, freq="M")

    @property
    def before(self) -> pd.PeriodIndex:
        return pd.period_range(end=self.last - 12, periods=12, freq="M")

    @property
    def span(self) -> str:
        """'December 2024 to November 2025'."""
        return f"{periods.describe_month(self.months[0])} to {periods.describe_month(self.months[-1])}"

    @property
    def before_span(self) -> str:
        return f"{periods.describe_month(self.before[0])} to {periods.describe_month(self.before[-1])}"


def window(monthly_counts: pd.DataFrame) -> Window | None:
    """The latest twelve months of the data (None when the data hold fewer than 24 months)."""
    if monthly_counts.empty:
        return None
    last = monthly_counts["month"].max()
    first = monthly_counts["month"].min()
    return Window(last) if (last - first).n >= 23 else None


def _series(monthly_counts: pd.DataFrame, win: Window, order) -> str | None:
    """The newest series (first in ``order``) that has all 24 months."""
    need = set(win.before) | set(win.months)
    for sid in order:
        have = set(monthly_counts.loc[monthly_counts["series"] == sid, "month"].unique())
        if need <= have:
            return sid
    return None


def changes(monthly_counts: pd.DataFrame, indicators: dict, breaks, order, borough: str,
            london: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per MPS indicator: ``indicator, series, value, previous_value, change,
    change_pct, london_value, london_previous, london_change_pct, comparable, note, caution,
    lower_is_better, unit, label, source, borough, year`` for the latest twelve months of ``borough``
    (empty when the data hold fewer than 24 months of one series). London is the whole MPS
    (``london``: monthly counts over every row of the files) or, when not given, the boroughs."""
    win = window(monthly_counts)
    sid = _series(monthly_counts, win, order) if win is not None else None
    if sid is None:
        return pd.DataFrame(columns=["indicator", "series", "value", "previous_value", "change_pct", "comparable"])
    rows = monthly_counts[(monthly_counts["series"] == sid)
                          & monthly_counts["month"].between(win.before[0], win.months[-1])]
    now = rows["month"] >= win.months[0]
    out = []
    for ind, group in rows.groupby("indicator", observed=True, sort=False):
        defn = indicators[str(ind)]
        in_now = now[group.index]
        own = group["borough"] == borough
        value, previous = int(group.loc[own & in_now, "count"].sum()), int(group.loc[own & ~in_now, "count"].sum())
        whole = group if london is None else london[(london["indicator"] == ind) & (london["series"] == sid)
                                                    & london["month"].between(win.before[0], win.months[-1])]
        whole_now = whole["month"] >= win.months[0]
        london_now, london_before = int(whole.loc[whole_now, "count"].sum()), int(whole.loc[~whole_now, "count"].sum())
        classes = (set(group.loc[~in_now, "classification"].astype(str)), set(group.loc[in_now, "classification"].astype(str)))
        comparable, note, caution = _decide(breaks, sid, str(ind), win, classes, borough)
        out.append({
            "indicator": str(ind), "series": sid, "borough": borough, "value": float(value), "previous_value": float(previous),
            "change": float(value - previous), "london_value": float(london_now), "london_previous": float(london_before),
            "comparable": comparable, "note": note, "caution": caution, "label": defn.label, "source": defn.source,
            "unit": defn.unit, "lower_is_better": defn.lower_is_better,
            "year": f"the twelve months to {periods.describe_month(win.last)}",
        })
    frame = pd.DataFrame(out)
    frame["change_pct"] = stats.change_pct(frame["value"], frame["previous_value"])
    frame["london_change_pct"] = stats.change_pct(frame["london_value"], frame["london_previous"])
    for col in ("change", "change_pct", "london_change_pct"):
        frame.loc[~frame["comparable"], col] = np.nan
    return frame


def _decide(breaks, series: str, indicator: str, win: Window, classes, borough: str) -> tuple[bool, str, str]:
    """(comparable, note, caution) of a change over ``win`` under the decided breaks."""
    first, last = win.before[0], win.months[-1]
    decided, cautions = False, []
    for brk in breaks:
        month = pd.Period(brk.month, "M")
        if not (first < month <= last and brk.applies(series, indicator, borough)):
            continue
        decided = True
        if brk.decision == "not_comparable":
            return False, f"not comparable: {brk.reason}", ""
        if brk.decision == "caution":
            cautions.append(brk.reason)
    if not decided and (len(classes[0] | classes[1]) > 1):
        return False, ("not comparable: the two periods are counted in different crime categories and no decision "
                       "about the change is recorded in data/classification.yml"), ""
    return True, "", "; ".join(cautions)
