"""The built book in a real browser (issue 4): what residents and reviewers do with it.

Headless Debian Chromium, driven by playwright, reads the Barking and Dagenham 2011-12 book
from a loopback server. Every request that would leave that server is aborted and recorded,
so each test also proves the book tells no third party who reads it. Numbers on the pages
are compared with the library's own results for the same data.

Run only these: ``make test-browser`` (or ``pytest -m browser``). Screenshots are written to
``test-artifacts/screenshots/``.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urljoin

import pandas as pd
import pytest
import yaml
from bookfixtures import build_in, make_project
from browser import (  # noqa: F401
    DESKTOP,
    MOBILE,
    animations_done,
    axe_violations,
    book_pages,
    open_page,
    overflow,
    refresh_target,
    screenshot,
    serve,
    watch,
    wide_elements,
)
from conftest import use_home

pytestmark = pytest.mark.browser

WIDTHS = pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["1280px", "390px"])


# --- fixtures ------------------------------------------------------------------------------


def new_context(chromium, viewport, color_scheme: str = "light"):
    """A fresh browser context (a first visit: nothing stored); a phone when ``viewport`` is
    MOBILE; ``color_scheme`` is the colour mode the reader's system prefers."""
    if viewport == MOBILE:
        return chromium.new_context(viewport=MOBILE, device_scale_factor=2, is_mobile=True, has_touch=True,
                                    color_scheme=color_scheme)
    return chromium.new_context(viewport=viewport, color_scheme=color_scheme)


@pytest.fixture
def desktop(chromium, book_server):
    """A fresh desktop-sized browser context on the book: (page, traffic)."""
    context = new_context(chromium, DESKTOP)
    traffic = watch(context, book_server)
    yield context.new_page(), traffic
    context.close()


@pytest.fixture
def mobile(chromium, book_server):
    """A fresh phone-sized (390 px wide) browser context on the book: (page, traffic)."""
    context = new_context(chromium, MOBILE)
    traffic = watch(context, book_server)
    yield context.new_page(), traffic
    context.close()


@pytest.fixture
def library(built_book, monkeypatch):
    """The library's results for the built book's tree: report, dataset, indicator table."""
    from cspbook.compute import dataset, table
    from cspbook.definitions import periods, reports

    use_home(monkeypatch, built_book.home)
    report = reports.load(built_book.borough, periods.parse_year(built_book.year))
    data = dataset.dataset()
    period = table.period_of(data, report.year)
    data = data.to_date(period.months)  # a year to date counts its months of every year
    return SimpleNamespace(period=period, report=report, data=data, table=table.indicator_table(data, report).set_index("indicator"))


def chapter_url(base: str, book, name: str) -> str:
    return f"{base}book/{book.year}/{name}.html"


def assert_clean(traffic, where: str) -> None:
    problems = traffic.problems()
    assert not problems, f"{where}:\n  " + "\n  ".join(problems)


def follow(page, link, traffic) -> None:
    """Click ``link`` and wait until the page it leads to has loaded and settled."""
    target = urljoin(page.url, link.get_attribute("href"))
    link.click()
    page.wait_for_url(target, wait_until="load")
    traffic.settle(page)


def offences(value) -> str:
    """A count as the book prints it: thousands separators, no decimals."""
    return f"{value:,.0f}"


# --- 1. every page loads cleanly and stays on the book's server ------------------------------


@WIDTHS
def test_every_page_loads_with_no_console_message_and_no_outside_request(chromium, built_book, book_server, viewport):
    """Each page as a reader's first visit (a fresh browser: the theme once logged an error
    when it found no colour mode stored), at both widths: no console error or warning."""
    pages = book_pages(built_book.html)
    assert {"index.html", "search.html", "genindex.html"} <= set(pages) and len(pages) >= 13, pages
    problems = []
    for rel in pages:
        context = new_context(chromium, viewport)
        traffic = watch(context, book_server)
        page = context.new_page()
        try:
            target = refresh_target(built_book.html / rel)
            # the landing page redirects (to the overview): wait for the page it lands on
            lands_on = urljoin(book_server + rel, target) if target else None
            open_page(page, book_server + rel, traffic, lands_on=lands_on)
            assert page.title(), f"{rel}: no <title>"
            assert page.locator("main, .bd-main").count(), f"{rel}: no main content"
            problems.extend(f"{rel}: {p}" for p in traffic.problems())
        finally:
            context.close()
    assert not problems, f"while loading every page of the book at {viewport['width']} px:\n  " + "\n  ".join(problems)


