"""The build's Sphinx process, started early (cspbook.publish.sphinx_early, issue 21): the
same bytes as Sphinx in the build's own process, the same strictness and messages, and no
process left behind whatever happens."""

from __future__ import annotations

import shutil
import time

import pytest
from conftest import snapshot, use_home
from lastgood import last_good  # noqa: F401 - a fixture

from cspbook.errors import BuildError
from cspbook.publish import sphinx_early, sphinx_run

FAILURE = "Jupyter Book failed; the last good book is unchanged"


@pytest.mark.slow
def test_the_early_process_writes_the_bytes_sphinx_writes_here_and_then_ends(last_good, tmp_path, monkeypatch):
    home = use_home(monkeypatch, last_good.home)
    early = sphinx_early.Early()
    early.start(home)
    proc = early.proc
    built = early.html(home, tmp_path / "early", FAILURE)
    assert built == tmp_path / "early" / "_build" / "html"
    assert proc.wait(timeout=30) == 0 and early.proc is None  # answered, then ended
    assert snapshot(built) == snapshot(sphinx_run.html(home, tmp_path / "here", FAILURE))


@pytest.mark.slow
def test_a_warning_in_the_early_process_fails_the_build_with_the_message_it_gives_here(last_good, tmp_path, monkeypatch):
    home = tmp_path / "home"
    shutil.copytree(last_good.home, home, symlinks=True, ignore=shutil.ignore_patterns("_build", ".cspbook"))
    page = next((home / "book").glob("2*/overview.ipynb"))  # an executed page, not its template
    page.write_text(page.read_text(encoding="utf-8").replace('"source": [', '"source": ["See {ref}`no-such-label`.\\n", ', 1),
                    encoding="utf-8")
    use_home(monkeypatch, home)
    with pytest.raises(BuildError) as here:
        sphinx_run.html(home, tmp_path / "here", FAILURE)
    with sphinx_early.Early() as early:
        early.start(home)
        with pytest.raises(BuildError) as there:
            early.html(home, tmp_path / "there", FAILURE)
    assert "no-such-label" in str(here.value)
    assert str(there.value) == str(here.value).replace(str(tmp_path / "here"), str(tmp_path / "there"))


def test_without_its_process_sphinx_runs_in_the_build(tmp_path, monkeypatch):
    ran = []
    monkeypatch.setattr(sphinx_run, "html", lambda *args: ran.append(args) or tmp_path)
    early = sphinx_early.Early()  # never started
    assert early.html(tmp_path, tmp_path / "work", FAILURE) == tmp_path and len(ran) == 1
    monkeypatch.setattr(sphinx_early, "COMMAND", ("-c", "pass"))  # a process that ended before it was asked
    early.start(tmp_path)
    early.proc.wait(timeout=30)
    assert early.html(tmp_path, tmp_path / "work", FAILURE) == tmp_path and len(ran) == 2


def test_a_process_that_dies_without_an_answer_fails_the_build_and_names_its_exit_code(tmp_path, monkeypatch):
    monkeypatch.setattr(sphinx_early, "COMMAND", ("-c", "import sys; sys.stdin.readline(); sys.exit(3)"))
    early = sphinx_early.Early()
    early.start(tmp_path)
    with pytest.raises(BuildError, match=r"^Jupyter Book failed; the last good book is unchanged: the Sphinx process "
                                         r"ended with exit code 3"):
        early.html(tmp_path, tmp_path / "work", FAILURE)


def test_a_process_not_needed_is_stopped_and_one_whose_build_stopped_ends_by_itself(tmp_path):
    with sphinx_early.Early() as early:
        early.start(tmp_path)
        proc = early.proc
    assert proc.poll() is not None  # the build ended before Sphinx: stopped
    early = sphinx_early.Early()
    early.start(tmp_path)
    proc = early.proc
    proc.stdin.close()  # as when the build is killed: no request will come
    deadline = time.monotonic() + 60
    while proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.1)
    assert proc.returncode == 0
