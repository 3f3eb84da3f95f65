"""What the pages show of the open sources: the headline line of a figure with its own
period and its rate per 1,000 residents, the open figures beside a measure that has none,
the rates table of a chapter, and the open files on the Data sources page."""

from __future__ import annotations

import pandas as pd

from cspbook import definitions, words
from cspbook.definitions import periods
from cspbook.definitions.sources import registry
from cspbook.pages import narrative
from cspbook.pages.markup import HTML, esc, html_table, own_period


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and value != value) or value is pd.NA


def rate_clause(row) -> str:
    """' (7.6 per 1,000 residents; London 7.0; the 13th highest rate of 32 boroughs ...)', or ''.

    >>> rate_clause(dict(rate_per_1000=7.622, london_rate_per_1000=7.04, rate_rank=13, rate_rank_low=9, rate_rank_high=17))
    ' (7.6 per 1,000 residents; London 7.0; the 13th highest rate of 32 boroughs, 95% interval of the rank: 9th to 17th)'
    >>> rate_clause(dict(rate_per_1000=0.5, rate_rank=32)), rate_clause(dict(rate_per_1000=9.5, rate_rank=1))
    (' (0.50 per 1,000 residents; the lowest rate of 32 boroughs)', ' (9.5 per 1,000 residents; the highest rate of 32 boroughs)')
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
        said = ("the highest rate of 32 boroughs" if rank == 1 else "the lowest rate of 32 boroughs" if rank == 32
                else f"the {narrative.ordinal(rank)} highest rate of 32 boroughs")
        interval = rank_interval(row.get("rate_rank_low"), row.get("rate_rank_high"))
        parts.append(said + (f", {interval}" if interval else ""))
    return f" ({'; '.join(parts)})"


def rank_range(rank, low, high) -> str:
    """A rank with the 95% interval of the rank, in words; '' for no rank.

    >>> rank_range(13, 9, 17), rank_range(1, 1, 1), rank_range(5, None, None), rank_range(None, 1, 2)
    ('13th (95% interval of the rank: 9th to 17th)', '1st (95% interval of the rank: 1st only)', '5th', '')
    """
    if _missing(rank):
        return ""
    interval = rank_interval(low, high)
    return narrative.ordinal(int(rank)) + (f" ({interval})" if interval else "")


def rank_interval(low, high) -> str:
    """'95% interval of the rank: 9th to 17th' ('... 1st only'); '' without an interval."""
    if _missing(low) or _missing(high):
        return ""
    span = (f"{narrative.ordinal(int(low))} only" if int(low) == int(high)
            else f"{narrative.ordinal(int(low))} to {narrative.ordinal(int(high))}")
    return f"95% interval of the rank: {span}"


def rank_cell(rank, low, high) -> str:
    """A rank and its 95% interval in a table cell: '13 (9-17)'; '' for no rank.

    >>> rank_cell(13, 9, 17), rank_cell(1, 1, 1), rank_cell(4, None, None), rank_cell(None, None, None)
    ('13 (9-17)', '1 (1-1)', '4', '')
    """
    if _missing(rank):
        return ""
    return f"{int(rank)}" + ("" if _missing(low) or _missing(high) else f" ({int(low)}-{int(high)})")


def headline_line(row, table: pd.DataFrame, threshold: float = 1.0, beside: bool = True) -> str:
    """The headline list line of a figure: the sentence, its own period when it is not the
    financial year; for a measure with no figure, the open figures beside it (the rates per
    1,000 residents are in each chapter's rates table, the CSV and the JSON)."""
    text = narrative.headline_bullet(row, threshold, with_reason=False)
    gap = str(row.get("test_note") or "")
    if gap.startswith("open data: ") and _missing(row.get("value")):  # e.g. no ViewIt export for the borough
        text = f"{text[:-1]}; {gap[len('open data: '):]}."
    own = own_period(row)
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
        "Rank of 32 (1 = highest rate; 95% interval)": [
            rank_cell(r.get("rate_rank"), r.get("rate_rank_low"), r.get("rate_rank_high")) for _, r in have.iterrows()],
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


NOT_OPEN = ("", "partner", "mps_borough_file")


def from_open(row) -> bool:
    """Whether the row's figure came from an open source (``figure_source`` names it)."""
    source = row.get("figure_source")
    return isinstance(source, str) and source not in NOT_OPEN


def calculation(row, ind, boroughs: int) -> str:
    """'How this is calculated' for a figure from an open source: the source, what it counts, the
    formula, and the test (or why there is none).

    >>> from types import SimpleNamespace
    >>> ind = SimpleNamespace(source="partner", unit="people", open={"definition_note": "Rates only."})
    >>> row = dict(figure_source="lait_fte", significant=None, unit="rate per 100,000 aged 10-17",
    ...            test_note="no significance test: the source publishes rates or shares without counts")
    >>> print(calculation(row, ind, 32))  # doctest: +ELLIPSIS
    <p>Computed from open data: Local Authority Interactive Tool (LAIT) - first-time entrants ..., published by Department for Education ...</p><p>Rates only.</p><p>No figure was supplied by a partner agency for this year, so the open figure is shown in its place.</p><p>Change = (this year &minus; last year) &divide; last year &times; 100. No significance test: the source publishes rates or shares without counts.</p>
    """
    source = registry().sources[row["figure_source"]]
    note = " ".join(str(ind.open.get("definition_note", "")).split())
    parts = [f"<p>Computed from open data: {esc(source.dataset)}, published by {esc(source.publisher)} "
             f"({esc(source.licence)}).</p>"]
    if note:
        parts.append(f"<p>{esc(note)}</p>")
    if ind.source == "partner":
        parts.append("<p>No figure was supplied by a partner agency for this year, so the open figure is shown in its place.</p>")
    share = str(row.get("unit") or ind.unit) == "percent"
    formula = ("Change = this year's share &minus; last year's, in percentage points." if share else
               "Change = (this year &minus; last year) &divide; last year &times; 100.")
    if _missing(row.get("significant")):
        test = str(row.get("test_note") or "no significance test").strip()
        parts.append(f"<p>{formula} {esc(test[:1].upper() + test[1:])}.</p>")
    else:
        parts.append(f"<p>{formula} The 95% interval comes from the exact test of two counts, allowing for the "
                     f"month-to-month variation of the series (see Methodology). London is the total of the "
                     f"{boroughs} boroughs in the same source.</p>")
    return "".join(parts)


UNITS = {"percent": "% of residents"}


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
    counted = ctx.period.months  # a year to date: the same months of each year, as the police file's charts
    if counted == 12:
        annual = indicators.annual(monthly)
    else:
        from cspbook.compute.dataset import part_year

        annual = part_year(monthly, counted)
    trend = indicators.trend(annual, iid, ctx.borough, ctx.year, series=sid, since=since, months=counted)
    found = [b for b in registry().breaks if b.decision != "comparable" and b.applies(sid, iid, ctx.borough)]
    months = [(b.month, b.title, b.decision == "not_comparable") for b in found]
    years = [(int(b.month[:4]) - (1 if int(b.month[5:]) < 4 else 0), b.title) for b in found]
    return [plots.monthly(indicators.month_series(monthly, iid, ctx.borough, ctx.year, series=sid), row["label"],
                          ctx.borough, ctx.year, months, unit=unit),
            plots.trend(trend, row["label"], ctx.borough, years, unit=unit),
            plots.versus_london(trend, row["label"], ctx.borough, years, london="the 32 boroughs")]