# --- 2. navigation ------------------------------------------------------------------------------


def test_sidebar_reaches_each_priority_chapter_and_back(desktop, built_book, book_server, library):
    page, traffic = desktop
    open_page(page, book_server + "index.html", traffic, lands_on="**/overview.html")
    landing = page.url
    assert page.locator("h1").first.inner_text().startswith("Overview")
    for prio in library.report.priorities:
        follow(page, page.locator("nav.bd-docs-nav").get_by_role("link", name=prio.title, exact=True), traffic)
        assert page.url.endswith(f"/{prio.id}.html"), page.url
        assert page.locator("article h1").first.inner_text().strip().rstrip("#").strip() == prio.title
        page.go_back(wait_until="load")
        assert page.url == landing
        traffic.settle(page)
    assert_clean(traffic, "while navigating with the sidebar")


def test_next_and_previous_links_walk_the_book_in_order(desktop, built_book, book_server, library):
    page, traffic = desktop
    open_page(page, book_server + "index.html", traffic, lands_on="**/overview.html")
    sidebar = [urljoin(page.url, href).split("#")[0] for href in
               page.locator("nav.bd-docs-nav a.reference").evaluate_all("links => links.map(a => a.getAttribute('href'))")]
    forward = [page.url]
    while page.locator("a.right-next").count():
        follow(page, page.locator("a.right-next"), traffic)
        forward.append(page.url)
    assert forward == sidebar, "next links do not follow the sidebar's order"
    pages = [Path(u).stem for u in forward]
    priorities = [p.id for p in library.report.priorities]
    assert pages[0] == "overview" and [p for p in pages if p in priorities] == priorities, pages
    backward = [page.url]
    while page.locator("a.left-prev").count():
        follow(page, page.locator("a.left-prev"), traffic)
        backward.append(page.url)
    assert backward == forward[::-1]
    assert_clean(traffic, "while following next/previous links")


def test_search_finds_an_indicator_by_its_label(desktop, built_book, book_server, library):
    page, traffic = desktop
    label = library.table.loc["residential_burglary", "label"]
    open_page(page, book_server + "search.html", traffic)
    box = page.locator('input[name="q"]:visible').first
    box.fill(label)
    box.press("Enter")
    page.wait_for_url(re.compile(r"search\.html\?q="))
    results = page.locator("#search-results ul.search li a")
    results.first.wait_for(timeout=10_000)
    traffic.settle(page)
    hrefs = [results.nth(i).get_attribute("href") for i in range(results.count())]
    assert any(h.split("?")[0].endswith("acquisitive_crime.html") for h in hrefs), hrefs
    follow(page, page.locator('#search-results ul.search li a[href*="acquisitive_crime.html"]').first, traffic)
    assert label in page.locator("article").inner_text()
    assert_clean(traffic, "while searching")


# --- 3. a reviewer's path: number -> definition -> code ----------------------------------------


def test_reviewer_goes_from_a_number_to_its_definition_and_code(desktop, built_book, book_server, library):
    page, traffic = desktop
    open_page(page, chapter_url(book_server, built_book, "acquisitive_crime"), traffic)
    row = library.table.loc["residential_burglary"]
    section = page.locator("#ind-residential_burglary")
    assert offences(row["value"]) in section.inner_text()  # the number the reviewer starts from

    section.get_by_role("link", name="How this is calculated").click()
    page.wait_for_url("**#calc-residential_burglary")
    definition = page.locator("#calc-residential_burglary")
    assert definition.is_visible() and definition.evaluate(
        "el => { const r = el.getBoundingClientRect(); return r.top < innerHeight && r.bottom > 0; }"
    ), "the definition is not scrolled into view"
    assert row["label"] in definition.inner_text()

    hidden = page.locator("details.hide.above-input").first  # myst-nb's hide-input cell
    code = hidden.locator(".cell_input")
    assert not code.is_visible(), "the code cell is visible before it is opened"
    hidden.locator("summary").click()
    assert code.is_visible() and "source_details" in code.inner_text()

    library_code = page.locator("details.cspbook-code").first
    assert library_code.get_attribute("open") is None
    library_code.locator("summary").click()
    assert library_code.get_attribute("open") is not None
    source = library_code.locator("pre").first
    assert source.is_visible() and "def indicator_table" in source.inner_text()
    assert_clean(traffic, "on the reviewer's path")


