"""The indicator table of one borough and year: MPS indicators computed from the data and
partner-supplied figures, in the report's order, with stable columns for CSV and JSON."""

from __future__ import annotations

import numpy as np
import pandas as pd

from cspbook import definitions
from cspbook.compute import indicators, open_figures, reconcile
from cspbook.compute.dataset import Dataset
from cspbook.definitions import partner, periods, targets
from cspbook.definitions.reports import Report

COLUMNS = [
    "indicator", "label", "priority", "source", "year", "value", "previous_value", "change",
    "change_pct", "ci_low_pct", "ci_high_pct", "significant", "london_change_pct",
    "comparable", "note", "caution", "unit", "lower_is_better", "borough", "target", "target_status",
    "target_reason", "series", "source_files", "p_value", "dispersion", "differs_from_london", "break", "instead",
    # from the open sources (data/sources.yml) and the population estimates: the figure's own
    # period, where it came from, rates per 1,000 residents (1 = the highest rate of 32; the 95% interval of the rank)
    "period", "figure_source", "rate_per_1000", "previous_rate_per_1000", "london_rate_per_1000", "rate_rank",
    "rate_rank_low", "rate_rank_high", "population", "rate_note", "test_note", "beside",
    # London's own figure of the two years (a count: the whole MPS; an open share: the source's London)
    "london_value", "london_previous",
]


def indicator_table(data: Dataset, report: Report, partner_figures: pd.DataFrame | None = None,
                    period: periods.Period | None = None) -> pd.DataFrame:
    """Every indicator of ``report`` for its borough and year, one row each, columns ``COLUMNS``.

    MPS rows come from ``data.changes``; partner rows from ``partner_figures`` (read from
    ``data/partner/`` when not given). A partner indicator with no figure for the year is
    listed with empty values and a note saying so. ``period``: the year to date (its months
    against the same months of the year before; default the whole year); ``year`` says which.
    """
    period = period or period_of(data, report.year)
    data = data.to_date(period.months)
    mps = indicators.for_borough(data.changes, data.months, report.borough, report.year, period)
    if partner_figures is None:
        partner_figures = partner.for_borough(report.borough, report.year)
    rows = pd.concat([mps, partner.as_changes(partner_figures)], ignore_index=True)
    defs = definitions.indicators()
    wanted = report.indicator_ids()
    rows = rows[rows["indicator"].isin(wanted)].set_index("indicator").reindex(wanted).reset_index()
    # a year to date: the monthly open sources over the same months; the others their latest period
    rows, opened = open_figures.merge(data, report, rows, defs, period.months)
    missing = rows["value"].isna() & rows["change_pct"].isna() & rows["note"].isna()
    rows.loc[missing, "note"] = "no figure supplied for this year (add it to data/partner/)"
    rows["label"] = rows["indicator"].map(lambda i: defs[i].label)
    rows["priority"] = rows["indicator"].map(lambda i: defs[i].priority)
    rows["source"] = rows["indicator"].map(lambda i: defs[i].source).where(~opened, "open")
    rows["unit"] = rows["indicator"].map(lambda i: defs[i].unit).where(~opened, rows.get("open_unit"))
    rows["lower_is_better"] = rows["indicator"].map(lambda i: defs[i].lower_is_better)
    rows["borough"] = report.borough
    rows["year"] = period.title
    rows["comparable"] = rows["comparable"].fillna(False).astype(bool)
    rows["note"] = rows["note"].fillna("")
    rows["caution"] = rows["caution"].fillna("") if "caution" in rows else ""
    rows["series"] = rows["series"].fillna("") if "series" in rows else ""
    files = {"files": data.manifest.get("files", []) + ((data.open.manifest or {}).get("files", []) if data.open else [])}
    rows["source_files"] = [_files(files, names) for names in (rows["sources"] if "sources" in rows else [None] * len(rows))]
    rows["significant"] = rows["significant"].astype("boolean")  # NA: not tested (across a break, or no counts)
    rows["differs_from_london"] = rows["differs_from_london"].astype("boolean") if "differs_from_london" in rows else pd.NA
    for col in ("break", "instead"):
        rows[col] = rows[col].fillna("") if col in rows else ""
    for col in ("p_value", "dispersion", "london_value", "london_previous"):
        rows[col] = rows[col].astype("float64") if col in rows else np.nan
    for col in ("value", "previous_value", "change"):
        rows[col] = rows[col].astype("float64")
    for col in ("change_pct", "ci_low_pct", "ci_high_pct", "london_change_pct"):
        rows[col] = rows[col].astype("float64")  # exact: rounded once, where it is shown
    status = targets.assess(rows, report.targets)
    rows["target"] = status["target"].to_numpy()
    rows["target_status"] = status["status"].to_numpy()
    rows["target_reason"] = status["reason"].to_numpy()
    open_figures.finish(rows, data, report, defs, period)
    # an open indicator whose source has nothing for or before the year is left out (the
    # 2011-12 book is the book it was); the Data sources page says what each source covers
    unsourced = (rows["source"] == "open") & rows["value"].isna() & rows["period"].astype(str).str.startswith("no data")
    return rows.loc[~unsourced, COLUMNS].reset_index(drop=True)


