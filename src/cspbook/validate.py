"""Checks on a raw MPS crime file, each raising a DataFileError that names the file, the
line (as a person counts lines in the file: the header is line 1) and the column, says
what was found and what was expected, and how to fix it.

Cell-level checks on counts use a pandera schema; its failure cases are turned into our
messages (pandera reports the row index, which :mod:`cspbook.load` sets to the line number).
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pandas as pd
import pandera.pandas as pa

from cspbook import definitions, words
from cspbook.errors import DataFileError

_MONTH = re.compile(r"(\d{4})(0[1-9]|1[0-2])")
_WHOLE = r"^[0-9]{1,15}$"  # ASCII digits only (\d would take "٣"); 15 digits keep int64 far from overflow


def known_boroughs() -> tuple[str, ...]:
    return definitions.boroughs()


def layout(path: Path, header: list[str], layouts) -> tuple[str, str, str]:
    """Which published layout the header follows; reject a missing or renamed key column."""
    for keys in layouts:
        if tuple(header[:3]) == keys:
            return keys
    best = max(layouts, key=lambda keys: len(set(keys) & set(header)))
    missing = [k for k in best if k not in header]
    first = missing[0] if missing else best[0]
    expected = " or ".join(", ".join(keys) for keys in layouts)
    if missing:
        problem = f"column '{first}' missing; found {header[:3]}"
    else:
        problem = f"the first three columns must be {list(best)} in that order; found {header[:3]}"
    raise DataFileError(
        path, problem, line=1, column=first,
        fix=f"the header must start with {expected}, followed by one column per month (YYYYMM)",
    )


def month_headers(path: Path, columns: list[str]) -> None:
    """Month columns are YYYYMM, in order, with no month missing."""
    if not columns:
        raise DataFileError(path, "no month columns after the category columns", line=1, fix="each month needs a column named YYYYMM, e.g. 201104")
    previous = None
    for col in columns:
        match = _MONTH.fullmatch(col)
        if not match:
            raise DataFileError(
                path, f"month header '{col}' is not a month in the form YYYYMM", line=1, column=col,
                fix="name month columns like 201104 (April 2011)",
            )
        month = pd.Period(f"{match.group(1)}-{match.group(2)}", "M")
        if previous is not None and month != previous + 1:
            if month <= previous:
                problem = f"month {col} comes after {previous.strftime('%Y%m')}; months must increase"
            else:
                gap = (previous + 1).strftime("%Y%m")
                problem = f"months jump from {previous.strftime('%Y%m')} to {col}: month {gap} is missing"
            raise DataFileError(path, problem, line=1, column=col, fix="export the file again with every month as a column")
        previous = month


def field_counts(path: Path, header: list[str], rows) -> None:
    """Every row has as many fields as the header (a short last row means a truncated file)."""
    width = len(header)
    for i, (line, fields) in enumerate(rows):
        if len(fields) != width:
            last = i == len(rows) - 1
            problem = f"the row has {words.plural(len(fields), 'field')} but the header has {width}"
            fix = (
                "the file looks truncated (its last line is cut off); fetch it again with `cspbook fetch`"
                if last and len(fields) < width
                else "check for a stray or missing comma on that line"
            )
            raise DataFileError(path, problem, line=line, fix=fix)


def _count_schema(columns: list[str]) -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {col: pa.Column(str, pa.Check.str_matches(_WHOLE), nullable=False) for col in columns},
        strict=False,
    )


def counts(path: Path, frame: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    """Counts are whole numbers of 0 or more; return the frame with int64 month columns."""
    try:
        _count_schema(columns).validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases.dropna(subset=["index"])
        first = cases.sort_values(["index"]).iloc[0]
        line, col, value = int(first["index"]), first["column"], str(first["failure_case"])
        raise DataFileError(path, _count_problem(value), line=line, column=col, fix="counts must be whole numbers of offences, 0 or more; correct the cell") from None
    out = frame.copy()
    out[columns] = out[columns].astype("int64")
    return out


def _count_problem(value: str) -> str:
    """Say what is wrong with a count cell.

    >>> _count_problem("-3"), _count_problem("2.5"), _count_problem("n/a"), _count_problem("")
    ("found '-3', a negative count", "found '2.5', a fractional count", "found 'n/a', which is not a number", 'found an empty cell')
    >>> _count_problem("1" * 20), _count_problem("1e3"), _count_problem("inf")
    ("found '11111111111111111111', too large to be a count", "found '1e3', which is not written as a whole number", "found 'inf', which is not a number")
    """
    if value == "":
        return "found an empty cell"
    if re.fullmatch(r"[0-9]+", value):
        return f"found '{value}', too large to be a count"
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if number != number or number in (float("inf"), float("-inf")):  # also 'NaN', 'inf'
        return f"found '{value}', which is not a number"
    if number < 0:
        return f"found '{value}', a negative count"
    if number.is_integer():
        return f"found '{value}', which is not written as a whole number"
    return f"found '{value}', a fractional count"


def no_duplicates(path: Path, frame: pd.DataFrame, key_columns) -> None:
    """Each borough/major/minor appears once."""
    dup = frame.duplicated(subset=["borough", "major", "minor"], keep="first")
    if dup.any():
        line = int(frame.index[dup.to_numpy()][0])
        row = frame.loc[line]
        mask = (frame["borough"] == row["borough"]) & (frame["major"] == row["major"]) & (frame["minor"] == row["minor"])
        first_line = int(frame.index[mask.to_numpy()][0])
        raise DataFileError(
            path,
            f"duplicate row for '{row['borough']}' / '{row['major']}' / '{row['minor']}' (first seen on line {first_line})",
            line=line, column=key_columns[0],
            fix="keep one row per borough and category; delete the repeated row",
        )


def areas(path: Path, frame: pd.DataFrame, column: str) -> None:
    """Every area is a known borough or a known non-borough area; suggest the closest."""
    known = set(known_boroughs()) | set(definitions.other_areas())
    unknown = ~frame["borough"].isin(known)
    if unknown.any():
        line = int(frame.index[unknown.to_numpy()][0])
        name = frame.loc[line, "borough"]
        suggestion = definitions.suggest_borough(name)
        hint = f"did you mean '{suggestion}'? " if suggestion else ""
        raise DataFileError(
            path, f"unknown borough '{name}'", line=line, column=column,
            fix=f"{hint}Use the borough names in data/boroughs.yml".strip(),
        )


def categories(path: Path, frame: pd.DataFrame, key_columns) -> str:
    """The classification whose categories the file uses; reject unknown categories."""
    pairs = list(zip(frame["major"], frame["minor"], frame.index))
    classes = definitions.classifications().by_id
    fits = [cid for cid, c in classes.items() if all((ma, mi) in c.pairs for ma, mi, _ in pairs)]
    if fits:
        return _most_specific(fits, pairs, classes)
    best = max(classes.values(), key=lambda c: sum((ma, mi) in c.pairs for ma, mi, _ in pairs))
    for major, minor, line in pairs:
        if (major, minor) in best.pairs:
            continue
        if major not in best.categories:
            column, name, options = key_columns[1], major, list(best.categories)
        else:
            column, name, options = key_columns[2], minor, list(best.categories[major])
        other = next((c for c in classes.values() if (major, minor) in c.pairs), None)
        if other is not None:
            raise DataFileError(
                path, f"category '{name}' is in the {other.label}, but the rest of the file uses the {best.label}",
                line=int(line), column=column,
                fix="one file must use one classification; export the months on each side of the change as separate files",
            )
        close = difflib.get_close_matches(name, options, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        raise DataFileError(
            path, f"unknown category '{name}' (not in the {best.label})", line=int(line), column=column,
            fix=f"{hint}The known categories are listed in data/classification.yml".strip(),
        )
    raise AssertionError("unreachable")  # pragma: no cover


def _most_specific(fits, pairs, classes) -> str:
    """When every category exists in several classifications, pick the one whose
    distinctive names the file uses; a file with only shared names takes the first."""
    if len(fits) == 1:
        return fits[0]
    used = {(ma, mi) for ma, mi, _ in pairs}
    return max(fits, key=lambda cid: len(used & classes[cid].pairs))