# --- 4. charts: alt text and a table with the library's numbers --------------------------------


def _open_kinds(library, indicator: str) -> tuple:
    """The charts of an open figure (none when the source has no figure for the year)."""
    from cspbook import definitions

    if pd.isna(library.table.loc[indicator, "value"]):
        return ()
    monthly = definitions.indicators()[indicator].open["period"] == "financial_year_of_months"
    return ("monthly", "trend", "london") if monthly else ("periods",)


def _expected_open_chart(library, indicator: str, kind: str, borough: str, year: int) -> list[list]:
    """An open figure's chart table, from the open source's long frame (compute.open_series)."""
    from cspbook import definitions
    from cspbook.compute import indicators, open_series
    from cspbook.definitions import periods

    ind = definitions.indicators()[indicator]
    frame = library.data.open.frame(ind.open["source"])
    if kind == "periods":
        v = open_series.values_by_period(frame, ind, borough, year)
        from cspbook.pages import narrative

        london = v["london_value"].notna().any()
        share = ind.open.get("unit", ind.unit) == "percent" or "numerator" in ind.open  # said to one decimal

        def said(x):
            return "no figure" if pd.isna(x) else f"{x:.1f}" if share else narrative.number(x)

        return [[_parse_cell(p), *(_parse_cell(said(x)) for x in (vals if london else vals[:1]))]
                for p, *vals in zip(v["label"], v["value"], v["london_value"])]
    monthly = open_series.monthly_counts(frame, ind, definitions.boroughs())
    if kind == "monthly":
        s = indicators.month_series(monthly, indicator, borough, year, series=ind.open["source"])
        return [[periods.describe_month(m), int(c), "yes" if y else "no"] for m, c, y in zip(s["month"], s["count"], s["in_year"])]
    since = indicators.comparable_since(library.data.open.changes, indicator, ind.open["source"], year)
    counted = library.data.months_counted  # a year to date: the same months of each year
    if counted == 12:
        annual = indicators.annual(monthly)
    else:
        from cspbook.compute.dataset import part_year

        annual = part_year(monthly, counted)
    t = indicators.trend(annual, indicator, borough, year, series=ind.open["source"], since=since, months=counted)
    assert t["value"].iloc[-1] == library.table.loc[indicator, "value"]  # the chart's year is the table's figure
    if kind == "trend":
        return [[label, int(v)] for label, v in zip(t["label"], t["value"])]
    return [[label, round(float(b), 1), round(float(lo), 1)] for label, b, lo in zip(t["label"], t["index"], t["london_index"])]


def _expected_chart(library, indicator: str, kind: str, borough: str, year: int) -> list[list]:
    from cspbook.compute import indicators
    from cspbook.definitions import periods

    if library.table.loc[indicator, "source"] != "mps":  # a figure from an open source of data/sources.yml
        return _expected_open_chart(library, indicator, kind, borough, year)
    if kind == "monthly":
        s = indicators.month_series(library.data.monthly, indicator, borough, year)
        return [[periods.describe_month(m), int(c), "yes" if y else "no"] for m, c, y in zip(s["month"], s["count"], s["in_year"])]
    if kind == "wards":  # the ward files' counts (compute.wards), most first
        from cspbook.compute import wards

        w = wards.for_borough(wards.ward_years(), indicator, borough, year)
        return [[ward, int(v)] for ward, v in zip(w["ward"], w["value"])]
    series = library.data.series_for(year)
    since = indicators.comparable_since(library.data.all_changes, indicator, series, year)  # the chart starts after a break
    t = indicators.trend(library.data.annual, indicator, borough, year, series=series, since=since,
                         london=library.data.london_annual, months=library.data.months_counted)
    if kind == "trend":
        return [[label, int(v)] for label, v in zip(t["label"], t["value"])]
    return [[label, round(float(b), 1), round(float(lo), 1)] for label, b, lo in zip(t["label"], t["index"], t["london_index"])]


