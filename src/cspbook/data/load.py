"""Read MPS borough-level crime files (wide, one column per month) and say which file
supplies which month of each series.

Stage: raw file -> validated wide frame (:func:`read_wide`, checks in :mod:`cspbook.data.validate`)
-> the months each file supplies within its series (:func:`supplies`).

Every published layout is accepted: the key columns are found by name, in any order and in
any of the spellings listed under ``columns`` in ``data/classification.yml`` (``Borough``,
``LookUp_BoroughName``, ``BoroughName``; ``Major Category``, ``MajorText``; ``Minor
Category``, ``MinorText``); the other columns are months (``YYYYMM``). CRLF or LF line ends;
UTF-8 with or without a byte-order mark; names with commas quoted.
"""

from __future__ import annotations

import csv
import io
import operator
import re
from pathlib import Path

import numpy as np
import pandas as pd

from cspbook import definitions
from cspbook.data import validate
from cspbook.definitions.csvfile import locate_byte
from cspbook.errors import DataFileError

KEYS = ["borough", "major", "minor"]
LINE = "line"  # the wide frame's index: the line number of the row in the file


def read_text(path: Path) -> str:
    """The file's text, UTF-8 with or without BOM; reject empty, HTML and non-UTF-8 files."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DataFileError(path, "file not found", fix="run `cspbook fetch` to download the data") from None
    if not raw.removeprefix(b"\xef\xbb\xbf").strip():  # nothing, or only a byte-order mark and blanks
        raise DataFileError(path, "the file is empty", fix="fetch it again (`cspbook fetch`) or replace it with a complete export")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = locate_byte(raw, exc.start)
        char = raw[exc.start : exc.start + 1].decode("cp1252", errors="replace")
        raise DataFileError(
            path,
            f"found byte 0x{raw[exc.start]:02x} ('{char}' in Latin-1 or Windows-1252), which is not UTF-8",
            line=line,
            column=column,
            fix="save the file as UTF-8 (in Excel: 'CSV UTF-8'), then run the command again",
        ) from None
    head = text.lstrip()[:512].lower()
    if head.startswith("<") or "<html" in head or "<!doctype" in head:
        raise DataFileError(
            path,
            "the file is an HTML page, not a CSV (a website error page was saved instead of the data)",
            line=1,
            fix="fetch it again with `cspbook fetch`, or download the CSV from the London Datastore",
        )
    return text


def _rows(path: Path, text: str) -> tuple[list[str], list[tuple[int, list[str]]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise DataFileError(path, "the file is empty", fix="fetch it again (`cspbook fetch`) or replace it with a complete export")
    rows = []
    for fields in reader:
        if not fields or all(not f.strip() for f in fields):
            continue
        rows.append((reader.line_num, fields))
    return [h.strip() for h in header], rows


def _checked(path: Path) -> tuple[pd.DataFrame, list[str], list[str]]:
    """The file read and checked up to its categories: the wide frame as in the file, its
    header and the names of its borough, major and minor columns."""
    text = read_text(path)
    header, rows = _rows(path, text)
    classes = definitions.classifications()
    roles = validate.key_columns(path, header, classes.columns)
    month_at = [i for i in range(len(header)) if i not in roles.values()]
    month_columns = [header[i] for i in month_at]
    validate.month_headers(path, month_columns)
    validate.field_counts(path, header, rows)
    if not rows:
        raise DataFileError(path, "the file has a header but no data rows", line=2, fix="fetch it again or replace it with a complete export")
    lines = [line for line, _ in rows]
    keys = {role: [fields[i].strip() for _, fields in rows] for role, i in roles.items()}
    take = operator.itemgetter(*month_at) if len(month_at) > 1 else (lambda fields: (fields[month_at[0]],))
    joined = [",".join(take(fields)) for _, fields in rows]
    _plain_cells(path, lines, joined, [take(fields) for _, fields in rows], month_columns)
    counts = validate.counts(path, lines, joined, month_columns)
    frame = pd.DataFrame(counts, columns=month_columns, index=pd.Index(lines, name=LINE))
    for position, role in enumerate(KEYS):
        frame.insert(position, role, keys[role])
    key_columns = [header[roles[role]] for role in KEYS]
    validate.areas(path, frame, key_columns[0])
    return frame, header, key_columns


def suggest(path: Path) -> str:
    """For ``cspbook validate --suggest``: what data/classification.yml needs for the file to
    be read (the unknown categories and the block to paste), or that it needs nothing.
    Writes nothing."""
    from cspbook.data import newedition

    path = Path(path)
    frame, header, key_columns = _checked(path)
    try:
        cid = validate.categories(path, frame, key_columns, header)
    except DataFileError:
        finding = newedition.find(frame, header)
        if not finding.unknown or newedition.mixed(frame, finding.classification) is not None:
            raise
        return f"{path}: {newedition.describe(finding)}\n{newedition.block(finding)}"
    label = definitions.classifications().by_id[cid].label
    return f"{path}: every category is known ({label}, '{cid}'); nothing to add to data/classification.yml"


def read_wide(path: Path) -> pd.DataFrame:
    """Read and validate one file; return a wide frame.

    Columns: ``borough, major, minor`` (categories spelled as in ``data/classification.yml``)
    then one int64 column per month named ``YYYYMM``; the index (named ``line``) is each
    row's line number in the file, so later checks can point at it. Rows for areas that are
    not boroughs (e.g. Heathrow) are kept; the caller decides. ``attrs`` holds the file's
    ``classification``, its ``series`` and its ``path``. Raises
    :class:`~cspbook.errors.DataFileError` naming file, line and column.
    """
    path = Path(path)
    frame, header, key_columns = _checked(path)
    classes = definitions.classifications()
    classification = validate.categories(path, frame, key_columns, header)
    cls = classes.by_id[classification]
    canonical = cls.canonical
    key = {name: definitions.name_key(name) for name in {*frame["major"], *frame["minor"]}}  # each name once
    raw = [(key[ma], key[mi]) for ma, mi in zip(frame["major"], frame["minor"])]
    pairs = [canonical[k] for k in raw]
    frame["major"] = [ma for ma, _ in pairs]
    frame["minor"] = [mi for _, mi in pairs]
    direct = cls.direct  # a property: worked out once per file, not once per row
    aliased = np.array([k not in direct for k in raw], dtype=bool)
    if aliased.any():
        frame = merge_aliased(frame, aliased)
    validate.no_duplicates(path, frame, key_columns)
    frame.attrs.update(classification=classification, series=classes.by_id[classification].series, path=str(path))
    return frame


def merge_aliased(frame: pd.DataFrame, aliased: np.ndarray) -> pd.DataFrame:
    """Rows that an alias of ``data/classification.yml`` names the same as another row of their
    borough (a category published under its old and its new name, each with some of the
    months) are one category: their counts are added, on the first row's line.

    >>> f = pd.DataFrame({"borough": ["A", "A", "B"], "major": "M", "minor": "OLD", "202301": [5, 0, 1],
    ...                   "202302": [0, 7, 2]}, index=pd.Index([2, 3, 4], name=LINE))
    >>> merge_aliased(f, np.array([False, True, False]))[["borough", "202301", "202302"]].to_dict("list")
    {'borough': ['A', 'B'], '202301': [5, 1], '202302': [7, 2]}
    """
    keys = pd.MultiIndex.from_frame(frame[KEYS])
    touched = keys.isin(keys[aliased])
    if not (touched & keys.duplicated(keep=False)).any():
        return frame
    part = frame[touched]
    summed = part.groupby(KEYS, sort=False).sum(numeric_only=True)
    firsts = part.reset_index().groupby(KEYS, sort=False)[LINE].min()
    merged = summed.reset_index().set_index(pd.Index(firsts.to_numpy(), name=LINE))
    return pd.concat([frame[~touched], merged[frame.columns]]).sort_index()


_PLAIN = re.compile(r"[0-9 ,]*")
_ASCII_SPACE = " \t\n\r\x0b\x0c"


def _plain_cells(path: Path, lines: list[int], joined: list[str], cells: list[tuple], columns: list[str]) -> None:
    """A count cell holding a comma (``"1,234"``, quoted) or wrapped in a space that is not
    ASCII (a no-break space) is named with its line and column: the counts' check joins a
    row's cells with commas and numpy parses them, so it must never see either."""
    for line, row, values in zip(lines, joined, cells):
        if row.count(",") == len(columns) - 1 and _PLAIN.fullmatch(row):
            continue
        for column, value in zip(columns, values):
            if "," in value or value.strip() != value.strip(_ASCII_SPACE):
                kind = "a thousands separator" if "," in value else "a space that is not a plain space (such as a no-break space)"
                raise DataFileError(path, f"found {value[:40]!r}, written with {kind}", line=line, column=column,
                                    fix="counts must be whole numbers of offences written with digits only; correct the cell")


