"""Integrity (issue 10): a published figure is always the true one, or the build says why not.

Each of the five faults the issue found, reproduced as it was found, on the last good book
(``lastgood.py``; every ``cspbook`` here is a real subprocess):

1. a damaged executed-notebook cache entry (cut in half, not JSON, JSON that lost cells) is
   discarded and executed again, with one log line naming it; never published; so are a
   damaged dataset pickle, a changed page of the published book and damaged doctrees;
2. a raw file edited after it was fetched is never used: exit 2 naming the file and both
   hashes (offline, or with the Datastore unreachable); a reachable source fetches it again;
3. (the search page: ``test_browser.py::test_hostile_titles_found_by_search_run_no_script``);
4. ``cspbook fetch`` and ``cspbook pdf`` stopped by SIGTERM between their renames or prints
   leave all the old files or all the new ones, and say which (and so does the swap of the
   book: a signal held back during it says that the new book was published);
5. the published tree is exactly the output of the last successful build: the same inputs
   give the same bytes whether the book was built clean or after other builds (more years,
   a template changed and changed back, a build that failed writing to a full disk).

Plus the cache keys: a change to the data, a definition, the library, a template or a
parameter re-executes exactly the notebooks it affects.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest
from bookfixtures import BOROUGH, YEAR, mirror_dir
from conftest import HISTORIC, RECENT, snapshot
from lastgood import cspbook, last_good, start  # noqa: F401 - last_good is a fixture
from test_faults import PROMPT_SECONDS, Watch

from cspbook import config, integrity
from cspbook.errors import CspbookError
from cspbook.definitions import periods, reports
from cspbook.execute import plan

INDICATORS = ("indicators", "--borough", BOROUGH, "--year", YEAR, "--format", "csv")


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def cache_entry(home: Path, page: str) -> Path:
    """The executed-notebook cache entry of one page of the book (by its template)."""
    def page_of(meta: dict) -> str:  # a priority chapter comes from the one priority template
        return meta["parameters"].get("priority") or Path(meta["input_path"]).stem

    found = [p for p in (home / ".cspbook" / "cache").glob("*.ipynb")
             if page_of(json.loads(p.read_bytes())["metadata"]["papermill"]) == page]
    assert len(found) == 1, found
    return found[0]


def executed(stderr: str) -> list[str]:
    """The notebooks a build's log says it executed."""
    return sorted(line.split()[1] for line in stderr.splitlines() if line.startswith("  run "))


def lines_starting(stderr: str, prefix: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith(prefix)]


def add_to_count(path: Path, borough: str, minor: str, month: str, extra: int) -> None:
    """Add ``extra`` to one count of a wide MPS file, as a person editing it would."""
    data = path.read_bytes()
    newline = b"\r\n" if b"\r\n" in data else b"\n"
    lines = data.split(newline)
    column = lines[0].decode().split(",").index(month)
    for number, line in enumerate(lines):
        fields = line.decode().split(",")
        if fields[0] == borough and fields[2] == minor:
            fields[column] = str(int(fields[column]) + extra)
            lines[number] = ",".join(fields).encode()
            break
    else:
        raise AssertionError(f"no row {borough} / {minor} in {path}")
    path.write_bytes(newline.join(lines))


# --- 1. a damaged notebook cache entry ------------------------------------------------------------


