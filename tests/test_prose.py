"""Prose-only template edits (issue 21, :mod:`cspbook.execute.prose`): a template whose markdown
cells alone changed is not run again; its notebook is made from the one executed before with
the same code, byte for byte what a run gives, and the book built on it is a clean build's.

Any other change (a code cell's source, tags or metadata, the order or number of the code
cells, the notebook's metadata, a parameter) runs the notebook. A new ``{glue}`` reference to a
glued name is served by the earlier outputs; one to a name no code cell glues fails as a run
fails (the strict build stops, exit 2).

Through :func:`cspbook.execute.plan.execute` on tiny templates with one warm kernel, and on the
last good book with real ``cspbook`` subprocesses.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import nbformat
import pytest
from bookfixtures import YEAR
from conftest import snapshot
from lastgood import cspbook, last_good  # noqa: F401 - last_good is a fixture
from test_integrity import executed

from cspbook.definitions import periods
from cspbook.errors import BuildError
from cspbook.execute import plan
from cspbook.execute import pool as warm_pool

kernels = pytest.mark.slow  # starts a real kernel
CHAPTERS = ("violent_crime", "acquisitive_crime", "asb", "reoffending", "confidence")
PROSE_LINE = "5 notebooks: prose only, reused outputs"


def template(path: Path) -> Path:
    """A small page: a title, a parameters cell, code that glues two values and prints a
    token drawn afresh on every run (so a reused output is told from a new one), prose."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    parameters = nbformat.v4.new_code_cell("marker = None")
    parameters.metadata["tags"] = ["parameters"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A page"),
        parameters,
        nbformat.v4.new_code_cell("from myst_nb import glue\nglue('count', 42, display=False)\nglue('place', 'Dagenham', display=False)"),
        nbformat.v4.new_markdown_cell("In {glue:text}`place` we counted {glue:text}`count`."),
        nbformat.v4.new_code_cell("import uuid\nprint(marker, uuid.uuid4().hex)"),
        nbformat.v4.new_code_cell("print('the last cell')"),
    ]
    for n, cell in enumerate(nb.cells):
        cell.id = f"cell-{n}"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


def job(home: Path, path: Path, marker: int = 1) -> plan.Job:
    parameters = {"marker": marker}
    key, code_key = plan.keys(path.read_bytes(), json.dumps(parameters, sort_keys=True).encode(), b"A page")
    return plan.Job("page", periods.parse_year(YEAR), "A page", path, home / "book" / YEAR / "page.ipynb", parameters, key, code_key)


def edit(path: Path, change) -> None:
    nb = nbformat.read(path, as_version=4)
    change(nb)
    nbformat.write(nb, path)


def token(path: Path) -> str:
    """The token the template's fourth code cell printed."""
    cell = next(c for c in nbformat.read(path, as_version=4).cells if "uuid" in c.source)
    return cell.outputs[0]["text"]


@pytest.fixture(scope="module")
def kernel(tmp_path_factory):
    """One warm kernel for the module (no pre-warmed imports: the pages here are tiny)."""
    folder = tmp_path_factory.mktemp("kernel")
    with warm_pool.Pool(1, folder / "logs", env=plan.KERNEL_ENV, cwd=folder, prewarm=()) as pool:
        yield pool


