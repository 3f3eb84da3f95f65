"""What every open-data reader shares: the long frame it returns, finding columns under any
published spelling, and the checks that stop a bad file with the file, row and column
(DataFileError, exit 2): a missing column, a bad number, a duplicate row, an unknown value."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cspbook import definitions
from cspbook.definitions.sources import area_key, column_key
from cspbook.errors import DataFileError

LONG = ["area", "period", "measure", "value", "file", "refresh", "level"]


def find_columns(path: Path, present, roles: dict, optional=(), line: int | None = None) -> dict:
    """role -> the file's column, for each role's spellings (matched by :func:`column_key`);
    DataFileError naming the first required column that is missing (and the header's
    ``line``, where the file has lines)."""
    by_key = {column_key(c): c for c in present}
    found = {}
    for role, spellings in roles.items():
        hit = next((by_key[column_key(s)] for s in spellings if column_key(s) in by_key), None)
        if hit is None and role not in optional:
            raise DataFileError(
                path, f"no column '{spellings[0]}'" + (f" (or '{spellings[1]}')" if len(spellings) > 1 else "")
                + f"; the columns are {', '.join(map(str, present))}",
                line=line, column=spellings[0], fix="use the file as the publisher issues it, with every column",
            )
        if hit is not None:
            found[role] = hit
    return found


def numbers(path: Path, values: pd.Series, column: str, line0: int, *, missing=(), integer=False,
            low: float = 0.0, high: float = float("inf"), what: str = "a number") -> np.ndarray:
    """The values as floats (``missing`` spellings, e.g. '-' or 'NULL', as NaN); DataFileError
    naming the first row (``line0`` is the line of the first value) whose value is not a
    number in [low, high] (a whole number with ``integer``)."""
    text = values.astype("string").str.strip()
    absent = text.isna() | text.isin(list(missing))
    parsed = pd.to_numeric(text.str.replace(",", "", regex=False).where(~absent), errors="coerce").astype("float64")
    bad = ~absent & (parsed.isna() | (parsed < low) | (parsed > high) | (integer & (parsed % 1 != 0)))
    if bad.any():
        at = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFileError(path, f"'{values.iloc[at]}' is not {what}", line=line0 + at, column=column,
                            fix="correct the value, or fetch the file again")
    return parsed.to_numpy()


def check_known(path: Path, values: pd.Series, column: str, allowed, line0: int, source_id: str) -> pd.Series:
    """The values in the registry's spelling; DataFileError at the first value that
    ``data/sources.yml`` does not know for this column (compared without regard to case)."""
    spelling = {str(a).strip().lower(): a for a in allowed}
    keys = values.astype("string").str.strip().str.lower()
    unknown = ~keys.isin(list(spelling))
    if unknown.any():
        at = int(np.flatnonzero(unknown.to_numpy())[0])
        raise DataFileError(
            path, f"unknown {column} '{values.iloc[at]}': data/sources.yml knows {', '.join(map(str, allowed))} "
            f"for source '{source_id}'", line=line0 + at, column=column,
            fix=f"add it to known: {column} of '{source_id}' in data/sources.yml if it is a new measure, and say what it counts",
        )
    return keys.map(spelling)


def check_unique(path: Path, frame: pd.DataFrame, keys: list, column: str, line0: int, rows=None) -> None:
    """DataFileError naming the first row that repeats an earlier row's ``keys`` (``rows``:
    each frame row's position in the file, when the frame is a selection)."""
    later = frame.duplicated(keys).to_numpy()
    if not later.any():
        return
    b = int(np.flatnonzero(later)[0])
    same = np.ones(len(frame), dtype=bool)
    for key in keys:
        same &= (frame[key] == frame[key].iloc[b]).to_numpy()
    a = int(np.flatnonzero(same)[0])
    lines = np.arange(len(frame)) if rows is None else np.asarray(rows)
    raise DataFileError(
        path, f"duplicate row: the same {', '.join(keys)} as line {line0 + int(lines[a])}", line=line0 + int(lines[b]),
        column=column, fix="keep one row for each, as the publisher's file has",
    )


def areas(names: pd.Series, aliases: dict) -> pd.Series:
    """Area names as cspbook spells them: a borough's name (matched without regard to case,
    '&' or spacing), an alias of ``data/sources.yml``, or the name as given."""
    boroughs = {area_key(b): b for b in definitions.boroughs()}
    unique = pd.unique(names.astype("string").fillna("").str.strip())
    mapping = {n: boroughs.get(area_key(n)) or aliases.get(area_key(n)) or n for n in unique}
    return names.astype("string").fillna("").str.strip().map(mapping)


def long_frame(path: Path, **columns) -> pd.DataFrame:
    """The reader's result in the columns of ``LONG`` (``file`` is the file's name)."""
    out = pd.DataFrame({k: columns[k] for k in ("area", "period", "measure", "value")})
    out["value"] = out["value"].astype("float64")
    out["file"] = Path(path).name
    out["refresh"] = columns.get("refresh", "")
    out["level"] = columns.get("level", "local")
    return out[LONG].reset_index(drop=True)