def _cut_in_half(path: Path) -> None:
    os.truncate(path, path.stat().st_size // 2)


def _not_json(path: Path) -> None:
    path.write_text("not json\n")


def _lost_cells(path: Path) -> None:
    nb = json.loads(path.read_bytes())
    nb["cells"] = nb["cells"][:4]
    path.write_text(json.dumps(nb, indent=1))


@pytest.mark.slow
@pytest.mark.parametrize("damage", [_cut_in_half, _not_json, _lost_cells], ids=["cut-in-half", "not-json", "lost-cells"])
def test_a_damaged_notebook_cache_entry_is_executed_again_and_never_published(last_good, damage):
    entry = cache_entry(last_good.home, "violent_crime")
    damage(entry)

    result = cspbook(last_good.home)

    assert result.returncode == 0, result.stderr
    discarded = lines_starting(result.stderr, "discarding")
    assert len(discarded) == 1 and f"damaged cache entry {entry} (2011-12/violent_crime)" in discarded[0], result.stderr
    assert executed(result.stderr) == ["2011-12/violent_crime"], result.stderr
    published = last_good.home / "book" / YEAR / "violent_crime.ipynb"
    nbformat.validate(nbformat.read(published, as_version=4))
    assert published.read_bytes() == entry.read_bytes()
    last_good.assert_unchanged()  # the same notebook again: the book it was built from stands
    if damage is not _not_json:
        return
    shutil.rmtree(last_good.home / "_build")  # the way the issue found it: every later build failed (NotJSONError)
    again = cspbook(last_good.home)
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr and executed(again.stderr) == []
    assert snapshot(last_good.home / "_build" / "html") == last_good.html


@pytest.mark.slow
def test_a_changed_page_of_the_published_book_and_damaged_doctrees_are_built_again(last_good):
    page = last_good.home / "_build" / "html" / "book" / YEAR / "violent_crime.html"
    page.write_bytes(page.read_bytes()[: page.stat().st_size // 3])
    jb = last_good.home / ".cspbook" / "jb"
    environment = jb / "_build" / ".doctrees" / "environment.pickle"
    os.truncate(environment, 100)

    result = cspbook(last_good.home)

    assert result.returncode == 0, result.stderr
    assert lines_starting(result.stderr, "the book at") == [
        f"the book at {page.parents[2]} is not what its build wrote (book/{YEAR}/violent_crime.html has changed "
        "since the build); building it again"]
    assert lines_starting(result.stderr, "discarding") == [
        f"discarding Jupyter Book's working tree {jb}: it is not what the last build left "
        "(.doctrees/environment.pickle has changed since the build); building from scratch"]
    last_good.assert_unchanged()


# --- 2. a raw file edited after it was fetched -----------------------------------------------------


@pytest.mark.slow
def test_an_edited_raw_file_is_never_used_and_a_reachable_source_repairs_it(last_good):
    raw = last_good.home / "data" / "raw" / HISTORIC
    manifest = last_good.home / "data" / "raw" / "manifest.json"
    recorded = sha256(raw)
    add_to_count(raw, "Barking and Dagenham", "Assault with Injury", "201106", 500)  # violence with injury 1,829 -> 2,329
    edited = sha256(raw)
    shutil.rmtree(last_good.home / ".cspbook" / "dataset")
    fix = ("Run `cspbook fetch` (with the network, or --mirror DIR) to fetch it again, or put back the file as fetched; "
           "the figures are not computed from a file that differs from its manifest\n")

    figures = cspbook(last_good.home, *INDICATORS, "--offline")
    assert figures.returncode == 2, figures.stdout
    assert figures.stdout == ""
    assert figures.stderr == (
        f"cspbook: error: {raw}: its sha256 is {edited}, but {manifest} records sha256 {recorded}: the file is not the one "
        f"fetched with that manifest (changed since, or a fetch was cut short); with --offline nothing is fetched. {fix}")

    offline = cspbook(last_good.home, *("build", "--borough", BOROUGH, "--year", YEAR, "--offline"))
    assert offline.returncode == 2 and offline.stderr.endswith(fix), offline.stderr
    unreachable = cspbook(last_good.home, mirror=None)  # the Datastore is a closed port
    assert unreachable.returncode == 2, unreachable.stderr
    assert "notice: could not check the London Datastore for new data" in unreachable.stderr
    assert unreachable.stderr.endswith(f"the London Datastore could not be reached to fetch it again. {fix}")
    assert snapshot(last_good.home / "_build" / "html") == last_good.html

    repaired = cspbook(last_good.home)  # the mirror is reachable: the file is fetched again
    assert repaired.returncode == 0, repaired.stderr
    assert sha256(raw) == recorded
    assert snapshot(last_good.home / "_build" / "html") == last_good.html
    figures = cspbook(last_good.home, *INDICATORS, "--offline")
    assert "\nviolence_with_injury,Violence with injury,violent_crime,mps,2011-12,1829," in figures.stdout


def test_the_raw_files_are_checked_against_the_manifest_whenever_the_data_are_loaded(fetched):
    from cspbook.compute import dataset
    from cspbook.errors import DataFileError

    dataset.dataset()
    raw = fetched / "data" / "raw" / RECENT
    add_to_count(raw, "Newham", "Burglary - Residential", "201801", 1)
    dataset._MEMO.clear()
    with pytest.raises(DataFileError, match=f"{RECENT}: its sha256 is {sha256(raw)}, but .* records sha256"):
        dataset.dataset()
    raw.unlink()
    with pytest.raises(DataFileError, match=f"{RECENT}: the file is missing, but .*manifest.json lists it"):
        dataset.dataset()


def test_validate_refuses_a_cached_file_that_differs_from_its_manifest(fetched, capsys):
    from conftest import run_cli

    raw = fetched / "data" / "raw" / HISTORIC
    recorded = sha256(raw)
    add_to_count(raw, "Barnet", "Wounding/GBH", "201201", 3)
    code, out, err = run_cli(capsys, "validate")
    assert (code, out) == (2, "")
    assert err.startswith(f"cspbook: error: {raw}: its sha256 is {sha256(raw)}, but "
                          f"{fetched / 'data' / 'raw' / 'manifest.json'} records sha256 {recorded}: ")


def test_a_damaged_dataset_pickle_is_computed_again_with_one_line(fetched, capsys):
    from cspbook.compute import dataset

    first = dataset.dataset()
    pickle = dataset.saved_path(first.manifest, config.cache_dir())
    assert pickle.exists()
    pickle.write_bytes(pickle.read_bytes()[:1000])
    dataset._MEMO.clear()
    capsys.readouterr()
    again = dataset.dataset()
    assert capsys.readouterr().err == (f"discarding the damaged dataset cache {pickle}: its sha256 does not match its header "
                                       "(cut short or damaged); computing the dataset again\n")
    assert again.annual.equals(first.annual)
    dataset._MEMO.clear()
    dataset.dataset()
    assert capsys.readouterr().err == ""  # written again, whole


# --- 4. multi-file outputs: all or nothing, and the message says which ---------------------------------

SLOW_RENAMES = """
import os, sys, time
_replace = os.replace
def replace(src, dst, *args, **kwargs):
    _replace(src, dst, *args, **kwargs)
    name = os.path.basename(str(dst))
    if os.path.basename(os.path.dirname(str(dst))) == "raw" and name.endswith(".csv"):
        sys.stderr.write(f"test: renamed {name}\\n")
        sys.stderr.flush()
        time.sleep(2)  # the window between two renames, made wide
os.replace = replace
"""


def with_hooks(folder: Path) -> str:
    """PYTHONPATH for a subprocess that imports the ``sitecustomize`` in ``folder`` first."""
    return os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))


def _consistent(raw: Path) -> bool:
    manifest = json.loads((raw / "manifest.json").read_text())
    return all(sha256(raw / entry["name"]) == entry["sha256"] for entry in manifest["files"])


@pytest.mark.slow
def test_a_fetch_stopped_between_its_renames_leaves_old_or_new_files_and_says_which(last_good, tmp_path):
    newer = tmp_path / "mirror"
    newer.mkdir()
    for name, minor, month in ((HISTORIC, "Assault with Injury", "201106"), (RECENT, "Burglary - Residential", "201801")):
        shutil.copy(mirror_dir() / name, newer / name)
        add_to_count(newer / name, "Newham", minor, month, 1)
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(SLOW_RENAMES)
    raw = last_good.home / "data" / "raw"

    watch = Watch(start(last_good.home, "fetch", mirror=newer, PYTHONPATH=with_hooks(hooks)))
    watch.until(lambda: watch.line(f"test: renamed {HISTORIC}"), "the first file was moved in")
    watch.proc.send_signal(signal.SIGTERM)
    watch.finish(PROMPT_SECONDS)

    assert watch.proc.returncode == 143, watch.text()
    assert _consistent(raw), "a file does not match the manifest beside it"
    said = watch.text().splitlines()[-1]
    if snapshot(raw) == last_good.raw:
        assert said == "cspbook: interrupted; the cache is unchanged"
    else:
        assert [sha256(raw / n) for n in (HISTORIC, RECENT)] == [sha256(newer / n) for n in (HISTORIC, RECENT)]
        assert said == ("cspbook: interrupted; the cache was updated (the signal came as the new files were being "
                        "moved in)")


FAKE_CHROMIUM = """#!{python}
import os, sys, time
out = next(a.split("=", 1)[1] for a in sys.argv if a.startswith("--print-to-pdf="))
count = os.path.join(os.environ["FAKE_DIR"], "prints")
n = int(open(count).read()) + 1 if os.path.exists(count) else 1
open(count, "w").write(str(n))
if "cover-paper" in os.path.basename(out) and os.environ.get("FAKE_SLOW"):  # the second of the two PDFs
    open(os.path.join(os.environ["FAKE_DIR"], "second-print"), "w").close()
    time.sleep(60)
# a valid one-page PDF (poppler reads drafts for page numbers), marked with the run
objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
           b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>"]
body, offsets = b"%PDF-1.4\\n% " + os.environ["FAKE_RUN"].encode() + b"\\n", []
for number, obj in enumerate(objects, start=1):
    offsets.append(len(body))
    body += b"%d 0 obj\\n" % number + obj + b"\\nendobj\\n"
xref = len(body)
body += b"xref\\n0 4\\n0000000000 65535 f \\n" + b"".join(b"%010d 00000 n \\n" % o for o in offsets)
body += b"trailer\\n<< /Size 4 /Root 1 0 R >>\\nstartxref\\n%d\\n%%%%EOF\\n" % xref
open(out, "wb").write(body)
"""


@pytest.mark.slow
def test_a_pdf_run_stopped_between_its_two_prints_leaves_both_old_pdfs_and_says_so(last_good, tmp_path):
    browser = tmp_path / "fake-chromium"
    browser.write_text(FAKE_CHROMIUM.format(python=sys.executable))
    browser.chmod(0o755)
    args = ("pdf", "--borough", BOROUGH, "--year", YEAR)
    first_dir, second_dir = tmp_path / "first", tmp_path / "second"
    first_dir.mkdir()
    second_dir.mkdir()
    first = cspbook(last_good.home, *args, CSPBOOK_CHROMIUM=browser, FAKE_DIR=first_dir, FAKE_RUN="run-1")
    assert first.returncode == 0, first.stderr
    pdfs = sorted((last_good.home / "_build" / "pdf").iterdir())
    assert [p.name for p in pdfs] == ["barking-and-dagenham-2011-12-cover-paper.pdf", "barking-and-dagenham-2011-12-report.pdf"]
    before = snapshot(last_good.home / "_build" / "pdf")

    watch = Watch(start(last_good.home, *args, CSPBOOK_CHROMIUM=browser, FAKE_DIR=second_dir, FAKE_RUN="run-2",
                        FAKE_SLOW=1))
    watch.until(lambda: (second_dir / "second-print").exists(), "the second PDF was being printed")
    watch.proc.send_signal(signal.SIGTERM)
    watch.finish(PROMPT_SECONDS)

    assert watch.proc.returncode == 143, watch.text()
    assert watch.text().splitlines()[-1] == "cspbook: interrupted; the PDFs in _build/pdf are unchanged"
    assert snapshot(last_good.home / "_build" / "pdf") == before
    assert all(b"run-1" in p.read_bytes() for p in pdfs)


def test_the_two_pdfs_are_moved_in_together_even_when_a_signal_comes_between(tmp_path):
    script = textwrap.dedent("""
        import os, signal, sys
        from pathlib import Path
        from cspbook import signals
        from cspbook.publish import pdf
        folder = Path(sys.argv[1])
        printed = [folder / ".a.printed", folder / ".b.printed"]
        for path in printed:
            path.write_text("new")
        real = os.replace
        def replace(src, dst):
            real(src, dst)
            os.kill(os.getpid(), signal.SIGTERM)  # between the two renames
        os.replace = replace
        try:
            with signals.handled():
                pdf.install_together(printed, [folder / "a.pdf", folder / "b.pdf"])
        except KeyboardInterrupt as exc:
            print(exc.outcome)
    """)
    for name in ("a.pdf", "b.pdf"):
        (tmp_path / name).write_text("old")
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                                         timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert [(tmp_path / n).read_text() for n in ("a.pdf", "b.pdf")] == ["new", "new"]
    assert proc.stdout == f"the new PDFs were written to {tmp_path} (the signal came as they were being moved in)\n"


def test_a_signal_during_the_swap_of_the_book_says_the_new_book_was_published(tmp_path):
    script = textwrap.dedent("""
        import os, signal, sys
        from pathlib import Path
        from cspbook import signals
        from cspbook.publish import book
        home = Path(sys.argv[1])
        real = os.replace
        def replace(src, dst):
            real(src, dst)
            os.kill(os.getpid(), signal.SIGTERM)  # between moving the old book aside and the new one in
        os.replace = replace
        try:
            with signals.handled():
                book.swap_in(home / "new")
        except KeyboardInterrupt as exc:
            print(exc.outcome)
    """)
    html = tmp_path / "_build" / "html"
    html.mkdir(parents=True)
    (html / "index.html").write_text("old")
    (tmp_path / "new").mkdir()
    (tmp_path / "new" / "index.html").write_text("new")
    proc = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True,
                                         timeout=60, env=dict(os.environ, CSPBOOK_HOME=str(tmp_path)))
    assert proc.returncode == 0, proc.stderr
    assert (html / "index.html").read_text() == "new"
    assert sorted(p.name for p in html.parent.iterdir()) == ["html"]
    assert proc.stdout == f"the new book was published at {html} (the signal came as it was being swapped in)\n"


