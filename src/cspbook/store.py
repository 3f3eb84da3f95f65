"""The dataset behind every figure: the fetched files listed in the cache manifest, read,
validated and turned into indicator tables once per process.

:func:`ensure` makes sure the cache is there and current (fetching from the mirror or the
Datastore when needed); :func:`dataset` loads it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cspbook import config, definitions, fingerprint
from cspbook.errors import CspbookError, DataFileError, FetchError

if TYPE_CHECKING:  # annotations only: pandas is imported where it is used
    import pandas as pd


@dataclass(frozen=True)
class Dataset:
    """The indicator tables computed from the cached files (pandas frames).

    ``monthly`` and ``annual`` hold every series in the cache; ``all_changes`` the changes
    within each series; ``changes`` the one series used for each year
    (:func:`cspbook.indicators.select`); ``supplied`` the months each file supplies within
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

    def series_for(self, year: int) -> str | None:
        """The series the figures of ``year`` come from (None when no series covers it)."""
        rows = self.changes.loc[self.changes["year"] == year, "series"]
        return str(rows.iloc[0]) if len(rows) else None


def read_manifest(cache: Path | None = None) -> dict:
    """The cache manifest (see :func:`cspbook.fetch.read_manifest`)."""
    from cspbook import fetch

    return fetch.read_manifest(cache)


def ensure(mirror: Path | None = None, offline: bool = False, notice=None) -> dict:
    """Make sure the cache holds current data; fetch when it is missing or out of date.

    With ``offline`` the cache is used as it is. An unreachable Datastore with a usable
    cache is a one-line notice, not a failure.
    """
    from cspbook import fetch  # imported late: fetch pulls in urllib and is not needed offline

    notice = notice or (lambda msg: print(msg, file=sys.stderr))
    mirror = mirror or config.mirror_from_env()
    have_cache = config.manifest_path().exists()
    if offline:
        return verified_manifest(why="with --offline nothing is fetched")
    try:
        if have_cache and fetch.cache_is_current(mirror=mirror):
            return verified_manifest()
        fetch.fetch(mirror=mirror)
    except CspbookError as exc:
        if have_cache and mirror is None:
            notice(f"notice: could not check the London Datastore for new data ({exc}); using the cached data")
            return verified_manifest(why="the London Datastore could not be reached to fetch it again")
        raise
    return verified_manifest()


def verified_manifest(cache: Path | None = None, why: str = "") -> dict:
    """The cache manifest, once every file it lists has been checked against its sha256
    (DataFileError, exit 2, naming the file, both hashes and the fix, when one differs)."""
    from cspbook import integrity

    cache = cache or config.cache_dir()
    manifest = read_manifest(cache)
    integrity.check_raw(manifest, cache, cache / "manifest.json", why)
    return manifest


_MEMO: dict = {}


def dataset(cache: Path | None = None) -> Dataset:
    """Load the cached files (per the manifest) and compute every indicator table.

    Memoised in-process on the files' sha256, so notebooks and commands that ask twice pay
    once; and on disk (:func:`saved_path`), so every notebook kernel of a build unpickles
    in a few hundredths of a second what the first process computed in about a second.
    """
    cache = cache or config.cache_dir()
    manifest = verified_manifest(cache)  # the files' bytes, read now, are the manifest's
    key = (str(cache), tuple(f["sha256"] for f in manifest.get("files", [])))
    if key not in _MEMO:
        _MEMO.clear()
        _MEMO[key] = _saved_or_built(manifest, cache)
    return _MEMO[key]


def saved_path(manifest: dict, cache: Path) -> Path:
    """Where the computed Dataset is pickled: ``.cspbook/dataset/<key>.pickle``.

    The key is the sha256 of everything the Dataset is computed from: the files' sha256 and
    paths, the top-level definitions in ``data/`` (indicators, classifications, boroughs),
    the library's source and the Python, pandas and numpy versions (a pickle is only read
    back by the versions that wrote it).
    """
    import numpy as np
    import pandas as pd

    parts = [f"{cache / f['name']}:{f['sha256']}" for f in manifest.get("files", [])]
    parts += [sys.version, pd.__version__, np.__version__,
              fingerprint.tree(config.definitions_dir(), "*", recursive=False),
              fingerprint.tree(config.PACKAGE_DIR, "*.py", recursive=False)]
    key = fingerprint.digest(*(part.encode() for part in parts))
    return config.work_dir() / "dataset" / f"{key}.pickle"


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
            if isinstance(data, Dataset) and _shas(data.manifest) == _shas(manifest):
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
    from cspbook import indicators, load  # pandas: only when the data are read

    wides = load.load_files(paths)
    boroughs = definitions.boroughs()
    check_boroughs(wides, paths, boroughs)
    defs = definitions.indicators()
    classes = definitions.classifications()
    monthly = indicators.monthly(wides, defs, boroughs)
    annual = indicators.annual(monthly)
    all_changes = indicators.changes(annual, defs, classes.breaks)
    order = indicators.series_order(monthly, classes.series)
    supplied = {w.attrs["source"]: {"series": w.attrs["series"], "months": load.ranges(m)}
                for w, m in zip(wides, load.supplies(wides))}
    return Dataset(supplied, manifest, monthly, annual, all_changes, indicators.select(all_changes, order),
                   indicators.data_months(monthly), tuple(order))