def month_ordinals(wide: pd.DataFrame) -> np.ndarray:
    """The months of a wide frame as months since January 1970 (pandas' monthly ordinals).

    >>> month_ordinals(pd.DataFrame(columns=["borough", "major", "minor", "197001", "201104"]))
    array([  0, 495])
    """
    cols = [c for c in wide.columns if c not in KEYS]
    return np.array([(int(c[:4]) - 1970) * 12 + int(c[4:]) - 1 for c in cols], dtype=np.int64)


def months_of(wide: pd.DataFrame) -> pd.PeriodIndex:
    """The months a wide frame covers, as monthly Periods."""
    return pd.PeriodIndex.from_ordinals(month_ordinals(wide), freq="M")


def describe(path: Path, wide: pd.DataFrame) -> dict:
    """Summary for the manifest: rows, boroughs, month range, classification and series."""
    months = months_of(wide)
    return {
        "rows": int(len(wide)),
        "boroughs": int(wide["borough"].isin(validate.known_boroughs()).groupby(wide["borough"]).any().sum()),
        "first_month": str(months.min()),
        "last_month": str(months.max()),
        "classification": wide.attrs.get("classification"),
        "series": wide.attrs.get("series"),
    }


def supplies(wides: list[pd.DataFrame]) -> list[np.ndarray]:
    """For each wide frame, the months (ordinals) it supplies within its series.

    Files of one series restate the same months: where they overlap, the later publication
    wins, so no month of a series is counted twice. A file's publication order is its last
    month, then its first month (a file that reaches further is newer). Files of different
    series never compete: each series keeps its own months (see
    :func:`cspbook.compute.indicators.select` for which series a figure uses).
    """
    months = [month_ordinals(w) for w in wides]
    order = sorted(range(len(wides)), key=lambda i: (months[i].max(), months[i].min()) if len(months[i]) else (-1, -1))
    owner: dict[tuple[str, int], int] = {}
    for i in order:
        for month in months[i]:
            owner[(wides[i].attrs.get("series", ""), int(month))] = i
    return [np.array([m for m in months[i] if owner[(wides[i].attrs.get("series", ""), int(m))] == i], dtype=np.int64)
            for i in range(len(wides))]


