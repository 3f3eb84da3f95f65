"""The dataset behind every figure: the cached files (checked against the manifest) read,
validated and turned into indicator tables once per data version, memoised in the process
and sealed on disk, so every notebook kernel unpickles in hundredths of a second what the
first process computed."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cspbook import config, definitions, fingerprint
from cspbook.data.opendata import fetch as open_fetch
from cspbook.data.rawcache import verified_manifest
from cspbook.errors import DataFileError, FetchError

if TYPE_CHECKING:  # annotations only: pandas is imported where it is used
    import pandas as pd


@dataclass(frozen=True)
class Dataset:
    """The indicator tables computed from the cached files (pandas frames).

    ``monthly`` and ``annual`` hold every series in the cache; ``all_changes`` the changes
    within each series; ``changes`` the one series used for each year
    (:func:`cspbook.compute.indicators.select`); ``supplied`` the months each file supplies within
    its series; ``series`` the series in the data, newest first.
    """

    supplied: dict
    manifest: dict
    monthly: pd.DataFrame
    annual: pd.DataFrame
    all_changes: pd.DataFrame
    changes: pd.DataFrame
    months: pd.PeriodIndex
    series: tuple = ()
    london_monthly: pd.DataFrame | None = None  # the whole MPS (boroughs and other areas) per indicator, series, month
    london_annual: pd.DataFrame | None = None  # the same per financial year
    areas_monthly: pd.DataFrame | None = None  # the rows of areas that are not boroughs (airports, Unknown), per month
    open: object = None  # cspbook.compute.opendata.OpenData: the open sources of data/sources.yml
    months_counted: int = 12  # of each financial year, from April: fewer for a year to date (:meth:`to_date`)

    def to_date(self, months: int) -> Dataset:
        """The same data with ``annual``, ``all_changes`` and ``changes`` over the first
        ``months`` months (from April) of every financial year: a year to date against the
        same months of the years before (breaks checked on those months). ``months`` 12 is
        this dataset."""
        if months == self.months_counted:
            return self
        key = (tuple(_shas(self.manifest)), months)
        if key not in _TO_DATE:
            from dataclasses import replace

            from cspbook.compute import indicators, significance

            annual = part_year(self.monthly, months)
            london = (part_year(self.london_monthly.assign(borough="London"), months)
                      if self.london_monthly is not None else None)
            all_changes = indicators.changes(annual, definitions.classifications().breaks,
                                             london, significance.dispersions(self.monthly), months)
            _TO_DATE.clear()
            _TO_DATE[key] = replace(self, annual=annual, all_changes=all_changes, months_counted=months,
                                    changes=indicators.select(all_changes, list(self.series)), london_annual=london)
        return _TO_DATE[key]

    def series_for(self, year: int) -> str | None:
        """The series the figures of ``year`` come from (None when no series covers it)."""
        rows = self.changes.loc[self.changes["year"] == year, "series"]
        return str(rows.iloc[0]) if len(rows) else None


_MEMO: dict = {}
_TO_DATE: dict = {}


def forget() -> None:
    """Forget the dataset memoised in this process (see :func:`cspbook.caches.clear`)."""
    _MEMO.clear()
    _TO_DATE.clear()


def dataset(cache: Path | None = None) -> Dataset:
    """Load the cached files (per the manifest) and compute every indicator table.

    Memoised in-process on the files' sha256, so notebooks and commands that ask twice pay
    once; and on disk (:func:`saved_path`), so every notebook kernel of a build unpickles
    in a few hundredths of a second what the first process computed in about a second.
    """
    where = str(cache or config.home())  # a build's snapshot of the cache holds this tree's bytes
    cache = cache or config.cache_dir()
    manifest = verified_manifest(cache)  # the files' bytes, read now, are the manifest's
    manifest = {**manifest, "open": open_fetch.verified_manifest(cache)}  # the open sources, checked alike
    key = (where, *files_key(manifest))
    if key not in _MEMO:
        _MEMO.clear()
        _MEMO[key] = _saved_or_built(manifest, cache)
    return _MEMO[key]


def saved_path(manifest: dict, cache: Path) -> Path:
    """Where the computed Dataset is pickled: ``.cspbook/dataset/<key>.pickle``.

    The key is the sha256 of everything the Dataset is computed from: the files' sha256 and
    names (not their folder: a build reads them from its snapshot), the top-level definitions in ``data/`` (indicators, classifications, boroughs),
    the library's source and the Python, pandas and numpy versions (a pickle is only read
    back by the versions that wrote it).
    """
    import numpy as np
    import pandas as pd

    parts = [f"{f['name']}:{f['sha256']}" for f in manifest.get("files", [])]
    parts += [f"open/{f['name']}:{f['sha256']}" for f in (manifest.get("open") or {}).get("files", [])]
    parts += [sys.version, pd.__version__, np.__version__,
              fingerprint.tree(config.definitions_dir(), "*", recursive=False),
              fingerprint.library()]  # every stage package
    key = fingerprint.digest(*(part.encode() for part in parts))
    return config.work_dir() / "dataset" / f"{key}.pickle"


def files_key(manifest: dict) -> tuple:
    """The files a dataset is computed from, as a key: the name and sha256 of each MPS file and
    of each open file (a manifest as fetched, or a Dataset's own ``manifest``)."""
    return (tuple((f.get("name"), f.get("sha256")) for f in manifest.get("files", [])),
            tuple((f.get("name"), f.get("sha256")) for f in (manifest.get("open") or {}).get("files", [])))


def _shas(manifest: dict) -> list[str]:
    return [f.get("sha256") for f in manifest.get("files", [])]


def _saved_or_built(manifest: dict, cache: Path) -> Dataset:
    """The pickled Dataset when there is one for these inputs; else build it and save it.

    A pickle that cannot be read (cut short, written by another version) is rebuilt; a
    folder that cannot be written only costs the speed-up.
    """
    import pickle

    from cspbook import integrity

    path = saved_path(manifest, cache)
    payload, problem = integrity.read_sealed(path)
    if payload is not None:
        try:
            data = pickle.loads(payload)
            if (isinstance(data, Dataset) and _shas(data.manifest) == _shas(manifest)
                    and _shas(getattr(data.open, "manifest", None) or {}) == _shas(manifest.get("open") or {})):
                return data
            problem = "it holds another dataset than its key says"
        except Exception as exc:  # noqa: BLE001 - any unreadable cache file is rebuilt below
            problem = f"it cannot be unpickled ({type(exc).__name__})"
    if problem:
        print(f"discarding the damaged dataset cache {path}: {problem}; computing the dataset again", file=sys.stderr)
    data = build(manifest, cache)
    try:
        integrity.write_sealed(path, pickle.dumps(data, protocol=pickle.HIGHEST_PROTOCOL))
        for old in path.parent.glob("*.pickle"):  # keep only the current one
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return data


CONTENT_KEYS = ("name", "sha256", "bytes", "rows", "boroughs", "first_month", "last_month", "classification", "series")


def content_manifest(manifest: dict) -> dict:
    """What of the manifest the files' names and bytes determine: the dataset and, per file,
    its name, sha256, size, rows, boroughs, months, classification and series. Not where or
    when it was fetched: the pages (and the dataset pickle) show and hold only this, so the
    same bytes give the same book whatever folder they came from."""
    return {"dataset": manifest.get("dataset", ""),
            "files": [{k: f[k] for k in CONTENT_KEYS if k in f} for f in manifest.get("files", [])],
            **({"open": {"files": [{k: f[k] for k in ("name", "sha256") if k in f} for f in manifest["open"].get("files", [])]}}
               if manifest.get("open") else {})}


PROVENANCE = ("origin", "fetched_at", "source", "last_modified")


def _bytes_only(manifest: dict | None) -> dict | None:
    """The open sources' manifest without where and when its files were fetched (the pickle
    holds no provenance: :func:`content_manifest`)."""
    if not manifest:
        return manifest
    return {**{k: v for k, v in manifest.items() if k not in PROVENANCE and k != "files"},
            "files": [{k: v for k, v in f.items() if k not in PROVENANCE} for f in manifest.get("files", [])]}


def part_year(monthly_counts: pd.DataFrame, months: int) -> pd.DataFrame:
    """Like :func:`cspbook.compute.indicators.annual`, over the first ``months`` months (from April) of every financial
    year: the same months of each year, for a year to date and the years it is compared with.
    A year that has all those months counts as complete (``months`` 12), as a whole year does
    in :func:`cspbook.compute.indicators.annual`, so every table built on it (changes, London, trends) takes it."""
    import numpy as np

    from cspbook.compute import indicators

    position = (monthly_counts["month"].array.asi8 - 3) % 12
    out = indicators.annual(monthly_counts[position < months])
    out["months"] = np.where(out["months"] == months, 12, 0)
    return out


def check_boroughs(wides, paths: list[Path], boroughs) -> None:
    """Every file lists every borough: a borough missing from a file would otherwise count
    as zero crimes and show as a 100% fall."""
    for wide, path in zip(wides, paths):
        present = set(wide["borough"])
        missing = [b for b in boroughs if b not in present]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            raise DataFileError(
                path, f"no rows for the borough '{missing[0]}'{more}; a borough-level MPS file lists all {len(boroughs)} boroughs",
                fix="Fetch the file again (`cspbook fetch`) or restore the missing rows",
            )


def build(manifest: dict, cache: Path) -> Dataset:
    """Read the manifest's files and compute the indicator tables (no memo)."""
    paths = [cache / f["name"] for f in manifest.get("files", [])]
    if not paths:
        raise FetchError(f"{cache / 'manifest.json'}: lists no files; run `cspbook fetch` again")
    from cspbook.compute import indicators, significance
    from cspbook.data import load  # pandas: only when the data are read

    from cspbook.data import duplicates

    wides, paths = duplicates.once(load.load_files(paths), paths)
    boroughs = definitions.boroughs()
    check_boroughs(wides, paths, boroughs)
    defs = definitions.indicators()
    classes = definitions.classifications()
    owned = load.supplies(wides)  # the months each file supplies within its series
    areas = list(boroughs) + sorted({str(b) for w in wides for b in w["borough"].unique()} - set(boroughs))
    every = indicators.monthly(wides, defs, areas, owned)  # every row of the files: London is the whole MPS
    in_borough = every["borough"].isin(boroughs).to_numpy()
    monthly = every[in_borough].reset_index(drop=True)
    monthly["borough"] = monthly["borough"].cat.set_categories(list(boroughs))
    london_monthly = indicators.london_monthly(every)
    london_annual = indicators.annual(london_monthly.assign(borough="London"))
    annual = indicators.annual(monthly)
    all_changes = indicators.changes(annual, classes.breaks, london_annual, significance.dispersions(monthly))
    order = indicators.series_order(monthly, classes.series)
    supplied = {w.attrs["source"]: {"series": w.attrs["series"], "months": load.ranges(m)}
                for w, m in zip(wides, owned)}
    return Dataset(supplied, content_manifest(manifest), monthly, annual, all_changes, indicators.select(all_changes, order),
                   indicators.data_months(monthly), tuple(order), london_monthly, london_annual,
                   every[~in_borough].reset_index(drop=True),
                   _open(_bytes_only(manifest.get("open")), open_fetch.cache_dir(cache), defs, boroughs))


def _open(manifest, folder, defs, boroughs):
    """The open sources read, with every year's changes of their monthly indicators worked
    out once (kept in the pickle: a notebook only filters them)."""
    import dataclasses

    from cspbook.compute import open_indicators, opendata

    data = opendata.load(manifest, folder)
    return dataclasses.replace(data, changes=open_indicators.month_changes(data, defs, boroughs))
