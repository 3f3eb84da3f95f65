"""Small committed CSV files under data/ (partner figures, published figures): read them
with line numbers and check each cell, with messages that name file, line and column."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from cspbook import definitions
from cspbook.definitions import periods
from cspbook.errors import CspbookError, DefinitionError


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


def read_rows(path: Path, columns: list[str]) -> list[tuple[int, dict]]:
    """Rows as ``(line, {column: text})``; the header must hold exactly ``columns``."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DefinitionError(f"{path}: file not found") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line, column = locate_byte(raw, exc.start)
        char = raw[exc.start : exc.start + 1].decode("cp1252", errors="replace")
        where = f"{path}, line {line}" + (f", column '{column}'" if column else "")
        raise DefinitionError(
            f"{where}: found byte 0x{raw[exc.start]:02x} ('{char}' in Latin-1 or Windows-1252), which is not UTF-8. "
            "Save the file as UTF-8 (in Excel: 'CSV UTF-8')"
        ) from None
    if not text.strip():
        raise DefinitionError(f"{path}: the file is empty; it needs the header {','.join(columns)} and one row per figure")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in (reader.fieldnames or [])]
    missing = [c for c in columns if c not in header]
    if missing:
        raise DefinitionError(
            f"{path}, line 1, column '{missing[0]}': column missing; found {header}. "
            f"The header must be {','.join(columns)}"
        )
    rows = []
    for row in reader:
        if None in row:
            raise DefinitionError(f"{path}, line {reader.line_num}: more fields than the header has; check for a stray comma")
        clean = {k.strip(): (v or "").strip() for k, v in row.items()}
        if not any(clean.values()):
            continue
        rows.append((reader.line_num, clean))
    return rows


def cell_error(path, line, column, problem, fix=""):
    return DefinitionError(f"{path}, line {line}, column '{column}': {problem}" + (f". {fix[:1].upper()}{fix[1:]}" if fix else ""))


def number(path, line, row, column, *, required=False, low=None, high=None, fix="correct the figure"):
    """A numeric cell (or None when empty and not required), within [low, high]; ``fix`` is
    the advice given when it lies outside."""
    text = row[column]
    if text == "":
        if required:
            raise cell_error(path, line, column, "empty", "give a number")
        return None
    try:
        value = float(text[:-1] if text.endswith("%") else text)
    except ValueError:
        raise cell_error(path, line, column, f"found '{text}', which is not a number", "write a plain number such as 12.5") from None
    if math.isnan(value) or math.isinf(value):
        raise cell_error(path, line, column, f"found '{text}'", "write a plain number such as 12.5")
    if low is not None and value < low or high is not None and value > high:
        raise cell_error(path, line, column, f"found {text}, {_outside(low, high)}", fix)
    return value


def _outside(low, high) -> str:
    """How a number misses the range [low, high].

    >>> _outside(0, 100), _outside(0, float("inf")), _outside(None, 5)
    ('outside 0 to 100', 'below 0', 'above 5')
    """
    low_open = low is None or math.isinf(low)
    high_open = high is None or math.isinf(high)
    if low_open:
        return f"above {high:g}"
    if high_open:
        return f"below {low:g}"
    return f"outside {low:g} to {high:g}"


def borough(path, line, row, column="borough") -> str:
    try:
        return definitions.resolve_borough(row[column])
    except CspbookError as exc:
        raise cell_error(path, line, column, str(exc)) from None


def year(path, line, row, column="year") -> int:
    try:
        return periods.parse_year(row[column])
    except CspbookError as exc:
        raise cell_error(path, line, column, str(exc)) from None


def indicator(path, line, row, column="indicator", source=None):
    try:
        ind = definitions.indicator(row[column])
    except CspbookError as exc:
        raise cell_error(path, line, column, str(exc)) from None
    if source and ind.source != source:
        raise cell_error(path, line, column, f"'{ind.id}' is a source: {ind.source} indicator, not {source}",
                         f"only source: {source} indicators belong in this file")
    return ind
