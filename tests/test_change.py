"""Integrity under change (issue 16, case 1): a published book is the book of one set of inputs.

An input changed while a build runs (a partner figure, a template, a fetch of another edition)
never reaches a cache entry under the key of its old content, nor a published page: the build
reads a snapshot of its inputs, checks them all again at its end, and stops with exit 2 naming
the file; the next build gives the book of the new inputs, and putting the old content back
gives the old book again. The same in ``cspbook preview``, where it is the everyday case.

The changes are made at a moment the build's own log names (``done <page>``), never after a
sleep. Each test runs real ``cspbook`` subprocesses on the last good book (``lastgood.py``).
"""

from __future__ import annotations

import json
import re
import time
import urllib.request
from pathlib import Path

import pytest
from bookfixtures import BOROUGH, YEAR, mirror_dir
from conftest import snapshot
from lastgood import cspbook, last_good, start  # noqa: F401 - last_good is a fixture
from test_faults import Watch

PARTNER = Path("data") / "partner" / "barking-and-dagenham-2011-12.csv"
PRIORITY = Path("book") / "templates" / "priority.ipynb"
CONFIDENCE_PAGES = ("overview", "confidence", "cover_paper")  # the pages that show public confidence
CHAPTERS = ("violent_crime", "acquisitive_crime", "asb", "reoffending", "confidence")


def set_confidence(home: Path, value: int) -> None:
    """Public confidence for 2011-12 (42% -> 50% as published) set to ``value``, as an analyst edits it."""
    path = home / PARTNER
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    lines = [re.sub(r",public_confidence,42,\d+,", f",public_confidence,42,{value},", line) for line in lines]
    path.write_text("".join(lines), encoding="utf-8")


def confidence_shown(html: Path, page: str) -> set[str]:
    """The public confidence values a page of the book states ("rose from 42% to N%")."""
    return set(re.findall(r"from 42% to (\d+)%", (html / "book" / YEAR / f"{page}.html").read_text(encoding="utf-8")))


def edit_chapters(home: Path, marker: str) -> None:
    """Put ``marker`` as the last paragraph of the priority template (every chapter shows it),
    and in a comment of its first code cell after the parameters, so that the chapters run
    (a change of prose alone would reuse their outputs: ``tests/test_prose.py``)."""
    path = home / PRIORITY
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown" and not "".join(c["source"]).startswith("# "))
    source = re.sub(r"\n\nMarker [A-Z]+\.$", "", "".join(cell["source"]))
    cell["source"] = source + f"\n\nMarker {marker}."
    code = [c for c in nb["cells"] if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])][0]
    code["source"] = re.sub(r"\n# edit [a-z]+$", "", "".join(code["source"])) + f"\n# edit {marker.lower()}"
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def markers(html: Path, page: str) -> set[str]:
    return set(re.findall(r"Marker ([A-Z]+)\.", (html / "book" / YEAR / f"{page}.html").read_text(encoding="utf-8")))


def build_changing(home: Path, after: str, change, *args) -> tuple[Watch, object]:
    """Start the build (one worker), call ``change()`` once its log says ``after`` is done;
    the finished build and what ``change`` returned."""
    watch = Watch(start(home, "build", "--borough", BOROUGH, "--year", YEAR, "--jobs", "1", *args))
    watch.until(lambda: watch.line(f"  done   {YEAR}/{after}"), f"{after} was done")
    result = change()
    watch.finish(300)
    return watch, result


# --- cspbook build ------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_partner_figure_changed_during_a_build_is_never_published_mixed_nor_cached_under_the_old_value(last_good):
    home, html = last_good.home, last_good.home / "_build" / "html"
    set_confidence(home, 51)

    watch, _ = build_changing(home, "overview", lambda: set_confidence(home, 77))

    assert watch.proc.returncode == 2, watch.text()
    assert f"cspbook: error: {home / PARTNER} changed during the build; nothing was published from it; run again" in watch.text()
    last_good.assert_unchanged()  # the last good book stays: nothing of the mixed build

    again = cspbook(home)
    assert again.returncode == 0, again.stderr
    assert {page: confidence_shown(html, page) for page in CONFIDENCE_PAGES} == {page: {"77"} for page in CONFIDENCE_PAGES}
    assert "public_confidence" in (home / "book" / YEAR / "indicators.csv").read_text()
    assert ",77," in next(line for line in (home / "book" / YEAR / "indicators.csv").read_text().splitlines()
                          if "public_confidence" in line)

    set_confidence(home, 51)  # back to the value the first build was keyed on: its cache must hold 51
    back = cspbook(home)
    assert back.returncode == 0, back.stderr
    assert {page: confidence_shown(html, page) for page in CONFIDENCE_PAGES} == {page: {"51"} for page in CONFIDENCE_PAGES}


