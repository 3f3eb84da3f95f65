"""Indicators from the open sources (an ``open:`` block in ``data/indicators.yml``), every
borough of one financial year, in the shape of :func:`cspbook.compute.indicators.changes`
plus ``period`` (the figure's own period, said as it is) and ``figure_source``.

- ``financial_year_of_months``: the twelve months of the year summed (a borough-month with
  no row is 0 when the month is in the data); a year the source does not cover in full has
  no figure ("no data for 2025-26"), never a part year summed as a year. Changes, intervals
  and London as for the MPS file, with the open sources' breaks.
- ``calendar_year``: the value of the calendar year the financial year starts in.
- ``quarter_end_nearest_year_end``: the 12 months to the quarter end nearest the end of the
  financial year (March); when the source stops earlier, its latest period, said as such.
- ``financial_year``: the source's own financial year (a share of two counts).

:func:`tables` works out many years at once: each indicator's figures for every year asked
are computed together (one lookup), then cut into the years. No change is ranked.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cspbook.compute import indicators as mps
from cspbook.definitions import periods
from cspbook.definitions.sources import registry

MONTHS = pd.period_range("2000-01", "2000-01", freq="M")


def table(open_data, defs: dict, year: int, boroughs, months: int = 12) -> pd.DataFrame:
    """The rows of every indicator with an ``open:`` block, every borough, for ``year`` (its
    first ``months`` months: a year to date, for the monthly sources)."""
    return tables(open_data, defs, [year], boroughs, months)[int(year)]


def tables(open_data, defs: dict, years, boroughs, months: int = 12) -> dict[int, pd.DataFrame]:
    """:func:`table` of each of ``years`` (year -> frame). Each indicator is worked out for
    all the years at once, as blocks of rows (the years with a figure, the years without);
    the years whose indicators come from the same blocks share one concatenation.

    ``months`` < 12: a year to date. A monthly source gives the same first months of each year
    compared with those of the year before (tested, breaks checked on those months, as the
    MPS file's year to date); a source of whole periods gives its latest published, said as such;
    a source of the financial year has no figure for a part year."""
    years = list(dict.fromkeys(int(y) for y in years))
    boroughs = list(boroughs)
    blocks = []  # per indicator: [(frame, the years it holds)], each year in one of them
    for ind in defs.values():
        if not ind.open or open_data is None:
            continue
        frame = open_data.frame(ind.open["source"])
        kind = ind.open["period"]
        extra = {"indicator": ind.id, "figure_source": ind.open["source"], "unit": ind.open.get("unit", ind.unit)}
        if kind == "financial_year_of_months":
            blocks.append(_months(open_data, frame, ind, years, boroughs, extra, months))
        elif kind == "financial_year" and months < 12:  # whole financial years only: none for a part year
            said = [periods.Period(y, months).name for y in years]
            blocks.append(_blank(boroughs, [(y, f"no data for {s}", f"no data for {s}: the source publishes whole "
                                             "financial years") for y, s in zip(years, said)], extra))
        elif kind == "financial_year":
            blocks.append(_own_years(frame, ind, years, boroughs, extra))
        else:
            blocks.append(_yearly(frame, ind, years, boroughs, kind, extra, months))
    if not blocks:
        return {year: pd.DataFrame() for year in years}
    which = [{year: j for j, (_, held) in enumerate(mine) for year in held} for mine in blocks]
    alike: dict = {}  # the same block of every indicator: the same columns and dtypes
    for year in years:
        alike.setdefault(tuple(w[year] for w in which), []).append(year)
    out = {}
    for shape, group in alike.items():
        parts = [_years(*mine[j], group) for mine, j in zip(blocks, shape)]
        out.update(_by_year(pd.concat(parts, ignore_index=True), group))
    return {year: out[year] for year in years}


def _years(frame: pd.DataFrame, held, wanted) -> pd.DataFrame:
    """The rows of ``frame`` (holding the years ``held``) of the years ``wanted``."""
    if set(held) <= set(wanted):
        return frame
    return frame[np.isin(frame["year"].to_numpy(), wanted)]


def _by_year(frame: pd.DataFrame, years) -> dict[int, pd.DataFrame]:
    """The rows of each of ``years`` in the frame's order (none for a year it lacks)."""
    frame = frame.take(np.argsort(frame["year"].to_numpy(), kind="stable"))
    at = frame["year"].to_numpy()
    first, last = np.searchsorted(at, years, side="left"), np.searchsorted(at, years, side="right")
    return {year: frame.iloc[a:b].reset_index(drop=True) for year, a, b in zip(years, first, last)}


def _blank(boroughs, blanks, extra) -> list:
    """The block of the years with no figure (none when ``blanks`` is empty); ``blanks``
    holds (year, period, note) of each."""
    if not blanks:
        return []
    n = len(boroughs)
    year, period, note = ([b[i] for b in blanks] for i in range(3))
    frame = pd.DataFrame({"borough": boroughs * len(blanks), "year": np.repeat(year, n), "value": np.nan,
                          "previous_value": np.nan, "period": np.repeat(period, n), "note": np.repeat(note, n),
                          "comparable": False, "sources": "", **extra})
    return [(frame, year)]


def _changes(open_data, ind, rows, months, boroughs, counted: int = 12) -> pd.DataFrame:
    """Every year's changes of a monthly open indicator (computed once per dataset: see
    :func:`month_changes`, kept in the dataset pickle); ``counted`` < 12: over the first
    ``counted`` months of each year (a year to date)."""
    done = getattr(open_data, "changes", None)
    if counted == 12 and done is not None and ind.id in set(done["indicator"]):
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
    if counted == 12:
        return mps.changes(mps.annual(monthly), registry().breaks)
    from cspbook.compute.dataset import part_year

    return mps.changes(part_year(monthly, counted), registry().breaks, months=counted)


def month_changes(open_data, defs: dict, boroughs) -> pd.DataFrame | None:
    """The changes of every year of every monthly open indicator, in one frame."""
    parts = []
    for ind in defs.values():
        if ind.open and ind.open["period"] == "financial_year_of_months":
            rows = open_data.frame(ind.open["source"])
            rows = rows[rows["measure"] == ind.open["measure"]]
            if len(rows):
                months = pd.PeriodIndex(sorted(rows["period"].unique()), freq="M")
                parts.append(_changes(None, ind, rows, months, boroughs))
    return pd.concat(parts, ignore_index=True) if parts else None


def _months(open_data, frame, ind, years, boroughs, extra, counted: int = 12) -> list:
    rows = frame[frame["measure"] == ind.open["measure"]]
    months = pd.PeriodIndex(sorted(rows["period"].unique()), freq="M") if len(rows) else MONTHS[:0]
    blanks, whole = [], []
    for year in years:
        have = int(np.isin(periods.months(year)[:counted].asi8, months.asi8).sum())
        if have == counted:
            whole.append(year)
            continue
        said = periods.Period(year, counted).name
        what = f"no data for {said}"
        if len(months):
            what += (f" ({have} of its {counted} months are in the data; only whole periods are counted); the "
                     f"data run from {periods.describe_month(months[0])} to {periods.describe_month(months[-1])}")
        label = _label(year, counted)
        blanks.append((year, label if have else f"no data for {said}", what))
    out = _blank(boroughs, blanks, extra)
    if whole:
        changes = _changes(open_data, ind, rows, months, boroughs, counted)
        changes = changes[changes["year"].isin(whole)].drop(
            columns=["series", "classification", "previous_classification"], errors="ignore")
        labels = {year: _label(year, counted) for year in whole}
        out.append((changes.assign(period=changes["year"].map(labels).astype(str), **extra), whole))
    return out


def _label(year: int, counted: int) -> str:
    """'2024-25, financial year (April to March)', or '2025-26 to date (April to November 2025)'."""
    if counted == 12:
        return f"{periods.label(year)}, financial year (April to March)"
    return periods.Period(year, counted).title


def _wanted_period(kind: str, year: int) -> tuple[str, str]:
    """The source period a financial year asks for, and how to say it."""
    if kind == "calendar_year":
        return str(year), f"{year}, calendar year"
    return f"{year + 1}-03", f"12 months to March {year + 1}"


def _say(kind: str, period: str) -> str:
    if kind == "calendar_year":
        return f"{period}, calendar year"
    return f"12 months to {pd.Period(period, 'M').strftime('%B %Y')}"


def _yearly(frame, ind, years, boroughs, kind, extra, counted: int = 12) -> list:
    """A value per period (rates or shares): the wanted period, else the latest published."""
    rows = frame[frame["measure"] == ind.open["measure"]]
    scale = float(ind.open.get("scale", 1))
    available = sorted(rows["period"].unique())
    blanks, found = [], []  # found: (year, the period shown, the period before, label, note)
    for year in years:
        wanted, label = _wanted_period(kind, year)
        nothing = f"no data for {periods.Period(year, counted).name}"
        earlier = [p for p in available if p < wanted]
        if not available or (wanted not in available and not earlier):
            blanks.append((year, nothing, nothing))
            continue
        note = ""
        if wanted not in available:
            wanted = earlier[-1]
            label = f"latest published: {_say(kind, wanted)}"
            note = f"{nothing}; the latest the source has is shown ({_say(kind, wanted)})"
        previous = str(int(wanted) - 1) if kind == "calendar_year" else str(pd.Period(wanted, "M") - 12)
        found.append((year, wanted, previous, label, note))
    out = _blank(boroughs, blanks, extra)
    if not found:
        return out
    n, k = len(boroughs), len(found)
    shown, before, labels, notes = ([f[i] for f in found] for i in range(1, 5))
    need = sorted(set(shown) | set(before))
    at = {period: i for i, period in enumerate(need)}
    wide = rows.pivot(index="period", columns="area", values="value").reindex(
        index=pd.Index(need, dtype=object), columns=pd.Index(boroughs + ["London"], dtype=object)).to_numpy()
    now, then = wide[[at[p] for p in shown]] * scale, wide[[at[p] for p in before]] * scale
    london = np.repeat(np.stack([now[:, n], then[:, n]]), n, axis=1)
    frame = _compare({"borough": boroughs * k, "year": np.repeat([f[0] for f in found], n),
                      "value": now[:, :n].ravel(), "previous_value": then[:, :n].ravel(),
                      "period": np.repeat(labels, n), "note": np.repeat(notes, n),
                      "sources": "; ".join(sorted(rows["file"].unique()))}, ind, london, extra)
    return out + [(frame, [f[0] for f in found])]


def _compare(columns: dict, ind, london, extra,
             test_note="no significance test: the source publishes rates or shares without counts") -> pd.DataFrame:
    """``columns`` (borough, year, value, previous_value, ...) with the change (points for a
    share, % for a rate) and London's; no interval: the source gives no counts; no rank (no
    change is ranked). ``london``: London's value and the one before, for each row."""
    share = ind.open.get("unit", ind.unit) == "percent"
    value, previous = np.asarray(columns["value"], dtype="float64"), np.asarray(columns["previous_value"], dtype="float64")
    comparable = ~np.isnan(value) & ~np.isnan(previous)
    with np.errstate(divide="ignore", invalid="ignore"):
        change = value - previous
        pct = (value - previous) / previous * 100
        london_pct = (london[0] - london[1]) / london[1] * 100
    return pd.DataFrame({
        **columns, "comparable": comparable, "change": change, "change_pct": np.nan if share else pct,
        "london_value": london[0], "london_previous": london[1], "london_change_pct": np.nan if share else london_pct,
        "ci_low_pct": np.nan, "ci_high_pct": np.nan, "significant": pd.NA, "caution": "", "test_note": test_note, **extra})


def _own_years(frame, ind, years, boroughs, extra) -> list:
    """A share of two counts in the source's own financial years (e.g. drug treatment)."""
    num, den = ind.open["numerator"], ind.open["denominator"]
    present = np.isin(boroughs, frame["area"].unique())
    what = registry().sources[ind.open["source"]].dataset.split(",")[0]  # e.g. 'NDTMS ViewIt export'
    counts = frame[frame["measure"].isin([num, den])]
    by = counts.pivot(index=["area", "period"], columns="measure", values="value")
    n, k = len(boroughs), len(years)

    def shares(of_years):
        key = pd.MultiIndex.from_arrays([boroughs * k, np.repeat([periods.label(y) for y in of_years], n)])
        got = by.reindex(index=key, columns=[num, den])
        top, bottom = got[num].to_numpy(dtype="float64"), got[den].to_numpy(dtype="float64")
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(~np.isnan(top) & ~np.isnan(bottom) & (bottom != 0), top / bottom * 100, np.nan)

    now, before = shares(years), shares([y - 1 for y in years])
    here = np.tile(present, k)
    label = np.repeat([periods.label(y) for y in years], n)
    note = np.where(~here, [f"no {what} for {b} is present in the open data" for b in boroughs * k],
                    np.where(np.isnan(now), np.char.add("no figure for ", np.char.add(label, " in the export")), ""))
    label = np.char.add(label, ", financial year (April to March)").astype(object)
    columns = {"borough": boroughs * k, "value": np.where(here, now, np.nan),
               "previous_value": np.where(here, before, np.nan), "note": note.astype(object),
               "year": np.repeat(years, n), "period": label,
               "sources": "; ".join(sorted(frame["file"].unique())) if len(frame) else ""}
    out = _compare(columns, ind, np.full((2, n * k), np.nan), extra,
                   "no significance test: the publisher rounds the counts to the nearest 5")
    return [(out, years)]
