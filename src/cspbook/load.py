"""Read MPS borough-level crime files (wide, one column per month) into a tidy frame.

Stage: raw file -> validated wide frame (:func:`read_wide`, checks in :mod:`cspbook.validate`)
-> tidy rows (:func:`tidy`) -> one series per month from several files (:func:`combine`).

Two published layouts are accepted: ``Borough, Major Category, Minor Category, YYYYMM...``
and ``LookUp_BoroughName, MajorText, MinorText, YYYYMM...``; CRLF or LF line ends; UTF-8
with or without a byte-order mark.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd

from cspbook import validate
from cspbook.errors import DataFileError

LAYOUTS = (
    ("Borough", "Major Category", "Minor Category"),
    ("LookUp_BoroughName", "MajorText", "MinorText"),
)
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


def locate_byte(raw: bytes, position: int) -> tuple[int, str | None]:
    r"""The line (the header is line 1) holding byte ``position``, and its column's header name.

    >>> locate_byte("Borough,Minor\n\nBarnet,Cost \xa35\n".encode("latin-1"), 27)
    (3, 'Minor')
    >>> locate_byte(b"\r\x80", 1)  # a stray carriage return: the line, but no column
    (1, None)
    """
    line = raw[:position].count(b"\n") + 1
    line_start = raw.rfind(b"\n", 0, position) + 1
    before = raw[line_start:position].decode("cp1252", errors="replace")
    header_line = raw.split(b"\n", 1)[0].decode("utf-8-sig", errors="replace").rstrip("\r")
    try:
        index = len(next(csv.reader([before + "x"]))) - 1
        header = next(csv.reader([header_line]), [])
    except csv.Error:  # a carriage return inside the line: too garbled to name the column
        return line, None
    column = header[index].strip() if line > 1 and index < len(header) else None
    return line, column


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


def read_wide(path: Path) -> pd.DataFrame:
    """Read and validate one file; return a wide frame.

    Columns: ``borough, major, minor`` then one int column per month named ``YYYYMM``;
    the index (named ``line``) is each row's line number in the file, so later checks can
    point at it. Rows for areas that are not boroughs (e.g. Heathrow) are kept; the caller
    decides. Raises :class:`~cspbook.errors.DataFileError` naming file, line and column.
    """
    path = Path(path)
    text = read_text(path)
    header, rows = _rows(path, text)
    key_columns = validate.layout(path, header, LAYOUTS)
    month_columns = header[3:]
    validate.month_headers(path, month_columns)
    validate.field_counts(path, header, rows)
    if not rows:
        raise DataFileError(path, "the file has a header but no data rows", line=2, fix="fetch it again or replace it with a complete export")
    frame = pd.DataFrame(
        [[f.strip() for f in fields] for _, fields in rows],
        columns=KEYS + month_columns,
        index=pd.Index([line for line, _ in rows], name=LINE),
    )
    frame = validate.counts(path, frame, month_columns)
    validate.no_duplicates(path, frame, key_columns)
    validate.areas(path, frame, key_columns[0])
    frame.attrs["classification"] = validate.categories(path, frame, key_columns)
    frame.attrs["path"] = str(path)
    return frame


def months_of(wide: pd.DataFrame) -> pd.PeriodIndex:
    """The months a wide frame covers, as monthly Periods."""
    cols = [c for c in wide.columns if c not in KEYS]
    return pd.PeriodIndex([pd.Period(f"{c[:4]}-{c[4:]}", "M") for c in cols])


def describe(path: Path, wide: pd.DataFrame) -> dict:
    """Summary for the manifest: rows, boroughs, month range and classification."""
    months = months_of(wide)
    return {
        "rows": int(len(wide)),
        "boroughs": int(wide["borough"].isin(validate.known_boroughs()).groupby(wide["borough"]).any().sum()),
        "first_month": str(months.min()),
        "last_month": str(months.max()),
        "classification": wide.attrs.get("classification"),
    }


def tidy(wide: pd.DataFrame, source: str = "") -> pd.DataFrame:
    """Wide to tidy: one row per borough, major, minor and month; boroughs only.

    Returns columns ``borough, major, minor, month, count, classification, source``.
    The input is not modified.
    """
    boroughs = wide[wide["borough"].isin(validate.known_boroughs())]
    long = boroughs.melt(id_vars=KEYS, var_name="yyyymm", value_name="count")
    months = {c: pd.Period(f"{c[:4]}-{c[4:]}", "M") for c in long["yyyymm"].unique()}
    out = long[KEYS].copy()
    out["month"] = pd.PeriodIndex(long["yyyymm"].map(months), freq="M")
    out["count"] = long["count"].astype("int64")
    out["classification"] = wide.attrs.get("classification", "")
    out["source"] = source or Path(wide.attrs.get("path", "")).name
    return out.reset_index(drop=True)


def combine(frames: list[pd.DataFrame]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Stack tidy frames from several files; where months overlap the later publication wins.

    A file's publication order is its last month, then its first month (a file that
    reaches further is newer). Returns the combined tidy frame and, for each source file,
    the months it supplied as ``['2008-01..2016-12', ...]`` ranges.
    """
    ordered = sorted(
        (f for f in frames if len(f)),
        key=lambda f: (f["month"].max(), f["month"].min()),
    )
    owner: dict[pd.Period, int] = {}
    for i, frame in enumerate(ordered):
        for month in frame["month"].unique():
            owner[month] = i
    parts = [f[f["month"].map(owner) == i] for i, f in enumerate(ordered)]
    combined = pd.concat(parts, ignore_index=True) if parts else _empty_tidy()
    supplied = {
        str(f["source"].iloc[0]): _ranges(sorted(m for m, o in owner.items() if o == i))
        for i, f in enumerate(ordered)
    }
    return combined, supplied


def _empty_tidy() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "borough": pd.Series(dtype=str),
            "major": pd.Series(dtype=str),
            "minor": pd.Series(dtype=str),
            "month": pd.PeriodIndex([], freq="M"),
            "count": pd.Series(dtype="int64"),
            "classification": pd.Series(dtype=str),
            "source": pd.Series(dtype=str),
        }
    )


def _ranges(months: list[pd.Period]) -> list[str]:
    """Consecutive months folded into ranges.

    >>> P = lambda s: pd.Period(s, "M")
    >>> _ranges([P("2011-01"), P("2011-02"), P("2011-04")])
    ['2011-01..2011-02', '2011-04..2011-04']
    """
    out, start, prev = [], None, None
    for month in months:
        if start is None:
            start = prev = month
        elif month == prev + 1:
            prev = month
        else:
            out.append(f"{start}..{prev}")
            start = prev = month
    if start is not None:
        out.append(f"{start}..{prev}")
    return out


def load_files(paths: list[Path]) -> tuple[pd.DataFrame, dict[str, list[str]]]:
    """Read, validate and combine several files into one tidy frame (see :func:`combine`)."""
    return combine([tidy(read_wide(p), Path(p).name) for p in paths])
