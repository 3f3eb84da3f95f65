"""`cspbook preview` (issue 12): the edit loop, in a real ``cspbook preview`` subprocess on
the last good book's tree (see ``lastgood.py``), read in headless Chromium.

- an edit of a template shows in the open page without a manual reload; a failing cell
  shows its error (notebook, cell, message) in the page and the terminal while the last good
  content stays; the fix recovers;
- SIGINT (Ctrl-C, to the process group) and SIGTERM leave no kernel, watcher or server;
- the normal build's output is byte for byte the same whether or not a preview ran before;
- the preview serves on 127.0.0.1 only.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import socket
import time
import urllib.request
from pathlib import Path

import psutil
import pytest
from browser import DESKTOP, open_page, screenshot, watch
from conftest import snapshot
from lastgood import BOROUGH, YEAR, cspbook, last_good, start  # noqa: F401 - last_good is a fixture
from test_faults import Watch, command_lines, descendants, running, send, working_on

TEMPLATE = Path("book") / "templates" / "priority.ipynb"  # the violent crime chapter, with the other priorities
PAGE = f"book/{YEAR}/violent_crime.html"
SIGNALS = [pytest.param(signal.SIGTERM, 143, id="SIGTERM"), pytest.param(signal.SIGINT, 130, id="SIGINT-Ctrl-C")]


class Preview:
    """A ``cspbook preview`` subprocess on ``home``, its stderr collected line by line."""

    def __init__(self, home: Path):
        self.home = home
        self.watch = Watch(start(home, "preview", "--borough", BOROUGH, "--year", YEAR, "--port", "0", "--jobs", "2"))
        self.watch.until(lambda: self.watch.line("rebuilt in"), "the first build was served", timeout=300)
        self.url = re.search(r"on (http://127\.0\.0\.1:\d+/)", self.watch.text())[1]

    def rebuilds(self) -> int:
        return self.watch.text().count("rebuilt in") + self.watch.text().count("rebuild failed")

    def wait_rebuild(self, after: int, timeout: float = 120) -> str:
        """Wait for the rebuild after the ``after``-th one; the log since then."""
        self.watch.until(lambda: self.rebuilds() > after, "the rebuild ended", timeout=timeout)
        return self.watch.text()

    def state(self) -> dict:
        with urllib.request.urlopen(self.url + "_cspbook-preview/state", timeout=10) as response:
            return json.loads(response.read())

    def stop(self, signum: int = signal.SIGINT) -> tuple[int, list]:
        children = descendants(self.watch.proc.pid)
        send(self.watch.proc, signum)
        self.watch.finish(20)
        return self.watch.proc.returncode, children


def edit_sentence(home: Path, text: str, code: bool = False) -> None:
    """Add ``text`` to the first paragraph of the violent crime template, as an editor saves it
    (prose only: the chapters' outputs are reused). ``code``: and a comment to its first code
    cell after the parameters, so that the chapters run."""
    path = home / TEMPLATE
    nb = json.loads(path.read_text(encoding="utf-8"))
    cell = next(c for c in nb["cells"] if c["cell_type"] == "markdown" and not "".join(c["source"]).startswith("# "))
    cell["source"] = "".join(cell["source"]) + f"\n\n{text}"
    if code:
        first = [c for c in nb["cells"] if c["cell_type"] == "code" and "parameters" not in c["metadata"].get("tags", [])][0]
        first["source"] = "".join(first["source"]) + f"\n# {text}"
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")


def add_failing_cell(home: Path) -> str:
    path = home / TEMPLATE
    before = path.read_text(encoding="utf-8")
    nb = json.loads(before)
    nb["cells"].append({"cell_type": "code", "execution_count": None, "id": "broken", "metadata": {}, "outputs": [],
                        "source": "raise ValueError('a sentence the analyst broke')"})
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return before


def assert_nothing_left(preview: Preview, children: list) -> None:
    deadline = time.monotonic() + 5
    while running(p.pid for p in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running(p.pid for p in children) == [], command_lines(children)
    assert working_on(preview.home) == []
    port = int(preview.url.rsplit(":", 1)[1].strip("/"))
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert not (preview.home / ".cspbook" / "build.lock").exists()


# --- the browser loop ------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_an_edit_reloads_the_open_page_an_error_shows_in_it_and_a_fix_recovers(last_good, chromium):
    preview = Preview(last_good.home)
    context = chromium.new_context(viewport=DESKTOP)
    traffic = watch(context, preview.url)
    page = context.new_page()
    try:
        open_page(page, preview.url + PAGE)
        heading = page.locator("h1").first.inner_text()
        assert "Violent crime" in heading
        assert page.locator("#cspbook-preview-error").count() == 0

        # 1. a new sentence, saved in the template: the open page shows it by itself
        loads = []
        page.on("framenavigated", lambda frame: loads.append(frame.url) if frame == page.main_frame else None)
        count = preview.rebuilds()
        edit_sentence(last_good.home, "The preview shows this sentence without a manual reload.")
        page.get_by_text("The preview shows this sentence without a manual reload.").wait_for(timeout=120_000)
        assert loads, "the page was not reloaded"
        assert "rebuilt in" in preview.wait_rebuild(count)
        # the five chapters of the priority template: the page in view first, then the other four
        assert f"pages in view first: {YEAR}/violent_crime" in preview.watch.text(), preview.watch.text()
        assert "4 notebooks: prose only, reused outputs" in preview.watch.text(), preview.watch.text()

        # 2. a failing cell: the error in the page (and the terminal), the last good content still there
        count = preview.rebuilds()
        good = add_failing_cell(last_good.home)
        error = page.locator("#cspbook-preview-error")
        error.wait_for(timeout=120_000)
        message = error.inner_text()
        for part in (f"{YEAR}/violent_crime", "cell", "ValueError: a sentence the analyst broke"):
            assert part in message, message
        log = preview.wait_rebuild(count)
        assert "rebuild failed: notebook 2011-12/violent_crime" in log and "ValueError: a sentence the analyst broke" in log, log
        assert page.get_by_text("The preview shows this sentence without a manual reload.").is_visible()
        screenshot(page, "preview-error")
        # opened afresh, the page is the last good one, with the error over it
        other = context.new_page()
        open_page(other, preview.url + PAGE)
        other.locator("#cspbook-preview-error").wait_for(timeout=30_000)
        assert other.get_by_text("The preview shows this sentence without a manual reload.").count() == 1
        assert preview.state()["error"]
        other.close()

        # 3. fixed: the error goes, the page reloads with the fixed content
        count = preview.rebuilds()
        (last_good.home / TEMPLATE).write_text(good, encoding="utf-8")
        edit_sentence(last_good.home, "Fixed again.")
        page.get_by_text("Fixed again.").wait_for(timeout=120_000)
        assert page.locator("#cspbook-preview-error").count() == 0
        assert preview.state()["error"] is None
        assert "rebuilt in" in preview.wait_rebuild(count)
        assert not traffic.outside, traffic.outside
    finally:
        context.close()
        code, children = preview.stop(signal.SIGINT)
    assert code == 130, preview.watch.text()
    assert_nothing_left(preview, children)


# --- signals ----------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_a_signal_stops_server_watcher_and_every_kernel(last_good, signum, code):
    preview = Preview(last_good.home)
    count = preview.rebuilds()
    partner = last_good.home / "data" / "partner" / "barking-and-dagenham-2011-12.csv"  # one figure: its three pages rerun
    partner.write_text(partner.read_text(encoding="utf-8").replace("drug_treatment_completion,57,63,", "drug_treatment_completion,57,64,"))
    log = preview.wait_rebuild(count)
    assert "executing 3 notebooks" in log and set(re.findall(r"run +2011-12/(\w+)", log)) == {"overview", "reoffending", "cover_paper"}, log
    children = descendants(preview.watch.proc.pid)
    assert any("ipykernel" in line for line in command_lines(children)), command_lines(children)
    returned, children = preview.stop(signum)
    assert returned == code, preview.watch.text()
    assert preview.watch.text().endswith("cspbook: interrupted; preview stopped\n"), preview.watch.text()
    assert "Traceback" not in preview.watch.text(), preview.watch.text()
    assert_nothing_left(preview, children)
    assert snapshot(last_good.home / "data" / "raw") == last_good.raw
    assert snapshot(last_good.home / "_build" / "html") == last_good.html  # the preview never writes _build/html


# --- the normal build is unaffected -------------------------------------------------------------------


@pytest.mark.slow
def test_the_normal_build_is_byte_identical_whether_or_not_a_preview_ran_before(last_good):
    edit_sentence(last_good.home, "An edit made while previewing.")
    plain = cspbook(last_good.home)
    assert plain.returncode == 0, plain.stderr
    without_preview = snapshot(last_good.home / "_build" / "html")
    assert without_preview != last_good.html  # the edit reached the book

    # the same tree again, as built; this time a preview runs first and sees the same edit
    last_good.home.rename(last_good.home.with_name("first"))
    shutil.copytree(last_good.saved, last_good.home, symlinks=True)
    preview = Preview(last_good.home)
    count = preview.rebuilds()
    edit_sentence(last_good.home, "An edit made while previewing.")
    preview.wait_rebuild(count)
    assert preview.state()["error"] is None
    assert snapshot(last_good.home / "_build" / "html") == last_good.html, "the preview wrote into _build/html"
    code, _ = preview.stop(signal.SIGTERM)
    assert code == 143
    assert list((last_good.home / ".cspbook" / "preview").iterdir()), "the preview builds in .cspbook/preview"

    after = cspbook(last_good.home)
    assert after.returncode == 0, after.stderr
    html = last_good.home / "_build" / "html"
    assert snapshot(html) == without_preview
    assert not [p for p in html.rglob("*") if p.is_file() and b"_cspbook-preview" in p.read_bytes()]
    shutil.rmtree(last_good.home.with_name("first"))


# --- serving -----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_preview_serves_on_loopback_only_with_the_script_only_in_what_it_serves(last_good):
    preview = Preview(last_good.home)
    try:
        assert preview.url.startswith("http://127.0.0.1:")
        port = int(preview.url.rsplit(":", 1)[1].strip("/"))
        listening = [c for c in psutil.Process(preview.watch.proc.pid).net_connections("tcp")
                     if c.status == "LISTEN"]
        assert [(c.laddr.ip, c.laddr.port) for c in listening] == [("127.0.0.1", port)]
        with urllib.request.urlopen(preview.url + PAGE, timeout=10) as response:
            served = response.read()
            assert response.headers["Cache-Control"] == "no-store"
        assert re.search(rb'src="/_cspbook-preview/livereload\.js\?v=[0-9a-f]{12}" data-generation="1"', served)
        site = next((last_good.home / ".cspbook" / "preview" / "site").iterdir())
        assert b"_cspbook-preview" not in (site / PAGE).read_bytes()  # added as served, never written
    finally:
        preview.stop()


# --- debounce ----------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_burst_of_saves_makes_one_rebuild_with_the_last_one(last_good):
    preview = Preview(last_good.home)
    try:
        count = preview.rebuilds()
        for n in range(1, 6):  # five saves, as an editor's autosave or a quick Ctrl-S
            edit_sentence(last_good.home, f"Saved {n} times.")
            time.sleep(0.03)
        text = preview.wait_rebuild(count)
        time.sleep(3)  # anything still to come would have come by now
        assert preview.rebuilds() == count + 1, text
        assert "5 notebooks: prose only, reused outputs" in preview.watch.text(), preview.watch.text()
        with urllib.request.urlopen(preview.url + PAGE, timeout=10) as response:
            served = response.read().decode()
        assert "Saved 5 times." in served and "Saved 4 times." in served  # each save added a sentence
    finally:
        preview.stop()


# --- the page in view first (issue 21) -------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.browser
def test_a_template_save_reloads_the_pages_in_view_before_the_rest_of_the_book(last_good, chromium):
    preview = Preview(last_good.home)
    context = chromium.new_context(viewport=DESKTOP)
    traffic = watch(context, preview.url)
    tabs = {name: context.new_page() for name in ("violent_crime", "asb")}  # two chapters of the priority template
    loads = {name: [] for name in tabs}
    try:
        for name, tab in tabs.items():
            open_page(tab, preview.url + f"book/{YEAR}/{name}.html")
            tab.on("framenavigated", lambda frame, name=name: loads[name].append(frame.url)
                   if frame == tabs[name].main_frame else None)
        # a tab opens its event stream once it has loaded and painted, through the route of
        # `watch`, which Playwright's sync API serves only during a call: wait inside one
        preview.watch.until(lambda: tabs["asb"].wait_for_timeout(20) or set(preview.state()["viewing"])
                            == {f"book/{YEAR}/{n}.html" for n in tabs}, "both tabs told the preview which page they show", timeout=30)
        count = preview.rebuilds()
        edit_sentence(last_good.home, "Shown first in the open tabs.", code=True)  # the chapters run
        tabs["violent_crime"].locator("#cspbook-preview-rebuilding").wait_for(state="attached", timeout=60_000)
        for tab in tabs.values():
            tab.get_by_text("Shown first in the open tabs.").wait_for(timeout=120_000)
        log = preview.wait_rebuild(count)
        lines = log.splitlines()
        first = next(i for i, line in enumerate(lines) if line.startswith("pages in view first:"))
        assert set(lines[first].split(": ", 1)[1].split(", ")) == {f"{YEAR}/violent_crime", f"{YEAR}/asb"}, log
        reloaded = next(i for i, line in enumerate(lines) if line.startswith("pages in view reloaded"))
        rest = [i for i, line in enumerate(lines) if re.match(rf"  run +{YEAR}/(acquisitive_crime|reoffending|confidence)$", line)]
        done = next(i for i, line in enumerate(lines) if "rebuilt in" in line and i > first)
        assert len(rest) == 3 and first < reloaded < min(rest) and max(rest) < done, log  # the tabs' pages, then the rest
        for name, tab in tabs.items():
            assert tab.get_by_text("Shown first in the open tabs.").count() == 1
            tab.locator("#cspbook-preview-rebuilding").wait_for(state="detached", timeout=30_000)
            assert len(loads[name]) == 1, loads  # reloaded once: the rest of the book left the page as it was
        assert not traffic.outside, traffic.outside
    finally:
        context.close()
        preview.stop()