def _has_wards(built_book) -> bool:
    """Whether the built book's cache holds the MPS ward files (its chapters then chart the wards)."""
    from cspbook.data import wards

    return bool(wards.find(built_book.home / "data" / "raw"))


def _parse_cell(text: str):
    text = text.strip()
    if re.fullmatch(r"-?[\d,]+", text):
        return int(text.replace(",", ""))
    if re.fullmatch(r"-?[\d,]*\.\d+", text):
        return float(text.replace(",", ""))
    return text


def test_each_chart_has_alt_text_and_a_table_with_the_librarys_numbers(desktop, built_book, book_server, library):
    from cspbook.definitions import periods
    from cspbook.definitions.sources import registry

    page, traffic = desktop
    year = periods.parse_year(built_book.year)
    seen = 0
    for prio in library.report.priorities:
        open_page(page, chapter_url(book_server, built_book, prio.id), traffic)
        charts = page.evaluate("""() => [...document.querySelectorAll('figure.cspbook-chart')].map(fig => {
            const img = fig.querySelector('img'), details = fig.nextElementSibling;
            return {id: fig.id, alt: img.getAttribute('alt'), loaded: img.complete && img.naturalWidth > 0,
                    details: details && details.matches('details.cspbook-chart-data'),
                    rows: details ? [...details.querySelectorAll('tbody tr')].map(
                        tr => [...tr.children].map(c => c.textContent)) : []};
        })""")
        mps = [i for i in prio.indicators if i in library.table.index and library.table.loc[i, "source"] == "mps"]
        kinds = ("monthly", "trend", "london") + (("wards",) if _has_wards(built_book) else ())
        opened = [i for i in prio.indicators if i in library.table.index
                  and str(library.table.loc[i, "figure_source"] or "") in registry().sources]
        assert {c["id"] for c in charts} == ({f"fig-{i}-{k}" for i in mps for k in kinds}
                                             | {f"fig-{i}-{k}" for i in opened for k in _open_kinds(library, i)}), prio.id
        for chart in charts:
            where = f"{prio.id}: {chart['id']}"
            assert chart["alt"] and chart["alt"].strip(), f"{where}: empty alt text"
            assert chart["loaded"], f"{where}: the image did not load"
            assert chart["details"], f"{where}: no data table after the chart"
            indicator, kind = re.fullmatch(r"fig-(.+)-(monthly|trend|london|wards|periods)", chart["id"]).groups()
            assert library.table.loc[indicator, "label"].lower() in chart["alt"].lower(), f"{where}: alt text {chart['alt']!r}"
            expected = _expected_chart(library, indicator, kind, built_book.borough, year)
            shown = [[_parse_cell(c) for c in row] for row in chart["rows"]]
            assert len(shown) == len(expected) > 0, f"{where}: {len(shown)} rows, library has {len(expected)}"
            for got, want in zip(shown, expected):
                if kind == "london":  # the index is shown to one decimal
                    assert got[0] == want[0] and got[1:] == pytest.approx(want[1:], abs=0.051), f"{where}: {got} != {want}"
                else:
                    assert got == want, f"{where}: {got} != {want}"
            seen += 1
    assert seen >= 10

    # the table alternative opens on click
    first = page.locator("details.cspbook-chart-data").first
    first.scroll_into_view_if_needed()
    assert not first.locator("table").is_visible()
    first.locator("summary").click()
    assert first.locator("table").is_visible()
    assert_clean(traffic, "on the chapters' charts")


# --- 5. the CSV download ----------------------------------------------------------------------


