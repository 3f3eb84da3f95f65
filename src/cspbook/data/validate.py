"""Checks on a raw MPS crime file, each raising a DataFileError that names the file, the
line (as a person counts lines in the file: the header is line 1) and the column, says
what was found and what was expected, and how to fix it.

Counts are checked a row at a time with one regular expression (every cell ASCII digits);
only a row that fails is looked at cell by cell, to say which cell and why.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cspbook import definitions, words
from cspbook.errors import DataFileError

_MONTH = re.compile(r"(\d{4})(0[1-9]|1[0-2])")
_CELL = r"[0-9]{1,15}"  # ASCII digits only (\d would take "٣"); 15 digits keep int64 far from overflow
_WHOLE = re.compile(_CELL)
_ROW = re.compile(rf"[ \t]*{_CELL}[ \t]*(?:,[ \t]*{_CELL}[ \t]*)*")


def known_boroughs() -> tuple[str, ...]:
    return definitions.boroughs()


def key_columns(path: Path, header: list[str], spellings: dict) -> dict[str, int]:
    """Where the borough, major and minor category columns are: found by name (any published
    spelling, any case), in any order; reject a header that lacks one or names one twice."""
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        for role, names in spellings.items():
            if definitions.name_key(name) in {definitions.name_key(n) for n in names}:
                if role in found:
                    raise DataFileError(
                        path, f"two {role} columns: '{header[found[role]]}' and '{name}'", line=1, column=name,
                        fix="keep one of them and delete the other",
                    )
                found[role] = index
    missing = [role for role in spellings if role not in found]
    if missing:
        role = missing[0]
        names = list(spellings[role])
        spare = [h for i, h in enumerate(header) if i not in found.values() and not _MONTH.fullmatch(h)]
        close = _closest(spare, names)
        shown = repr(header[:4])[:-1] + ", ...]" if len(header) > 4 else repr(header)
        fix = (f"rename column '{close}' to '{_closest(names, [close])}'" if close else
               f"add a column '{names[0]}'") + (
            "; a file needs a borough, a major category and a minor category column, then one column per month "
            "(YYYYMM). A new spelling of a column name can be added under columns: in data/classification.yml")
        raise DataFileError(
            path, f"no {ROLE_WORDS[role]} column (named {' or '.join(repr(n) for n in names)}); found {shown}",
            line=1, column=close or names[0], fix=fix,
        )
    return found


ROLE_WORDS = {"borough": "borough", "major": "major category", "minor": "minor category"}


def _closest(candidates, targets) -> str | None:
    """The candidate most like one of ``targets`` (case ignored), if any is close.

    >>> _closest(["Minor Cat", "201104"], ["Minor Category", "MinorText"]), _closest(["x"], ["Borough"])
    ('Minor Cat', None)
    """
    best, score = None, 0.6
    for candidate in candidates:
        for target in targets:
            ratio = difflib.SequenceMatcher(None, candidate.casefold(), target.casefold()).ratio()
            if ratio > score:
                best, score = candidate, ratio
    return best


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


def counts(path: Path, lines: list[int], joined: list[str], columns: list[str]) -> np.ndarray:
    """Counts are whole numbers of 0 or more: the (rows x months) int64 array of the rows'
    count cells (each row's cells ``joined`` by commas; spaces around a count are ignored).
    The first bad cell (by line, then column) is named."""
    for line, row in zip(lines, joined):
        if not _ROW.fullmatch(row):
            for column, value in zip(columns, row.split(",")):
                if not _WHOLE.fullmatch(value.strip()):
                    raise DataFileError(path, _count_problem(value.strip()), line=line, column=column,
                                        fix="counts must be whole numbers of offences, 0 or more; correct the cell")
    # every cell is checked above, so numpy's C parser reads them all (a tenth of the time of int())
    values = np.fromstring(",".join(joined), dtype=np.int64, sep=",") if joined else np.zeros(0, dtype=np.int64)
    return values.reshape(len(joined), len(columns))


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


def categories(path: Path, frame: pd.DataFrame, key_columns, header=()) -> str:
    """The classification whose categories the file uses (names matched by
    :func:`cspbook.definitions.name_key`, aliases included); reject a file with a category no
    classification knows, saying which classification it matches best, each unknown category
    with its line and total and the likely renaming, and the lines to paste
    (:mod:`cspbook.data.newedition`); never count such a category as zero."""
    from cspbook.data import newedition

    key = {name: definitions.name_key(name) for name in {*frame["major"], *frame["minor"]}}.__getitem__  # each name once
    pairs = list(zip([key(m) for m in frame["major"]], [key(m) for m in frame["minor"]], frame.index))
    classes = definitions.classifications().by_id
    known = {cid: c.pairs for cid, c in classes.items()}
    fits = [cid for cid in classes if all((ma, mi) in known[cid] for ma, mi, _ in pairs)]
    if fits:
        return _most_specific(fits, pairs, known)
    finding = newedition.find(frame, list(header) or list(key_columns))
    split = newedition.mixed(frame, finding.classification)
    first = finding.unknown[0]
    column = key_columns[2] if first.major_known else key_columns[1]
    if split is not None:
        problem, fix = newedition.mixed_advice(*split)
        raise DataFileError(path, problem, line=first.line, column=column, fix=fix)
    raise DataFileError(
        path, newedition.describe(finding), line=first.line, column=column,
        fix="say in data/classification.yml what each is, with no code change (`cspbook validate --suggest FILE` on "
        f"this file prints this again and writes nothing):\n{newedition.block(finding)}",
    )


def _most_specific(fits, pairs, known) -> str:
    """When every category exists in several classifications, pick the one whose
    distinctive names the file uses; a file with only shared names takes the first."""
    if len(fits) == 1:
        return fits[0]
    used = {(ma, mi) for ma, mi, _ in pairs}
    return max(fits, key=lambda cid: len(used & known[cid]))
