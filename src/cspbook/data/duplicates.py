"""Files of the same edition that cover the same months: a second download of one file (a
browser names it ``... (1).csv``), identical or revised. Identical copies are read once, with
a line saying so; copies that disagree are refused (exit 2) naming both files, how many cells
differ and the first one: a figure is never taken from one of them because of its name."""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from cspbook import words
from cspbook.errors import DataFileError

KEYS = ["borough", "major", "minor"]


def _differences(first: pd.DataFrame, second: pd.DataFrame) -> tuple[int, str]:
    """How many cells of ``second`` differ from ``first`` (rows missing from either count
    whole), and the first difference in words (by line of ``second``)."""
    months = [c for c in first.columns if c not in KEYS]
    a = first.reset_index().set_index(KEYS)
    b = second.reset_index().set_index(KEYS)
    only_a = a.index.difference(b.index)
    only_b = b.index.difference(a.index)
    common = a.index.intersection(b.index)
    diff = a.loc[common, months].to_numpy() != b.loc[common, months].to_numpy()
    count = int(diff.sum()) + len(months) * (len(only_a) + len(only_b))
    found = []
    rows, cols = diff.nonzero()
    for r, c in zip(rows, cols):
        key = common[r]
        found.append((int(b.loc[key, "line"]), f"line {int(b.loc[key, 'line'])}, column '{months[c]}' "
                      f"({' / '.join(key)}): {a.loc[key, months[c]]} in one, {b.loc[key, months[c]]} in the other"))
    for key in only_b:
        found.append((int(b.loc[key, "line"]), f"line {int(b.loc[key, 'line'])} ({' / '.join(key)}): only in one of them"))
    for key in only_a:
        found.append((10**9, f"the row {' / '.join(key)} (line {int(a.loc[key, 'line'])} of the other): only in one of them"))
    return count, min(found)[1] if found else ""


def once(wides: list[pd.DataFrame], paths: list[Path], notice=None) -> tuple[list[pd.DataFrame], list[Path]]:
    """``wides`` and ``paths`` with every identical copy of an earlier file left out; a
    DataFileError when two files of one series cover the same months with different counts."""
    notice = notice or (lambda line: print(line, file=sys.stderr))
    kept: list[int] = []
    for i, (wide, path) in enumerate(zip(wides, paths)):
        twin = None
        for j in kept:
            if wides[j].attrs.get("series") == wide.attrs.get("series") and list(wides[j].columns) == list(wide.columns):
                twin = j
                break
        if twin is None:
            kept.append(i)
            continue
        count, first = _differences(wides[twin], wide)
        if count:
            raise DataFileError(
                path,
                f"it covers the same months ({wide.columns[3]}..{wide.columns[-1]}) of the same series "
                f"({wide.attrs.get('series')}) as {Path(paths[twin]).name}, and differs from it in "
                f"{words.plural(count, 'cell')}; first: {first}",
                fix="keep only the file you mean (the newer download is usually the one a browser names ' (1)'): "
                    "remove the other from the mirror folder and run `cspbook fetch` again",
            )
        notice(f"{Path(path).name} is an identical copy of {Path(paths[twin]).name}: read once")
    return [wides[i] for i in kept], [paths[i] for i in kept]