def test_a_single_page_build_that_did_not_finish_is_discarded_before_the_next(tmp_path, monkeypatch):
    from cspbook.errors import BuildError
    from cspbook.publish import book, pdf

    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    (tmp_path / "_toc.yml").write_text("format: jb-book\nroot: book/2011-12/overview\n")
    stage = tmp_path / ".cspbook" / "singlehtml"
    calls = []

    def failing(builder, output, failure):
        (output / "_build" / "singlehtml").mkdir(parents=True)
        (output / "_build" / "singlehtml" / ".buildinfo").write_text("")  # what a full disk leaves
        calls.append("failed")
        raise BuildError(failure)

    def working(builder, output, failure):
        assert not (output / "_build" / "singlehtml" / ".buildinfo").exists(), "the broken stage was reused"
        page = output / "_build" / "singlehtml" / "book" / "2011-12" / "overview.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text("<html></html>")
        calls.append("built")
        return output / "_build" / "singlehtml"

    monkeypatch.setattr(book, "jupyter_book", failing)
    with pytest.raises(BuildError):
        pdf.singlehtml(lambda msg: None)
    monkeypatch.setattr(book, "jupyter_book", working)
    said = []
    assert pdf.singlehtml(said.append) == stage / "_build" / "singlehtml" / "book" / "2011-12" / "overview.html"
    assert calls == ["failed", "built"]
    assert said[0] == f"discarding {stage}: it was left by a build that did not finish; building from scratch"
    said.clear()
    pdf.singlehtml(said.append)  # finished last time: built on
    assert not [line for line in said if line.startswith("discarding")]


