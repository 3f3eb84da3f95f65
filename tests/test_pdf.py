"""`cspbook pdf`: the book and its Cabinet cover paper printed by Chromium, checked with
poppler (pdftotext, pdftoppm, pdfinfo). The first pages are rendered to PNG in
``test-artifacts/pdf/`` for a person to look at.

Without Chromium or poppler the printing tests are skipped with the reason, unless
``CSPBOOK_REQUIRE_BROWSER=1`` (CI), when they fail instead.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from bookfixtures import BOROUGH, REPO, YEAR
from conftest import clear_caches

from cspbook import cli
from cspbook.compute import dataset, table
from cspbook.definitions import periods, reports
from cspbook.errors import BuildError
from cspbook.pages import narrative
from cspbook.publish import pdf

ARTIFACTS = REPO / "test-artifacts" / "pdf"
REQUIRE_ENV = "CSPBOOK_REQUIRE_BROWSER"


def _need_tools() -> None:
    missing = [tool for tool in ("pdftotext", "pdftoppm", "pdfinfo") if not shutil.which(tool)]
    try:
        pdf.chromium()
    except BuildError:
        missing.append("chromium")
    if missing:
        message = f"needs {', '.join(missing)} (apt-get install chromium poppler-utils, or `make browser`)"
        if os.environ.get(REQUIRE_ENV):
            pytest.fail(message)
        pytest.skip(message)


def pages_text(path: Path) -> list[str]:
    """The text of every page (pdftotext -layout, one call per page)."""
    count = page_count(path)
    return [subprocess.run(["pdftotext", "-layout", "-f", str(i), "-l", str(i), str(path), "-"],
                           capture_output=True, text=True, check=True).stdout for i in range(1, count + 1)]


def page_count(path: Path) -> int:
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))


def flat(text: str) -> str:
    """Text as one line: a word broken at a hyphen at the end of a line is joined again
    (Chromium may break "2011-12" after the hyphen), other line breaks become spaces."""
    return " ".join(re.sub(r"-\n\s*", "-", text).split())


@pytest.fixture(scope="module")
def pdfs(built_book):  # noqa: F811
    """`cspbook pdf` run once in the built book's scratch tree: its exit code, output and the two PDFs."""
    _need_tools()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSPBOOK_HOME", str(built_book.home))
        clear_caches()
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = cli.main(["pdf", "--borough", BOROUGH, "--year", YEAR, "--offline"])
        assert code == 0, err.getvalue()
        report_name, paper_name = pdf.names(BOROUGH, periods.parse_year(YEAR))
        folder = built_book.home / "_build" / "pdf"
        config = reports.load(BOROUGH, periods.parse_year(YEAR))
        lib = table.indicator_table(dataset.dataset(), config)
        clear_caches()
    return {"code": code, "stdout": out.getvalue(), "report": folder / report_name, "paper": folder / paper_name,
            "home": built_book.home, "table": lib, "report_config": config}



@pytest.mark.slow
def test_both_pdfs_are_written_atomically(pdfs):
    assert pdfs["stdout"].splitlines() == [str(pdfs["report"]), str(pdfs["paper"])]
    for path in (pdfs["report"], pdfs["paper"]):
        assert path.read_bytes()[:5] == b"%PDF-"
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
        assert "(A4)" in info
    assert sorted(p.name for p in pdfs["report"].parent.iterdir()) == sorted([pdfs["report"].name, pdfs["paper"].name])


@pytest.mark.slow
def test_the_cover_paper_has_every_headline_figure_and_the_recommendation(pdfs):
    text = flat("\n".join(pages_text(pdfs["paper"])))
    assert ("Cabinet is recommended to note the Barking and Dagenham Community Safety Partnership Annual Report "
            "for 2011-12.") in text
    lib = pdfs["table"].set_index("indicator")
    for iid in pdfs["report_config"].headline:
        row = lib.loc[iid].to_dict() | {"indicator": iid}
        sentence = narrative.headline_bullet(row, pdfs["report_config"].static_threshold_pct)  # e.g. "... fell by 7.9% (1,985 to 1,829) ..."
        assert sentence in text, sentence
        if row["unit"] != "percent":  # the table's change column, as `cspbook indicators` rounds it
            assert f" {narrative.signed_pct(row['change_pct'])} " in text, (iid, row["change_pct"])
    assert "Violence with injury fell by 7.9% (1,985 to 1,829)" in text and " -7.9% " in text
    for heading in ("Summary", "Recommendation", "1. Introduction and background", "2. Proposals and issues",
                    "3. Options appraisal", "4. Consultation", "5. Financial implications", "6. Legal implications",
                    "7. Other implications", "7.4 Safeguarding children", "Background papers used in the preparation",
                    "List of appendices"):
        assert heading in text, heading