@pytest.mark.slow
def test_a_template_edited_during_a_build_is_never_published_mixed_nor_cached_under_the_old_text(last_good):
    home, html = last_good.home, last_good.home / "_build" / "html"
    edit_chapters(home, "B")

    watch, _ = build_changing(home, "violent_crime", lambda: edit_chapters(home, "C"))

    assert watch.proc.returncode == 2, watch.text()
    assert f"{home / PRIORITY} changed during the build; nothing was published from it; run again" in watch.text()
    last_good.assert_unchanged()

    again = cspbook(home)
    assert again.returncode == 0, again.stderr
    assert {page: markers(html, page) for page in CHAPTERS} == {page: {"C"} for page in CHAPTERS}

    edit_chapters(home, "B")
    back = cspbook(home)
    assert back.returncode == 0, back.stderr
    assert {page: markers(html, page) for page in CHAPTERS} == {page: {"B"} for page in CHAPTERS}


@pytest.mark.slow
def test_a_fetch_of_another_edition_during_an_offline_build_waits_for_no_one_and_changes_nothing(last_good):
    home = last_good.home
    edit_chapters(home, "B")  # so that the build has notebooks to run

    watch, fetch = build_changing(home, "violent_crime",
                                  lambda: cspbook(home, "fetch", "--mirror", mirror_dir() / "edition-2025-11"), "--offline")

    assert fetch.returncode == 2, fetch.stdout + fetch.stderr
    assert f"cspbook: error: another cspbook build (pid {watch.proc.pid}) is running on this tree" in fetch.stderr
    assert watch.proc.returncode == 0, watch.text()
    assert snapshot(home / "data" / "raw") == last_good.raw  # the cache is the one the build read
    assert {page: markers(home / "_build" / "html", page) for page in CHAPTERS} == {page: {"B"} for page in CHAPTERS}


# --- cspbook preview ----------------------------------------------------------------------------


class Preview:
    """A ``cspbook preview`` (one worker) on ``home``; its log and its served pages."""

    def __init__(self, home: Path):
        self.home = home
        self.watch = Watch(start(home, "preview", "--borough", BOROUGH, "--year", YEAR, "--port", "0", "--jobs", "1"))
        self.watch.until(lambda: self.watch.line("rebuilt in"), "the first build was served", timeout=300)
        self.url = re.search(r"on (http://127\.0\.0\.1:\d+/)", self.watch.text())[1]

    def page(self, name: str) -> str:
        with urllib.request.urlopen(f"{self.url}book/{YEAR}/{name}.html", timeout=10) as response:
            return response.read().decode("utf-8")

    def state(self) -> dict:
        with urllib.request.urlopen(self.url + "_cspbook-preview/state", timeout=10) as response:
            return json.loads(response.read())

    def until_served(self, page: str, pattern: str, pages=(), shown: str = "", timeout: float = 240) -> None:
        """Wait until the served ``page`` matches ``pattern`` and no rebuild is running. On
        the way, every generation served must show one value of ``shown`` (a regex) across
        ``pages``: never a mixed book, not even for a moment."""
        deadline, seen = time.monotonic() + timeout, set()
        while True:
            state = self.state()
            if pages and state["generation"] not in seen:
                values = {name: set(re.findall(shown, self.page(name))) for name in pages}
                if self.state()["generation"] == state["generation"]:  # all read from one generation
                    seen.add(state["generation"])
                    assert len(set().union(*values.values())) <= 1, (state["generation"], values, self.watch.text())
            if not state.get("building") and re.search(pattern, self.page(page)) is not None:
                return
            assert self.watch.proc.poll() is None and time.monotonic() < deadline, self.watch.text()
            time.sleep(0.05)

    def count(self, text: str) -> int:
        return self.watch.text().count(text)

    def stop(self) -> None:
        self.watch.proc.terminate()
        self.watch.finish(30)


@pytest.fixture
def preview(last_good):
    running = Preview(last_good.home)
    yield running
    running.stop()


