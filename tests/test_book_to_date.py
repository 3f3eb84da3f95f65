"""The book of 2025-26 to date (April to November 2025) from the November 2025 edition,
against the same months of 2024-25: every page, the cover paper, the CSV and the PDFs say so,
with the counts worked out by hand from the raw files (plain pandas, as in
tests/test_year_to_date.py). Built once for the module.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd
import pytest
from bookfixtures import build_in, make_project, mirror_dir
from bs4 import BeautifulSoup
from conftest import clear_caches

pytestmark = pytest.mark.slow

BOROUGH, YEAR = "Barking and Dagenham", "2025-26"
TITLE = "2025-26 to date (April to November 2025)"
AGAINST = "the same months of 2024-25 (April to November 2024)"
PAGES = ("overview", "violent_crime", "acquisitive_crime", "asb", "reoffending", "confidence", "next_priorities",
         "methodology", "data_sources", "reconciliation", "cover_paper")
CATEGORIES = {
    "Violence with injury": {"VIOLENCE WITH INJURY", "HOMICIDE"},
    "Residential burglary": {"DOMESTIC BURGLARY", "RES BURGLARY OF A HOME", "RES BURGLARY OF UNCONNECTED BUILDING",
                             "BURGLARY - RESIDENTIAL"},
    "Theft of and from motor vehicles": {"THEFT FROM A VEHICLE", "THEFT OR UNAUTH TAKING OF A MOTOR VEH"},
}


def by_hand(label, first, last) -> int:
    frames = [pd.read_csv(p, dtype=str) for p in sorted((mirror_dir() / "edition-2025-11").glob("*.csv"))]
    raw = pd.concat(frames, ignore_index=True)
    rows = raw[raw["MinorText"].str.upper().isin(CATEGORIES[label]) & (raw["BoroughName"] == BOROUGH)]
    months = [c for c in raw.columns if c.isdigit() and first <= c <= last]
    return int(rows[months].fillna("0").astype(int).to_numpy().sum())


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    home = make_project(tmp_path_factory.mktemp("book-to-date") / "project")
    build_in(home, BOROUGH, YEAR, mirror=mirror_dir() / "edition-2025-11")
    clear_caches()
    return home


def text_of(home, name) -> str:
    soup = BeautifulSoup((home / "_build" / "html" / "book" / YEAR / f"{name}.html").read_text(encoding="utf-8"), "html.parser")
    return " ".join(soup.select_one("main").get_text(" ").split())


def test_every_page_says_2025_26_to_date(book):
    for name in PAGES:
        assert "2025-26 to date" in text_of(book, name), name
    overview = text_of(book, "overview")
    assert f"for the financial year 2025-26 to date ( April to November 2025 )" in overview
    assert f"compares 2025-26 to date with {AGAINST}" in overview
    assert "caption: 2025-26 to date" in (book / "_toc.yml").read_text(encoding="utf-8")


def test_the_headline_table_has_the_counts_worked_out_by_hand(book):
    soup = BeautifulSoup((book / "_build" / "html" / "book" / YEAR / "overview.html").read_text(encoding="utf-8"), "html.parser")
    table = soup.select_one("table.cspbook-table")
    assert f"compared with {AGAINST}" in table.select_one("caption").get_text(" ")
    heads = [th.get_text(strip=True) for th in table.select("thead th")]
    assert "April to November 2024" in heads and "April to November 2025" in heads
    rows = {tr.select_one("th").get_text(strip=True): [td.get_text(strip=True) for td in tr.select("td")]
            for tr in table.select("tbody tr")}
    for label in CATEGORIES:
        now, before = by_hand(label, "202504", "202511"), by_hand(label, "202404", "202411")
        assert rows[label][:2] == [f"{before:,}", f"{now:,}"], label


def test_the_cover_paper_says_to_date_in_its_title_and_every_sentence_about_the_year(book):
    text = text_of(book, "cover_paper")
    assert "Community Safety Partnership Annual Report 2025-26 to date" in text
    assert "report on 2025-26 to date (Appendix A)" in text
    assert "how the Partnership is doing in 2025-26 to date" in text
    assert f"The headline measures of the Annual Report, 2025-26 to date compared with {AGAINST}" in text
    # the whole year only where the year is meant, in the present or future: never as if it were over
    whole_year = ("priorities for 2025-26 are", "aim for 2025-26 is", "at the end of 2025-26", "Annual Report of 2025-26")
    for said in re.findall(r"[^.:;]*2025-26(?! to date)[^.:;]*", text):
        assert any(ok in said for ok in whole_year), said
    assert ("This report covers 2025-26 to date (April to November 2025). The Partnership sets its priorities for "
            "2026-27 at the end of 2025-26; it has named these so far:") in text
    assert "The Partnership's aim for 2025-26 is:" in text and "At the end of 2025-26" not in text


def test_the_csv_download_is_the_to_date_table(book):
    path = book / "book" / YEAR / "indicators.csv"
    rows = list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8"))))
    assert {row["year"] for row in rows} == {TITLE}
    burglary = next(r for r in rows if r["indicator"] == "residential_burglary")
    assert float(burglary["value"]) == by_hand("Residential burglary", "202504", "202511")


def test_the_priority_chapter_charts_count_the_same_months_of_each_year(book):
    text = text_of(book, "acquisitive_crime")
    assert "the same months of each financial year (April to November" in text
    assert "2024-25 Apr-Nov" in text  # the trend chart's table labels its years with the months counted


def test_the_overview_gives_the_latest_twelve_months(book):
    text = text_of(book, "overview")
    assert "Where things stand now: the latest twelve months" in text
    assert "The twelve months to November 2025 (December 2024 to November 2025)" in text


def test_the_pdfs_print_2025_26_to_date(book):
    from test_book_2024 import cli_out
    from test_pdf import _need_tools, flat, pages_text

    _need_tools()
    out = cli_out(book, "pdf", "--borough", BOROUGH, "--year", YEAR, "--offline")
    report, paper = map(Path, out.splitlines())
    assert report.name == "barking-and-dagenham-2025-26-report.pdf"
    paper_text = flat("\n".join(pages_text(paper)))
    assert "Annual Report 2025-26 to date" in paper_text and "report on 2025-26 to date" in paper_text
    assert f"2025-26 to date compared with {AGAINST}" in paper_text
    now, before = by_hand("Violence with injury", "202504", "202511"), by_hand("Violence with injury", "202404", "202411")
    assert f"({before:,} to {now:,})" in paper_text
    assert "2025-26 to date" in flat("\n".join(pages_text(report)))
