"""A partner figure reruns only the pages that show it (issue 12): the notebook cache keys
cover the partner figures per page (``cspbook.page_inputs``), and that declaration is
checked against the pages themselves."""

from __future__ import annotations

import json
import re
import shutil

import pytest
from conftest import clear_caches, use_home
from lastgood import cspbook, last_good  # noqa: F401 - last_good is a fixture

from cspbook.execute import page_inputs
from cspbook.definitions import reports
from cspbook.execute import plan

BOROUGH = "Barking and Dagenham"
PARTNER = "data/partner/barking-and-dagenham-2011-12.csv"
FIGURE = ("drug_treatment_completion,57,63,", "drug_treatment_completion,57,64,")  # headline, priority reoffending


def keys(year: int = 2011) -> dict[str, str]:
    clear_caches()
    report = reports.load(BOROUGH, year)
    return {job.name: job.key for job in plan.plan(BOROUGH, [year], {year: report.pages}, {})}


def changed_pages(home, old: str, new: str, path: str = PARTNER) -> set[str]:
    before = keys()
    file = home / path
    text = file.read_text(encoding="utf-8")
    assert old in text
    file.write_text(text.replace(old, new), encoding="utf-8")
    after = keys()
    return {name for name in before if before[name] != after[name]}


def test_a_partner_value_changes_the_keys_of_the_pages_that_show_it_only(scratch_project, monkeypatch):
    use_home(monkeypatch, scratch_project)
    assert changed_pages(scratch_project, *FIGURE) == {"overview", "reoffending", "cover_paper"}


def test_a_supplier_changes_the_pages_that_name_suppliers_too(scratch_project, monkeypatch):
    use_home(monkeypatch, scratch_project)
    old = "Barking and Dagenham Youth Offending Service"
    assert changed_pages(scratch_project, old, old + " (YOS)") == {"overview", "reoffending", "cover_paper", "data_sources"}


def test_another_years_partner_figures_change_nothing_here(scratch_project, monkeypatch):
    use_home(monkeypatch, scratch_project)
    other = scratch_project / "data" / "partner" / "barking-and-dagenham-2012-13.csv"
    other.write_text((scratch_project / PARTNER).read_text(encoding="utf-8").replace("2011-12", "2012-13"), encoding="utf-8")
    assert changed_pages(scratch_project, "2012-13,drug_treatment_completion,57,63,", "2012-13,drug_treatment_completion,57,70,",
                         path="data/partner/barking-and-dagenham-2012-13.csv") == set()


def test_a_template_of_partner_figures_or_a_readme_changes_nothing(scratch_project, monkeypatch):
    use_home(monkeypatch, scratch_project)
    readme = scratch_project / "data" / "partner" / "README.md"
    before = keys()
    readme.write_text(readme.read_text(encoding="utf-8") + "\nA note.\n", encoding="utf-8")
    assert keys() == before


def test_an_unreadable_partner_file_changes_every_page_that_shows_partner_figures(scratch_project, monkeypatch):
    use_home(monkeypatch, scratch_project)
    shows = {name for name in keys() if page_inputs.shown(name, reports.load(BOROUGH, 2011)) != (frozenset(), False)}
    assert changed_pages(scratch_project, "borough,year,indicator", "\x00not,a,header") == shows


def test_every_page_is_declared_and_a_priority_page_shows_its_priority():
    clear_caches()
    with pytest.MonkeyPatch.context() as mp:
        from bookfixtures import REPO

        mp.setenv("CSPBOOK_HOME", str(REPO))
        report = reports.load(BOROUGH, 2011)
    assert set(page_inputs.USES) == {name for name, _, priority in report.pages if not priority}  # the rest: chapters
    reoffending = next(p for p in report.priorities if p.id == "reoffending")
    assert page_inputs.shown("reoffending", report) == (frozenset(reoffending.indicators), False)


@pytest.mark.slow
def test_the_pages_not_rerun_are_exactly_what_a_full_rebuild_gives(last_good):
    """The declaration is right: after a change of one figure, an incremental build reruns
    three pages and reuses eight, and every page is byte for byte what a build from an
    empty notebook cache gives."""
    partner = last_good.home / PARTNER
    partner.write_text(partner.read_text(encoding="utf-8").replace(*FIGURE), encoding="utf-8")
    incremental = cspbook(last_good.home)
    assert incremental.returncode == 0, incremental.stderr
    assert "executing 3 notebooks" in incremental.stderr, incremental.stderr
    ran = set(re.findall(r"run +2011-12/(\w+)", incremental.stderr))
    assert ran == {"overview", "reoffending", "cover_paper"}, incremental.stderr
    pages = executed(last_good.home)

    shutil.rmtree(last_good.home / ".cspbook" / "cache")
    full = cspbook(last_good.home)
    assert full.returncode == 0, full.stderr
    assert "executing 12 notebooks" in full.stderr, full.stderr
    assert executed(last_good.home) == pages


def executed(home) -> dict[str, str]:
    """The executed notebooks of 2011-12 without what differs from run to run whatever the
    inputs: the id papermill gives the cell it injects, object addresses in plain-text reprs."""
    out = {}
    for path in sorted((home / "book" / "2011-12").glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb["cells"]:
            cell.pop("id", None)
        out[path.name] = re.sub(r" at 0x[0-9a-f]+", " at 0x…", json.dumps(nb, sort_keys=True))
    return out
