"""The dataset behind every figure: the fetched files listed in the cache manifest, read,
validated and turned into indicator tables once per process.

:func:`ensure` makes sure the cache is there and current (fetching from the mirror or the
Datastore when needed); :func:`dataset` loads it.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from cspbook import config, definitions, indicators, load
from cspbook.errors import CspbookError, FetchError


@dataclass(frozen=True)
class Dataset:
    """Tidy crime rows and the indicator tables computed from them."""

    tidy: pd.DataFrame
    supplied: dict
    manifest: dict
    monthly: pd.DataFrame
    annual: pd.DataFrame
    changes: pd.DataFrame
    months: pd.PeriodIndex
    files: tuple = field(default_factory=tuple)

    @property
    def key(self) -> str:
        """Content key: the sha256 of every file, in order."""
        return "+".join(f["sha256"][:16] for f in self.manifest.get("files", []))


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
        return read_manifest()
    try:
        if have_cache and fetch.cache_is_current(mirror=mirror):
            return read_manifest()
        fetch.fetch(mirror=mirror)
    except CspbookError as exc:
        if have_cache and mirror is None:
            notice(f"notice: could not check the London Datastore for new data ({exc}); using the cached data")
            return read_manifest()
        raise
    return read_manifest()


_MEMO: dict = {}


def dataset(cache: Path | None = None) -> Dataset:
    """Load the cached files (per the manifest) and compute every indicator table.

    Memoised in-process on the files' sha256, so notebooks and commands that ask twice pay once.
    """
    cache = cache or config.cache_dir()
    manifest = read_manifest(cache)
    key = (str(cache), tuple(f["sha256"] for f in manifest.get("files", [])))
    if key not in _MEMO:
        _MEMO.clear()
        _MEMO[key] = build(manifest, cache)
    return _MEMO[key]


def build(manifest: dict, cache: Path) -> Dataset:
    """Read the manifest's files and compute the indicator tables (no memo)."""
    paths = [cache / f["name"] for f in manifest.get("files", [])]
    if not paths:
        raise FetchError(f"{cache / 'manifest.json'}: lists no files; run `cspbook fetch` again")
    tidy, supplied = load.load_files(paths)
    defs = definitions.indicators()
    monthly = indicators.monthly(tidy, defs, definitions.boroughs())
    annual = indicators.annual(monthly)
    changes = indicators.changes(annual, defs)
    return Dataset(tidy, supplied, manifest, monthly, annual, changes, indicators.data_months(monthly), tuple(map(str, paths)))
