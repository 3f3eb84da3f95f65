"""Indicators from the open sources (an ``open:`` block in ``data/indicators.yml``), every
borough of one financial year, in the shape of :func:`cspbook.compute.indicators.changes`
plus ``period`` (the figure's own period, said as it is) and ``figure_source``.

- ``financial_year_of_months``: the twelve months of the year summed (a borough-month with
  no row is 0 when the month is in the data); a year the source does not cover in full has
  no figure ("no data for 2025-26"), never a part year summed as a year. Changes, intervals,
  London and rank as for the MPS file, with the open sources' breaks.
- ``calendar_year``: the value of the calendar year the financial year starts in.
- ``quarter_end_nearest_year_end``: the 12 months to the quarter end nearest the end of the
  financial year (March); when the source stops earlier, its latest period, said as such.
- ``financial_year``: the source's own financial year (a share of two counts).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cspbook.compute import indicators as mps
from cspbook.definitions import periods
from cspbook.definitions.sources import registry

MONTHS = pd.period_range("2000-01", "2000-01", freq="M")


def table(open_data, defs: dict, year: int, boroughs) -> pd.DataFrame:
    """The rows of every indicator with an ``open:`` block, every borough, for ``year``."""
    parts = []
    for ind in defs.values():
        if not ind.open or open_data is None:
            continue
        frame = open_data.frame(ind.open["source"])
        kind = ind.open["period"]
        if kind == "financial_year_of_months":
            part = _months(open_data, frame, ind, defs, year, boroughs)
        elif kind == "financial_year":
            part = _own_years(frame, ind, year, boroughs)
        else:
            part = _yearly(frame, ind, year, boroughs, kind)
        parts.append(part.assign(indicator=ind.id, figure_source=ind.open["source"],
                                 unit=ind.open.get("unit", ind.unit)))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _blank(boroughs, year, period, note) -> pd.DataFrame:
    return pd.DataFrame({"borough": list(boroughs), "year": year, "value": np.nan, "previous_value": np.nan,
                         "period": period, "note": note, "comparable": False, "sources": ""})


def _changes(open_data, ind, rows, months, defs, boroughs) -> pd.DataFrame:
    """Every year's changes of a monthly open indicator (computed once per dataset: see
    :func:`month_changes`, kept in the dataset pickle)."""
    done = getattr(open_data, "changes", None)
    if done is not None and ind.id in set(done["indicator"]):
        return done[done["indicator"] == ind.id]
    keep = rows[rows["area"].isin(list(boroughs))]
    grid = pd.MultiIndex.from_product([list(boroughs), months.strftime("%Y-%m")], names=["area", "period"])
    counts = keep.groupby(["area", "period"])["value"].sum().reindex(grid, fill_value=0.0)
    files = rows.drop_duplicates("period").set_index("period")["file"]
    monthly = pd.DataFrame({
        "indicator": ind.id, "series": ind.open["source"],
        "borough": grid.get_level_values("area"),
        "month": pd.PeriodIndex(grid.get_level_values("period"), freq="M"),
        "count": counts.to_numpy(), "classification": ind.open["source"],
        "source": files.reindex(grid.get_level_values("period")).to_numpy(),
    })
    return mps.changes(mps.annual(monthly), defs, registry().breaks)


def month_changes(open_data, defs: dict, boroughs) -> pd.DataFrame | None:
    """The changes of every year of every monthly open indicator, in one frame."""
    parts = []
    for ind in defs.values():
        if ind.open and ind.open["period"] == "financial_year_of_months":
            rows = open_data.frame(ind.open["source"])
            rows = rows[rows["measure"] == ind.open["measure"]]
            if len(rows):
                months = pd.PeriodIndex(sorted(rows["period"].unique()), freq="M")
                parts.append(_changes(None, ind, rows, months, defs, boroughs))
    return pd.concat(parts, ignore_index=True) if parts else None


def _months(open_data, frame, ind, defs, year, boroughs) -> pd.DataFrame:
    rows = frame[frame["measure"] == ind.open["measure"]]
    months = pd.PeriodIndex(sorted(rows["period"].unique()), freq="M") if len(rows) else MONTHS[:0]
    wanted = periods.months(year)
    have = int(np.isin(wanted, months).sum())
    label = f"{periods.label(year)}, financial year (April to March)"
    if have < 12:
        what = f"no data for {periods.label(year)}"
        if len(months):
            what += (f" ({have} of its 12 months are in the data; a part year is never summed as a year); the data run "
                     f"from {periods.describe_month(months[0])} to {periods.describe_month(months[-1])}")
        return _blank(boroughs, year, label if have else f"no data for {periods.label(year)}", what)
    changes = _changes(open_data, ind, rows, months, defs, boroughs)
    out = changes[changes["year"] == year].copy()
    out["period"] = label
    return out.drop(columns=["series", "classification", "previous_classification"], errors="ignore")


def _wanted_period(kind: str, year: int) -> tuple[str, str]:
    """The source period a financial year asks for, and how to say it."""
    if kind == "calendar_year":
        return str(year), f"{year}, calendar year"
    return f"{year + 1}-03", f"12 months to March {year + 1}"


def _say(kind: str, period: str) -> str:
    if kind == "calendar_year":
        return f"{period}, calendar year"
    return f"12 months to {pd.Period(period, 'M').strftime('%B %Y')}"


def _yearly(frame, ind, year, boroughs, kind) -> pd.DataFrame:
    """A value per period (rates or shares): the wanted period, else the latest published."""
    rows = frame[frame["measure"] == ind.open["measure"]]
    scale = float(ind.open.get("scale", 1))
    wanted, label = _wanted_period(kind, year)
    available = sorted(rows["period"].unique())
    if not available:
        return _blank(boroughs, year, f"no data for {periods.label(year)}", f"no data for {periods.label(year)}")
    note = ""
    if wanted not in available:
        earlier = [p for p in available if p < wanted]
        if not earlier:
            return _blank(boroughs, year, f"no data for {periods.label(year)}", f"no data for {periods.label(year)}")
        wanted = earlier[-1]
        label = f"latest published: {_say(kind, wanted)}"
        note = f"no data for {periods.label(year)}; the latest the source has is shown ({_say(kind, wanted)})"
    previous = str(int(wanted) - 1) if kind == "calendar_year" else str(pd.Period(wanted, "M") - 12)
    by = rows.set_index(["area", "period"])["value"]
    value = by.reindex([(b, wanted) for b in boroughs]).to_numpy() * scale
    before = by.reindex([(b, previous) for b in boroughs]).to_numpy() * scale
    london = by.reindex([("London", wanted), ("London", previous)]).to_numpy() * scale
    out = pd.DataFrame({"borough": list(boroughs), "year": year, "value": value, "previous_value": before,
                        "period": label, "note": note, "sources": "; ".join(sorted(rows["file"].unique()))})
    return _compare(out, ind, london, kind)


def _compare(out, ind, london, kind) -> pd.DataFrame:
    """Change (points for a share, % for a rate), London's and the rank; no interval: the
    source gives no counts."""
    share = ind.open.get("unit", ind.unit) == "percent"
    out["comparable"] = out["value"].notna() & out["previous_value"].notna()
    out["change"] = out["value"] - out["previous_value"]
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = (out["value"] - out["previous_value"]) / out["previous_value"] * 100
        london_pct = (london[0] - london[1]) / london[1] * 100
    out["change_pct"] = np.nan if share else pct
    out["london_value"], out["london_previous"] = london[0], london[1]
    out["london_change_pct"] = np.nan if share else london_pct
    score = (out["change"] if share else out["change_pct"]) * (1.0 if ind.lower_is_better else -1.0)
    out["london_rank"] = score.where(out["comparable"]).rank(method="min").astype("Int64")
    out["ci_low_pct"] = out["ci_high_pct"] = np.nan
    out["significant"] = pd.NA
    out["caution"] = ""
    out["test_note"] = "no significance test: the source publishes rates or shares without counts"
    return out


def _own_years(frame, ind, year, boroughs) -> pd.DataFrame:
    """A share of two counts in the source's own financial years (e.g. drug treatment)."""
    num, den = ind.open["numerator"], ind.open["denominator"]
    label = f"{periods.label(year)}, financial year (April to March)"
    areas = set(frame["area"])
    what = registry().sources[ind.open["source"]].dataset.split(",")[0]  # e.g. 'NDTMS ViewIt export'
    by = frame.set_index(["area", "period", "measure"])["value"]
    rows = []
    for borough in boroughs:
        if borough not in areas:
            rows.append((borough, np.nan, np.nan, f"no {what} for {borough} is present in the open data"))
            continue
        shares = []
        for y in (year, year - 1):
            n, d = by.get((borough, periods.label(y), num)), by.get((borough, periods.label(y), den))
            shares.append(n / d * 100 if n is not None and d and not np.isnan(n) and not np.isnan(d) else np.nan)
        note = "" if not np.isnan(shares[0]) else f"no figure for {periods.label(year)} in the export"
        rows.append((borough, shares[0], shares[1], note))
    out = pd.DataFrame(rows, columns=["borough", "value", "previous_value", "note"])
    out["year"], out["period"] = year, label
    out["sources"] = "; ".join(sorted(frame["file"].unique())) if len(frame) else ""
    out = _compare(out, ind, np.array([np.nan, np.nan]), "financial_year")
    out["test_note"] = "no significance test: the publisher rounds the counts to the nearest 5"
    return out
