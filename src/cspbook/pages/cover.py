"""The Cabinet cover paper that takes the annual report to Cabinet.

Its shape is fixed: a heading block, summary, recommendation, then numbered sections
(introduction and background; proposals and issues; options appraisal; consultation;
financial, legal and other implications), background papers and appendices. The fixed
text comes from the report configuration (``cover_paper:`` in ``data/reports/``); every
number and list is written here from the indicators, the configuration and the data
manifest. Everything that reaches the page is escaped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from cspbook import words
from cspbook.definitions import periods, targets
from cspbook.pages import periodviews, views
from cspbook.pages.context import Context
from cspbook.pages.markup import HTML, esc, html_table, indicator_rows, target_legend

OTHER_HEADINGS = {
    "risk": "Risk management",
    "staffing": "Staffing issues",
    "customer_impact": "Customer impact",
    "safeguarding_children": "Safeguarding children",
    "health": "Health issues",
    "crime_and_disorder": "Crime and disorder issues",
}


# For readers of the book on screen; not printed (the PDF is the paper itself).
NOTE = ('<p class="cspbook-cover-note d-print-none">This is the paper that takes the Annual Report to the '
        "council's Cabinet. Its text is set in the report configuration; every figure and list in it is "
        "written from the same data as the rest "
        "of this book. <code>cspbook pdf</code> prints it on its own.</p>")


@dataclass
class Paper:
    glue: dict = field(default_factory=dict)
    sections: dict = field(default_factory=dict)  # name -> HTML, shown under the notebook's headings


def paper(ctx: Context) -> Paper:
    """Every part of the cover paper of ``ctx``'s borough and year."""
    text = ctx.report.cover_paper
    head = ctx.table.set_index("indicator").loc[list(ctx.report.headline)].reset_index()
    status = views.assessed(ctx, head)
    sections = {
        "note": NOTE,
        "heading": heading(ctx),
        "summary": paragraphs(text.text["summary"], "summary") + priority_list(ctx, focus=False),
        "reasons": paragraphs(text.text["reasons"]),
        "introduction": introduction(ctx),
        "priorities": priority_list(ctx, focus=True),
        "headline": headline(ctx, head, status),
        "targets": target_summary(status),
        "next_priorities": next_priorities(ctx),
        "background_papers": linked_list(background_papers(ctx)),
        "appendices": bulleted([f"Appendix A: {title(ctx)}"]),
    }
    for key in ("options", "consultation", "financial", "legal"):
        sections[key] = paragraphs(text.text[key])
    if not partner_suppliers(ctx):  # the configured passages speak of partners' figures: not true this year
        computed = computed_from(ctx.table)
        sections["consultation"] = paragraphs(NO_PARTNER_CONSULTATION.format(computed=computed))
        sections["introduction"] = introduction(ctx, NO_PARTNER_INTRODUCTION.format(computed=computed))
    for key in OTHER_HEADINGS:
        sections[key] = paragraphs(text.other[key])
    glue = {
        "recommendation": text.text["recommendation"],
        "next_priorities_intro": periodviews.next_priorities_intro(ctx.period),
    }
    return Paper(glue=glue, sections={k: HTML(v) for k, v in sections.items()})


def title(ctx: Context) -> str:
    return ctx.report.title


def heading(ctx: Context) -> str:
    """The block at the top of a Cabinet paper: council, meeting, title, who reports, status."""
    t = ctx.report.cover_paper.text
    rows = [
        ("Meeting", t["meeting"]),
        ("Title", title(ctx)),
        ("Report of", t["report_of"]),
        ("Status", t["status"]),
        ("Key decision", t["key_decision"]),
        ("Wards affected", t["wards"]),
        ("Report author", t["author"]),
        ("Accountable director", t["director"]),
    ]
    body = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{esc(v)}</td></tr>' for k, v in rows)
    return (f'<div class="cspbook-cover-heading"><p class="cspbook-cover-council">{esc(t["council"])}</p>'
            f'<table class="cspbook-cover-table"><tbody>{body}</tbody></table></div>')