# --- 5. the published tree is exactly the output of the last successful build ---------------------------


@pytest.mark.slow
def test_more_years_then_one_year_publishes_exactly_the_clean_one_year_book(last_good):
    more = cspbook(last_good.home, "build", "--borough", BOROUGH, "--year", YEAR, "--years", "2010-11..2011-12")
    assert more.returncode == 0, more.stderr
    assert (last_good.home / "_build" / "html" / "book" / "2010-11" / "overview.html").exists()

    one = cspbook(last_good.home)

    assert one.returncode == 0, one.stderr
    assert executed(one.stderr) == []
    assert snapshot(last_good.home / "_build" / "html") == last_good.html  # no orphan year, the same bytes


@pytest.mark.slow
def test_an_incremental_rebuild_gives_the_bytes_of_a_clean_build(last_good):
    template = last_good.home / "book" / "templates" / "next_priorities.ipynb"
    original = template.read_bytes()
    nb = nbformat.read(template, as_version=4)
    nb.cells[2].source += "\nextra = 1  # a change to one template"
    nbformat.write(nb, template)
    changed = cspbook(last_good.home)
    assert changed.returncode == 0 and executed(changed.stderr) == [f"{YEAR}/next_priorities"], changed.stderr
    template.write_bytes(original)

    back = cspbook(last_good.home)  # Jupyter Book rewrites pages over its kept working tree

    assert back.returncode == 0, back.stderr
    assert "building the HTML book" in back.stderr
    assert snapshot(last_good.home / "_build" / "html") == last_good.html


