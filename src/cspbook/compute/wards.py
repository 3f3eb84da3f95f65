"""Where in the borough: the police measures counted by ward (2022 ward codes) from the MPS ward
files, per financial year, computed once per set of files (memoised in the process and sealed
on disk, as the dataset is), then for one borough and year: the wards ranked by count, the
change per ward with its significance test (:mod:`cspbook.compute.stats`), the share of the
top three wards, and the gap between the wards' total and the borough file's count.

Ward counts cover crimes recorded with a known ward only, so they are a series of their own:
they never replace or mix with the borough totals."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from cspbook import config, definitions, fingerprint, integrity
from cspbook.compute import stats

TOP = 3
_MEMO: dict = {}


def annual(wides: list[pd.DataFrame], indicators, months: int = 12) -> pd.DataFrame:
    """Offences per indicator, ward and financial year, columns ``indicator, borough, ward_code,
    ward, year, count``: the first ``months`` months of each year from April (12: the whole year;
    fewer: a year to date, so that its wards count the months its borough figure counts, and
    the year before the same months). Each month comes from one file: the newest (the one
    reaching the latest month) that has it. A year is counted when the files supply all of its
    ``months`` months.

    >>> from cspbook.definitions import Indicator
    >>> w = pd.DataFrame({"borough": ["A", "A"], "ward_code": ["E1", "E1"], "ward": ["W", "W"], "major": ["M", "M"],
    ...                   "minor": ["X", "Y"], **{f"2011{m:02d}": [1, 10] for m in range(4, 13)},
    ...                   **{f"2012{m:02d}": [1, 10] for m in range(1, 4)}})
    >>> w.attrs["classification"] = "c"
    >>> ind = Indicator("x", "X", "", "p", "mps", "offences", True, {"c": ("X",)})
    >>> annual([w], {"x": ind})[["ward", "year", "count"]].to_dict("records")
    [{'ward': 'W', 'year': 2011, 'count': 12}]
    >>> annual([w], {"x": ind}, months=8)[["ward", "year", "count"]].to_dict("records")  # April to November
    [{'ward': 'W', 'year': 2011, 'count': 8}]
    """
    owner = {}
    for i, wide in sorted(enumerate(wides), key=lambda p: max(_months(p[1])), reverse=True):
        for month in _months(wide):
            owner.setdefault(month, i)
    owner = {m: i for m, i in owner.items() if (int(m[4:]) - 4) % 12 < months}  # the year's first ``months``
    years = pd.Series([m[:4] if int(m[4:]) >= 4 else str(int(m[:4]) - 1) for m in owner], index=list(owner),
                      dtype="object").astype(int)
    complete = set(years.value_counts()[lambda n: n == months].index)
    parts = []
    mps = [ind for ind in indicators.values() if ind.source == "mps"]
    for i, wide in enumerate(wides):
        cols = [m for m in _months(wide) if owner.get(m) == i and years[m] in complete]
        if not cols:
            continue
        fy = years[cols].to_numpy()
        for ind in mps:
            wanted = ind.categories.get(wide.attrs.get("classification", ""), ())
            rows = wide if wanted == "all" else wide[wide["minor"].isin(list(wanted))]
            per_ward = rows.groupby(["borough", "ward_code", "ward"], sort=False)[cols].sum()
            by_year = per_ward.T.groupby(fy).sum().T  # wards x years
            long = by_year.stack().rename("count").reset_index().rename(columns={"level_3": "year"})
            parts.append(long.assign(indicator=ind.id))
    if not parts:
        return pd.DataFrame(columns=["indicator", "borough", "ward_code", "ward", "year", "count"])
    out = pd.concat(parts, ignore_index=True)
    out = out.groupby(["indicator", "borough", "ward_code", "ward", "year"], as_index=False)["count"].sum()
    out = out.astype({"year": "int64", "count": "int64"})
    out.attrs["classifications"] = sorted({w.attrs.get("classification", "") for w in wides})  # the categories counted
    return out


def _months(wide: pd.DataFrame) -> list[str]:
    return [c for c in wide.columns if c.isdigit() and len(c) == 6]


def for_borough(ward_years: pd.DataFrame, indicator: str, borough: str, year: int) -> pd.DataFrame:
    """The borough's wards for one indicator and year, ranked by count (1 = most): ``ward,
    ward_code, value, previous_value, change_pct, ci_low_pct, ci_high_pct, significant, rank,
    share_pct`` (of the wards' total). Empty when the ward files do not cover the year."""
    rows = ward_years[(ward_years["indicator"] == indicator) & (ward_years["borough"] == borough)]
    now = rows[rows["year"] == year].set_index("ward_code")
    if now.empty:
        return pd.DataFrame(columns=["ward", "ward_code", "value", "previous_value", "change_pct", "ci_low_pct",
                                     "ci_high_pct", "significant", "rank", "share_pct"])
    before = rows[rows["year"] == year - 1].set_index("ward_code")["count"]
    out = pd.DataFrame({"ward": now["ward"], "value": now["count"].astype("float64"),
                        "previous_value": before.reindex(now.index).astype("float64")})
    out["change_pct"] = stats.change_pct(out["value"], out["previous_value"])
    low, high = stats.poisson_change_interval(out["value"], out["previous_value"])
    out["ci_low_pct"], out["ci_high_pct"] = low, high
    out["significant"] = stats.significant(low, high)
    out["share_pct"] = out["value"] / out["value"].sum() * 100 if out["value"].sum() else np.nan
    out = out.reset_index().sort_values(["value", "ward"], ascending=[False, True])
    out["rank"] = out["value"].rank(ascending=False, method="min").astype("int64")
    return out[["ward", "ward_code", "value", "previous_value", "change_pct", "ci_low_pct", "ci_high_pct",
                "significant", "rank", "share_pct"]].reset_index(drop=True)


def top_share(wards: pd.DataFrame, n: int = TOP) -> float:
    """The share (%) of the wards' total in the ``n`` wards with the most offences.

    >>> top_share(pd.DataFrame({"value": [50.0, 30, 10, 5, 5]}))
    90.0
    """
    total = wards["value"].sum()
    return float(wards["value"].nlargest(n).sum() / total * 100) if total else float("nan")


def gap(borough_count: float, ward_total: float) -> tuple[float, float]:
    """How many fewer offences the wards hold than the borough file, and that as % of the borough's.

    >>> gap(2000, 1850)
    (150.0, 7.5)
    """
    if not borough_count or pd.isna(borough_count):
        return float("nan"), float("nan")
    return float(borough_count - ward_total), float((borough_count - ward_total) / borough_count * 100)


def ward_years(cache: Path | None = None, months: int = 12) -> pd.DataFrame | None:
    """:func:`annual` of the ward files among the cached open files (``months``: of each year, as
    there), None when there are none; computed once per set of files and months (in the process
    and in ``.cspbook/wards/``)."""
    from cspbook.data import wards

    cache = Path(cache or config.cache_dir())
    paths = wards.find(cache)
    if not paths:
        return None
    # the files by name within the cache, not by path: a build reads them from its snapshot,
    # a new folder each time an input changes, and the frame is the same for the same bytes
    parts = [f"{p.relative_to(cache).as_posix()}:{integrity.actual_sha256(p)}" for p in paths]
    parts += [sys.version, pd.__version__, fingerprint.tree(config.definitions_dir(), "*", recursive=False),
              fingerprint.library()]
    prefix = f"{months:02d}-"  # a frame per months counted; a newer set of files replaces that months' frame
    key = prefix + fingerprint.digest(*(p.encode() for p in parts))
    if key not in _MEMO:
        for old in [k for k in _MEMO if k.startswith(prefix)]:
            del _MEMO[old]
        _MEMO[key] = _saved_or_built(key, paths, months)
    return _MEMO[key]


def _saved_or_built(key: str, paths: list[Path], months: int = 12) -> pd.DataFrame:
    import pickle

    from cspbook.data import wards

    path = config.work_dir() / "wards" / f"{key}.pickle"
    payload, _problem = integrity.read_sealed(path)
    if payload is not None:
        try:
            return pickle.loads(payload)
        except Exception:  # noqa: BLE001 - an unreadable cache file is recomputed below
            pass
    frame = annual([wards.read_once(p) for p in paths], definitions.indicators(), months)
    try:
        integrity.write_sealed(path, pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL))
        for old in path.parent.glob(f"{months:02d}-*.pickle"):  # the same months of older files
            if old != path:
                old.unlink(missing_ok=True)
    except OSError:
        pass
    return frame