@pytest.mark.slow
def test_page_counts_are_sensible_and_every_page_has_a_number(pdfs):
    for path, low, high in ((pdfs["report"], 20, 120), (pdfs["paper"], 3, 12)):
        pages = pages_text(path)
        assert low <= len(pages) <= high, (path.name, len(pages))
        for number, text in enumerate(pages, start=1):
            assert text.strip(), f"{path.name}: page {number} is blank"
            if path == pdfs["paper"] or number > 1:  # the report's title page has no number
                assert f"Page {number} of {len(pages)}" in text, (path.name, number)


@pytest.mark.slow
def test_chapters_follow_the_table_of_contents_with_their_title_in_the_header(pdfs):
    toc = yaml.safe_load((pdfs["home"] / "_toc.yml").read_text())
    expected = ["Overview"] + [c["title"] for part in toc["parts"] for c in part["chapters"]]
    pages = pages_text(pdfs["report"])
    assert flat(pages[0]).startswith("Barking and Dagenham Community Safety Partnership Annual Report 2011-12 Contents")
    assert [line.strip() for line in pages[0].splitlines() if re.match(r"\s*\d+\.\s", line)] == [
        f"{i}. {title}" for i, title in enumerate(expected, start=1)]
    headers = []
    for text in pages[1:]:
        lines = [line.strip() for line in text.splitlines() if line.strip() and not re.fullmatch(r"Page \d+ of \d+", line.strip())]
        if not headers or headers[-1] != lines[0]:
            headers.append(lines[0])
    assert headers == expected