@pytest.mark.slow
def test_after_a_sequence_of_edits_the_in_process_incremental_book_is_the_clean_book(last_good, tmp_path):
    """Sphinx runs in the build's process and builds on its kept working tree: after several
    edits (a sentence in the template of five chapters, a partner figure, a code cell of another
    template), the book is byte for byte what a clean Sphinx build of the same notebooks gives,
    and what ``jupyter-book build -W --keep-going`` in a subprocess gives."""
    from cspbook.publish import book

    home = last_good.home
    priority = home / "book" / "templates" / "priority.ipynb"
    nb = nbformat.read(priority, as_version=4)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and not c.source.startswith("# "))
    cell.source += "\n\nA sentence added by the first edit."
    nbformat.write(nb, priority)
    first = cspbook(home)
    assert first.returncode == 0 and executed(first.stderr) == [], first.stderr
    assert "5 notebooks: prose only, reused outputs" in first.stderr, first.stderr  # made from their earlier outputs
    partner = home / "data" / "partner" / "barking-and-dagenham-2011-12.csv"
    partner.write_text(partner.read_text(encoding="utf-8").replace("drug_treatment_completion,57,63,", "drug_treatment_completion,57,61,"),
                       encoding="utf-8")
    second = cspbook(home)
    assert second.returncode == 0 and executed(second.stderr) == sorted(f"{YEAR}/{p}" for p in ("cover_paper", "overview", "reoffending")), second.stderr
    other = home / "book" / "templates" / "next_priorities.ipynb"
    nb = nbformat.read(other, as_version=4)
    nb.cells[2].source += "\nextra = 1  # a change to one code cell"
    nbformat.write(nb, other)
    third = cspbook(home)
    assert third.returncode == 0 and executed(third.stderr) == [f"{YEAR}/next_priorities"], third.stderr
    assert "jupyter_book" not in third.stderr and "discarding" not in third.stderr, third.stderr
    incremental = snapshot(home / "_build" / "html")
    assert incremental != last_good.html
    assert b"A sentence added by the first edit." in (home / "_build" / "html" / "book" / YEAR / "asb.html").read_bytes()

    shutil.rmtree(home / ".cspbook" / "jb")  # Sphinx from scratch, on the same notebooks
    shutil.rmtree(home / "_build" / "html")
    clean = cspbook(home)

    assert clean.returncode == 0 and executed(clean.stderr) == [], clean.stderr
    assert snapshot(home / "_build" / "html") == incremental
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("CSPBOOK_HOME", str(home))
        subprocess_book = book.jupyter_book("html", tmp_path / "jb", "jupyter-book build failed")
    expected = {name: digest for name, digest in incremental.items() if name != book.STAMP}
    assert snapshot(subprocess_book) == expected