def period_of(data: Dataset, year: int) -> periods.Period:
    """What a table of financial year ``year`` reports on: the months ``data`` counts (a year
    to date), else the whole year, or the year to date when the data end before its March."""
    if data.months_counted < 12:
        return periods.Period(year, data.months_counted)
    return periods.resolve(year, str(data.months.max()) if len(data.months) else None)


def _files(manifest: dict, names) -> str:
    """The files a figure came from, each with its SHA-256 (from the manifest).

    >>> _files({"files": [{"name": "a.csv", "sha256": "ab" * 32}]}, "a.csv")
    'a.csv (sha256 abababababababababababababababababababababababababababababababab)'
    >>> _files({}, None)
    ''
    """
    if not isinstance(names, str) or not names:
        return ""
    sha = {f["name"]: f.get("sha256", "") for f in manifest.get("files", [])}
    return "; ".join(f"{name} (sha256 {sha.get(name, 'unknown')})" for name in names.split("; "))


def reconciliation(data: Dataset, report: Report, published: pd.DataFrame | None = None) -> pd.DataFrame:
    """Published vs recomputed for every published figure of the borough and year (the
    ``published`` figures, read from ``data/published/`` when not given); a year the data do
    not cover raises PeriodError, as for :func:`indicator_table`."""
    period = period_of(data, report.year)
    data = data.to_date(period.months)
    indicators.check_year(data.months, report.year, period)
    if published is None:
        published = published_figures(report)
    if published.empty:
        return reconcile.compare(published, pd.DataFrame(columns=["indicator", "label", "change_pct"]))
    out = reconcile.compare(published, _recomputed(data, report, published), report.reconciliation_tolerance_pp)
    cands = reconcile.candidates(data.all_changes, definitions.indicators(), definitions.classifications().series,
                                 published, report.borough, report.year)
    series = data.series_for(report.year)
    reasons = []
    for indicator, pct in zip(out["indicator"], out["published_change_pct"]):
        mine = cands[cands["indicator"] == indicator]
        used = mine[(mine["candidate"] == indicator) & (mine["series"] == series)]
        reasons.append(reconcile.supported_reason(pct, used.iloc[0] if len(used) else None, mine))
    # the reason printed is the one the numbers support (or "not confirmed" with the candidates)
    out["reason"] = [f"{r.split(': ', 1)[0]}: {why}" if ": " in r else why for r, why in zip(out["reason"], reasons)]
    return out


def published_figures(report: Report) -> pd.DataFrame:
    """The figures the partnership published for the borough and year (empty, with the
    columns, when there is no file)."""
    path = reconcile.path_for(report.borough, report.year)
    return reconcile.read_published(path) if path.exists() else pd.DataFrame(columns=reconcile.COLUMNS)


def _recomputed(data, report, published) -> pd.DataFrame:
    """Recomputed changes for the published indicators, even those not in the report's table."""
    rows = indicators.for_borough(data.changes, data.months, report.borough, report.year, period_of(data, report.year))
    rows = rows[rows["indicator"].isin(published["indicator"])]
    defs = definitions.indicators()
    return pd.DataFrame({
        "indicator": rows["indicator"],
        "label": rows["indicator"].map(lambda i: defs[i].label),
        "change_pct": rows["change_pct"].astype("float64"),
    })


def to_records(table: pd.DataFrame) -> list[dict]:
    """JSON-ready rows: NaN and NA become None, numpy scalars plain Python."""
    out = []
    for row in table.astype(object).where(table.notna(), None).to_dict("records"):
        out.append({k: (v.item() if isinstance(v, np.generic) else v) for k, v in row.items()})
    return out


def worked_example(table: pd.DataFrame) -> pd.DataFrame:
    """The row of the methodology's worked example: the first tested change of the year, a
    police figure when one was tested, else an open source's (in 2024-25 every police change
    lies across the March 2024 break, untested; the knife injury victims are tested).

    >>> t = pd.DataFrame({"indicator": ["a", "b", "c"], "source": ["mps", "open", "mps"], "comparable": [True] * 3,
    ...                   "significant": [None, False, None], "dispersion": [1.5, 1.0, 2.0]})
    >>> worked_example(t)["indicator"].tolist(), worked_example(t.assign(significant=[None, False, True]))["indicator"].tolist()
    (['b'], ['c'])
    """
    tested = table[table["comparable"].astype(bool) & table["significant"].notna() & table["dispersion"].notna()]
    return tested.sort_values("source", key=lambda s: s != "mps", kind="stable").head(1)
