"""cspbook.pages.cover: the Cabinet cover paper. Its fixed text comes from the report configuration
(validated, placeholders filled in, a borough file overriding one passage at a time); every
number and list in it is written from the indicators, the configuration and the manifest."""

from __future__ import annotations

import dataclasses

import pytest
from bs4 import BeautifulSoup

from cspbook.definitions import reports
from cspbook.errors import DefinitionError
from cspbook.pages import context, cover, narrative

BD = "Barking and Dagenham"
SECTIONS = ["note", "heading", "summary", "reasons", "introduction", "priorities", "headline", "targets",
            "next_priorities", "background_papers", "appendices", "options", "consultation", "financial", "legal",
            "risk", "staffing", "customer_impact", "safeguarding_children", "health", "crime_and_disorder"]


def text_of(part) -> str:
    return " ".join(BeautifulSoup(part.markup, "html.parser").get_text(" ").split())


@pytest.fixture
def paper(real_home):
    ctx = context.context(BD, "2011-12", str(real_home))
    return ctx, cover.paper(ctx)


def test_every_section_of_a_cabinet_paper_is_there(paper):
    ctx, got = paper
    assert list(got.sections) == SECTIONS
    assert all(text_of(part) for part in got.sections.values())
    assert got.glue == {
        "recommendation": "Cabinet is recommended to note the Barking and Dagenham Community Safety Partnership "
                          "Annual Report for 2011-12.",
        "next_priorities_intro": "At the end of 2011-12 the Partnership set these priorities for 2012-13:",
    }
    heading = text_of(got.sections["heading"])
    assert heading.startswith("London Borough of Barking and Dagenham Meeting Cabinet Title Barking and Dagenham "
                              "Community Safety Partnership Annual Report 2011-12 Report of")


def test_the_headline_list_is_written_from_the_indicators(paper):
    ctx, got = paper
    headline = text_of(got.sections["headline"])
    thr = ctx.report.static_threshold_pct
    rows = ctx.table.set_index("indicator").loc[list(ctx.report.headline)].reset_index()
    for _, row in rows.iterrows():
        assert narrative.headline_bullet(row, thr) in headline, row["indicator"]
    assert "Violence with injury fell by 7.9% (1,985 to 1,829)" in headline
    assert "First-time entrants to the youth justice system remained static" in headline
    assert "Target: reduce by 5% (✓ met)." in headline
    assert text_of(got.sections["targets"]) == (
        "The Partnership set targets for 8 of the 9 headline measures at the beginning of the year: 4 were met, "
        "3 were not met and 1 could not be compared.")


def test_priorities_and_next_priorities_come_from_the_configuration(paper):
    ctx, got = paper
    summary = text_of(got.sections["summary"])
    assert summary.endswith("The Partnership's priorities for 2011-12 were: Violent crime Acquisitive crime "
                            "Anti-social behaviour Reducing re-offending Public confidence and engagement")
    priorities = text_of(got.sections["priorities"])
    for p in ctx.report.priorities:
        assert f"{p.title}: {p.focus}" in priorities
    nxt = text_of(got.sections["next_priorities"])
    assert nxt.startswith("Serious youth violence: Reduce serious violence in which young people")
    assert [p["title"] for p in ctx.report.next_priorities] == [
        "Serious youth violence", "Serious acquisitive crime", "Anti-social behaviour", "Substance misuse"]
    intro = text_of(got.sections["introduction"])
    assert ctx.report.partnership in intro and f"The Partnership's aim for 2011-12 was: {ctx.report.aim}" in intro


def test_background_papers_come_from_the_manifest_and_the_configuration(paper):
    ctx, got = paper
    items = cover.background_papers(ctx)
    papers = [text for text, _ in items]
    files = ctx.data.manifest["files"]
    assert [p.split(":")[0] for p in papers[:len(files)]] == [f["name"] for f in files]
    assert all(f["sha256"][:16] in " ".join(papers) for f in files)
    assert items[len(files)] == ("MPS recorded crime, borough level, Metropolitan Police Service, via the London "
                                 "Datastore, Open Government Licence v3.0",
                                 "https://data.london.gov.uk/dataset/recorded_crime_summary")
    assert any(p.startswith("Figures supplied by partner agencies for 2011-12: Metropolitan Police Service") for p in papers)
    assert "Barking and Dagenham Community Safety Partnership, Annual Report 2011-12, headline changes" in papers
    assert papers[-2:] == ["Crime and Disorder Act 1998 (as amended by the Police and Justice Act 2006)",
                           "Barking and Dagenham Crime and Disorder Strategic Assessment, 2011-12"]
    assert text_of(got.sections["background_papers"]) == " ".join(papers)
    assert '<a href="https://data.london.gov.uk/dataset/recorded_crime_summary">' in got.sections["background_papers"].markup


def test_configured_text_is_escaped(real_home, tmp_path, monkeypatch):
    ctx = context.context(BD, "2011-12", str(real_home))
    text = dict(ctx.report.cover_paper.text, report_of="<script>alert(1)</script> & co")
    cp = reports.CoverPaperText(text, ctx.report.cover_paper.other, ("<b>paper</b>",))
    ctx.report = dataclasses.replace(ctx.report, cover_paper=cp)
    got = cover.paper(ctx)
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in got.sections["heading"].markup
    assert "<script>" not in got.sections["heading"].markup
    assert "&lt;b&gt;paper&lt;/b&gt;" in got.sections["background_papers"].markup


# --- the configuration ---------------------------------------------------------------------


