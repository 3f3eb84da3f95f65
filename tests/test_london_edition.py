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
    assert [p["caption"] for p in toc["parts"]] == boroughs
    assert toc["parts"][1]["chapters"][0] == {"file": "book/london-2024-25/barnet/overview", "title": "Overview"}


def test_all_with_several_years_is_refused(project, capsys):
    code = cli.main(["build", "--borough", "all", "--year", "2024-25", "--years", "2023-24..2024-25"])
    assert code == 2
    assert "--years 2023-24..2024-25: the London edition (--borough all) is one year; give --year only" in capsys.readouterr().err


@pytest.mark.slow
def test_a_london_edition_of_three_boroughs_builds_with_its_front_page(tmp_path, mirror):
    """A reduced set (the full 32 boroughs take minutes on 2 cores: see benchmarks/london_edition.py)."""
    from bookfixtures import make_project, with_boundaries
    from conftest import use_home

    home = with_boundaries(make_project(tmp_path / "project"))
    boroughs = ["Barking and Dagenham", "Hillingdon", "Westminster"]
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        result = london_edition.build_all("2024-25", boroughs=boroughs, jobs=2, mirror=mirror / "edition-2025-11", log=lambda m: None)
    assert len(result.ran) == 1 + 3 * 12 and not result.skipped_html
    html = home / "_build" / "html"
    front = (html / "book" / "london-2024-25" / "index.html").read_text()
    for borough in boroughs:
        slug = definitions.slug(borough)
        assert f'href="{slug}/overview.html"' in front
        assert (html / "book" / "london-2024-25" / slug / "cover_paper.html").exists()
    assert front.count('class="cspbook-chart"') == 6 and front.count("cspbook-sortable") == 3
    toc = yaml.safe_load((home / "_toc.yml").read_text())
    assert [p["caption"] for p in toc["parts"]] == boroughs
    assert "book/london-2024-25/index.html" in (html / "index.html").read_text()

    # `cspbook pdf --borough all`: every borough's cover paper, from the same (unchanged) build
    from browser import unavailable

    if unavailable():
        return
    with pytest.MonkeyPatch.context() as mp:
        use_home(mp, home)
        papers = london_edition.cover_papers("2024-25", boroughs=boroughs, jobs=2, mirror=mirror / "edition-2025-11", log=lambda m: None)
    assert [p.name for p in papers] == [f"{definitions.slug(b)}-2024-25-cover-paper.pdf" for b in boroughs]
    for borough, paper in zip(boroughs, papers):
        text = subprocess.run(["pdftotext", str(paper), "-"], capture_output=True, text=True, check=True).stdout
        assert f"London Borough of {borough}" in text and "Cabinet" in text
