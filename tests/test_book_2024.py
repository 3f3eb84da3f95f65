"""The book an analyst builds today: Barking and Dagenham 2024-25 from the November 2025 edition
(the data folder ``edition-2025-11`` of the mirror), every page checked against counts worked
out by hand from the raw files (see tests/test_editions.py for how) and against the library.
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
import subprocess
from pathlib import Path

import pytest
from bookfixtures import build_in, make_project, mirror_dir
from bs4 import BeautifulSoup
from conftest import clear_caches

from cspbook import cli, definitions

pytestmark = pytest.mark.slow

BOROUGH, YEAR = "Barking and Dagenham", "2024-25"
# (previous year, this year, the change as the book writes it), worked out by hand from the raw files
BY_HAND = {
    "Residential burglary": ("729", "655", "-10.2%"),
    "Theft of and from motor vehicles": ("2,233", "2,027", "-9.2%"),
}
SHA256 = {  # from the mirror's README
    "MPS Borough Level Crime (Historical).csv": "4de11f744764510a7d0b8d527bfe8e9f50ec564790563d4c4af766e5b50a366e",
    "MPS Borough Level Crime (most recent 24 months).csv": "234bf253436ffb59fd3201c0c186cebff21a0fdf7387bbe6bfb969dde7443176",
}


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    home = make_project(tmp_path_factory.mktemp("book-2024") / "project")
    build_in(home, BOROUGH, YEAR, mirror=mirror_dir() / "edition-2025-11")
    clear_caches()
    return home


def page(home, name) -> BeautifulSoup:
    return BeautifulSoup((home / "_build" / "html" / "book" / YEAR / f"{name}.html").read_text(encoding="utf-8"), "html.parser")


def text_of(home, name) -> str:
    main = page(home, name).select_one("main")
    return " ".join(main.get_text(" ").split())


def cli_out(home, *argv) -> str:
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSPBOOK_HOME", str(home))
        clear_caches()
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main([*argv])
        clear_caches()
    assert code == 0, err.getvalue()
    return out.getvalue()


def breaks(home):
    return definitions.classifications(home / "data" / "classification.yml").breaks


def test_every_page_is_built_for_2024_25(book):
    for name in ("overview", "violent_crime", "acquisitive_crime", "asb", "reoffending", "confidence",
                 "next_priorities", "methodology", "data_sources", "reconciliation", "cover_paper"):
        assert (book / "_build" / "html" / "book" / YEAR / f"{name}.html").is_file(), name


def test_the_headline_table_has_the_counts_worked_out_by_hand_with_the_caution(book):
    table = page(book, "overview").select_one("table.cspbook-table")
    rows = {tr.select_one("th").get_text(strip=True): [td.get_text(strip=True) for td in tr.select("td")]
            for tr in table.select("tbody tr")}
    for label, (previous, value, change) in BY_HAND.items():
        assert rows[label][:3] == [previous, value, f"{change} (interpret with caution)"], label
    # violence with injury across March 2024 is not comparable on its own: no previous count, the break named
    violence = next(b for b in breaks(book) if b.id == "violence-categories-2024-03")
    assert rows["Violence with injury"][:4] == ["not shown (counted differently)", "1,774", f"not comparable: {violence.title}",
                                                "not tested"]
    text = text_of(book, "overview")
    connect = next(b for b in breaks(book) if b.id == "connect-2024-03")
    assert f"Violence with injury: 1,774 in 2024-25; no change is shown (not comparable: {violence.reason})." in text
    assert "faster" not in text and "more slowly" not in text
    assert text.count(" ".join(connect.reason.split())) == 1  # the reason is said once, under the list
    # no partner figure, and the three police figures all span a break: nothing can be judged
    assert "None of the 9 headline measures can be judged this year: 6 not available, 3 across a break." in text


def test_no_page_has_an_analysts_hint_or_a_claim_the_year_does_not_support(book):
    for name in ("overview", "violent_crime", "acquisitive_crime", "asb", "reoffending", "confidence",
                 "next_priorities", "methodology", "data_sources", "reconciliation", "cover_paper"):
        main = page(book, name).select_one("main")
        for code in main.select("pre, script, style, details.cspbook-code, div.cell_input"):  # the reviewers' code listings
            code.decompose()
        text = " ".join(main.get_text(" ").split())
        # no path of the project's definitions (the data mirror's own folder may be named data/)
        assert not re.search(r"\bdata/(partner|reports|published|raw|\w+\.yml)", text), (name, text)
        assert "(add it" not in text and "0 figures" not in text, (name, text)
    assert "supplied and checked" not in text_of(book, "cover_paper")  # no partner supplied a figure for 2024-25
    assert ("The partnership published no figures for 2024-25 that can be recomputed from the open data, so there is "
            "nothing to reconcile.") in text_of(book, "reconciliation")
    assert not page(book, "reconciliation").select("table.cspbook-table")
    confidence = text_of(book, "violent_crime")
    assert "Total violence against the person fell by 5.7% (7,186 to 6,778)" in confidence  # offered beside it


def test_the_cover_paper_has_the_figures_and_the_caution(book):
    text = text_of(book, "cover_paper")
    assert "Annual Report for 2024-25" in text
    assert "Residential burglary fell by 10.2% (729 to 655)" in text and "interpret with caution" in text


def test_the_csv_download_is_the_indicator_table_with_its_series_and_files(book):
    links = [a["href"] for a in page(book, "overview").select("a") if "indicators.csv" in a.get("href", "")]
    assert links, "no CSV download link"
    path = (book / "_build" / "html" / "book" / YEAR / links[0]).resolve()
    expected = cli_out(book, "indicators", "--borough", BOROUGH, "--year", YEAR, "--format", "csv", "--offline")
    assert path.read_text(encoding="utf-8") == expected
    rows = {r["indicator"]: r for r in csv.DictReader(io.StringIO(expected))}
    burglary = rows["residential_burglary"]
    assert (burglary["previous_value"], burglary["value"], burglary["series"]) == ("729", "655", "restated_2025")
    for name, sha in SHA256.items():
        assert f"{name} (sha256 {sha})" in burglary["source_files"]


def test_data_sources_and_methodology_say_which_data_and_which_breaks(book):
    sources = text_of(book, "data_sources")
    for name, sha in SHA256.items():
        assert name in sources and sha in sources
    assert "come from the edition of November 2025" in sources
    method = text_of(book, "methodology")
    for brk in breaks(book):
        assert brk.title in method, brk.id
    assert "'Unknown'" in method and "'London Heathrow and London City Airports'" in method


def test_the_pdfs_print_2024_25(book):
    from test_pdf import _need_tools, flat, pages_text

    _need_tools()
    out = cli_out(book, "pdf", "--borough", BOROUGH, "--year", YEAR, "--offline")
    report, paper = map(Path, out.splitlines())
    paper_text = flat("\n".join(pages_text(paper)))
    assert "Annual Report for 2024-25" in paper_text and "1,774 in 2024-25" in paper_text
    assert re.search(r"Pages:\s+\d+", subprocess.run(["pdfinfo", str(report)], capture_output=True, text=True).stdout)


# --- the same book with the open sources (CSPBOOK_OPEN_MIRROR): each open figure's charts ---------

OPEN_CHARTS = {  # chapter -> indicator -> the charts its section must have
    "violent_crime": {i: ("monthly", "trend", "london") for i in (
        "domestic_violence_offences", "domestic_abuse_vwi", "knife_injury_victims_1_24", "knife_injury_victims_non_da_1_24")},
    "reoffending": {"first_time_entrants": ("periods",)},
    "confidence": {i: ("periods",) for i in (
        "pas_good_job", "pas_trust", "pas_listen", "pas_relied_on", "pas_treat_fairly", "pas_understand",
        "pas_informed", "pas_contact_ward")},
}


@pytest.fixture(scope="module")
def open_book(tmp_path_factory):
    home = make_project(tmp_path_factory.mktemp("book-2024-open") / "project")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSPBOOK_OPEN_MIRROR", str(mirror_dir() / "open"))
        build_in(home, BOROUGH, YEAR, mirror=mirror_dir() / "edition-2025-11")
    clear_caches()
    return home


def _figures(home, chapter) -> dict:
    """fig id -> (alt text, caption, the rows of its data table) of a chapter."""
    out = {}
    for fig in page(home, chapter).select("figure.cspbook-chart"):
        details = fig.find_next_sibling()
        assert details is not None and details.name == "details" and "cspbook-chart-data" in details.get("class", []), fig["id"]
        rows = [[c.get_text(strip=True) for c in tr.find_all(["th", "td"])] for tr in details.select("tbody tr")]
        out[fig["id"]] = (fig.select_one("img")["alt"], fig.select_one("figcaption").get_text(" ", strip=True), rows)
    return out


def test_every_open_figure_has_its_charts_each_with_alt_text_and_a_data_table(open_book):
    import yaml

    ids = {i["id"]: i["label"] for i in yaml.safe_load((open_book / "data" / "indicators.yml").read_text())["indicators"]}
    for chapter, wanted in OPEN_CHARTS.items():
        figures = _figures(open_book, chapter)
        for indicator, kinds in wanted.items():
            for kind in kinds:
                fig = f"fig-{indicator}-{kind}"
                assert fig in figures, f"{chapter}: no chart {fig}"
                alt, caption, rows = figures[fig]
                assert ids[indicator][:1].lower() + ids[indicator][1:] in alt, (fig, alt)
                assert rows, f"{fig}: an empty data table"


def test_the_open_charts_show_the_counts_and_rates_of_the_files(open_book):
    # worked out by hand from the files (the open mirror's README and tests/test_opendata.py's sums)
    violent = _figures(open_book, "violent_crime")
    alt, _, rows = violent["fig-domestic_violence_offences-trend"]
    assert rows == [["2022-23", "3,244"], ["2023-24", "3,487"], ["2024-25", "3,214"]]
    assert "2023-24: 3,487; 2024-25: 3,214" in alt
    _, caption, _ = violent["fig-domestic_violence_offences-monthly"]
    assert "Dashed lines mark breaks" in caption  # the March 2024 decision marked on the chart
    _, caption, _ = violent["fig-knife_injury_victims_1_24-london"]
    assert "against London (the 32 boroughs)" in caption
    _, _, rows = violent["fig-knife_injury_victims_1_24-trend"]
    assert rows[-2:] == [["2023-24", "32"], ["2024-25", "34"]]
    alt, _, rows = _figures(open_book, "reoffending")["fig-first_time_entrants-periods"]
    assert [r[0] for r in rows] == [str(y) for y in range(2016, 2025)]
    assert [r[1] for r in rows] == ["674", "535", "388", "465", "305", "265", "194", "189", "236"]
    assert [r[2] for r in rows] == ["412", "386", "288", "264", "222", "188", "170", "147", "157"]
    assert "London went from 412 to 157" in alt
    _, _, rows = _figures(open_book, "confidence")["fig-pas_trust-periods"]
    assert rows[-1][0] == "12 months to Dec 2023" and len(rows[-1]) == 3  # the latest published, with London's


def test_the_open_figures_say_their_test_or_why_there_is_none(open_book):
    violent = text_of(open_book, "violent_crime")
    assert re.search(r"Knife injury victims aged 1-24 rose by 6\.2% \(32 to 34\).{0,200}not statistically significant.{0,80}95% interval", violent)
    youth = text_of(open_book, "reoffending")
    assert ("No test of significance is possible for this change: the source publishes rates or shares without "
            "counts.") in youth
    assert "Computed from open data: Local Authority Interactive Tool" in youth
    assert "Supplied by a partner agency, not computed from open data: From the" not in youth


def test_the_lait_england_row_is_named_as_refused_and_never_shown(open_book):
    sources = text_of(open_book, "data_sources")
    assert "Published values left out as implausible (never shown)" in sources
    assert re.search(r"England .{0,200}lait-england-fte-2026-04 .{0,60}the England row of the April 2026 LAIT edition", sources)
    # the youth justice chapter's London comparison is London's row, never England's
    _, _, rows = _figures(open_book, "reoffending")["fig-first_time_entrants-periods"]
    assert rows[0][2] == "412" and "3,071" not in text_of(open_book, "reoffending")


def test_the_methodology_works_through_a_tested_change_of_the_year(open_book):
    """Every police change of 2024-25 lies across the March 2024 break (not tested): the worked
    example is the first tested change there is, with the figures of its line in the chapter."""
    method = text_of(open_book, "methodology")
    assert re.search(r"For example, knife injury victims aged 1-24 in Barking and Dagenham went from 32 to 34, a change of "
                     r"\+6\.2%; its dispersion factor is 1\.00, so the test uses 32 and 34: p = 0\.9, a 95% interval of "
                     r"-36\.4% to \+77\.8% \(not significant\)\.", method), method[:2000]
