"""Which partner-supplied figures each page of the book shows, for the notebook cache keys.

A notebook's cache key (:func:`cspbook.execute.plan.plan`) covers every definition file under
``data/`` except ``data/partner/``: a page depends only on the partner figures it shows,
so that correcting one figure reruns the pages that show it and no other (the chapter of
its priority, the overview and the cover paper when it is a headline indicator). What a
page shows is declared here, per page, from the report configuration:

- ``figures``: the indicators whose whole row (values, change, supplier, source) the page
  shows;
- ``suppliers``: the page lists who supplied every figure and where it was published
  (not the values).

``tests/test_page_inputs.py`` checks the declaration against the pages themselves: after a
change of one figure, every page whose key did not change is, re-executed from scratch,
byte for byte what the cache held.

The partner file is read with the standard library (no pandas: the no-change build path
stays cheap). A file that cannot be read as CSV counts whole for every page that shows any
partner figure; the build then stops on it with a clear message before running anything.

Every page also reads the open files of ``data/raw/open`` (boundaries, wards): :func:`open_digest`.
"""

from __future__ import annotations

import csv
import io

from cspbook import config, definitions, fingerprint
from cspbook.definitions import reports

SUPPLIER_COLUMNS = ("indicator", "supplied_by", "source")
NOTHING = frozenset()

# page -> (what it shows of the figures, what it shows of the suppliers); a priority
# chapter (any other page name) shows the figures of its priority's indicators.
USES = {
    "overview": ("headline", False),  # the headline list and table
    "cover_paper": ("headline", True),  # headline table and targets; background papers name the suppliers
    "data_sources": ("none", True),  # the partner-supplied figures table: indicator, supplier, source
    "methodology": ("none", False),  # its worked example is an MPS figure
    "next_priorities": ("none", False),
    "reconciliation": ("none", False),  # published against recomputed MPS changes
    "london": ("none", False),  # every borough's MPS figures
}


def shown(page: str, report: reports.Report) -> tuple[frozenset[str], bool]:
    """The indicators whose partner rows ``page`` shows, and whether it lists the suppliers."""
    figures, suppliers = USES.get(page, ("priority", False))
    if figures == "headline":
        return frozenset(report.headline), suppliers
    if figures == "priority":
        found = [p.indicators for p in report.priorities if p.id == page]
        return frozenset(found[0] if found else ()), suppliers
    return NOTHING, suppliers


def partner_digest(page: str, borough: str, year: int, report: reports.Report | None = None) -> bytes:
    """What of ``borough``'s partner figures for ``year`` the page ``page`` shows, as bytes
    for its cache key (b"" when it shows none). ``report``: the report configuration of
    ``borough`` and ``year`` when the caller has it (read here otherwise)."""
    indicators, suppliers = shown(page, report or reports.load(borough, year))
    if not indicators and not suppliers:
        return b""
    path = definitions.year_file("partner", borough, year, ".csv")
    if not path.exists():
        return b"no partner file"
    raw = path.read_bytes()
    rows = _rows(raw)
    if rows is None:
        return b"unreadable\0" + raw
    chosen = [[row.get(col, "") for col in row] for row in rows if row.get("indicator", "").strip() in indicators]
    listed = [[row.get(col, "") for col in SUPPLIER_COLUMNS] for row in rows] if suppliers else []
    return fingerprint.digest(repr(chosen).encode(), repr(listed).encode(), repr(sorted(rows[0]) if rows else []).encode()).encode()


def _rows(raw: bytes) -> list[dict] | None:
    """The file's rows as dicts of strings (column names stripped), in file order; None when it is not
    CSV with an ``indicator`` column."""
    try:
        reader = csv.DictReader(io.StringIO(raw.decode("utf-8-sig")))
        rows = [{str(k).strip(): v or "" for k, v in row.items() if k is not None} for row in reader]
    except (UnicodeDecodeError, csv.Error):
        return None
    if "indicator" not in [str(name).strip() for name in reader.fieldnames or []]:
        return None
    return rows


def open_digest() -> str:
    """The bytes of the open files the pages read (boundaries, wards; ``data/raw/open``), their
    manifest aside (a refetch of the same bytes changes its times only); '' when there are none.
    Each file's sha256 is read once while its stat stays (:func:`cspbook.integrity.actual_sha256`)."""
    from cspbook import integrity

    opened = config.cache_dir() / "open"
    if not opened.is_dir():
        return ""
    files = sorted(p for p in opened.rglob("*") if p.is_file() and p.name != "manifest.json")
    return fingerprint.digest(*[f"{p.relative_to(opened)}\0{integrity.actual_sha256(p)}".encode() for p in files])
