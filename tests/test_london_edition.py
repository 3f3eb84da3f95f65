"""The London edition (`cspbook build --borough all`): the plan and the contents for all 32
boroughs (cheap), and one real build of a reduced set of boroughs (slow)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from cspbook import cli, definitions
from cspbook.publish import london_edition

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def with_templates(project):
    shutil.copytree(REPO / "book" / "templates", project / "book" / "templates")
    return project


def test_all_plans_every_borough_s_book_and_a_london_front_page(with_templates):
    boroughs = list(definitions.boroughs())
    front, jobs = london_edition.planned(2024, boroughs, {})
    assert list(jobs) == boroughs and all(len(pages) == 12 for pages in jobs.values())
    every = [front] + [j for pages in jobs.values() for j in pages]
    assert len(every) == 1 + 32 * 12
    assert len({j.output for j in every}) == len(every) and len({j.key for j in every}) == len(every)
    assert front.output == with_templates / "book" / "london-2024-25" / "index.ipynb"
    assert front.parameters == {"year": "2024-25", "boroughs": boroughs, "home": str(with_templates)}
    barnet = jobs["Barnet"]
    assert {j.output.parent for j in barnet} == {with_templates / "book" / "london-2024-25" / "barnet"}
    assert all(j.parameters["borough"] == "Barnet" for j in barnet)
    toc = london_edition.toc(front, jobs)
    assert toc["root"] == "book/london-2024-25/index"
    assert [p["caption"] for p in toc["parts"]] == [london_edition.PART]
    chapters = toc["parts"][0]["chapters"]
    assert [c["title"] for c in chapters] == boroughs  # a chapter per borough, its overview first
    assert chapters[1]["file"] == "book/london-2024-25/barnet/overview"
    assert chapters[1]["sections"][0] == {"file": "book/london-2024-25/barnet/violent_crime", "title": "Violent crime"}
    assert len(chapters[1]["sections"]) == 11


def test_all_with_several_years_is_refused(project, capsys):
    code = cli.main(["build", "--borough", "all", "--year", "2024-25", "--years", "2023-24..2024-25"])
    assert code == 2
    assert "--years 2023-24..2024-25: the London edition (--borough all) is one year; give --year only" in capsys.readouterr().err


BOROUGHS = ["Barking and Dagenham", "Hillingdon", "Westminster"]


@pytest.fixture(scope="module")
def edition(tmp_path_factory, mirror):
    """A London edition of a reduced set of boroughs, built once for this module (the full 32
    boroughs take minutes on 2 cores: see benchmarks/london_edition.py)."""
    from bookfixtures import make_project
    from conftest import use_home

    home = make_project(tmp_path_factory.mktemp("edition") / "project")
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        mp.setenv("CSPBOOK_OPEN_MIRROR", str(mirror / "open"))  # boundaries, wards, population
        result = london_edition.build_all("2024-25", boroughs=BOROUGHS, jobs=2, mirror=mirror / "edition-2025-11", log=lambda m: None)
    return home, result


@pytest.mark.slow
def test_a_london_edition_of_three_boroughs_builds_with_its_front_page(edition, monkeypatch):
    import pandas as pd
    from conftest import use_home

    from cspbook.compute import dataset, london

    home, result = edition
    assert len(result.ran) == 1 + 3 * 12 and not result.skipped_html
    html = home / "_build" / "html"
    front = (html / "book" / "london-2024-25" / "index.html").read_text()
    for borough in BOROUGHS:
        slug = definitions.slug(borough)
        assert f'href="{slug}/overview.html"' in front
        assert (html / "book" / "london-2024-25" / slug / "cover_paper.html").exists()
    # a map of each measure's rates and one of its change, but violence with injury's: no borough's
    # change of 2024-25 can be compared (the March 2024 break), and the page says so instead
    assert front.count('class="cspbook-chart"') == 5 and front.count("cspbook-sortable") == 3
    assert front.count("No map of the change, 2023-24 to 2024-25") == 1
    use_home(monkeypatch, home)
    data = dataset.dataset()
    expected = london.boroughs_side_by_side(data.changes, 2024, ["violence_with_injury", "residential_burglary", "vehicle_crime"],
                                            london.populations(data))
    assert expected["rate_per_1000"].notna().all()  # mid-2024 estimates: sorted by rate
    for csv in (home / "book" / "london-2024-25" / "london.csv", home / "book" / "london-2024-25" / "westminster" / "london.csv"):
        got = pd.read_csv(csv)
        assert len(got) == 3 * 32 and list(got.columns) == london.COLUMNS
        assert got["value"].tolist() == expected["value"].tolist() and got["borough"].tolist() == expected["borough"].tolist()
    toc = yaml.safe_load((home / "_toc.yml").read_text())
    assert [c["title"] for c in toc["parts"][0]["chapters"]] == BOROUGHS
    assert "book/london-2024-25/index.html" in (html / "index.html").read_text()


@pytest.mark.slow
def test_a_template_edited_during_the_london_edition_is_never_published_mixed(tmp_path, mirror, monkeypatch):
    """The edition reads one snapshot of its inputs, as `cspbook build` does (tests/test_change.py):
    the priority template edited while the pages run stops it with the file named and nothing
    published; the next build shows the edit in every chapter."""
    import re

    from bookfixtures import make_project
    from conftest import use_home
    from test_change import CHAPTERS, edit_chapters

    from cspbook.execute.snapshot import InputsChanged

    home = make_project(tmp_path / "project")
    use_home(monkeypatch, home)
    monkeypatch.setenv("CSPBOOK_OPEN_MIRROR", str(mirror / "open"))
    edit_chapters(home, "B")
    edited = []

    def log(message: str) -> None:  # the edit comes when the build says the first page is done
        if "done   2024-25/" in message and not edited:
            edit_chapters(home, "C")
            edited.append(message)

    build = dict(boroughs=["Barnet"], jobs=2, mirror=mirror / "edition-2025-11")
    with pytest.raises(InputsChanged) as raised:
        london_edition.build_all("2024-25", log=log, **build)
    assert edited and str(raised.value).startswith(f"{home / 'book' / 'templates' / 'priority.ipynb'} changed during the build")
    assert not (home / "_build" / "html").exists()  # nothing published

    london_edition.build_all("2024-25", log=lambda m: None, **build)
    pages = home / "_build" / "html" / "book" / "london-2024-25" / "barnet"
    shown = {page: set(re.findall(r"Marker ([A-Z]+)\.", (pages / f"{page}.html").read_text())) for page in CHAPTERS}
    assert shown == {page: {"C"} for page in CHAPTERS}


@pytest.mark.slow
def test_pdf_all_prints_every_borough_s_cover_paper(edition, mirror, monkeypatch):
    """`cspbook pdf --borough all`, from the same (unchanged) build."""
    from browser import skip_or_fail, unavailable
    from conftest import use_home

    reason = unavailable()
    if reason:
        skip_or_fail(reason)
    home, _ = edition
    use_home(monkeypatch, home)
    monkeypatch.setenv("CSPBOOK_OPEN_MIRROR", str(mirror / "open"))
    papers = london_edition.cover_papers("2024-25", boroughs=BOROUGHS, jobs=2, mirror=mirror / "edition-2025-11", log=lambda m: None)
    assert [p.name for p in papers] == [f"{definitions.slug(b)}-2024-25-cover-paper.pdf" for b in BOROUGHS]
    for borough, paper in zip(BOROUGHS, papers):
        text = subprocess.run(["pdftotext", str(paper), "-"], capture_output=True, text=True, check=True).stdout
        assert f"London Borough of {borough}" in text and "Cabinet" in text


@pytest.mark.browser
@pytest.mark.parametrize("width", [1280, 390])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_front_page_reads_cleanly_and_links_to_each_book(edition, chromium, width, scheme):
    from axe_playwright_python.sync_playwright import Axe
    from browser import DESKTOP, MOBILE, animations_done, axe_violations, open_page, serve, watch

    home, _ = edition
    viewport = DESKTOP if width == 1280 else MOBILE
    with serve(home / "_build" / "html") as url:
        context = chromium.new_context(viewport=viewport, color_scheme=scheme)
        traffic = watch(context, url)
        page = context.new_page()
        try:
            open_page(page, url + "book/london-2024-25/index.html", traffic)
            # two maps per measure but violence with injury, whose 2024-25 change no borough can compare
            assert page.locator("figure.cspbook-chart img").count() == 5
            link = page.locator("table.cspbook-sortable a", has_text="Hillingdon").first
            assert link.get_attribute("href") == "hillingdon/overview.html"
            page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
            animations_done(page)
            found = axe_violations(Axe(), page, traffic)
            assert not found, "\n".join(found)
            link.click()
            page.wait_for_url("**/hillingdon/overview.html", wait_until="load")
            traffic.settle(page)
            assert not traffic.problems(), "\n".join(traffic.problems())
        finally:
            context.close()
