"""Tables for the terminal: the indicator and reconciliation tables of the command line,
written as the book writes them (whole numbers with thousands separators, percentages with
one decimal, '-' where there is no value), labels wrapped to the terminal's width."""

from __future__ import annotations

import shutil

import pandas as pd
import tabulate as tabulate_module

from cspbook import words
from cspbook.pages import narrative

MISSING = "-"


def indicators(frame: pd.DataFrame, width: int | None = None) -> str:
    """The indicator table (:func:`cspbook.compute.table.indicator_table`), one line of figures per indicator."""
    rows = pd.DataFrame({
        "Indicator": frame["label"],
        "Source": frame["source"].map({"mps": "police", "partner": "partner"}),
        "Previous": [_value(v, u) for v, u in zip(frame["previous_value"], frame["unit"])],
        "This year": [_value(v, u) for v, u in zip(frame["value"], frame["unit"])],
        "Change": [_change(r) for r in frame.to_dict("records")],
        "Significant": [MISSING if pd.isna(s) or not c else ("yes" if s else "no")
                        for s, c in zip(frame["significant"], frame["comparable"])],
        "London": [narrative.signed_pct(v) if pd.notna(v) else MISSING for v in frame["london_change_pct"]],
        "Target": [s if isinstance(s, str) and s else MISSING for s in frame["target_status"]],
    })
    return render(rows, width)


def _value(value, unit) -> str:
    return MISSING if pd.isna(value) else narrative.number(value, unit)


def _change(row) -> str:
    """
    >>> _change(dict(comparable=True, unit="offences", change=-156.0, change_pct=-7.86, caution=""))
    '-7.9%'
    >>> _change(dict(comparable=True, unit="percent", change=6.0, change_pct=float("nan"), caution=""))
    '+6 points'
    >>> _change(dict(comparable=True, unit="offences", change=-450.0, change_pct=-20.23, caution="new system"))
    '-20.2% (caution)'
    >>> _change(dict(comparable=False, unit="offences", change=float("nan"), change_pct=float("nan"), caution=""))
    'n/a'
    """
    if not row["comparable"]:
        return "n/a"
    if row["unit"] == "percent":
        return MISSING if pd.isna(row["change"]) else words.plural(row["change"], "point", shown=f"{row['change']:+g}")
    if pd.isna(row["change_pct"]):
        return MISSING
    return narrative.signed_pct(row["change_pct"]) + (" (caution)" if row.get("caution") else "")


def reconciliation(frame: pd.DataFrame, width: int | None = None) -> str:
    """The reconciliation table (:func:`cspbook.compute.table.reconciliation`)."""
    rows = pd.DataFrame({
        "Indicator": frame["label"].fillna(frame["indicator"]),
        "Published": [narrative.signed_pct(v) if pd.notna(v) else MISSING for v in frame["published_change_pct"]],
        "Recomputed": [narrative.signed_pct(v) if pd.notna(v) else MISSING for v in frame["recomputed_change_pct"]],
        "Difference": [MISSING if pd.isna(v) else words.plural(v, "point", shown=f"{v:+.2f}") for v in frame["difference_pp"]],
        "Status": frame["status"],
        "Reason": frame["reason"],
    })
    return render(rows, width, wrap=("Indicator", "Reason"))


def render(rows: pd.DataFrame, width: int | None = None, wrap=("Indicator",)) -> str:
    """A plain-text table: the first column left-aligned, the others right-aligned; the
    ``wrap`` columns share what the other columns leave of ``width`` (default: the terminal's).

    >>> print(render(pd.DataFrame({"Indicator": ["Violence with injury"], "This year": ["1,829"]}), width=30))
    Indicator      This year
    -------------  ---------
    Violence with      1,829
    injury
    """
    width = width or shutil.get_terminal_size((120, 24)).columns
    cells = rows.astype(str)
    gap = 2  # the spaces between columns
    fixed = sum(max(len(c), cells[c].str.len().max() if len(cells) else 0) + gap for c in cells.columns if c not in wrap)
    share = max(12, (width - fixed) // max(1, len(wrap)) - gap)
    widths = [share if c in wrap else None for c in cells.columns]
    align = ["left" if i == 0 or c in wrap else "right" for i, c in enumerate(cells.columns)]
    padding, tabulate_module.MIN_PADDING = tabulate_module.MIN_PADDING, 0  # headers as wide as their text
    try:
        return tabulate_module.tabulate(cells.values.tolist(), headers=list(cells.columns), tablefmt="simple",
                                        colalign=align, maxcolwidths=widths, disable_numparse=True)
    finally:
        tabulate_module.MIN_PADDING = padding