def test_csv_download_equals_the_cli_output(desktop, built_book, book_server):
    page, traffic = desktop
    open_page(page, chapter_url(book_server, built_book, "overview"), traffic)
    link = page.locator('a.download[href*="_downloads/"][href$="indicators.csv"]')
    assert link.count() == 1, "no download link to indicators.csv on the overview"
    with page.expect_download() as info:
        link.click()
    served = Path(info.value.path()).read_text(encoding="utf-8")

    env = {k: v for k, v in os.environ.items() if not k.startswith("CSPBOOK_")}
    env["CSPBOOK_HOME"] = str(built_book.home)
    env["CSPBOOK_DATASTORE"] = "http://127.0.0.1:9"  # offline anyway; never the internet
    proc = subprocess.run(
        [sys.executable, "-m", "cspbook.cli", "indicators", "--borough", built_book.borough, "--year", built_book.year,
         "--format", "csv", "--offline"],
        capture_output=True, text=True, env=env, timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    from_book, from_cli = pd.read_csv(io.StringIO(served)), pd.read_csv(io.StringIO(proc.stdout))
    assert len(from_book) > 0
    pd.testing.assert_frame_equal(from_book, from_cli)
    assert served == proc.stdout
    assert_clean(traffic, "while downloading the CSV")


# --- 6. glued numbers -------------------------------------------------------------------------


def _table_rows(page, caption_start: str) -> dict[str, dict[str, str]]:
    table = page.locator("table.cspbook-table").filter(has=page.locator("caption", has_text=caption_start)).first
    headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
    rows = {}
    for cells in table.locator("tbody tr").evaluate_all("trs => trs.map(tr => [...tr.children].map(c => c.textContent))"):
        rows[cells[0]] = dict(zip(headers, cells))
    return rows


def _shown(value, unit) -> str:
    if pd.isna(value):
        return "not available"
    return f"{value:g}%" if unit == "percent" else offences(value)


def test_glued_numbers_equal_the_library(desktop, built_book, book_server, library):
    page, traffic = desktop
    open_page(page, chapter_url(book_server, built_book, "overview"), traffic)
    rows = _table_rows(page, "Headline changes")
    assert len(rows) == len(library.report.headline)
    now, before = ("This year", "Previous year") if library.period.complete else (library.period.span, library.period.previous.span)
    for indicator in library.report.headline:
        lib = library.table.loc[indicator]
        from cspbook.pages.markup import _own_period  # what a rate is per, and an open figure's own period

        name = lib["label"] + (" (partner-supplied)" if lib["source"] == "partner" else "") + _own_period(lib)
        assert rows[name][now] == _shown(lib["value"], lib["unit"]), name
        assert rows[name][before] == _shown(lib["previous_value"], lib["unit"]), name
    burglary = library.table.loc["residential_burglary"]
    assert rows["Residential burglary"][now] == f"{burglary['value']:,.0f}"

    violence = library.table.loc["violence_with_injury"]
    sentence = page.locator("ul.cspbook-headline li", has_text=violence["label"]).first.inner_text()
    assert f"{abs(violence['change_pct']):.1f}%" in sentence, sentence
    assert ("rose" if violence["change_pct"] > 0 else "fell") in sentence, sentence
    from cspbook.pages import narrative

    head = [r for _, r in library.table.loc[list(library.report.headline)].reset_index().iterrows()]
    assert narrative.headline_count(head, library.report.static_threshold_pct) in " ".join(
        page.locator("article").inner_text().split())

    open_page(page, chapter_url(book_server, built_book, "acquisitive_crime"), traffic)
    title = next(p.title for p in library.report.priorities if p.id == "acquisitive_crime")
    rows = _table_rows(page, f"{title}: indicators")
    assert rows["Residential burglary"][now] == f"{burglary['value']:,.0f}"
    summary = page.locator("section#summary").inner_text()
    assert f"{abs(burglary['change_pct']):.1f}%" in summary and offences(burglary["previous_value"]) in summary
    assert_clean(traffic, "while reading the glued numbers")


# --- 7. a phone: no sideways scroll; screenshots --------------------------------------------------


def test_no_horizontal_scroll_on_a_phone(mobile, built_book, book_server):
    page, traffic = mobile
    wide = {}
    for rel in book_pages(built_book.html):
        if rel == "index.html":
            continue  # a redirect to the overview, checked as itself
        open_page(page, book_server + rel, traffic)
        scroll, client = overflow(page)
        if scroll > client + 1:
            wide[rel] = (scroll, client, wide_elements(page))
    assert not wide, f"pages wider than a {MOBILE['width']} px phone: {wide}"
    assert_clean(traffic, "on a phone")


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["desktop", "mobile"])
def test_screenshots_of_the_landing_page_and_a_chapter(chromium, book_server, built_book, viewport):
    context = chromium.new_context(viewport=viewport)
    traffic = watch(context, book_server)
    page = context.new_page()
    try:
        width = viewport["width"]
        open_page(page, book_server + "index.html", traffic, lands_on="**/overview.html")
        landing = screenshot(page, f"landing-{width}")
        open_page(page, chapter_url(book_server, built_book, "acquisitive_crime"), traffic)
        chapter = screenshot(page, f"chapter-acquisitive_crime-{width}")
        for path in (landing, chapter):
            assert path.stat().st_size > 10_000, path
            assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert_clean(traffic, f"while taking screenshots at {width} px")
    finally:
        context.close()