def paragraphs(text: str, css: str = "") -> str:
    """Each line of a configured passage as a paragraph, escaped.

    >>> paragraphs("One <b>.\\nTwo.")
    '<p>One &lt;b&gt;.</p><p>Two.</p>'
    """
    attr = f' class="cspbook-cover-{css}"' if css else ""
    return "".join(f"<p{attr}>{esc(line)}</p>" for line in text.split("\n") if line.strip())


def bulleted(items: list[str], css: str = "") -> str:
    """
    >>> bulleted(["a & b", "c"])
    '<ul><li>a &amp; b</li><li>c</li></ul>'
    """
    attr = f' class="{css}"' if css else ""
    return f"<ul{attr}>" + "".join(f"<li>{esc(i)}</li>" for i in items) + "</ul>"


def linked_list(items: list[tuple[str, str]]) -> str:
    """A list of (text, web address) items; the text links to the address when it is one.

    >>> linked_list([("Data <1>", "https://example.org/?a=1&b=2"), ("Act", ""), ("x", "javascript:alert(1)")])
    '<ul><li><a href="https://example.org/?a=1&amp;b=2">Data &lt;1&gt;</a></li><li>Act</li><li>x</li></ul>'
    """
    out = []
    for text, href in items:
        web = href.startswith(("https://", "http://"))
        out.append(f'<li><a href="{esc(href)}">{esc(text)}</a></li>' if web else f"<li>{esc(text)}</li>")
    return "<ul>" + "".join(out) + "</ul>"


def priority_list(ctx: Context, focus: bool) -> str:
    items = [f"{p.title}: {p.focus}" if focus and p.focus else p.title for p in ctx.report.priorities]
    return bulleted(items, "cspbook-cover-priorities")


NO_PARTNER_CONSULTATION = ("The Annual Report was prepared by the Community Safety Partnership. No partner agency "
                           "supplied figures for this year: every figure in it is {computed}, and the measures that "
                           "depend on partners' figures are marked not available.")
NO_PARTNER_INTRODUCTION = ("The Partnership reviews its progress against the priorities it sets at the beginning of each "
                           "year and publishes the results in an Annual Report. This year every figure in the report is "
                           "{computed}; the report explains how each is calculated.")


def open_sources_used(table: pd.DataFrame) -> list:
    """The open sources (data/sources.yml) that gave a figure of ``table``, in the registry's order."""
    from cspbook.definitions.sources import registry
    from cspbook.pages import open_pages

    sources = registry().sources
    used = {s for s in table.get("figure_source", pd.Series(dtype=object)) if open_pages.from_open({"figure_source": s})}
    return [source for sid, source in sources.items() if sid in used]


def computed_from(table: pd.DataFrame) -> str:
    """Where the figures of ``table`` come from, when no partner supplied any: police recorded crime,
    and the open sources that filled a figure, by name.

    >>> computed_from(pd.DataFrame({"figure_source": ["mps_borough_file", "partner"]}))
    'computed from police recorded crime published as open data'
    >>> computed_from(pd.DataFrame({"figure_source": ["mps_borough_file", "lait_fte", "mopac_pas", "lait_fte"]}))
    'computed from open data: police recorded crime, MOPAC Surveys and Local Authority Interactive Tool (LAIT)'
    """
    used = open_sources_used(table)
    if not used:
        return "computed from police recorded crime published as open data"
    names = ["police recorded crime"] + [s.dataset.split(" - ")[0].split(",")[0] for s in used]
    return "computed from open data: " + ", ".join(names[:-1]) + " and " + names[-1]


def introduction(ctx: Context, background: str | None = None) -> str:
    """What a CSP is, the aim for the year, then the configured background (or ``background``)."""
    return (paragraphs(ctx.report.partnership)
            + (f"<p>The Partnership's aim for {esc(ctx.year_label)} was: {esc(ctx.report.aim)}</p>" if ctx.period.complete
               else f"<p>The Partnership's aim for {esc(periods.label(ctx.year))} is: {esc(ctx.report.aim)}</p>")
            + paragraphs(ctx.report.cover_paper.text["introduction"] if background is None else background))