@pytest.mark.slow
def test_the_preview_never_caches_or_serves_a_partner_figure_saved_during_a_rebuild_under_the_old_value(preview):
    home = preview.home
    done = preview.count(f"  done   {YEAR}/overview")
    set_confidence(home, 51)
    preview.watch.until(lambda: preview.count(f"  done   {YEAR}/overview") > done, "the overview was rebuilt")
    set_confidence(home, 77)  # saved while the rebuild runs
    preview.until_served("overview", r"from 42% to 77%", CONFIDENCE_PAGES, r"from 42% to (\d+)%")
    assert {page: set(re.findall(r"from 42% to (\d+)%", preview.page(page))) for page in CONFIDENCE_PAGES} == \
        {page: {"77"} for page in CONFIDENCE_PAGES}

    set_confidence(home, 51)
    preview.until_served("overview", r"from 42% to 51%", CONFIDENCE_PAGES, r"from 42% to (\d+)%")

    assert {page: set(re.findall(r"from 42% to (\d+)%", preview.page(page))) for page in CONFIDENCE_PAGES} == \
        {page: {"51"} for page in CONFIDENCE_PAGES}


@pytest.mark.slow
def test_the_preview_never_caches_or_serves_a_template_saved_during_a_rebuild_under_the_old_text(preview):
    home = preview.home
    done = preview.count(f"  done   {YEAR}/violent_crime")
    edit_chapters(home, "B")
    preview.watch.until(lambda: preview.count(f"  done   {YEAR}/violent_crime") > done, "violent crime was rebuilt")
    edit_chapters(home, "C")
    preview.until_served("confidence", r"Marker C\.", CHAPTERS, r"Marker ([A-Z]+)\.")
    assert {page: set(re.findall(r"Marker ([A-Z]+)\.", preview.page(page))) for page in CHAPTERS} == \
        {page: {"C"} for page in CHAPTERS}

    edit_chapters(home, "B")
    preview.until_served("violent_crime", r"Marker B\.", CHAPTERS, r"Marker ([A-Z]+)\.")

    assert {page: set(re.findall(r"Marker ([A-Z]+)\.", preview.page(page))) for page in CHAPTERS} == \
        {page: {"B"} for page in CHAPTERS}


@pytest.mark.slow
def test_a_fetch_while_the_preview_rebuilds_is_refused_naming_the_preview(preview, last_good):
    home = preview.home
    done = preview.count(f"  done   {YEAR}/violent_crime")
    edit_chapters(home, "B")
    preview.watch.until(lambda: preview.count(f"  done   {YEAR}/violent_crime") > done, "violent crime was rebuilt")

    fetch = cspbook(home, "fetch", "--mirror", mirror_dir() / "edition-2025-11")

    assert fetch.returncode == 2, fetch.stdout + fetch.stderr
    assert f"another cspbook preview (pid {preview.watch.proc.pid}) is running on this tree" in fetch.stderr
    assert snapshot(home / "data" / "raw") == last_good.raw


@pytest.mark.slow
def test_the_preview_waits_for_a_running_build_and_its_message_clears_when_the_lock_frees(last_good):
    import subprocess
    import sys

    home = last_good.home
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys
from cspbook.publish import lock
with lock.held({str(home / '.cspbook' / 'build.lock')!r}):
    print("held", flush=True)
    sys.stdin.readline()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline() == "held\n"
    watch = Watch(start(home, "preview", "--borough", BOROUGH, "--year", YEAR, "--port", "0", "--jobs", "1"))
    try:
        watch.until(lambda: f"another cspbook build (pid {holder.pid}) is running" in watch.text(), "the lock was seen")
        url = re.search(r"on (http://127\.0\.0\.1:\d+/)", watch.text())[1]
        with urllib.request.urlopen(url + "_cspbook-preview/state", timeout=10) as response:
            error = json.loads(response.read())["error"]
        assert f"another cspbook build (pid {holder.pid}) is running" in error and "the preview rebuilds by itself" in error

        holder.stdin.close()  # the build ends: no save, yet the preview builds and the message goes
        holder.wait(10)
        watch.until(lambda: watch.line("rebuilt in"), "the preview rebuilt after the lock freed", timeout=120)
        with urllib.request.urlopen(url + "_cspbook-preview/state", timeout=10) as response:
            assert json.loads(response.read())["error"] is None
    finally:
        if holder.poll() is None:
            holder.kill()
        watch.proc.terminate()
        watch.finish(30)