@pytest.mark.slow
def test_first_pages_render_with_text_and_are_not_blank(pdfs):
    from PIL import Image, ImageStat

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for kind in ("report", "paper"):
        path = pdfs[kind]
        prefix = ARTIFACTS / path.stem
        for old in ARTIFACTS.glob(f"{path.stem}-*.png"):
            old.unlink()
        subprocess.run(["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "3", str(path), str(prefix)], check=True)
        images = sorted(ARTIFACTS.glob(f"{path.stem}-*.png"))
        assert len(images) == 3, images
        for number, image in enumerate(images, start=1):
            with Image.open(image) as img:
                grey = img.convert("L")
                assert grey.size[0] < grey.size[1]  # portrait A4
                assert ImageStat.Stat(grey).var[0] > 50, f"{image.name} looks blank"
                assert grey.getextrema()[0] < 100, f"{image.name} has no dark ink"
            text = subprocess.run(["pdftotext", "-f", str(number), "-l", str(number), str(path), "-"],
                                  capture_output=True, text=True, check=True).stdout
            assert len(text.split()) > 20, (image.name, text)
    paper_first = pages_text(pdfs["paper"])[0]
    assert "London Borough of Barking and Dagenham" in paper_first and "Report of" in paper_first


@pytest.mark.slow
def test_web_links_are_written_out_and_navigation_is_not_printed(pdfs):
    text = flat("\n".join(pages_text(pdfs["paper"])))
    for chrome in ("Skip to main content", "Search", "Ctrl+K", "Show code cell source", "Back to top", "Contents"):
        assert chrome not in text, chrome
    # the background papers link the dataset; the print stylesheet writes the address after the link text
    assert ("MPS recorded crime, borough level, Metropolitan Police Service, via the London Datastore, Open Government "
            "Licence v3.0 (https://data.london.gov.uk/dataset/recorded_crime_summary)") in text
    report = flat("\n".join(pages_text(pdfs["report"])))
    assert "Show code cell source" not in report and "Show the data in this chart" not in report


# --- without a browser, and when the browser fails -------------------------------------------


@pytest.mark.parametrize("given", [None, "no-such-browser"])
def test_a_missing_browser_is_a_clear_error(monkeypatch, given):
    monkeypatch.setenv("PATH", "/nonexistent")
    if given:
        monkeypatch.setenv(pdf.CHROMIUM_ENV, given)
    else:
        monkeypatch.delenv(pdf.CHROMIUM_ENV, raising=False)
    with pytest.raises(BuildError) as caught:
        pdf.chromium()
    if given:
        assert str(caught.value) == "CSPBOOK_CHROMIUM=no-such-browser: no such program; point it at a Chromium or Chrome binary"
    else:
        assert str(caught.value) == (
            "no Chromium to print the PDF with (looked for chromium, chromium-browser, google-chrome on PATH); install "
            "Debian's chromium (`apt-get install chromium`, or `make browser`) or set CSPBOOK_CHROMIUM to a Chromium "
            "or Chrome binary")


def test_a_failing_browser_leaves_the_last_pdf_untouched(tmp_path):
    browser = tmp_path / "fake-chromium"
    browser.write_text("#!/bin/sh\necho 'cannot print today' >&2\nexit 3\n")
    browser.chmod(0o755)
    page = tmp_path / "page.html"
    page.write_text("<p>hello</p>")
    target = tmp_path / "out" / "book.pdf"
    target.parent.mkdir()
    target.write_bytes(b"%PDF-1.4 the last good one")
    with pytest.raises(BuildError) as caught:
        pdf.print_pdf(str(browser), page, target)
    assert str(caught.value).startswith(f"Chromium could not print {page} (exit 3); nothing was written:")
    assert "cannot print today" in str(caught.value)
    assert target.read_bytes() == b"%PDF-1.4 the last good one"
    assert sorted(p.name for p in target.parent.iterdir()) == ["book.pdf"]


def test_pdf_help_has_an_example(capsys):
    with pytest.raises(SystemExit):
        cli.main(["pdf", "--help"])
    out = capsys.readouterr().out
    assert 'cspbook pdf --borough "Barking and Dagenham" --year 2011-12' in out


# --- links on paper ------------------------------------------------------------------------


@pytest.mark.slow
def test_links_in_print_name_their_target_and_its_page(pdfs):
    """On paper a link cannot be followed: a link to another place in the book says where
    it leads and on which page (checked against the page the target is printed on), the CSV
    download its address in the HTML book, a web link its address."""
    pages = pages_text(pdfs["report"])
    text = flat("\n".join(pages))

    # between chapters: the overview's link to the Methodology chapter gives its page
    found = re.search(r"the Methodology \(page (\d+)\) page explains", text)
    assert found, "the overview's link to Methodology has no page reference"
    first_line = next(line.strip() for line in pages[int(found[1]) - 1].splitlines() if line.strip())
    assert first_line == "Methodology", (found[1], first_line)  # the running header of that page

    # within a chapter: each "How this is calculated" link names the indicator and its page
    refs = re.findall(r"How this is calculated \(see “([^”]+)”, page (\d+)\)", text)
    lib = pdfs["table"].set_index("indicator")
    expected = [lib.loc[i, "label"] for p in pdfs["report_config"].priorities for i in p.indicators if i in lib.index]
    assert [label for label, _ in refs] == expected
    for label, page in refs:
        shown = flat(pages[int(page) - 1])  # the indicator's calculation: its label, then how it is computed or supplied
        assert label in shown and any(m in shown for m in ("How this is calculated", "Computed from MPS", "Supplied by a partner")), (label, page)

    # the CSV download and the web links are written out
    csv = re.search(r"indicators\.csv \(in the HTML book: (_downloads/[0-9a-f]+/indicators\.csv)\)", text)
    assert csv, "the CSV download link is not written out"
    assert (pdfs["home"] / "_build" / "html" / csv[1]).is_file(), csv[1]
    assert "(https://data.london.gov.uk/dataset/recorded_crime_summary)" in text
    assert "page 00" not in text


@pytest.mark.slow
def test_every_link_of_the_print_page_is_written_out(pdfs):
    """Every link in the page printed for the report, but a heading's own anchor and a web
    address (the print style sheet writes those out), is followed by where it leads."""
    from bs4 import BeautifulSoup

    printed = pdfs["home"] / ".cspbook" / "singlehtml" / "_build" / "singlehtml" / "print-report.html"
    soup = BeautifulSoup(printed.read_text(encoding="utf-8"), "html.parser")
    links = [a for a in soup.select("article.bd-article a[href]")
             if "headerlink" not in a.get("class", []) and not a["href"].startswith(("http:", "https:"))]
    assert len(links) > 10
    bare = [str(a)[:120] for a in links if not (a.find_next_sibling() is not None
                                                 and "cspbook-print-ref" in a.find_next_sibling().get("class", []))]
    assert not bare, bare


def test_without_pdfinfo_links_name_their_target_and_say_where(tmp_path, monkeypatch):
    page = tmp_path / "print-report.html"
    page.write_text(pdf.prepare(
        '<html><head></head><body><article class="bd-article"><section id="o"><h1>Overview</h1>'
        '<p>See <a href="#document-m">Methodology</a> and <a href="#calc-x">How this is calculated</a>.</p>'
        '<section id="c"><h2>How this is calculated</h2><div id="calc-x"><h3>Robbery</h3></div></section></section>'
        '<span id="document-m"></span><section id="m"><h1>Methodology</h1></section></article></body></html>'))
    monkeypatch.setenv("PATH", str(tmp_path))  # no pdfinfo, and no browser is started
    notes = []
    pdf.page_references("no-such-browser", page, notes.append)
    from bs4 import BeautifulSoup

    text = " ".join(BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one("section#o p").get_text().split())
    # the link named by its own text gets nothing without a page; the other says where its target is
    assert text == "See Methodology and How this is calculated (see “Robbery” below)."
    assert notes == ["note: no pdfinfo (apt-get install poppler-utils) to find page numbers; links name their target only"]
