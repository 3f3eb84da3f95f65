"""MPS recorded crime by ward (the Datastore's ``recorded_crime_summary`` ward files): the
official wide CSV of the latest 24 months (``MajorText, MinorText, WardName, WardCode,
LookUp_BoroughName, YYYYMM...``) and the converted historical file (parquet, the same columns in
lower case), both on 2022 ward codes. Each is read into one wide frame (``borough, ward_code,
ward, major, minor`` and a column per month), its categories matched to a classification of
``data/classification.yml`` as the borough files' are."""

from __future__ import annotations

import re
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd

from cspbook import definitions
from cspbook.data import validate
from cspbook.errors import DataFileError

COLUMNS = {"lookupboroughname": "borough", "wardcode": "ward_code", "wardname": "ward", "majortext": "major", "minortext": "minor"}
KEYS = ["borough", "ward_code", "ward", "major", "minor"]
PATTERNS = ("MPS Ward Level Crime*.csv", "*ward*historical*.parquet")  # as the Datastore and the converted copy name them
FIX = "use the MPS ward-level files of the London Datastore (recorded_crime_summary) as published"


def _key(name) -> str:
    return re.sub(r"[^a-z0-9]", "", str(name).lower())


def find(cache: Path) -> list[Path]:
    """The ward files among the cached open files (``<cache>/open``, any depth), by name."""
    folder = Path(cache) / "open"
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*") if p.is_file() and any(fnmatch(p.name.lower(), pat.lower()) for pat in PATTERNS))


def read(path: Path) -> pd.DataFrame:
    """One ward file as a wide frame (index: the row's line in the file, for messages); its
    ``attrs`` hold the classification and the path. A missing column, a count that is not a
    whole number, an unknown category or a ward listed twice raise DataFileError."""
    path = Path(path)
    try:
        raw = pd.read_parquet(path) if path.suffix.lower() == ".parquet" else pd.read_csv(path)
    except (OSError, ValueError, ImportError) as exc:
        raise DataFileError(path, f"cannot be read ({exc})", fix=FIX) from None
    found = {_key(c): c for c in raw.columns}
    missing = [name for name in COLUMNS if name not in found]
    if missing:
        spelt = {"lookupboroughname": "LookUp_BoroughName", "wardcode": "WardCode", "wardname": "WardName",
                 "majortext": "MajorText", "minortext": "MinorText"}[missing[0]]
        raise DataFileError(path, f"no column '{spelt}'; the columns are {', '.join(map(str, raw.columns[:8]))}...",
                            line=1 if path.suffix.lower() == ".csv" else None, column=spelt, fix=FIX)
    months = [c for c in raw.columns if re.fullmatch(r"\d{6}", str(c).strip())]
    if not months:
        raise DataFileError(path, "no month columns (YYYYMM)", fix=FIX)
    frame = pd.DataFrame({COLUMNS[k]: raw[found[k]].astype(str).str.strip() for k in COLUMNS})[KEYS]
    frame.index = pd.RangeIndex(2, len(raw) + 2, name="line")
    counts = raw[months]
    if not all(pd.api.types.is_integer_dtype(t) for t in counts.dtypes):
        _bad_count(path, counts)
    if (counts.to_numpy() < 0).any():
        _bad_count(path, counts)
    counts = pd.DataFrame(counts.to_numpy(dtype="int64"), columns=[str(c).strip() for c in months], index=frame.index)
    frame = pd.concat([frame, counts], axis=1)
    # as the borough files are checked: borough, major and minor columns, then the months
    classification = validate.categories(path, frame.drop(columns=["ward_code", "ward"]),
                                         [found["lookupboroughname"], found["majortext"], found["minortext"]])
    canonical = definitions.classifications().by_id[classification].canonical
    pairs = [canonical[(definitions.name_key(a), definitions.name_key(b))] for a, b in zip(frame["major"], frame["minor"])]
    frame["major"], frame["minor"] = [a for a, _ in pairs], [b for _, b in pairs]
    twice = frame.duplicated(["borough", "ward_code", "major", "minor"])
    if twice.any():
        line = int(frame.index[np.flatnonzero(twice.to_numpy())[0]])
        raise DataFileError(path, "this ward and category are listed twice", line=line, column=found["wardcode"], fix=FIX)
    frame.attrs.update(classification=classification, path=str(path))
    return frame


def read_once(path: Path) -> pd.DataFrame:
    """:func:`read`, parsed once for the file's bytes (:mod:`cspbook.data.parsed`): `cspbook
    fetch` checks the file, the build's ward figures read the same frame. ``attrs["path"]``
    names ``path`` (the bytes may have been parsed from another copy of the file)."""
    from cspbook import integrity
    from cspbook.data import parsed

    path = Path(path)
    sha256 = integrity.actual_sha256(path)
    if sha256 is None:
        return read(path)  # no file: read names it
    frame = parsed.frame(parsed.key(sha256, "ward file", path.name), lambda: read(path))
    frame.attrs["path"] = str(path)
    return frame


def _bad_count(path: Path, counts: pd.DataFrame) -> None:
    """DataFileError at the first cell that is not a whole number of crimes (0 or more)."""
    for col in counts.columns:
        values = pd.to_numeric(counts[col], errors="coerce")
        bad = values.isna() | (values < 0) | (values % 1 != 0)
        if bad.any():
            at = int(np.flatnonzero(bad.to_numpy())[0])
            raise DataFileError(path, f"'{counts[col].iloc[at]}' is not a count of crimes", line=at + 2, column=str(col), fix=FIX)


def layout_reader(path: Path, source=None, aliases=None) -> pd.DataFrame:
    """The ``ward_wide`` layout of ``data/sources.yml`` (what `cspbook fetch` checks and the
    manifest summarises): the file read and checked by :func:`read`, its offences summed by
    area and month (one row per area, month and category; the wards themselves are read by
    :mod:`cspbook.compute.wards`)."""
    wide = read_once(path)
    months = [c for c in wide.columns if c not in KEYS]
    sums = wide.groupby(["borough", "minor"], sort=False)[months].sum()
    long = sums.stack().rename("value").reset_index().rename(columns={"level_2": "month"})
    return pd.DataFrame({"area": long["borough"], "period": long["month"].str[:4] + "-" + long["month"].str[4:],
                         "measure": long["minor"], "value": long["value"].astype("float64"), "file": Path(path).name,
                         "refresh": max(months) if months else "", "level": "local"})
