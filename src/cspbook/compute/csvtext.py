"""Every CSV cspbook writes (``cspbook indicators`` and ``reconcile --format csv``, the book's
downloads), made safe to open in a spreadsheet: a text cell that begins with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return would be read as a formula (OWASP's "CSV
injection"), so it gets a leading apostrophe, which spreadsheets show as text; numbers, and
text that is a number (``-4.0``), stay as they are."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    """``value`` as a spreadsheet reads it as text, never as a formula.

    >>> safe_cell('=HYPERLINK("http://x","pub")'), safe_cell("-4.0"), safe_cell(-4.0), safe_cell("@SUM(A1)")
    ('\\'=HYPERLINK("http://x","pub")', '-4.0', -4.0, "'@SUM(A1)")
    """
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    try:
        float(value)
    except ValueError:
        return "'" + value
    return value if value.strip() == value else "'" + value


def to_csv(frame: pd.DataFrame) -> str:
    """``frame`` as CSV text (no index, ``\\n`` line ends, floats to 10 significant digits),
    every text cell made safe (:func:`safe_cell`)."""
    from pandas.api.types import is_numeric_dtype

    safe = frame.copy()
    for column in safe.columns:
        if not is_numeric_dtype(safe[column].dtype):
            safe[column] = safe[column].map(safe_cell)
    safe.columns = [safe_cell(str(name)) for name in safe.columns]
    return safe.to_csv(index=False, lineterminator="\n", float_format=lambda x: f"{x:.10g}")