def headline(ctx: Context, head: pd.DataFrame, status: pd.DataFrame | None) -> str:
    """The headline list of changes (sentences written from the numbers), the table, the legend."""
    comparison = f"{ctx.year_label} compared with {ctx.period.previous_name}"
    parts = [
        f"<p>The headline measures of the Annual Report, {esc(comparison)}:</p>",
        bulleted(views.headline_bullets(ctx, head), "cspbook-headline"),
        html_table(periodviews.period_columns(ctx.period, indicator_rows(head, status)),
                   caption=f"Headline changes, {ctx.borough}, {comparison}").markup,
    ]
    if status is not None:
        parts.append(target_legend().markup)
    return "".join(parts)


def target_summary(status: pd.DataFrame | None) -> str:
    """One sentence on how the headline targets went.

    >>> frame = pd.DataFrame({"status": ["met", "not met", "not met", "not comparable", "no target"]})
    >>> target_summary(frame)
    '<p>The Partnership set targets for 4 of the 5 headline measures at the beginning of the year: 1 was met, 2 were not met and 1 could not be compared.</p>'
    >>> target_summary(pd.DataFrame({"status": ["met", "no target"]}))
    '<p>The Partnership set a target for 1 of the 2 headline measures at the beginning of the year: 1 was met, 0 were not met and 0 could not be compared.</p>'
    >>> target_summary(None)
    '<p>The Partnership set no numeric targets for the headline measures this year.</p>'
    """
    if status is None or not (status["status"] != targets.NO_TARGET).any():
        return "<p>The Partnership set no numeric targets for the headline measures this year.</p>"
    n = targets.counts(status)
    total = sum(n.values())

    def verb(count: int) -> str:
        return words.form(count, "was", "were")

    return (f"<p>The Partnership set {words.form(total, 'a target', 'targets')} for {total} of the "
            f"{words.plural(len(status), 'headline measure')} at the beginning of the year: {n[targets.MET]} {verb(n[targets.MET])} "
            f"met, {n[targets.NOT_MET]} {verb(n[targets.NOT_MET])} not met and {n[targets.NOT_COMPARABLE]} could not be compared.</p>")


def next_priorities(ctx: Context) -> str:
    items = [f"{p['title']}: {p['text']}" if p["text"] else p["title"] for p in ctx.report.next_priorities]
    if not items:
        return "<p>The Partnership has not yet set its priorities for next year.</p>"
    return bulleted(items, "cspbook-cover-next")


def background_papers(ctx: Context) -> list[tuple[str, str]]:
    """(text, web address or "") of each background paper: the data files (from the cache
    manifest), the data sources and partner suppliers (from the configuration and
    data/partner/), the published report, then the papers the configuration lists."""
    papers = []
    for f in ctx.data.manifest.get("files", []):
        papers.append((
            f"{f['name']}: MPS recorded crime, {f['first_month']} to {f['last_month']}, {f['rows']:,} rows, "
            f"SHA-256 {f['sha256'][:16]}", ""))
    for s in ctx.report.data_sources:
        papers.append((", ".join(str(s[k]) for k in ("name", "publisher", "licence") if s.get(k)), str(s.get("url", ""))))
    for source in open_sources_used(ctx.table):  # the open sources behind this year's figures
        papers.append((f"{source.dataset}, {source.publisher}, {source.licence}", source.where.split("; ")[0]))
    suppliers = partner_suppliers(ctx)
    if suppliers:
        papers.append((f"Figures supplied by partner agencies for {ctx.year_label}: {'; '.join(suppliers)}", ""))
    papers.extend((source, "") for source in sorted(set(ctx.published["source"])))
    papers.extend((paper, "") for paper in ctx.report.cover_paper.background_papers)
    return list(dict.fromkeys(papers))


def partner_suppliers(ctx: Context) -> list[str]:
    """Each partner agency that supplied a figure in the report, once, in the report's order."""
    frame = ctx.partner
    used = set(ctx.table["indicator"])
    return list(dict.fromkeys(frame.loc[frame["indicator"].isin(used), "supplied_by"].astype(str)))

