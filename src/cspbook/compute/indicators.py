"""Indicators computed from the validated MPS files: pure functions, no I/O.

Pipeline: wide files -> :func:`monthly` (indicator x series x borough x month, each month
of a series from the newest file of that series) -> :func:`annual` (financial years) ->
:func:`changes` (year-on-year change within each series, Poisson interval, London change,
the breaks of ``data/classification.yml``; no change is ranked) -> :func:`select` (for each
year, the one series its figures come from); :func:`for_borough` picks one borough and year
and checks that the data cover it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cspbook.compute import significance, stats
from cspbook.data import load
from cspbook.definitions import Break, Indicator, periods
from cspbook.errors import PeriodError

MIXED = "mixed"


def monthly(wides: list[pd.DataFrame], indicators: dict[str, Indicator], boroughs, supplied=None) -> pd.DataFrame:
    """Monthly count of each MPS indicator for every borough, series and month in the data.

    Columns: ``indicator, series, borough, month, count, classification, source``. Each
    month of a series is counted from one file only (``supplied``: the months each file
    supplies, :func:`cspbook.data.load.supplies` when not given); a
    borough with no row for a category counts 0 for it (MPS files omit all-zero rows); rows
    of areas that are not boroughs are left out.

    >>> wide = pd.DataFrame({"borough": ["A", "A", "B", "Heathrow"], "major": ["Burglary"] * 4,
    ...     "minor": ["Burglary in a Dwelling", "Burglary in Other Buildings", "Burglary in a Dwelling",
    ...               "Burglary in a Dwelling"], "201104": [3, 4, 5, 100]})
    >>> wide.attrs.update(classification="mps_previous", series="s", source="f.csv")
    >>> ind = Indicator("burglary", "Burglary", "", "p", "mps", "offences", True,
    ...     {"mps_previous": ("Burglary in a Dwelling",)})
    >>> monthly([wide], {"burglary": ind}, ["A", "B", "C"])[["borough", "count"]].to_dict("list")
    {'borough': ['A', 'B', 'C'], 'count': [3, 5, 0]}
    """
    boroughs = list(boroughs)
    mps = [ind for ind in indicators.values() if ind.source == "mps"]
    parts = []
    for wide, months in zip(wides, load.supplies(wides) if supplied is None else supplied):
        if not len(months) or not mps:
            continue
        cid = wide.attrs.get("classification", "")
        codes = pd.Index(boroughs).get_indexer(wide["borough"])
        in_borough = codes >= 0
        columns = load.month_ordinals(wide)
        keep = np.isin(columns, months)
        counts = wide[[c for c in wide.columns if c not in load.KEYS]].to_numpy()[:, keep]
        minors = wide["minor"].to_numpy()
        # One matrix product per file: weights[indicator, borough, row] is 1 where the row is
        # in the borough and counted by the indicator (exact: counts are far below 2**53).
        weights = np.zeros((len(mps), len(boroughs), len(wide)))
        for k, ind in enumerate(mps):
            wanted = ind.categories.get(cid, ())
            rows = in_borough & (True if wanted == "all" else np.isin(minors, list(wanted)))
            weights[k, codes[rows], np.flatnonzero(rows)] = 1.0
        sums = (weights.reshape(-1, len(wide)) @ counts.astype(np.float64)).round().astype(np.int64)
        for k, ind in enumerate(mps):
            block = sums[k * len(boroughs):(k + 1) * len(boroughs)]
            parts.append((ind.id, wide.attrs.get("series", ""), cid, wide.attrs.get("source", ""), columns[keep], block))
    return _long(parts, boroughs)


def london_monthly(every: pd.DataFrame) -> pd.DataFrame:
    """London as the whole MPS: the monthly counts of :func:`monthly` over every area of the
    files (the 32 boroughs and the rows that are not boroughs, such as the airports and
    'Unknown'), summed. Columns ``indicator, series, month, count, classification, source``."""
    keys = ["indicator", "series", "month", "classification", "source"]
    out = every.groupby(keys, observed=True, sort=True)["count"].sum().reset_index()
    return out[["indicator", "series", "month", "count", "classification", "source"]]


def _long(parts, boroughs) -> pd.DataFrame:
    """(indicator, series, classification, source, month ordinals, boroughs x months) blocks as
    one frame; the text columns are categoricals (a few distinct values over many rows)."""
    n = np.array([len(boroughs) * len(months) for *_, months, _ in parts], dtype=np.int64)

    def label(i):
        values = [p[i] for p in parts]
        categories = list(dict.fromkeys(values))
        codes = np.repeat(np.array([categories.index(v) for v in values], dtype=np.int32), n)
        return pd.Categorical.from_codes(codes, categories=categories or [""])

    ordinals = [np.tile(months, len(boroughs)) for *_, months, _ in parts]
    codes = [np.repeat(np.arange(len(boroughs), dtype=np.int32), len(months)) for *_, months, _ in parts]
    return pd.DataFrame({
        "indicator": label(0),
        "series": label(1),
        "borough": pd.Categorical.from_codes(np.concatenate(codes) if parts else np.zeros(0, dtype=np.int32),
                                             categories=list(boroughs)),
        "month": pd.PeriodIndex.from_ordinals(np.concatenate(ordinals) if parts else np.zeros(0, dtype=np.int64), freq="M"),
        "count": np.concatenate([sums.ravel() for *_, sums in parts]) if parts else np.zeros(0, dtype=np.int64),
        "classification": label(2),
        "source": label(3),
    })


def _fy(months: pd.Series) -> np.ndarray:
    """The financial year (its first calendar year) of monthly Periods: April onwards."""
    ordinals = months.array.asi8 if hasattr(months, "array") else np.asarray(months)
    return (ordinals - 3) // 12 + 1970


def annual(monthly_counts: pd.DataFrame) -> pd.DataFrame:
    """Financial-year totals: columns ``indicator, series, borough, year, count, months,
    classification, sources``.

    ``year`` is the calendar year the financial year starts in (2011 for 2011-12); ``months``
    is how many of its 12 months the series has; ``classification`` is 'mixed' when the year
    spans a change of classification; ``sources`` lists the files its months came from.
    """
    frame = monthly_counts.assign(year=_fy(monthly_counts["month"]))
    out = frame.groupby(["indicator", "series", "borough", "year"], sort=True, observed=True)["count"].sum().reset_index()
    for column in ("indicator", "series", "borough"):
        out[column] = out[column].astype(str)
    out = out.sort_values(["indicator", "series", "borough", "year"], ignore_index=True)
    return out.merge(_series_years(frame), on=["series", "year"], how="left")


def _series_years(frame: pd.DataFrame) -> pd.DataFrame:
    """Per series and year: months present, the classification (or 'mixed') and the files."""
    months = frame[["series", "year", "month", "classification", "source"]].drop_duplicates(["series", "month"])
    rows = []
    for (series, year), group in months.groupby(["series", "year"], sort=True, observed=True):
        classes = group["classification"].unique()
        rows.append((str(series), int(year), group["month"].nunique(), str(classes[0]) if len(classes) == 1 else MIXED,
                     "; ".join(dict.fromkeys(map(str, group["source"])))))
    return pd.DataFrame(rows, columns=["series", "year", "months", "classification", "sources"])


def changes(annual_counts: pd.DataFrame, breaks=(), london=None, dispersion=None, months: int = 12) -> pd.DataFrame:
    """Year-on-year change for every indicator, series, borough and complete financial year.

    Adds ``previous_value, change, change_pct, ci_low_pct, ci_high_pct, significant,
    london_value, london_previous, london_change_pct, comparable, note, caution,
    sources, p_value, dispersion, differs_from_london, break, instead``. London is the whole
    MPS (``london``: the annual counts over every row of the files, the areas that are not
    boroughs included; the sum of the boroughs when not given). The change is tested with the
    exact test of :mod:`cspbook.compute.stats`, the counts scaled by the dispersion factor of
    the borough's monthly series (``dispersion``, :func:`cspbook.compute.significance.dispersions`;
    1 when not given), and only when nothing stands in the way: a change across a break (not
    comparable or caution) is never tested (``significant`` is NA). No change is ranked among
    the boroughs: a rank of a change in per cent reads as a league table and moves a long way
    by chance (Methodology, *Ranks*). Both years must be complete and in the same series.

    ``breaks`` (:class:`cspbook.definitions.Break`) decide a change that spans one: *not
    comparable* empties every change column and ``note`` gives the reason; *caution* keeps
    the change and ``caution`` gives the reason; *comparable* flags nothing. A change whose
    two years are counted in different classifications with no break decided between them
    is not comparable. ``months``: the months of each year counted (fewer for a year to date).
    """
    full = annual_counts[annual_counts["months"] == 12]
    prev = full.assign(year=full["year"] + 1).rename(
        columns={"count": "previous_value", "classification": "previous_classification", "sources": "previous_sources"}
    )[["indicator", "series", "borough", "year", "previous_value", "previous_classification", "previous_sources"]]
    out = full.merge(prev, on=["indicator", "series", "borough", "year"], how="left")
    out = out.rename(columns={"count": "value"}).drop(columns="months")
    pairs = out[["sources", "previous_sources"]].drop_duplicates()
    joined = {(a, b): _join_sources(b, a) for a, b in zip(pairs["sources"], pairs["previous_sources"])}
    out["sources"] = [joined[(a, b)] for a, b in zip(out["sources"], out["previous_sources"])]
    out["change"] = out["value"] - out["previous_value"]
    out["change_pct"] = stats.change_pct(out["value"], out["previous_value"])
    out["comparable"] = out["previous_value"].notna()
    out["note"] = np.where(out["comparable"], "", out["year"].map(
        lambda y: f"no complete data for {periods.Period(y - 1, months).name}, so no change is shown"))
    out["caution"] = ""
    out["break"] = ""
    out["instead"] = ""
    _apply_breaks(out, breaks, months)
    out = out.merge(significance.london_totals(out, london), on=["indicator", "series", "year"], how="left")
    out = significance.judge(out, dispersion)
    for col in ("change", "change_pct", "london_change_pct"):
        out.loc[~out["comparable"], col] = np.nan
    return out.drop(columns=["previous_sources"])


def _join_sources(previous, current) -> str:
    names = [] if pd.isna(previous) else str(previous).split("; ")
    return "; ".join(dict.fromkeys(names + str(current).split("; ")))


def spans(brk: Break, year, months: int = 12) -> np.ndarray:
    """Whether the change of ``year`` against the year before spans ``brk``: its month falls
    after April of the earlier year and no later than the last month compared of ``year``
    (March at its end; for a year to date, its last month: ``months`` from April).

    >>> from cspbook.definitions import Break
    >>> b = Break("b", "2017-04", "all", "all", "caution", "", "", "")
    >>> spans(b, np.array([2015, 2016, 2017, 2018])).tolist()
    [False, False, True, False]
    """
    month = pd.Period(brk.month, "M")
    index = month.year * 12 + month.month - 1
    year = np.asarray(year)
    return ((year - 1) * 12 + 3 < index) & (index <= year * 12 + 2 + months)


def _apply_breaks(out: pd.DataFrame, breaks, months: int = 12) -> None:
    """Mark, in place, each change that spans a decided break; refuse a change of
    classification that no break decides."""
    decided = np.zeros(len(out), dtype=bool)
    for brk in breaks:
        boroughs = getattr(brk, "boroughs", "all")
        # a row already made not comparable by a break is still hit: its note names every reason
        open_ = out["comparable"].to_numpy() | out["note"].str.startswith("not comparable: ").to_numpy()
        hit = (spans(brk, out["year"].to_numpy(), months) & open_
               & (True if brk.series == "all" else out["series"].isin(brk.series).to_numpy())
               & (True if boroughs == "all" else out["borough"].isin(boroughs).to_numpy())
               & (True if brk.indicators == "all" else out["indicator"].isin(brk.indicators).to_numpy()))
        decided |= hit
        # ``break`` names the breaks that decide the row: the not-comparable ones once there is one
        named = hit & (out["comparable"].to_numpy() if brk.decision == "caution" else True)
        if brk.decision == "not_comparable":
            out.loc[hit & out["comparable"].to_numpy(), "break"] = ""
        if brk.decision != "comparable":
            out.loc[named, "break"] = out.loc[named, "break"].map(lambda b: f"{b}; " if b else "") + brk.title
        if brk.decision == "not_comparable":
            out.loc[hit, "note"] = out.loc[hit, "note"].map(lambda n: f"{n}; and " if n else "not comparable: ") + brk.reason
            out.loc[hit & out["comparable"].to_numpy(), "instead"] = getattr(brk, "instead", "")
            out.loc[hit, "comparable"] = False
        elif brk.decision == "caution":
            joined = out.loc[hit, "caution"].map(lambda c: f"{c}; " if c else "")
            out.loc[hit, "caution"] = joined + brk.reason
    changed = out["comparable"].to_numpy() & ~decided & (
        (out["classification"] == MIXED) | (out["previous_classification"] == MIXED)
        | (out["classification"] != out["previous_classification"])).to_numpy()
    out.loc[changed, "comparable"] = False
    out.loc[changed, "note"] = out.loc[changed, "year"].map(
        lambda y: f"not comparable: {periods.label(y - 1)} and {periods.label(y)} are counted in different crime "
        "categories and no decision about the change is recorded in data/classification.yml")


def series_order(monthly_counts: pd.DataFrame, known) -> list[str]:
    """The series in the data, newest first: the one reaching the latest month, ties broken by
    the order of ``known`` (``data/classification.yml``, oldest first)."""
    last = monthly_counts.groupby("series")["month"].max()
    rank = {sid: i for i, sid in enumerate(known)}
    return sorted(last.index, key=lambda sid: (last[sid], rank.get(sid, -1)), reverse=True)


def select(change_table: pd.DataFrame, order: list[str]) -> pd.DataFrame:
    """For each year, the rows of one series: the newest (first in ``order``) that covers
    both the year and the year before; where none does, the newest that covers the year.
    A change is therefore never computed across two series, and no year is counted twice."""
    rank = {sid: i for i, sid in enumerate(order)}
    cover = change_table.groupby(["year", "series"])["previous_value"].apply(lambda v: bool(v.notna().any())).reset_index()
    cover["rank"] = cover["series"].map(rank)
    chosen = cover.sort_values(["year", "previous_value", "rank"], ascending=[True, False, True]).drop_duplicates("year")
    keys = set(zip(chosen["year"], chosen["series"]))
    mask = [(y, s) in keys for y, s in zip(change_table["year"], change_table["series"])]
    return change_table[mask].reset_index(drop=True)


def data_months(monthly_counts: pd.DataFrame) -> pd.PeriodIndex:
    return pd.PeriodIndex(sorted(monthly_counts["month"].unique()), freq="M")


def check_year(available: pd.PeriodIndex, year: int, period=None) -> None:
    """Raise a PeriodError unless every month of financial year ``year`` (or ``period``) is in the data.

    >>> have = pd.period_range("2008-01", "2010-12", freq="M")
    >>> check_year(have, 2011)
    Traceback (most recent call last):
    ...
    cspbook.errors.PeriodError: 2011-12 needs April 2011 to March 2012; the data ends December 2010 (it covers January 2008 to December 2010). Fetch newer data (`cspbook fetch`) or choose an earlier year
    """
    period = period or periods.Period(year)
    need = period.month_list()
    label = period.name
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
    def month(ordinal: int) -> str:
        return periods.describe_month(pd.Period(ordinal=ordinal, freq="M"))

    return ", ".join(month(first) + (f" to {month(last)}" if last != first else "")
                     for first, last in load.runs(m.ordinal for m in months))


def for_borough(change_table: pd.DataFrame, available: pd.PeriodIndex, borough: str, year: int, period=None) -> pd.DataFrame:
    """The change rows of one borough and year, after checking the data cover the year (or ``period``)."""
    check_year(available, year, period)
    rows = change_table[(change_table["borough"] == borough) & (change_table["year"] == year)]
    return rows.reset_index(drop=True)


def comparable_since(change_table: pd.DataFrame, indicator: str, series: str, year: int) -> int:
    """The first year of the unbroken run of comparable changes that ends at ``year`` in
    ``series``: the years a trend chart may join up.

    >>> t = pd.DataFrame({"indicator": "a", "series": "s", "borough": "B", "year": [2014, 2015, 2016, 2017],
    ...                   "comparable": [False, True, False, True]})
    >>> comparable_since(t, "a", "s", 2017), comparable_since(t, "a", "s", 2015)
    (2016, 2014)
    """
    rows = change_table[(change_table["indicator"] == indicator) & (change_table["series"] == series)]
    comparable = rows.drop_duplicates("year").set_index("year")["comparable"]
    first = year
    while bool(comparable.get(first, False)):
        first -= 1
    return first


def trend(annual_counts: pd.DataFrame, indicator: str, borough: str, year: int, years: int = 5,
          series: str | None = None, since: int | None = None, london: pd.DataFrame | None = None,
          base: int | None = None, months: int = 12) -> pd.DataFrame:
    """The borough's and London's annual counts for up to ``years`` complete years ending at
    ``year``, from one ``series`` (default: the only one), from year ``since`` on (default:
    all; see :func:`comparable_since`).

    Columns: ``year, label, value, london_value, index, london_index, classification``;
    the two index columns are 100 in the first year shown, so borough and London can share
    an axis. ``months`` (fewer than 12 for a year to date) labels the years, e.g. '2024-25 Apr-Nov'.
    """
    rows = annual_counts[(annual_counts["indicator"] == indicator) & (annual_counts["months"] == 12)]
    if series is not None:
        rows = rows[rows["series"] == series]
    first = max(year - years + 1, since if since is not None else year - years + 1)
    rows = rows[(rows["year"] <= year) & (rows["year"] >= first)]
    own = rows[rows["borough"] == borough].set_index("year")
    london = rows.groupby("year")["count"].sum() if london is None else _london_years(london, indicator, series)
    out = pd.DataFrame({"value": own["count"], "classification": own["classification"]})
    out.insert(1, "london_value", london.reindex(out.index))
    if year not in out.index:
        out = out.iloc[0:0]
    out = out.reset_index().rename(columns={"index": "year"})
    last = periods.months(2000)[months - 1].strftime("%b")
    out.insert(1, "label", out["year"].map(lambda y: periods.label(y) if months == 12 else f"{periods.label(y)} Apr-{last}"))
    if len(out):
        first = index_base(out["year"], base)
        out["index"] = out["value"] / out.loc[first, "value"] * 100
        out["london_index"] = out["london_value"] / out.loc[first, "london_value"] * 100
    else:
        out["index"] = out["london_index"] = pd.Series(dtype="float64")
    return out


LOCKDOWN_YEARS = (2020,)  # 2020-21: the pandemic's lockdowns, no base for an index


def index_base(years: pd.Series, base: int | None = None) -> int:
    """The position of the index base among ``years``: ``base`` when it is shown, else the first
    year that is not a lockdown year (2020-21), else the first.

    >>> index_base(pd.Series([2020, 2021, 2022])), index_base(pd.Series([2019, 2020])), index_base(pd.Series([2020, 2021]), 2020)
    (1, 0, 0)
    """
    years = list(years)
    if base in years:
        return years.index(base)
    return next((i for i, y in enumerate(years) if y not in LOCKDOWN_YEARS), 0)


def _london_years(london: pd.DataFrame, indicator: str, series: str | None) -> pd.Series:
    rows = london[(london["indicator"] == indicator) & (london["months"] == 12)]
    if series is not None:
        rows = rows[rows["series"] == series]
    return rows.groupby("year")["count"].sum()


def month_series(monthly_counts: pd.DataFrame, indicator: str, borough: str, year: int, years_before: int = 1,
                 series: str | None = None, london: pd.DataFrame | None = None) -> pd.DataFrame:
    """Monthly counts from April of ``year - years_before`` to March after ``year``, from one
    ``series`` (default: the only one).

    Columns: ``month, count, london_count, in_year`` (``in_year`` marks the reported year).
    """
    first = periods.months(year - years_before)[0]
    last = periods.months(year)[-1]
    rows = monthly_counts[(monthly_counts["indicator"] == indicator) & monthly_counts["month"].between(first, last)]
    if series is not None:
        rows = rows[rows["series"] == series]
    own = rows[rows["borough"] == borough].set_index("month")["count"]
    if london is None:
        london = rows.groupby("month")["count"].sum()
    else:
        whole = london[(london["indicator"] == indicator) & london["month"].between(first, last)]
        london = (whole if series is None else whole[whole["series"] == series]).groupby("month")["count"].sum()
    out = pd.DataFrame({"count": own, "london_count": london.reindex(own.index)}).reset_index()
    out["in_year"] = out["month"] >= periods.months(year)[0]
    return out
