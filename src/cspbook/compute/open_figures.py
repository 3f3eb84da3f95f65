"""The open figures in the indicator table of one borough and year: an open indicator's
row, a partner indicator's figure from its open source when no partner figure is supplied
(partner figures win), and for every row its own period, where it came from, its rates per
1,000 residents beside the count, and the open figures shown beside a measure with none."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cspbook import definitions
from cspbook.compute import open_indicators, rates
from cspbook.definitions import periods

FILLED = ["value", "previous_value", "change", "change_pct", "ci_low_pct", "ci_high_pct", "significant",
          "london_change_pct", "comparable", "note", "caution", "sources", "london_value", "london_previous",
          "period", "figure_source", "test_note", "p_value", "dispersion", "differs_from_london"]


def open_rows(data, year: int, months: int = 12) -> pd.DataFrame:
    """Every open figure of every borough for ``year`` (its first ``months`` months: a year to
    date), memoised on the dataset."""
    memo = _memo(data)
    if (year, months) not in memo:
        memo[(year, months)] = open_indicators.table(data.open, definitions.indicators(), year, definitions.boroughs(), months)
    return memo[(year, months)]


def _memo(data) -> dict:
    """What is computed from ``data`` alone (and the definitions it was computed with), kept
    while ``data`` is the dataset in use: a new dataset (new files or definitions) starts afresh."""
    memo = _MEMO.get(id(data))
    if memo is None or memo[0] is not data:
        _MEMO.clear()
        memo = _MEMO[id(data)] = (data, {})
    return memo[1]


_MEMO: dict = {}


def merge(data, report, rows: pd.DataFrame, defs: dict, months: int = 12) -> tuple[pd.DataFrame, pd.Series]:
    """``rows`` with the open figures in: an open indicator's, and a partner indicator's
    where it has no partner figure but the open source has one. The mask of rows filled.
    ``months`` < 12: the year to date (see :func:`cspbook.compute.open_indicators.tables`)."""
    rows = rows.copy()
    for col in FILLED:
        if col not in rows:
            rows[col] = pd.Series([None] * len(rows), index=rows.index, dtype="object")
    opened = pd.Series(False, index=rows.index)
    rows["open_unit"] = None
    table = open_rows(data, report.year, months)
    if table.empty:
        return rows, opened
    mine = table[table["borough"] == report.borough].set_index("indicator")
    for i, iid in rows["indicator"].items():
        ind = defs[iid]
        if iid not in mine.index:
            continue
        fig = mine.loc[iid]
        no_partner = pd.isna(rows.at[i, "value"]) and pd.isna(rows.at[i, "change_pct"])
        if ind.source == "open" or (ind.source == "partner" and no_partner and not pd.isna(fig["value"])):
            for col in FILLED:
                if col in fig.index:
                    rows.at[i, col] = fig[col]
            rows.at[i, "open_unit"] = fig["unit"]
            opened[i] = True
            told = " ".join(str(ind.open.get("definition_note", "")).split())
            if told:  # what the open figure counts, where the partner's measure was defined otherwise
                rows.at[i, "note"] = "; ".join(t for t in (told, fig.get("note") or "") if t)
        elif ind.source == "partner" and no_partner and fig.get("note"):
            rows.at[i, "test_note"] = f"open data: {fig['note']}"
    return rows, opened


def finish(rows: pd.DataFrame, data, report, defs: dict, period: periods.Period | None = None) -> None:
    """Fill, in place, the columns from ``period`` on: each figure's period and source,
    rates per 1,000 residents for police counts, and the measures shown beside. ``period``:
    the months the table covers (default the report's; a year to date is said as such)."""
    period = period or report.period
    whole = period is None or period.complete
    label = report.year_label if whole else period.title  # '2025-26 to date (April to November 2025)'
    source = rows["source"]
    default = np.where(source == "mps", f"{label}, financial year (April to March)" if whole else label, label)
    rows["period"] = rows["period"].fillna(pd.Series(default, index=rows.index)) if "period" in rows else default
    rows["figure_source"] = rows["figure_source"].fillna("") if "figure_source" in rows else ""
    rows.loc[source == "mps", "figure_source"] = "mps_borough_file"
    rows.loc[source == "partner", "figure_source"] = "partner"
    if whole:
        _rates(rows, data, report, defs)
    else:  # a rate per 1,000 residents is a year's: a part year has none
        _no_rates(rows)
        rows.loc[source != "partner", "rate_note"] = "no rate per 1,000 residents for a part year"
    tests = rows["test_note"].fillna("") if "test_note" in rows else pd.Series("", index=rows.index)
    rows["test_note"] = tests
    rows["beside"] = [", ".join(defs[i].beside) for i in rows["indicator"]]


def _no_rates(rows) -> None:
    for col in rates.RATE_COLUMNS:
        rows[col] = np.nan if col not in ("population_source", "rate_note") else ""
    for col in ["rate_rank", *rates.RANK_INTERVAL_COLUMNS]:
        rows[col] = pd.array([pd.NA] * len(rows), dtype="Int64")


def _all_rates(data, year: int, police: list[str], mps: pd.DataFrame, opened: pd.DataFrame, pop) -> pd.DataFrame:
    """Rates per 1,000 residents and their ranks for every borough (``mps``, ``opened``: the
    rows of ``police`` in ``year``, from ``data``), memoised on the dataset: every borough's
    table of a year asks for the same, and the preview's rebuild after a partner figure or a
    template changed asks again (0.1 s)."""
    memo, key = _memo(data), ("rates", year, tuple(police), tuple(opened["indicator"]) if not opened.empty else ())
    if key not in memo:
        parts = [rates.with_rates(mps, pop)]
        if not opened.empty and "london_value" in opened:
            parts.append(rates.with_rates(opened, pop))
        memo[key] = rates.with_rank_intervals(pd.concat(parts, ignore_index=True))
    return memo[key]


def _rates(rows, data, report, defs) -> None:
    _no_rates(rows)
    memo = _memo(data)
    if "populations" not in memo:
        memo["populations"] = rates.populations(data.open)
    pop = memo["populations"]
    if pop.empty:
        return
    police = [i for i in rows["indicator"]
              if defs[i].source == "mps" or (defs[i].open.get("per_1000") and (rows["indicator"] == i).any())]
    mps = data.changes[(data.changes["year"] == report.year) & data.changes["indicator"].isin(police)]
    opened = open_rows(data, report.year)
    if not opened.empty:
        opened = opened[opened["indicator"].isin(police) & opened["indicator"].map(lambda i: bool(defs[i].open.get("per_1000")))]
    both = _all_rates(data, report.year, police, mps, opened, pop)
    both = both[both["borough"] == report.borough].drop_duplicates("indicator", keep="last").set_index("indicator")
    for i, iid in rows["indicator"].items():
        if iid not in both.index or (rows.at[i, "source"] == "partner"):
            continue
        for col in rates.RATE_COLUMNS + rates.RANK_INTERVAL_COLUMNS:
            rows.at[i, col] = both.at[iid, col]
