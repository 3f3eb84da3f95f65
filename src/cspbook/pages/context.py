"""The context every page is rendered from, loaded once per notebook: the report
configuration of the borough and year, the dataset, the partner and published figures, the
indicator table (with each target judged) and the reconciliation. Page functions only
format what is here: they read no file."""

from __future__ import annotations

import os
from dataclasses import dataclass

import pandas as pd

from cspbook import config, definitions, integrity
from cspbook.compute import dataset, table
from cspbook.definitions import partner, periods, reports


def _use_home(home: str | None) -> None:
    if home:
        os.environ[config.HOME_ENV] = str(home)


@dataclass
class Context:
    borough: str
    year: int
    report: reports.Report
    data: dataset.Dataset
    table: pd.DataFrame
    partner: pd.DataFrame  # the partner-supplied figures of the borough and year
    published: pd.DataFrame  # the figures the partnership published (for reconciliation)
    reconciliation: pd.DataFrame
    london: pd.DataFrame | None = None  # the headline police measures of every borough (compute.london)
    boundaries: object = None  # the borough outlines (data.boundaries.Boundaries), None when not in the cache
    wards: pd.DataFrame | None = None  # ward_years of its wards and Heathrow's (compute.wards), None without ward files
    period: periods.Period | None = None  # the year whole or to date; ``data`` counts its months of every year

    def __post_init__(self):
        self.period = self.period or periods.Period(self.year)

    @property
    def year_label(self) -> str:
        """The year as prose names it: '2011-12', or '2025-26 to date'."""
        return self.period.name


def context(borough: str, year: str, home: str | None = None) -> Context:
    """Load the report configuration, the cached data and the figures; compute the tables.
    ``year``: a financial year ('2011-12': whole, or to date when the data end before its
    March) or a year to date ('2025-26 to 2025-11', as `cspbook build` passes it).
    In a build, the copy its process computed once for every page (:mod:`cspbook.pages.prepared`)."""
    from cspbook.pages import prepared

    _use_home(home)
    return prepared.load(borough, year, home) or compute(borough, year, home)


def compute(borough: str, year: str, home: str | None = None, shared: dict | None = None) -> Context:
    """:func:`context`, computed here and now. ``shared``: a dict kept across the boroughs of
    one build (:mod:`cspbook.pages.prepared`), where what every borough's context holds alike
    (the boroughs side by side, the outlines) is computed once and then the same object."""
    _use_home(home)
    name = definitions.resolve_borough(borough)
    period = periods.parse_period(year)
    start = period.start
    reports.load(name, start)  # a bad report configuration is named before the data are read
    data = dataset.dataset()
    if period.complete and " to " not in str(year) and len(data.months):
        period = periods.resolve(start, str(data.months.max()))
    data = data.to_date(period.months)
    report = reports.load(name, start, period=period)
    figures = partner.for_borough(name, start)
    published = table.published_figures(report)
    shared = {} if shared is None else shared
    return Context(name, start, report, data, table.indicator_table(data, report, figures, period), figures, published,
                   _reconciliation(data, report, published, shared), *_london(data, report, period, shared), period)


def _reconciliation(data, report, published, shared: dict):
    """:func:`table.reconciliation`, computed once while its inputs stay (the preview's rebuilds
    after a partner figure or a template changed): the data, the published figures' file, the
    borough, year and tolerance."""
    from cspbook.compute import reconcile

    key = ("reconciliation", _data_key(data), report.borough, report.year, report.reconciliation_tolerance_pp,
           integrity.actual_sha256(reconcile.path_for(report.borough, report.year)))
    if key not in shared:
        shared[key] = table.reconciliation(data, report, published)
    return shared[key]


def _london(data, report, period, shared: dict) -> tuple:
    """The boroughs side by side for the report's headline police measures, the outlines, the wards."""
    from cspbook.compute import london, wards
    from cspbook.data import boundaries

    path = boundaries.cached(config.cache_dir())
    side_key = ("side", _data_key(data), period, tuple(report.headline))
    if side_key not in shared:
        shared[side_key] = london.side_by_side_for(data, period, report.headline)
    outlines_key = ("outlines", integrity.actual_sha256(path) if path else None)  # the same file in each snapshot
    if outlines_key not in shared:
        shared[outlines_key] = boundaries.read(path) if path else None
    return shared[side_key], shared[outlines_key], _borough_wards(wards.ward_years(months=period.months), report.borough, shared)


def _borough_wards(frame, borough: str, shared: dict):
    """The rows of ``frame`` (every ward of London) that the borough's pages read: its own wards
    and Heathrow's (:data:`cspbook.pages.wards.AIRPORT`); a tenth of a MB, not ten, in each
    page's context. The same object while ``frame`` is (the preview's rebuilds)."""
    from cspbook.pages.wards import AIRPORT

    if frame is None:
        return None
    held = shared.get(("wards", borough))
    if held is None or held[0] is not frame:
        held = shared[("wards", borough)] = (frame, frame[frame["borough"].isin([borough, AIRPORT])].reset_index(drop=True))
    return held[1]


def _data_key(data) -> tuple:
    """The files a dataset was computed from and the months of each year it counts: the same
    for the dataset unpickled again by a later rebuild (the definitions it also depends on
    are the caller's to keep: the preview forgets what is shared when they change)."""
    return (*dataset.files_key(data.manifest or {}), data.months_counted)