@pytest.fixture
def home(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    return tmp_path


def run(jobs, kernel, said=None) -> dict:
    return plan.execute(jobs, 1, log=(said.append if said is not None else lambda msg: None), progress=False, pool=kernel)


def prose_sentence(nb) -> None:
    nb.cells[3].source += " A sentence more, and a {glue:text}`count` again."


def prose_cells(nb) -> None:  # a markdown cell added, one removed, the title reworded
    nb.cells.insert(5, nbformat.v4.new_markdown_cell("A new paragraph between two code cells."))
    nb.cells[0].source = "# Another title"
    del nb.cells[3]


def markdown_metadata(nb) -> None:
    nb.cells[3].metadata["tags"] = ["margin"]


def code_source(nb) -> None:
    nb.cells[5].source += "  # a comment is a change of the code"


def code_tags(nb) -> None:
    nb.cells[5].metadata["tags"] = ["remove-input"]


def code_metadata(nb) -> None:
    nb.cells[5].metadata["scrolled"] = True


def code_order(nb) -> None:
    nb.cells[4], nb.cells[5] = nb.cells[5], nb.cells[4]


def code_added(nb) -> None:
    nb.cells.append(nbformat.v4.new_code_cell("pass"))


def code_removed(nb) -> None:
    del nb.cells[5]


def markdown_to_code(nb) -> None:
    nb.cells[3] = nbformat.v4.new_code_cell("'In Dagenham'")


def notebook_metadata(nb) -> None:
    nb.metadata["kernelspec"]["display_name"] = "Python 3 (renamed)"


PROSE = [prose_sentence, prose_cells, markdown_metadata]
CODE = [code_source, code_tags, code_metadata, code_order, code_added, code_removed, markdown_to_code, notebook_metadata]


@kernels
@pytest.mark.parametrize("change", PROSE + CODE, ids=lambda f: f.__name__)
def test_a_prose_only_edit_reuses_the_outputs_and_any_other_runs_the_notebook(home, kernel, change):
    path = template(home / "templates" / "page.ipynb")
    first = run([job(home, path)], kernel)
    assert len(first["ran"]) == 1
    before = token(plan.cached(job(home, path)))

    edit(path, change)
    said = []
    second = run([job(home, path)], kernel, said)

    if change in PROSE:
        assert (second["ran"], [j.key for j in second["prose"]]) == ([], [job(home, path).key]), said
        assert said[0] == "1 notebook: prose only, reused outputs (2011-12/page)", said
        assert token(plan.cached(job(home, path))) == before  # the outputs of the first run
    else:
        assert (len(second["ran"]), second["prose"]) == (1, []), said
        assert token(plan.cached(job(home, path))) != before  # run again
    assert nbformat.read(home / "book" / YEAR / "page.ipynb", as_version=4).cells[0].source.startswith("# A page")


@kernels
def test_a_parameter_changed_runs_the_notebook(home, kernel):
    path = template(home / "templates" / "page.ipynb")
    run([job(home, path, marker=1)], kernel)
    edit(path, prose_sentence)
    outcome = run([job(home, path, marker=2)], kernel)
    assert (len(outcome["ran"]), outcome["prose"]) == (1, [])
    assert token(plan.cached(job(home, path, marker=2))).startswith("2 ")


@kernels
@pytest.mark.parametrize("change", [prose_sentence, prose_cells], ids=lambda f: f.__name__)
def test_the_notebook_made_from_prose_is_byte_for_byte_what_a_run_writes(home, kernel, change):
    path = template(home / "templates" / "page.ipynb")
    nb = nbformat.read(path, as_version=4)
    del nb.cells[4]  # the token: a run would print another
    nbformat.write(nb, path)
    run([job(home, path)], kernel)
    edit(path, change)
    assert run([job(home, path)], kernel)["prose"]
    reused = plan.cached(job(home, path)).read_bytes()
    installed = (home / "book" / YEAR / "page.ipynb").read_bytes()

    shutil.rmtree(home / ".cspbook" / "cache")
    assert run([job(home, path)], kernel)["ran"]

    assert plan.cached(job(home, path)).read_bytes() == reused
    assert (home / "book" / YEAR / "page.ipynb").read_bytes() == installed == reused


@kernels
def test_a_glue_reference_to_a_glued_name_is_served_and_to_an_unknown_one_fails_as_a_run_does(home, kernel):
    path = template(home / "templates" / "page.ipynb")
    run([job(home, path)], kernel)
    edit(path, lambda nb: nb.cells.insert(4, nbformat.v4.new_markdown_cell("Again: {glue:text}`count` in {glue}`place`.")))
    assert run([job(home, path)], kernel)["prose"]

    edit(path, lambda nb: setattr(nb.cells[4], "source", "Unknown: {glue:text}`nowhere`."))
    said = []
    with pytest.raises(BuildError) as reused:
        run([job(home, path)], kernel, said)
    assert any("prose only, but the outputs of its earlier run cannot be reused" in line and "nowhere" in line
               for line in said), said
    shutil.rmtree(home / ".cspbook" / "cache")  # no earlier outputs: the notebook runs, as before issue 21
    with pytest.raises(BuildError) as ran:
        run([job(home, path)], kernel)
    assert str(reused.value) == str(ran.value)
    assert "ran but its result is not sound: the glued value ['nowhere'] that its text shows is missing" in str(ran.value)


@kernels
def test_a_damaged_earlier_notebook_is_not_reused_the_page_runs(home, kernel):
    path = template(home / "templates" / "page.ipynb")
    run([job(home, path)], kernel)
    earlier = plan.cached(job(home, path))
    earlier.write_bytes(earlier.read_bytes().replace(b"Dagenham", b"Barking!"))
    edit(path, prose_sentence)
    outcome = run([job(home, path)], kernel)
    assert (len(outcome["ran"]), outcome["prose"]) == (1, [])
    assert b"Dagenham" in plan.cached(job(home, path)).read_bytes()


# --- the book ----------------------------------------------------------------------------------------


def add_sentence(home: Path, text: str) -> None:
    """Add ``text`` to the first paragraph of the priority template (every chapter shows it)."""
    path = home / "book" / "templates" / "priority.ipynb"
    nb = nbformat.read(path, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and not c.source.startswith("# "))
    cell.source += f"\n\n{text}"
    nbformat.write(nb, path)


@pytest.mark.slow
def test_a_prose_edit_of_the_priority_template_runs_nothing_and_gives_the_clean_build_s_book(last_good):
    home = last_good.home
    add_sentence(home, "A sentence made without a kernel, shown with {glue:text}`borough`.")
    edited = cspbook(home)
    assert edited.returncode == 0, edited.stderr
    assert executed(edited.stderr) == [] and f"{PROSE_LINE} (" in edited.stderr, edited.stderr
    assert "0 notebooks executed, 7 reused, 5 prose only (outputs reused)" in edited.stderr, edited.stderr
    html = home / "_build" / "html"
    for page in CHAPTERS:
        shown = (html / "book" / YEAR / f"{page}.html").read_text(encoding="utf-8")
        assert 'A sentence made without a kernel, shown with <span class="pasted-text">Barking and Dagenham</span>.' in shown
    notebooks = snapshot(home / "book" / YEAR)
    book = snapshot(html)

    for folder in (".cspbook/cache", ".cspbook/jb", "_build/html"):  # a clean build: every notebook run
        shutil.rmtree(home / folder)
    clean = cspbook(home)

    assert clean.returncode == 0 and len(executed(clean.stderr)) == 12, clean.stderr
    assert snapshot(home / "book" / YEAR) == notebooks
    assert snapshot(html) == book


@pytest.mark.slow
def test_a_prose_edit_naming_a_value_no_cell_glues_stops_the_strict_build(last_good):
    home = last_good.home
    add_sentence(home, "A figure nobody computed: {glue:text}`no_such_value`.")
    result = cspbook(home)
    assert result.returncode == 2, result.stderr
    assert "the glued value ['no_such_value'] that its text shows is missing" in result.stderr, result.stderr
    last_good.assert_unchanged()
