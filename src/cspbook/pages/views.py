"""One function per kind of page in the book. Each returns a dict of values to glue
(plain text or numbers) and the displayable parts (tables, charts) for that page."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cspbook import definitions, words
from cspbook.compute import indicators, reconcile
from cspbook.compute.table import worked_example
from cspbook.data import load
from cspbook.definitions import periods, targets
from cspbook.pages import narrative, open_pages, periodviews, plots
from cspbook.pages.context import Context
from cspbook.pages.markup import (
    HTML,
    esc,
    figure,
    html_table,
    indicator_rows,
    target_legend,
)


@dataclass
class View:
    glue: dict = field(default_factory=dict)
    parts: list = field(default_factory=list)  # HTML objects, displayed in order
    indicators: pd.DataFrame | None = None  # a chapter's indicator rows, for its detail sections
    summary: HTML | None = None  # a chapter's summary: one line per measure


def summary_list(sentences) -> HTML:
    """A chapter's summary as a short list, one line per measure (the cautions last).

    >>> summary_list(["A rose.", "", "B fell."]).markup
    '<ul class="cspbook-summary"><li>A rose.</li><li>B fell.</li></ul>'
    """
    return HTML('<ul class="cspbook-summary">' + "".join(f"<li>{esc(t)}</li>" for t in sentences if t) + "</ul>")


def _rows(ctx: Context, ids) -> pd.DataFrame:
    ids = [i for i in ids if i in set(ctx.table["indicator"])]  # an open indicator with no source for the year is left out
    return ctx.table[ctx.table["indicator"].isin(list(ids))].set_index("indicator").loc[list(ids)].reset_index()


def assessed(ctx: Context, rows: pd.DataFrame) -> pd.DataFrame | None:
    """The target status of ``rows`` as the indicator table judged it (targets are judged once,
    in :func:`cspbook.compute.table.indicator_table`); None when the report sets no targets."""
    if not ctx.report.targets:
        return None
    return pd.DataFrame({
        "indicator": rows["indicator"].to_numpy(), "target": rows["target"].to_numpy(),
        "status": rows["target_status"].to_numpy(), "mark": rows["target_status"].map(targets.MARKS).to_numpy(),
        "reason": rows["target_reason"].to_numpy(),
    })


def headline_bullets(ctx: Context, rows: pd.DataFrame) -> list[str]:
    """The headline list: a sentence per indicator, then its target and status (when the
    report sets targets)."""
    thr = ctx.report.static_threshold_pct
    sentences = [open_pages.headline_line(r, ctx.table, thr) for _, r in rows.iterrows()]
    status = assessed(ctx, rows)
    if status is not None:
        sentences = [f"{text} {targets.sentence(a)}" for text, a in zip(sentences, status.to_dict("records"))]
    note = narrative.cautions(rows.to_dict("records"))
    return sentences + ([note] if note else [])


def _table_parts(ctx: Context, rows: pd.DataFrame, caption: str) -> list[HTML]:
    status = assessed(ctx, rows)
    parts = [html_table(periodviews.period_columns(ctx.period, indicator_rows(rows, status)), caption=caption)]
    return parts + [target_legend()] if status is not None else parts


def common(ctx: Context) -> dict:
    """Values every page may glue: the borough and the year."""
    return {"borough": ctx.borough, "year": ctx.year_label, "year_span": ctx.period.span}


def overview(ctx: Context) -> View:
    """Landing page of a year: aim, what a CSP is, the headline list of changes."""
    head = _rows(ctx, ctx.report.headline)
    thr = ctx.report.static_threshold_pct
    bullets = "".join(f"<li>{esc(text)}</li>" for text in headline_bullets(ctx, head))
    mps = head[head["source"] == "mps"]
    view = View(glue={
        "aim": ctx.report.aim,
        "partnership": ctx.report.partnership,
        "headline_count": narrative.headline_count([r for _, r in head.iterrows()], thr),
        "sources": sources_sentence(len(mps), int((head["source"] == "partner").sum()), int((head["source"] == "open").sum())),
        "priority_list": "; ".join(p.title for p in ctx.report.priorities),
        "year_before": "the year before" if ctx.period.complete else ctx.period.previous_name,
    })
    view.parts.append(HTML(f'<ul class="cspbook-headline">{bullets}</ul>'))
    view.parts.extend(_table_parts(ctx, head, f"Headline changes, {ctx.borough}, {ctx.year_label} compared with {ctx.period.previous_name}"))
    view.parts.extend(periodviews.latest_parts(ctx, list(mps["indicator"]), said=set(head["caution"])))
    return view


def sources_sentence(n_mps: int, n_partner: int, n_open: int = 0) -> str:
    """Where the headline measures come from, in words that agree with the counts.

    >>> sources_sentence(3, 6)
    '3 of them are computed from police recorded crime published as open data; the other 6 were supplied by partner agencies and are marked as such.'
    >>> sources_sentence(1, 1)
    '1 of them is computed from police recorded crime published as open data; the other was supplied by partner agencies and is marked as such.'
    >>> sources_sentence(4, 0), sources_sentence(0, 2)
    ('All of them are computed from police recorded crime published as open data.', 'All of them were supplied by partner agencies and are marked as such.')
    """
    mps = "computed from police recorded crime published as open data"
    if n_open:  # the open sources of data/sources.yml: police, MOPAC, DfE, OHID
        n_mps, mps = n_mps + n_open, "computed from open data published by the police and other public bodies"
    if not n_partner:
        return f"All of them are {mps}."
    if not n_mps:
        return "All of them were supplied by partner agencies and are marked as such."
    other = "the other" if n_partner == 1 else f"the other {words.number(n_partner)}"
    return (f"{words.number(n_mps)} of them {words.form(n_mps, 'is', 'are')} {mps}; {other} "
            f"{words.form(n_partner, 'was', 'were')} supplied by partner agencies and {words.form(n_partner, 'is', 'are')} marked as such.")


def priority(ctx: Context, priority_id: str) -> View:
    """A priority chapter: summary sentences, the indicator table, charts, definitions."""
    prio = next((p for p in ctx.report.priorities if p.id == priority_id), None)
    if prio is None:
        known = ", ".join(p.id for p in ctx.report.priorities)
        raise definitions.DefinitionError(f"priority '{priority_id}' is not in the report configuration for {ctx.borough} {ctx.year_label}; it has: {known}")
    rows = _rows(ctx, prio.indicators)
    thr = ctx.report.static_threshold_pct
    sentences = [open_pages.headline_line(r, ctx.table, thr, beside=False) for _, r in rows.iterrows()]
    sentences += [narrative.cautions(rows.to_dict("records"))]
    n_partner = int((rows["source"] == "partner").sum())
    view = View(summary=summary_list(sentences), glue={
        "introduction": prio.introduction,
        "focus": prio.focus,
        "measures": words.plural(len(rows), "measure"),
        "n_partner": words.number(n_partner) if n_partner else "none",
    })
    view.parts.extend(_table_parts(ctx, rows, f"{prio.title}: indicators for {ctx.borough}, {ctx.year_label}"))
    view.parts.extend(open_pages.rates_table(rows, ctx.borough))
    view.indicators = rows
    return view


def indicator_section(ctx: Context, row, charts: bool = True) -> list[HTML]:
    """The detail of one indicator: sentence, significance, charts, definition (no rank: no change is ranked)."""
    defs = definitions.indicators()[row["indicator"]]
    thr = ctx.report.static_threshold_pct
    anchor = f"ind-{row['indicator']}"
    texts = [narrative.sentence(row, thr), narrative.significance(row)]
    if isinstance(row.get("instead"), str) and row["instead"]:
        texts.append(narrative.instead(row, _instead_row(ctx, row["instead"]), thr))
    if row["source"] == "partner" and row["note"] and not pd.isna(row.get("value")):
        texts.append(f"This figure was {narrative.plain(row['note'])}.")
    parts = [HTML(
        f'<section class="cspbook-indicator" id="{esc(anchor)}"><h3>{esc(row["label"])}</h3>'
        + "".join(f"<p>{esc(t)}</p>" for t in texts if t)
        + f'<p class="cspbook-definition"><strong>Definition:</strong> {esc(defs.definition)} '
        f'<a href="#calc-{esc(row["indicator"])}">How this is calculated</a></p></section>'
    )]
    if charts and row["source"] == "mps":
        series = ctx.data.series_for(ctx.year)
        since = indicators.comparable_since(ctx.data.all_changes, row["indicator"], series, ctx.year)
        monthly = indicators.month_series(ctx.data.monthly, row["indicator"], ctx.borough, ctx.year, series=series,
                                          london=ctx.data.london_monthly)
        trend = indicators.trend(ctx.data.annual, row["indicator"], ctx.borough, ctx.year, series=series, since=since,
                                 london=ctx.data.london_annual, months=ctx.period.months)
        months, years = chart_breaks(ctx.borough, row["indicator"], series)
        for chart in (plots.monthly(monthly, row["label"], ctx.borough, ctx.year, months),
                      plots.trend(trend, row["label"], ctx.borough, years),
                      plots.versus_london(trend, row["label"], ctx.borough, years)):
            parts.append(figure(chart, f"fig-{row['indicator']}-{chart.name}"))
    elif charts and open_pages.from_open(row):
        parts.extend(figure(chart, f"fig-{row['indicator']}-{chart.name}") for chart in open_pages.charts(ctx, row))
    return parts


def chart_breaks(borough: str, indicator: str, series: str | None):
    """The breaks a chart of ``indicator`` in ``borough`` marks: ``(month, title, not comparable)``
    for monthly charts, ``(first financial year counted the new way, title)`` for yearly ones."""
    found = [b for b in definitions.classifications().breaks
             if b.decision != "comparable" and (series is None or b.applies(series, indicator, borough))]
    months = [(b.month, b.title, b.decision == "not_comparable") for b in found]
    years = [(_fy(b.month), b.title) for b in found]
    return months, years


def _fy(month: str) -> int:
    """
    >>> _fy("2024-03"), _fy("2017-04")
    (2023, 2017)
    """
    year, mon = map(int, month.split("-"))
    return year if mon >= 4 else year - 1


def _instead_row(ctx: Context, indicator: str):
    """The row of the comparable measure offered instead (the borough and year of ``ctx``), as the
    indicator table has it, or None when the data have no such row."""
    rows = ctx.data.changes
    rows = rows[(rows["indicator"] == indicator) & (rows["borough"] == ctx.borough) & (rows["year"] == ctx.year)]
    if not len(rows) or indicator not in definitions.indicators():
        return None
    ind = definitions.indicators()[indicator]
    return rows.iloc[0].to_dict() | {"label": ind.label, "source": ind.source, "unit": ind.unit,
                                      "lower_is_better": ind.lower_is_better, "year": ctx.year_label}


def calculation(ctx: Context, rows: pd.DataFrame) -> HTML:
    """'How this is calculated': definition, categories summed, formula, per indicator."""
    series = ctx.data.series_for(ctx.year)
    classes = {cid: c for cid, c in definitions.classifications().by_id.items() if c.series == series}
    items = []
    for _, row in rows.iterrows():
        ind = definitions.indicators()[row["indicator"]]
        if ind.source == "mps":
            cats = "".join(
                f"<li>{esc(classes[cid].label)}: {esc('all categories' if minors == 'all' else ', '.join(minors))}</li>"
                for cid, minors in ind.categories.items() if cid in classes
            )
            how = (
                f"<p>Computed from MPS recorded crime: the monthly counts of these categories are added up "
                f"for {esc(ctx.borough)} over {esc(periodviews.counted(ctx.period))}.</p><ul>{cats}</ul>"
                "<p>Change = (this year &minus; last year) &divide; last year &times; 100. The 95% interval comes from the "
                "exact test of two counts, allowing for the month-to-month variation of the series (see Methodology). "
                f"London is the whole Metropolitan Police area: the {len(definitions.boroughs())} boroughs and the crimes "
                "recorded at the airports or with no borough.</p>"
            )
        elif open_pages.from_open(row):
            how = open_pages.calculation(row, ind, len(definitions.boroughs()))
        else:
            how = f"<p>Supplied by a partner agency, not computed from open data: {esc(narrative.plain(row['note']))}.</p>"
        items.append(
            f'<div class="cspbook-calc" id="calc-{esc(row["indicator"])}"><h3>{esc(ind.label)}</h3>'
            f"<p>{esc(ind.definition)}</p>{how}</div>"
        )
    return HTML("".join(items))


def next_priorities(ctx: Context) -> View:
    items = "".join(
        f"<li><strong>{esc(p['title'])}</strong>: {esc(p['text'])}</li>" for p in ctx.report.next_priorities
    )
    return View(
        glue={"next_priorities_intro": periodviews.next_priorities_intro(
                  ctx.period, "the partnership", words.plural(len(ctx.report.next_priorities), "priority"))},
        parts=[HTML(f'<ol class="cspbook-next">{items}</ol>')],
    )


def methodology(ctx: Context) -> View:
    cls = definitions.classifications()
    example = worked_example(ctx.table)
    series = ctx.data.series_for(ctx.year)
    glue = {
        "n_boroughs": str(len(definitions.boroughs())),
        "other_areas": _and_list([f"'{a}'" for a in definitions.other_areas()]),
        "series_used": cls.series.get(series, series or "none"),
        "n_series": str(len(ctx.data.series)),
        "breaks": words.plural(len(cls.breaks), "change"),
        "threshold": f"{ctx.report.static_threshold_pct:g}%",
        "year_rule": ("A year is used only when the data hold all twelve of its months." if ctx.period.complete else
                      f"The data end before the year does, so {ctx.year_label} is compared with "
                      f"{ctx.period.previous_name}, and every year in the charts with the same months."),
    }
    if len(example):
        r = example.iloc[0]
        glue["example"] = (
            f"For example, {r['label'].lower()} in {ctx.borough} went from {narrative.number(r['previous_value'])} "
            f"to {narrative.number(r['value'])}, a change of {narrative.signed_pct(r['change_pct'])}; its dispersion factor is "
            f"{r['dispersion']:.2f}, so the test uses {narrative.number(r['previous_value'] / r['dispersion'])} and "
            f"{narrative.number(r['value'] / r['dispersion'])}: p = {r['p_value']:.2g}, a 95% interval "
            f"of {narrative.signed_pct(r['ci_low_pct'])} to {narrative.signed_pct(r['ci_high_pct'])}"
            f" ({'significant' if r['significant'] else 'not significant'})."
        )
    else:
        glue["example"] = (f"No change of {ctx.year_label} could be tested (see *not tested* below), so none is "
                           "worked through here.")
    decided = pd.DataFrame({
        "Break": [f"{b.title} ({periods.describe_month(pd.Period(b.month, 'M'))})" for b in cls.breaks],
        "Applies to": [_scope(b) for b in cls.breaks],
        "Decision": [DECISION_WORDS[b.decision] for b in cls.breaks],
        "Evidence": [b.evidence for b in cls.breaks],
    })
    in_data = pd.DataFrame({
        "Series": [cls.series.get(sid, sid) for sid in ctx.data.series],
        "Used for": [_years_using(ctx, sid) for sid in ctx.data.series],
    })
    mapping = pd.DataFrame(sorted(cls.old_to_new.items()), columns=["Previous MPS category", "Nearest Home Office category"])
    return View(glue=glue, parts=[
        html_table(in_data, caption="The series in the data, newest first, and the years whose figures each supplies"),
        html_table(decided, caption="Breaks in the series, and what the book does with a change across each"),
        html_table(mapping, caption="Nearest categories across the January 2017 renaming (2008-2018 files)"),
    ])


DECISION_WORDS = {
    "not_comparable": "not comparable: no change is shown",
    "caution": "interpret with caution: the change is shown with the reason, beside London's",
    "comparable": "comparable: a renaming, nothing flagged",
}


def _scope(brk) -> str:
    cls = definitions.classifications()
    defs = definitions.indicators()
    series = "every series" if brk.series == "all" else _and_list([cls.series.get(s, s) for s in brk.series])
    which = "every indicator" if brk.indicators == "all" else _and_list([defs[i].label.lower() for i in brk.indicators])
    where = "" if getattr(brk, "boroughs", "all") == "all" else f"; {_and_list(list(brk.boroughs))} only"
    return f"{which}; {series}{where}"


def _years_using(ctx: Context, series: str) -> str:
    years = sorted(ctx.data.changes.loc[ctx.data.changes["series"] == series, "year"].unique())
    if not years:
        return "no year (a newer series covers every year it covers)"
    return _and_list([f"{periods.label(a)} to {periods.label(b)}" if a != b else periods.label(a) for a, b in load.runs(years)])


def _and_list(items) -> str:
    """
    >>> _and_list(["a"]), _and_list(["a", "b"]), _and_list(["a", "b", "c"])
    ('a', 'a and b', 'a, b and c')
    """
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def data_sources(ctx: Context) -> View:
    manifest = ctx.data.manifest
    files = manifest.get("files", [])
    labels = definitions.classifications().series
    series = ctx.data.series_for(ctx.year)
    supplied = ctx.data.supplied
    rows = pd.DataFrame({
        "File": [f["name"] for f in files],
        "Months": [f"{f['first_month']} to {f['last_month']}" for f in files],
        "Series": [labels.get(f.get("series", ""), f.get("series", "")) for f in files],
        "Months used": ["; ".join(supplied.get(f["name"], {}).get("months", [])) or "none (a later file of its series covers them)" for f in files],
        f"Used for {ctx.year_label}": ["yes" if f.get("series") == series and _covers(supplied.get(f["name"], {}), ctx.year) else "no" for f in files],
        "Rows": [words.number(f["rows"]) for f in files],
        "SHA-256": [f["sha256"] for f in files],
    })
    partner_rows = ctx.table[ctx.table["source"] == "partner"]
    partners = pd.DataFrame({
        "Indicator": partner_rows["label"],
        "Supplied by and published in": [narrative.plain(n) if n and not pd.isna(v) else "not available (no figure supplied)"
                                         for n, v in zip(partner_rows["note"], partner_rows["value"])],
    })
    srcs = "".join(
        f"<li>{esc(s.get('name', ''))} ({esc(s.get('publisher', ''))}), {esc(s.get('licence', ''))}: "
        f"<code>{esc(s.get('url', ''))}</code></li>" for s in ctx.report.data_sources
    )
    return View(
        glue={"files": words.plural(len(files), "file"), "dataset": manifest.get("dataset", ""),
              "series_used": labels.get(series, series or "none")},
        parts=[HTML(f"<ul>{srcs}</ul>"),
               html_table(rows, caption="Files behind every MPS figure (from the cache manifest)"),
               html_table(partners, caption="Partner-supplied figures"),
               *open_pages.sources_parts(ctx.data, ctx.table, ctx.year)],
    )


def _covers(info: dict, year: int) -> bool:
    """Whether a file supplies any month of ``year`` or the year before (its months as ranges)."""
    first, last = str(periods.months(year - 1)[0]), str(periods.months(year)[-1])
    return any(a <= last and b >= first for a, b in (r.split("..") for r in info.get("months", [])))


def reconciliation(ctx: Context) -> View:

    rec = ctx.reconciliation
    shown = pd.DataFrame({
        "Indicator": rec["label"].fillna(rec["indicator"]),
        "Published change": [narrative.signed_pct(v) for v in rec["published_change_pct"]],
        "Recomputed change": [narrative.signed_pct(v) for v in rec["recomputed_change_pct"]],
        "Difference (percentage points)": [("not available" if pd.isna(v) else f"{v:+.2f}") for v in rec["difference_pp"]],
        "Status": [reconcile.status_text(s) for s in rec["status"]],  # the reason the numbers support: the last column
    })
    shown["What the numbers show"] = list(rec["reason"])
    n_ok, tol = int((rec["status"] == "reconciled").sum()), ctx.report.reconciliation_tolerance_pp
    if rec.empty:
        intro = (f"The partnership published no figures for {ctx.year_label} that can be recomputed from the open data, "
                 "so there is nothing to reconcile.")
        return View(glue={"reconciliation_intro": intro})  # no empty table
    return View(
        glue={
            "reconciliation_intro": (
                f"The partnership's published report gave {words.plural(len(rec), 'figure')} that can be recomputed "
                f"from the open data. The table compares each published change with the change recomputed today, "
                f"under each definition the data allow and from each edition of the data at hand; "
                f"{words.number(n_ok) if n_ok else 'none'} of them {words.form(n_ok, 'agrees', 'agree')} within "
                f"{words.plural(tol, 'percentage point', shown=f'{tol:g}')}. The last column gives the reason the "
                "numbers support, or says that none is confirmed."),
        },
        parts=[html_table(shown, caption=f"Published and recomputed changes, {ctx.borough}, {ctx.year_label}")],
    )


def indicator_sections(ctx: Context, rows: pd.DataFrame) -> list[HTML]:
    """The detail sections of every indicator in ``rows``, in order."""
    parts = []
    for _, row in rows.iterrows():
        parts.extend(indicator_section(ctx, row))
    return parts