def own_file(project, text, name="barnet-2011-12.yml"):
    path = project / "data" / "reports" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_borough_file_overrides_one_passage_and_keeps_the_rest(project):
    own_file(project, "cover_paper:\n  report_of: Cabinet Member for Community Safety in {borough}\n"
                      "  other:\n    staffing: Two posts are funded by the Partnership until {next_year}.\n")
    got = reports.load("Barnet", 2011).cover_paper
    assert got.text["report_of"] == "Cabinet Member for Community Safety in Barnet"
    assert got.other["staffing"] == "Two posts are funded by the Partnership until 2012-13."
    assert got.text["recommendation"] == (
        "Cabinet is recommended to note the Barnet Community Safety Partnership Annual Report for 2011-12.")
    assert got.other["risk"].startswith("There are no risks arising directly from noting this report.")


def test_paragraphs_are_kept_one_per_line(project):
    own_file(project, "cover_paper:\n  options: >-\n    First paragraph,\n    still the first.\n\n    Second.\n")
    assert reports.load("Barnet", 2011).cover_paper.text["options"] == "First paragraph, still the first.\nSecond."


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("cover_paper:\n  summery: x\n",
         "line 2: cover_paper: unknown key 'summery'; did you mean 'summary'? allowed keys: "
         + ", ".join((*reports.COVER_KEYS, "to_date"))),
        ("cover_paper:\n  options: Decided in {yaer}.\n",
         "line 2: cover_paper.options: unknown placeholder '{yaer}'; use {borough}, {year}, {next_year}, {financial_year}"),
        ("cover_paper:\n  options: 'a { brace'\n",
         "line 2: cover_paper.options: expected '}' before end of string; write {{ or }} for a brace in the text"),
        ("cover_paper:\n  legal: ''\n", "line 2: cover_paper.legal: must be a non-empty text, found ''"),
        ("cover_paper:\n  other:\n    healt: x\n",
         "line 3: cover_paper.other: unknown key 'healt'; did you mean 'health'? allowed keys: "
         + ", ".join(reports.COVER_OTHER)),
        ("cover_paper:\n  other: none\n",
         "line 2: cover_paper.other: must be a mapping of " + ", ".join(reports.COVER_OTHER) + " to text"),
        ("cover_paper:\n  background_papers: one paper\n",
         "line 2: cover_paper.background_papers: must be a list of texts (it may be empty: [])"),
    ],
    ids=["unknown-key", "unknown-placeholder", "lone-brace", "empty", "unknown-other", "other-not-mapping",
         "papers-not-list"],
)
def test_bad_cover_paper_text_is_refused(project, text, message):
    path = own_file(project, text)
    with pytest.raises(DefinitionError) as caught:
        reports.load("Barnet", 2011)
    assert str(caught.value) == f"{path}, {message}"


def test_a_missing_passage_is_named(project):
    defaults = project / "data" / "reports" / "defaults.yml"
    text = defaults.read_text()
    start = text.index("  consultation: >-")
    end = text.index("  financial: >-")
    defaults.write_text(text[:start] + text[end:])
    line = text[:text.index("\ncover_paper:") + 1].count("\n") + 1  # the top-level key, not the page
    with pytest.raises(DefinitionError) as caught:
        reports.load("Barnet", 2011)
    assert str(caught.value) == (
        f"{defaults}, line {line}: cover_paper: 'consultation' is missing; every cover paper needs "
        f"{', '.join(reports.COVER_KEYS)} (see data/reports/defaults.yml)")


# --- the page in the book --------------------------------------------------------------------


@pytest.mark.slow
def test_the_cover_paper_is_the_last_page_of_the_year(built_book):
    soup = BeautifulSoup((built_book.html / "book" / built_book.year / "cover_paper.html").read_text(), "html.parser")
    sidebar = [a.get_text(strip=True) for a in soup.select("nav.bd-docs-nav a.reference")]
    assert sidebar[-1] == "Cabinet cover paper"
    article = " ".join(soup.select_one("article.bd-article").get_text(" ").split())
    assert "Cabinet is recommended to note the Barking and Dagenham Community Safety Partnership Annual Report " \
           "for 2011-12." in article
    headings = [h.get_text(" ", strip=True).rstrip("#").strip() for h in soup.select("article h2")]
    assert headings == ["Summary", "Recommendation", "1. Introduction and background", "2. Proposals and issues",
                        "3. Options appraisal", "4. Consultation", "5. Financial implications", "6. Legal implications",
                        "7. Other implications", "Background papers used in the preparation of the report",
                        "List of appendices"]
    assert "Violence with injury fell by 7.9% (1,985 to 1,829)" in article


def test_a_bad_passage_in_the_defaults_is_blamed_on_defaults_yml(project):
    defaults = project / "data" / "reports" / "defaults.yml"
    text = defaults.read_text()
    defaults.write_text(text.replace("  wards: All wards\n", "  wards: All wards of {borugh}\n", 1))
    line = text.splitlines().index("  wards: All wards") + 1
    with pytest.raises(DefinitionError) as caught:
        reports.load(BD, 2011)  # Barking and Dagenham 2011-12 has its own file, without cover_paper
    assert str(caught.value) == (
        f"{defaults}, line {line}: cover_paper.wards: unknown placeholder '{{borugh}}'; use {{borough}}, {{year}}, "
        "{next_year}, {financial_year}")
    own_file(project, "cover_paper:\n  meeting: Cabinet\n", name="barking-and-dagenham-2011-12.yml")
    with pytest.raises(DefinitionError) as caught:  # merged with an own passage: still the defaults' line
        reports.load(BD, 2011)
    assert str(caught.value).startswith(f"{defaults}, line {line}: cover_paper.wards:")