# --- 8. accessibility ----------------------------------------------------------------------------


def _violations(axe, page, traffic, where: str) -> list[str]:
    """axe-core's violations of any impact on ``page``, once the page itself was clean (and
    nothing but axe's own misresolved style-sheet requests went wrong while it ran)."""
    assert_clean(traffic, where)
    found = axe_violations(axe, page, traffic)
    assert_clean(traffic, f"{where}, while axe-core ran")
    return found


@WIDTHS
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_no_violation_of_any_impact_on_any_page(chromium, built_book, book_server, viewport, scheme):
    """Every page, with its folded content open, for a reader whose system prefers a light
    or a dark colour mode (the theme follows it)."""
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    context = new_context(chromium, viewport, scheme)
    traffic = watch(context, book_server)
    page = context.new_page()
    found = {}
    try:
        for rel in book_pages(built_book.html):
            target = refresh_target(built_book.html / rel)
            lands_on = urljoin(book_server + rel, target) if target else None  # the landing page: the overview
            open_page(page, book_server + rel, traffic, lands_on=lands_on)
            assert page.evaluate("document.documentElement.dataset.theme") == scheme, rel
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            animations_done(page)
            problems = _violations(axe, page, traffic, rel)
            if problems:
                found[rel] = problems
    finally:
        context.close()
    assert not found, f"axe-core at {viewport['width']} px, {scheme} mode:\n" + "\n".join(f"{rel}:\n  " + "\n  ".join(p) for rel, p in found.items())


def test_axe_on_a_phone_with_the_hidden_content_open(mobile, built_book, book_server):
    """Narrow screens make tables scroll and open content shows more; check a chapter so."""
    from axe_playwright_python.sync_playwright import Axe

    page, traffic = mobile
    open_page(page, chapter_url(book_server, built_book, "acquisitive_crime"), traffic)
    page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
    animations_done(page)
    problems = _violations(Axe(), page, traffic, "acquisitive_crime with every <details> open")
    assert not problems, "\n".join(problems)


# --- 9. hostile text from the report configuration --------------------------------------------------

SCRIPT = "<script>alert(1)</script>"
HOSTILE = f'{SCRIPT} "quoted" {{{{ x }}}} **bold** [link](http://evil.example)'
IMAGE = 'Prio <img src=x onerror="alert(4)">'  # runs wherever it is inserted as HTML, unlike <script>
LONG = "Ab" * 2500  # a 5,000-character word: nothing to break it at


@pytest.fixture(scope="module")
def hostile_book(built_book, tmp_path_factory):
    """The book built from a report configuration whose texts hold markup, template syntax,
    Markdown and a 5,000-character word (the cached data copied from the session's book)."""
    home = make_project(tmp_path_factory.mktemp("hostile") / "project")
    shutil.copytree(built_book.home / "data" / "raw", home / "data" / "raw")
    defaults = yaml.safe_load((home / "data" / "reports" / "defaults.yml").read_text(encoding="utf-8"))
    report = home / "data" / "reports" / f"barking-and-dagenham-{built_book.year}.yml"
    own = yaml.safe_load(report.read_text(encoding="utf-8")) if report.exists() else {
        "next_priorities": defaults["next_priorities"]}  # a year with no file of its own (e.g. 2025-26)
    priorities = defaults["priorities"]
    titles = {"acquisitive_crime": f"Acquisitive crime {HOSTILE}", "asb": LONG, "reoffending": IMAGE}
    for prio in priorities:
        if prio["id"] in titles:
            prio["title"] = titles[prio["id"]]
        if prio["id"] == "acquisitive_crime":
            prio["focus"] = f"{HOSTILE} {LONG}"
    own.update(
        priorities=priorities,
        aim=f"Aim {HOSTILE} {LONG}",
        partnership=f"Partnership {HOSTILE}",
        next_priorities=[{"title": f"Next {HOSTILE}", "text": f"{HOSTILE} {LONG}"}, *own["next_priorities"]],
    )
    report.write_text(yaml.safe_dump(own, allow_unicode=True, width=10**6, sort_keys=False), encoding="utf-8")
    build_in(home, borough=built_book.borough, year=built_book.year, offline=True)
    html = home / "_build" / "html"
    with serve(html) as url:
        yield SimpleNamespace(home=home, html=html, url=url, year=built_book.year)


