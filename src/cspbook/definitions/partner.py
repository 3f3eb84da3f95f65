"""Partner-supplied figures: read and validate ``data/partner/<borough-slug>-<year>.csv``.

These are figures the CSP report publishes without open data behind them (domestic abuse
flags, ASB calls to the council, drug treatment, youth justice, survey results). Each row
names who supplied it and where it was published.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cspbook import definitions
from cspbook.definitions import csvfile, periods
from cspbook.errors import DefinitionError

COLUMNS = ["borough", "year", "indicator", "previous_value", "value", "change_pct", "supplied_by", "source"]
TEMPLATE = "template.csv"


def path_for(borough: str, year: int, folder: Path | None = None) -> Path:
    return definitions.year_file("partner", borough, year, ".csv", folder)


def read(path: Path) -> pd.DataFrame:
    """Validated partner figures. Columns: ``COLUMNS`` plus ``unit``; ``year`` as an int.

    A percentage must lie between 0 and 100; a row needs both values or a change; when it
    has both and a change, the change must agree with the values (within 0.5%).
    """
    path = Path(path)
    records, seen = [], {}
    for line, row in csvfile.read_rows(path, COLUMNS):
        rec = _record(path, line, row)
        key = (rec["borough"], rec["year"], rec["indicator"])
        if key in seen:
            raise csvfile.cell_error(path, line, "indicator", f"'{rec['indicator']}' given twice (first on line {seen[key]})",
                                     "keep one row per indicator")
        seen[key] = line
        records.append(rec)
    frame = pd.DataFrame.from_records(records, columns=COLUMNS + ["unit"])
    for col in ("previous_value", "value", "change_pct"):
        frame[col] = frame[col].astype("float64")
    return frame


def _record(path, line, row) -> dict:
    ind = csvfile.indicator(path, line, row, source="partner")
    if ind.unit == "percent":
        limits = {"low": 0.0, "high": 100.0, "fix": f"'{ind.id}' is a percentage; correct the figure"}
    else:
        limits = {"low": 0.0, "high": float("inf"), "fix": f"'{ind.id}' counts {ind.unit}, which cannot be negative; correct the figure"}
    previous = csvfile.number(path, line, row, "previous_value", **limits)
    value = csvfile.number(path, line, row, "value", **limits)
    change = csvfile.number(path, line, row, "change_pct", low=-100.0, high=float("inf"))
    if change is None and (previous is None or value is None):
        raise csvfile.cell_error(path, line, "change_pct", "empty, and the row does not give both values",
                                 "give previous_value and value, or the published change_pct")
    if change is not None and previous and value is not None:
        implied = (value - previous) / previous * 100
        if abs(implied - change) > 0.5:
            raise csvfile.cell_error(path, line, "change_pct", f"{change:g}% disagrees with the values ({previous:g} to {value:g} is {implied:+.1f}%)",
                                     "correct the change or the values")
    for column in ("supplied_by", "source"):
        if not row[column]:
            raise csvfile.cell_error(path, line, column, "empty", "say who supplied the figure and where it was published")
    return {
        "borough": csvfile.borough(path, line, row),
        "year": csvfile.year(path, line, row),
        "indicator": ind.id,
        "previous_value": previous,
        "value": value,
        "change_pct": change,
        "supplied_by": row["supplied_by"],
        "source": row["source"],
        "unit": ind.unit,
    }


def for_borough(borough: str, year: int, folder: Path | None = None) -> pd.DataFrame:
    """Partner figures of one borough and year; an empty frame when there is no file."""
    path = path_for(borough, year, folder)
    if not path.exists():
        return pd.DataFrame(columns=COLUMNS + ["unit"])
    frame = read(path)
    wrong = frame[(frame["borough"] != borough) | (frame["year"] != year)]
    if len(wrong):
        row = wrong.iloc[0]
        raise DefinitionError(
            f"{path}: holds a row for {row['borough']} {periods.label(row['year'])}, "
            f"but the file name says {borough} {periods.label(year)}; move the row to its own file"
        )
    return frame


def as_changes(frame: pd.DataFrame) -> pd.DataFrame:
    """Partner rows in the shape of :func:`cspbook.compute.indicators.changes` output.

    For a percentage (e.g. 57% to 63%) the change is in percentage points and ``change_pct``
    is left empty; otherwise the change in % is the published one, or computed from the values.
    """
    out = pd.DataFrame({
        "indicator": frame["indicator"],
        "borough": frame["borough"],
        "year": frame["year"],
        "value": frame["value"],
        "previous_value": frame["previous_value"],
    })
    percent = (frame["unit"] == "percent").to_numpy()
    out["change"] = out["value"] - out["previous_value"]
    with np.errstate(divide="ignore", invalid="ignore"):
        computed = (out["value"] - out["previous_value"]) / out["previous_value"] * 100
    out["change_pct"] = np.where(percent, np.nan, frame["change_pct"].fillna(computed))
    out["comparable"] = True
    out["significant"] = pd.NA
    out["note"] = [
        f"supplied by {who}; published in {src}" + ("; change in percentage points" if pct else "")
        for who, src, pct in zip(frame["supplied_by"], frame["source"], percent)
    ]
    return out
