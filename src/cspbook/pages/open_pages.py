"""What the pages show of the open sources: the headline line of a figure with its own
period and its rate per 1,000 residents, the open figures beside a measure that has none,
the rates table of a chapter, and the open files on the Data sources page."""

from __future__ import annotations

import pandas as pd

from cspbook import definitions, words
from cspbook.definitions import periods
from cspbook.definitions.sources import registry
from cspbook.pages import narrative
from cspbook.pages.markup import HTML, esc, html_table


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def _own_period(row) -> str:
    """The figure's period when it is not the report's financial year, else ''."""
    period = str(row.get("period") or "")
    return "" if not period or period.startswith(str(row.get("year"))) else period


def ordinal(n: int) -> str:
    """
    >>> ordinal(1), ordinal(2), ordinal(3), ordinal(11), ordinal(22), ordinal(13)
    ('1st', '2nd', '3rd', '11th', '22nd', '13th')
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def rate_clause(row) -> str:
    """' (7.6 per 1,000 residents; London 7.0; 20th lowest of 32 boroughs)', or ''.

    >>> rate_clause(dict(rate_per_1000=7.622, london_rate_per_1000=7.04, rate_rank=20))
    ' (7.6 per 1,000 residents; London 7.0; the 20th lowest rate of 32 boroughs)'
    """
    rate = row.get("rate_per_1000")
    if _missing(rate):
        return ""
    digits = 1 if rate >= 1 else 2
    parts = [f"{rate:,.{digits}f} per 1,000 residents"]
    if not _missing(row.get("london_rate_per_1000")):
        parts.append(f"London {row['london_rate_per_1000']:,.{digits}f}")
    if not _missing(row.get("rate_rank")):
        rank = int(row["rate_rank"])
        parts.append("the lowest rate of 32 boroughs" if rank == 1 else "the highest rate of 32 boroughs" if rank == 32
                     else f"the {ordinal(rank)} lowest rate of 32 boroughs")
    return f" ({'; '.join(parts)})"


def headline_line(row, table: pd.DataFrame, threshold: float = 1.0, beside: bool = True) -> str:
    """The headline list line of a figure: the sentence, its own period when it is not the
    financial year; for a measure with no figure, the open figures beside it (the rates per
    1,000 residents are in each chapter's rates table, the CSV and the JSON)."""
    text = narrative.headline_bullet(row, threshold, with_reason=False)
    gap = str(row.get("test_note") or "")
    if gap.startswith("open data: ") and _missing(row.get("value")):  # e.g. no ViewIt export for the borough
        text = f"{text[:-1]}; {gap[len('open data: '):]}."
    own = _own_period(row)
    if own and not (_missing(row.get("value")) and _missing(row.get("change_pct"))):
        text = f"{text[:-1]} ({own})."
    if _missing(row.get("value")) and row.get("beside"):
        others = table[table["indicator"].isin(str(row["beside"]).split(", "))]
        if not beside:  # a chapter: the measures beside are in its own list
            names = "; ".join(str(label) for label in others["label"])
            return f"{text} Shown below it from open data, a narrower or different measure: {names}." if names else text
        besides = [headline_line(r, table, threshold) for _, r in others.iterrows() if not _missing(r.get("value"))]
        if besides:
            text += " Beside it, from open data (a different measure): " + " ".join(besides)
    return text


def rates_table(rows: pd.DataFrame, borough: str) -> list[HTML]:
    """The chapter's rates per 1,000 residents, with London's and the rank (none when the
    data have no population estimate)."""
    have = rows[rows["rate_per_1000"].notna()] if "rate_per_1000" in rows else rows.iloc[0:0]
    if have.empty:
        return []
    frame = pd.DataFrame({
        "Measure": have["label"],
        "Period": have["period"],
        f"{borough}, per 1,000 residents": [f"{v:,.2f}" for v in have["rate_per_1000"]],
        "London, per 1,000 residents": ["" if _missing(v) else f"{v:,.2f}" for v in have["london_rate_per_1000"]],
        "Rank of 32 (1 = lowest rate)": ["" if _missing(v) else str(int(v)) for v in have["rate_rank"]],
        "Note": have["rate_note"].fillna(""),
    })
    return [html_table(frame, caption=f"Rates per 1,000 residents, {borough} and London (population: ONS mid-year estimates)")]


def sources_parts(data, table: pd.DataFrame, year: int) -> list[HTML]:
    """The open files behind the figures (with sha256), the sources, and the values refused."""
    open_data = data.open
    manifest = (open_data.manifest if open_data is not None else None) or {}
    files = manifest.get("files", [])
    if not files:
        return [HTML("<p>No open sources beside the MPS file were fetched (no open mirror folder was given), so "
                     "the figures from them are not shown.</p>")]
    reg = registry()
    names = {s.id: s for s in reg.sources.values()}
    rows = pd.DataFrame({
        "File": [f["name"] for f in files],
        "Source": [f"{names[f['series']].dataset} ({names[f['series']].publisher})" if f["series"] in names else f["series"]
                   for f in files],
        "Periods": [f"{f['first_month']} to {f['last_month']}" for f in files],
        "Refresh or edition": [f.get("refresh", "") for f in files],
        "Rows": [words.number(f["rows"]) for f in files],
        "SHA-256": [f["sha256"] for f in files],
    })
    used = sorted({s.split("/")[0] for s in files and [f["name"] for f in files]})
    srcs = "".join(
        f"<li>{esc(s.dataset)} ({esc(s.publisher)}), {esc(s.licence)}: <code>{esc(s.where)}</code>. {esc(s.caveats)}</li>"
        for s in reg.sources.values() if s.id in used)
    parts = [HTML(f"<ul>{srcs}</ul>"), html_table(rows, caption="Open files behind the other figures (from the cache manifest)")]
    refused = open_data.refused
    if len(refused):
        shown = refused.groupby(["source", "area", "rule", "reason"]).agg(periods=("period", lambda p: ", ".join(sorted(p)))).reset_index()
        parts.append(html_table(pd.DataFrame({
            "Source": shown["source"], "Area": shown["area"], "Periods": shown["periods"], "Rule": shown["rule"],
            "Why it is left out": shown["reason"]}), caption="Published values left out as implausible (never shown)"))
    notes = table[table["test_note"].fillna("") != ""] if "test_note" in table else table.iloc[0:0]
    if len(notes):
        parts.append(html_table(pd.DataFrame({"Indicator": notes["label"], "Note": notes["test_note"]}),
                                caption=f"Open figures for {periods.label(year)}: tests and gaps"))
    return parts


UNITS = {"percent": "% of residents"}


def is_open(row) -> bool:
    """Whether the row's figure comes from an open source of ``data/sources.yml``."""
    return str(row.get("figure_source") or "") in registry().sources


def charts(ctx, row) -> list:
    """The charts of an open figure (none when the source has no figure for the year):
    counts by month, by year and against London, as the police file's measures have; a
    value per published period, with London's, for a rate or a share."""
    from cspbook.compute import indicators, open_series
    from cspbook.pages import plots

    if _missing(row.get("value")) or ctx.data.open is None:
        return []
    ind = definitions.indicators()[row["indicator"]]
    sid, iid = ind.open["source"], ind.id
    frame = ctx.data.open.frame(sid)
    unit = str(ind.open.get("unit", ind.unit))
    if ind.open["period"] != "financial_year_of_months":
        if "numerator" in ind.open:
            unit, note = "% of people in treatment", (
                f"the {registry().sources[sid].dataset.split(',')[0]} covers one area, so there is no London figure")
        else:
            unit, note = UNITS.get(unit, unit), "the source gives no London figure"
        return [plots.by_period(open_series.values_by_period(frame, ind, ctx.borough, ctx.year), row["label"],
                                ctx.borough, unit, note)]
    monthly = open_series.monthly_counts(frame, ind, definitions.boroughs())
    changes = ctx.data.open.changes
    since = indicators.comparable_since(changes, iid, sid, ctx.year) if changes is not None else ctx.year
    trend = indicators.trend(indicators.annual(monthly), iid, ctx.borough, ctx.year, series=sid, since=since)
    found = [b for b in registry().breaks if b.decision != "comparable" and b.applies(sid, iid, ctx.borough)]
    months = [(b.month, b.title, b.decision == "not_comparable") for b in found]
    years = [(int(b.month[:4]) - (1 if int(b.month[5:]) < 4 else 0), b.title) for b in found]
    return [plots.monthly(indicators.month_series(monthly, iid, ctx.borough, ctx.year, series=sid), row["label"],
                          ctx.borough, ctx.year, months, unit=unit),
            plots.trend(trend, row["label"], ctx.borough, years, unit=unit),
            plots.versus_london(trend, row["label"], ctx.borough, years, london="the 32 boroughs")]


def calculation(row) -> str:
    """'How this is calculated' for an open figure: the source, what is counted, the period."""
    ind = definitions.indicators()[row["indicator"]]
    source = registry().sources[ind.open["source"]]
    told = " ".join(str(ind.open.get("definition_note", "")).split())
    how = {"financial_year_of_months": "the monthly counts of the borough are added up over the twelve months of "
                                       "the financial year; London is the 32 boroughs' sum",
           "calendar_year": "the published rate of the calendar year the financial year starts in",
           "quarter_end_nearest_year_end": "the published share for the 12 months to the quarter end nearest the "
                                           "end of the financial year, or the latest published when the survey stops earlier",
           "financial_year": "the share of the two published counts of the financial year"}[ind.open["period"]]
    test = str(row.get("test_note") or "")
    return (f"<p>Computed from open data: {esc(source.dataset)} ({esc(source.publisher)}), measure "
            f"<code>{esc(ind.open['measure'])}</code>: {esc(how)}." + (f" {esc(told)}" if told else "")
            + (f" {esc(test[:1].upper() + test[1:])}." if test else "") + "</p>")