FULL_DISK = """
import builtins, errno, os
_open = builtins.open
def open(file, mode="r", *args, **kwargs):
    if str(file).endswith("/.cspbook/jb/_build/html/.buildinfo") and "w" in mode:  # Sphinx's last write
        _open(file, mode, *args, **kwargs).close()  # created, then the disk is full
        raise OSError(errno.ENOSPC, "No space left on device", str(file))
    return _open(file, mode, *args, **kwargs)
builtins.open = open
"""


@pytest.mark.slow
def test_a_build_that_failed_on_a_full_disk_leaves_nothing_that_breaks_the_next(last_good, tmp_path):
    hooks = tmp_path / "hooks"
    hooks.mkdir()
    (hooks / "sitecustomize.py").write_text(FULL_DISK)
    template = last_good.home / "book" / "templates" / "next_priorities.ipynb"
    original = template.read_bytes()
    nb = nbformat.read(template, as_version=4)
    nb.cells[2].source += "\nextra = 1  # a change to one template"
    nbformat.write(nb, template)

    failed = cspbook(last_good.home, PYTHONPATH=with_hooks(hooks))
    assert failed.returncode == 2, failed.stderr
    assert "Failed to write build info file: OSError(28, 'No space left on device')" in failed.stderr
    assert snapshot(last_good.home / "_build" / "html") == last_good.html

    after = cspbook(last_good.home)  # space was freed: the same build again

    assert after.returncode == 0, after.stderr
    assert f"discarding Jupyter Book's working tree {last_good.home / '.cspbook' / 'jb'}: it was left by a build that " \
           "did not finish; building from scratch" in after.stderr
    template.write_bytes(original)
    back = cspbook(last_good.home)
    assert back.returncode == 0 and "building the HTML book" in back.stderr, back.stderr
    assert snapshot(last_good.home / "_build" / "html") == last_good.html