HOSTILE_PAGES = {  # page -> texts that must appear on it, character for character
    "overview": [f"Aim {HOSTILE} {LONG}", f"Partnership {HOSTILE}", f"Acquisitive crime {HOSTILE}"],
    "acquisitive_crime": [f"Acquisitive crime {HOSTILE}", f"{HOSTILE} {LONG}"],
    "asb": [LONG],
    "reoffending": [IMAGE],
    "next_priorities": [f"Next {HOSTILE}: {HOSTILE} {LONG}"],
}


def _visit_hostile(chromium, hostile_book, viewport):
    context = chromium.new_context(viewport=viewport)
    traffic = watch(context, hostile_book.url)
    page = context.new_page()
    try:
        for name in HOSTILE_PAGES:
            open_page(page, f"{hostile_book.url}book/{hostile_book.year}/{name}.html", traffic)
            yield name, page, traffic
    finally:
        context.close()


def test_hostile_text_renders_as_text(chromium, hostile_book):
    for name, page, traffic in _visit_hostile(chromium, hostile_book, DESKTOP):
        text = page.locator("article").inner_text()
        for expected in HOSTILE_PAGES[name]:
            assert expected in text, f"{name}: {expected[:80]!r}... is not shown as written"
        assert page.locator('a[href*="evil.example"]').count() == 0, f"{name}: a link to evil.example"
        assert page.locator("article").locator("strong, b, em").filter(has_text=re.compile(r"^bold$")).count() == 0, name
        if any(HOSTILE in expected for expected in HOSTILE_PAGES[name]):
            assert "{{ x }}" in text, f"{name}: template syntax was substituted"
        assert not traffic.outside, f"{name}: {traffic.outside}"


def test_hostile_text_does_not_scroll_sideways_on_a_phone(chromium, hostile_book):
    wide = {}
    for name, page, _ in _visit_hostile(chromium, hostile_book, MOBILE):
        scroll, client = overflow(page)
        if scroll > client + 1:
            wide[name] = (scroll, client, wide_elements(page))
    assert not wide, f"pages wider than a {MOBILE['width']} px phone: {wide}"


def test_hostile_text_runs_no_script(chromium, hostile_book):
    injected = {}
    dialogs = []
    for name, page, traffic in _visit_hostile(chromium, hostile_book, DESKTOP):
        scripts = page.evaluate("[...document.scripts].filter(s => s.text.includes('alert(1)')).length")
        if scripts:
            injected[name] = scripts
        dialogs = traffic.dialogs
    assert not dialogs, dialogs
    assert not injected, f"<script> elements from the report configuration: {injected}"


SEARCHED = {"acquisitive_crime": f"Acquisitive crime {HOSTILE}", "reoffending": IMAGE}  # page -> its whole title


def test_hostile_titles_found_by_search_run_no_script(chromium, hostile_book):
    """Sphinx's search page inserts what searchindex.js holds as HTML: searching for a
    hostile title (the whole of it, as a reader would paste it) lists its page, shows the
    title as text and runs nothing."""
    from urllib.parse import quote

    context = chromium.new_context(viewport=DESKTOP)
    traffic = watch(context, hostile_book.url)
    page = context.new_page()
    try:
        for name, title in SEARCHED.items():
            open_page(page, f"{hostile_book.url}search.html?q={quote(title)}", traffic)
            page.wait_for_function("/Search finished|did not match/.test(document.querySelector('#search-results')"
                                   "?.innerText || '')")
            traffic.settle(page)
            results = page.locator("#search-results")
            links = {a.get_attribute("href").split("#")[0].split("?")[0]: a.inner_text()
                     for a in results.locator("li > a").all()}
            assert links.get(f"book/{hostile_book.year}/{name}.html") == title, f"{title!r} found as {links}"
            assert results.locator("img, script").count() == 0, f"{title!r}: markup from the index became elements"
        assert not traffic.dialogs, traffic.dialogs
    finally:
        context.close()
