"""Reconciliation: what the report published against what cspbook recomputes from the data.

``data/published/<borough-slug>-<year>.csv`` holds the published changes. Each is compared
with the recomputed change; the difference is in percentage points, and a figure within
the report's tolerance (1.0 pp by default) reconciles.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cspbook import definitions
from cspbook.definitions import csvfile

COLUMNS = ["borough", "year", "indicator", "published_change_pct", "source"]
REVISION_REASON = (
    "the MPS revises its counts every month as crimes are reclassified or cancelled after "
    "recording, so the data today differ slightly from the figures available when the report was written"
)


def path_for(borough: str, year: int, folder: Path | None = None) -> Path:
    return definitions.year_file("published", borough, year, ".csv", folder)


def read_published(path: Path) -> pd.DataFrame:
    """Validated published figures; ``year`` as an int."""
    records = []
    for line, row in csvfile.read_rows(path, COLUMNS):
        ind = csvfile.indicator(path, line, row)
        records.append({
            "borough": csvfile.borough(path, line, row),
            "year": csvfile.year(path, line, row),
            "indicator": ind.id,
            "published_change_pct": csvfile.number(
                path, line, row, "published_change_pct", required=True, low=-100, high=float("inf"),
                fix="a change cannot fall below -100%; correct the figure",
            ),
            "source": row["source"],
        })
    return pd.DataFrame.from_records(records, columns=COLUMNS)


def compare(published: pd.DataFrame, recomputed: pd.DataFrame, tolerance_pp: float = 1.0) -> pd.DataFrame:
    """Published vs recomputed change for each published figure.

    ``recomputed`` has ``indicator, change_pct`` (and ``label``). Returns ``indicator,
    label, published_change_pct, recomputed_change_pct, difference_pp, status, reason``.
    ``status`` is 'reconciled' within ``tolerance_pp``, 'outside tolerance' beyond it, and
    'not recomputed' when the data give no comparable change.

    >>> pub = pd.DataFrame({"indicator": ["a", "b"], "published_change_pct": [7.8, -3.5], "source": ["r", "r"]})
    >>> rec = pd.DataFrame({"indicator": ["a", "b"], "label": ["A", "B"], "change_pct": [8.77, -6.0]})
    >>> compare(pub, rec)[["difference_pp", "status"]].to_dict("list")
    {'difference_pp': [0.97, -2.5], 'status': ['reconciled', 'outside tolerance']}
    """
    merged = published.merge(recomputed[["indicator", "label", "change_pct"]], on="indicator", how="left")
    out = pd.DataFrame({
        "indicator": merged["indicator"],
        "label": merged["label"],
        "published_change_pct": merged["published_change_pct"],
        "recomputed_change_pct": merged["change_pct"].round(2),
    })
    out["difference_pp"] = (out["recomputed_change_pct"] - out["published_change_pct"]).round(2)
    within = out["difference_pp"].abs() <= tolerance_pp + 1e-9
    out["status"] = ["not recomputed" if pd.isna(d) else "reconciled" if w else "outside tolerance"
                     for d, w in zip(out["difference_pp"], within)]
    out["reason"] = [_reason(s, d, tolerance_pp) for s, d in zip(out["status"], out["difference_pp"])]
    out["source"] = merged["source"]
    return out


NO_CHANGE = "the data give no comparable change for this year"
OTHER_DEFINITION = "the definition may also differ"


def _reason(status: str, diff: float, tolerance: float) -> str:
    if status == "not recomputed":
        return NO_CHANGE
    size = f"{abs(diff):.2f} percentage points"
    if status == "reconciled":
        return f"within {tolerance:g} pp ({size}): {REVISION_REASON}"
    return f"differs by {size}, more than {tolerance:g} pp: {REVISION_REASON}; {OTHER_DEFINITION}"


def status_text(status: str) -> str:
    """A row's status and what only that row adds to the reason every figure shares
    (:data:`REVISION_REASON`, which the book says once, above the table).

    >>> status_text("reconciled"), status_text("outside tolerance")
    ('reconciled', 'outside tolerance: the definition may also differ')
    """
    own = {"outside tolerance": OTHER_DEFINITION, "not recomputed": NO_CHANGE}.get(status)
    return f"{status}: {own}" if own else status
