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


# --- what the numbers support ---------------------------------------------------------------

MATCH_PP = 0.05  # a published change given to one decimal matches a recomputed one within this


def definitions_for(indicator: str, defs: dict) -> list[str]:
    """The indicator and every police indicator whose categories contain it or are contained
    in it in every classification (e.g. vehicle crime with and without interference): the
    definitions the data allow for a published figure.

    >>> from cspbook.definitions import Indicator
    >>> defs = {"a": Indicator("a", "A", "", "p", "mps", "offences", True, {"c": ("x", "y")}),
    ...         "b": Indicator("b", "B", "", "p", "mps", "offences", True, {"c": ("x", "y", "z")}),
    ...         "t": Indicator("t", "T", "", "p", "mps", "offences", True, {"c": "all"})}
    >>> definitions_for("a", defs), definitions_for("b", defs)
    (['a', 'b'], ['b', 'a'])
    """
    own = defs[indicator]
    out = [indicator]
    for iid, ind in defs.items():
        if iid == indicator or ind.source != "mps" or own.source != "mps":
            continue
        shared = set(own.categories) & set(ind.categories)
        if not shared or any(own.categories[c] == "all" or ind.categories[c] == "all" for c in shared):
            continue
        if all(set(own.categories[c]) <= set(ind.categories[c]) or set(ind.categories[c]) <= set(own.categories[c])
               for c in shared):
            out.append(iid)
    return out


def candidates(all_changes: pd.DataFrame, defs: dict, series_labels: dict, published: pd.DataFrame,
               borough: str, year: int) -> pd.DataFrame:
    """Every recomputation of each published figure the data allow: each definition
    (:func:`definitions_for`) from each edition (series) that covers both years. Columns
    ``indicator, candidate, definition, series, edition, previous_value, value, change_pct``."""
    rows = all_changes[(all_changes["borough"] == borough) & (all_changes["year"] == year)]
    out = []
    for indicator in published["indicator"]:
        for iid in definitions_for(indicator, defs):
            for _, r in rows[(rows["indicator"] == iid) & rows["previous_value"].notna()].iterrows():
                out.append({"indicator": indicator, "candidate": iid, "definition": defs[iid].label,
                            "series": r["series"], "edition": series_labels.get(r["series"], r["series"]),
                            "previous_value": r["previous_value"], "value": r["value"],
                            "change_pct": (r["value"] - r["previous_value"]) / r["previous_value"] * 100})
    return pd.DataFrame(out, columns=["indicator", "candidate", "definition", "series", "edition", "previous_value",
                                      "value", "change_pct"])


def supported_reason(published_pct: float, used: pd.Series | None, cands: pd.DataFrame) -> str:
    """The reason the numbers support for a published figure, or 'not confirmed' with the
    candidates. ``used`` is the candidate the book uses (its definition, the series of the year).

    >>> c = pd.DataFrame({"candidate": ["v", "vi"], "definition": ["Vehicle", "Vehicle incl."], "edition": ["E", "E"],
    ...     "previous_value": [2860, 2962], "value": [2758, 2859], "change_pct": [-3.566, -3.477]})
    >>> supported_reason(-3.5, c.iloc[0], c)
    'matches the figure recomputed as vehicle incl. from E (-3.5%): a likely difference of definition'
    >>> supported_reason(7.8, c.iloc[0], c.iloc[:1])
    'not confirmed: no definition or edition the data allow gives +7.8% (candidates: Vehicle, E: -3.6%); only one edition of the data is at hand, so a revision cannot be checked'
    """
    if used is not None and abs(used["change_pct"] - published_pct) <= MATCH_PP:
        return "matches the recomputed figure"
    hits = cands[(cands["change_pct"] - published_pct).abs() <= MATCH_PP]
    if len(hits):
        hit = hits.iloc[0]
        kind = "definition" if used is None or hit["candidate"] != used["candidate"] else "edition (a revision of the data)"
        return (f"matches the figure recomputed as {hit['definition'].lower()} from {hit['edition']} "
                f"({hit['change_pct']:+.1f}%): a likely difference of {kind}")
    listed = "; ".join(f"{r['definition']}, {r['edition']}: {r['change_pct']:+.1f}%" for _, r in cands.iterrows())
    text = f"not confirmed: no definition or edition the data allow gives {published_pct:+.1f}% (candidates: {listed})"
    if used is not None:
        own = cands[cands["candidate"] == used["candidate"]]
        if own["edition"].nunique() > 1 and len(own[["previous_value", "value"]].drop_duplicates()) == 1:
            text += "; the counts are the same in every edition, so a revision of the data does not explain it"
        elif own["edition"].nunique() == 1:
            text += "; only one edition of the data is at hand, so a revision cannot be checked"
    return text