# --- cache keys: exactly the affected notebooks run again ------------------------------------------------


def _keys(home: Path, borough: str = BOROUGH, year: str = YEAR, manifest: dict | None = None) -> dict[str, str]:
    from cspbook.data import rawcache

    start_year = periods.parse_year(year)
    report = reports.load(borough, start_year)
    planned = plan.plan(borough, [start_year], {start_year: report.pages},
                       manifest or rawcache.read_manifest())
    return {job.name: job.key for job in planned}


def _changed(before: dict, after: dict) -> set[str]:
    return {name for name in before if after.get(name) != before[name]}


def test_a_change_reruns_exactly_the_notebooks_it_affects(fetched, monkeypatch, tmp_path):
    from conftest import clear_caches

    from cspbook.data import rawcache

    shutil.copytree(Path(__file__).resolve().parents[1] / "book" / "templates", fetched / "book" / "templates")
    base = _keys(fetched)
    every = set(base)
    assert len(every) == 12 and len(set(base.values())) == 12

    assert _keys(fetched) == base  # nothing changed: nothing runs

    manifest = rawcache.read_manifest()
    other = json.loads(json.dumps(manifest))
    other["files"][0]["sha256"] = "0" * 64
    assert _changed(base, _keys(fetched, manifest=other)) == every  # the data

    other = json.loads(json.dumps(manifest))
    other["fetched_at"] = other["files"][0]["fetched_at"] = "2030-01-01T00:00:00Z"
    assert _changed(base, _keys(fetched, manifest=other)) == set()  # a refetch of the same bytes

    template = fetched / "book" / "templates" / "next_priorities.ipynb"
    template.write_bytes(template.read_bytes().replace(b'"cells": [', b'"cells": [{"cell_type": "markdown", '
                                                       b'"metadata": {}, "source": "x"}, ', 1))
    assert _changed(base, _keys(fetched)) == {"next_priorities"}  # one template
    shutil.copy(Path(__file__).resolve().parents[1] / "book" / "templates" / "next_priorities.ipynb", template)
    assert _keys(fetched) == base

    priority = fetched / "book" / "templates" / "priority.ipynb"  # one template, every priority chapter
    shutil.copy(Path(__file__).resolve().parents[1] / "book" / "templates" / "priority.ipynb", priority)
    priority.write_bytes(priority.read_bytes().replace(b'"cells": [', b'"cells": [{"cell_type": "markdown", '
                                                       b'"metadata": {}, "source": "x"}, ', 1))
    assert _changed(base, _keys(fetched)) == {"violent_crime", "acquisitive_crime", "asb", "reoffending", "confidence"}
    shutil.copy(Path(__file__).resolve().parents[1] / "book" / "templates" / "priority.ipynb", priority)
    assert _keys(fetched) == base

    indicators = fetched / "data" / "indicators.yml"
    indicators.write_text(indicators.read_text() + "\n# a change to a definition\n")
    clear_caches()
    assert _changed(base, _keys(fetched)) == every  # a definition: every page computes from them
    indicators.write_text(indicators.read_text().removesuffix("\n# a change to a definition\n"))
    clear_caches()
    assert _keys(fetched) == base

    next_year = _keys(fetched, year="2012-13")
    assert _changed(base, next_year) == every  # a parameter (the year)
    assert _changed(base, _keys(fetched, borough="Newham")) == every  # a parameter (the borough)

    library = tmp_path / "library"
    shutil.copytree(config.PACKAGE_DIR, library, ignore=shutil.ignore_patterns("__pycache__"))
    (library / "pages" / "narrative.py").write_text((library / "pages" / "narrative.py").read_text() + "\n# a change to the library\n")
    monkeypatch.setattr(config, "PACKAGE_DIR", library)
    assert _changed(base, _keys(fetched)) == every  # the library