def runs(values) -> list[tuple[int, int]]:
    """Whole numbers (months as ordinals, years) folded into runs of consecutive values.

    >>> runs([2012, 2008, 2009, 2010])
    [(2008, 2010), (2012, 2012)]
    """
    out: list[list[int]] = []
    for value in sorted(int(v) for v in values):
        if out and value == out[-1][1] + 1:
            out[-1][1] = value
        else:
            out.append([value, value])
    return [(first, last) for first, last in out]


def ranges(ordinals) -> list[str]:
    """Consecutive months folded into ranges.

    >>> ranges([pd.Period("2011-01", "M").ordinal, pd.Period("2011-02", "M").ordinal, pd.Period("2011-04", "M").ordinal])
    ['2011-01..2011-02', '2011-04..2011-04']
    """
    return [f"{_label(first)}..{_label(last)}" for first, last in runs(ordinals)]


def _label(ordinal: int) -> str:
    return f"{1970 + ordinal // 12}-{ordinal % 12 + 1:02d}"


def load_files(paths: list[Path]) -> list[pd.DataFrame]:
    """Read and validate several files (see :func:`read_wide`); each frame's ``attrs`` also
    names its ``source`` (the file name)."""
    wides = []
    for path in paths:
        wide = read_wide(path)
        wide.attrs["source"] = Path(path).name
        wides.append(wide)
    return wides
