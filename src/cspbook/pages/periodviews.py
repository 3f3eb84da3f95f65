"""What a page says about the period it reports on: a year to date names its months, and
the overview of every book gives the latest twelve months (:mod:`cspbook.compute.latest`)."""

from __future__ import annotations

import pandas as pd

from cspbook import definitions
from cspbook.definitions import periods
from cspbook.pages import narrative
from cspbook.pages.context import Context
from cspbook.pages.markup import HTML, esc


def period_columns(period, table: pd.DataFrame) -> pd.DataFrame:
    """A reader's table of a year to date names the months its two columns count."""
    if period.complete:
        return table
    return table.rename(columns={"Previous year": period.previous.span, "This year": period.span})


def counted(period) -> str:
    """The months added up for each year: the whole year, or the months of a year to date."""
    if period.complete:
        return "each financial year (April to March)"
    return f"the same months of each financial year ({period.span.rsplit(' ', 1)[0]}; {period.name} against {period.previous_name})"


def next_priorities_intro(period, who: str = "the Partnership", count: str | None = None) -> str:
    """How the priorities for next year are introduced: set at the end of a whole year; a year
    to date cannot say that (the year is not over).

    >>> next_priorities_intro(periods.Period(2024))
    'At the end of 2024-25 the Partnership set these priorities for 2025-26:'
    >>> next_priorities_intro(periods.Period(2025, 8), "the partnership", "4 priorities")
    'This report covers 2025-26 to date (April to November 2025). The partnership sets its priorities for 2026-27 at the end of 2025-26; it has named 4 priorities so far:'
    """
    year, next_year = periods.label(period.start), periods.label(period.start + 1)
    if period.complete:
        return f"At the end of {year} {who} set {count or 'these priorities'} for {next_year}:"
    who = who[:1].upper() + who[1:]
    return (f"This report covers {period.title}. {who} sets its priorities for {next_year} at the end of {year}; "
            f"it has named {count or 'these'} so far:")


def latest_parts(ctx: Context, ids: list[str], said=frozenset()) -> list[HTML]:
    """Where things stand now: the latest twelve months of the data against the twelve before,
    for the headline police measures (:mod:`cspbook.compute.latest`); a reason for caution
    already given on the page (``said``) is referred to, not repeated."""
    from cspbook.compute import latest

    rows = latest.changes(ctx.data.monthly, definitions.indicators(), definitions.classifications().breaks,
                          ctx.data.series, ctx.borough, ctx.data.london_monthly)
    rows = rows[rows["indicator"].isin(ids)].set_index("indicator").reindex([i for i in ids if i in set(rows["indicator"])])
    if rows.empty:
        return []
    win = latest.window(ctx.data.monthly)
    thr = ctx.report.static_threshold_pct
    items = [narrative.sentence(r, thr, with_reason=False) for r in rows.reset_index().to_dict("records")]
    new = [r for r in rows.to_dict("records") if r["caution"] not in said]
    reasons = narrative.cautions(new) or (
        'Changes marked "interpret with caution" span the break in the police data given above.'
        if (rows["caution"] != "").any() else "")
    return [HTML(
        '<h3 id="latest-twelve-months">Where things stand now: the latest twelve months</h3>'
        f"<p>The twelve months to {esc(periods.describe_month(win.last))} ({esc(win.span)}) compared with the twelve "
        f"months before ({esc(win.before_span)}), {esc(ctx.borough)}, from the police data:</p>"
        f'<ul class="cspbook-latest">{"".join(f"<li>{esc(t)}</li>" for t in items)}</ul>'
        + (f"<p>{esc(reasons)}</p>" if reasons else "")
    )]