def test_a_second_snapshot_in_one_process_hashes_no_unchanged_file_again(fetched, monkeypatch):
    """The preview takes a snapshot per rebuild: the data files (tens of MB) are hashed once while
    their size, time and inode stay the same; a file rewritten with other bytes is refused."""
    from cspbook.execute import snapshot

    first = snapshot.take()
    hashed = []
    original = integrity.sha256_file
    monkeypatch.setattr(integrity, "sha256_file", lambda path: hashed.append(path) or original(path))
    again = snapshot.take()
    assert again == first and hashed == []
    raw = next(p for p in (fetched / "data" / "raw").iterdir() if p.suffix == ".csv")
    raw.write_bytes(raw.read_bytes().replace(b"1", b"2", 1))
    with pytest.raises(CspbookError, match="is not the one fetched with that manifest"):
        snapshot.take()
    assert raw in hashed


def test_the_preview_keeps_its_dataset_across_snapshots_only_when_asked(fetched):
    """`reading(keep_dataset=True)` (the preview, when no definition changed) keeps the dataset
    computed in this process; a build forgets it before and after, as before."""
    from cspbook.compute import dataset
    from cspbook.execute import snapshot

    with snapshot.reading(snapshot.take()):
        first = dataset.dataset()
    with snapshot.reading(snapshot.take(), keep_dataset=True):
        assert dataset.dataset() is first
    with snapshot.reading(snapshot.take()):
        assert dataset.dataset() is not first


def test_the_preview_knows_an_input_saved_again_while_its_rebuild_read_it(fetched):
    """An editor that empties a file and then writes it: a rebuild that read it empty fails, and
    the preview rebuilds with the file as saved instead of showing that error
    (preview.build_checked); an error with every input as read, or raised before the rebuild's
    snapshot was taken (the library changed), is shown as before."""
    from cspbook.errors import BuildError
    from cspbook.execute import snapshot
    from cspbook.publish import preview

    partner = sorted((fetched / "data" / "partner").glob("*.csv"))[0]

    class Builder:
        inputs = None

        def __init__(self, before_snapshot: bool = False, save: bool = False):
            self.before_snapshot, self.save = before_snapshot, save

        def build(self):
            if not self.before_snapshot:
                self.inputs = snapshot.take()
            if self.save:
                partner.write_text(partner.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            raise BuildError("NotJSONError: Notebook does not appear to be JSON: ''")

    with pytest.raises(BuildError, match="NotJSONError"):
        preview.build_checked(Builder())  # nothing saved since: its error stands
    with pytest.raises(snapshot.InputsChanged) as saved:
        preview.build_checked(Builder(save=True))
    assert saved.value.names == [f"data/partner/{partner.name}"]
    stale = Builder(before_snapshot=True)
    stale.inputs = snapshot.take()  # the previous rebuild's snapshot
    partner.write_text(partner.read_text(encoding="utf-8") + "\n", encoding="utf-8")  # the edit that began this one
    with pytest.raises(BuildError, match="NotJSONError"):
        preview.build_checked(stale)  # raised before its own snapshot: not mistaken for a save meanwhile
