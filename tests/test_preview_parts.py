"""The parts of `cspbook preview` (issue 12) on their own: what the server sends, the
copies of the site it serves, and Sphinx kept in the process."""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pytest

from cspbook.publish import preview, preview_serve


def request(app, path: str, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """GET ``path`` from the ASGI ``app``: status, headers, body."""
    sent = []
    asked = []

    async def receive():  # the request once; then nothing more, as from a client waiting for the answer
        if not asked:
            asked.append(True)
            return {"type": "http.request", "body": b"", "more_body": False}
        await asyncio.Event().wait()

    async def send(message):
        sent.append(message)

    path, _, query = path.partition("?")
    scope = {"type": "http", "method": "GET", "path": path, "raw_path": path.encode(), "query_string": query.encode(),
             "root_path": "", "scheme": "http", "server": ("127.0.0.1", 80), "http_version": "1.1",
             "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]}
    # in a thread of its own: playwright's sync API may hold an event loop in this one
    thread = threading.Thread(target=asyncio.run, args=(app(scope, receive, send),))
    thread.start()
    thread.join(timeout=30)
    assert not thread.is_alive(), "the app did not answer"
    start = next(m for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


@pytest.fixture
def site(tmp_path) -> Path:
    folder = tmp_path / "site"
    (folder / "_static").mkdir(parents=True)
    (folder / "index.html").write_text("<html><body><p>Good page</p></body></html>")
    (folder / "_static" / "style.css").write_text("body { color: black }")
    return folder


def test_an_html_page_is_served_with_the_script_of_its_generation_and_never_cached(site):
    state = preview.State(generation=4, site=site)
    app = preview.make_app(state)
    status, headers, body = request(app, "/index.html", {"If-None-Match": "*", "If-Modified-Since": "Mon, 01 Jan 2100 00:00:00 GMT"})
    assert status == 200  # a conditional request still gets the page: its script names the generation
    version = hashlib.sha256(preview_serve.SCRIPT.read_bytes()).hexdigest()[:12].encode()
    assert body.endswith(b'<script src="/_cspbook-preview/livereload.js?v=' + version + b'" data-generation="4" '
                         b'data-events="/_cspbook-preview/events"></script></body></html>')
    assert headers["content-length"] == str(len(body))
    assert headers["cache-control"] == "no-store" and "etag" not in headers and "last-modified" not in headers
    assert b"livereload" not in (site / "index.html").read_bytes()  # added as served, not written


def test_other_files_are_served_as_they_are_and_kept_by_the_browser_only_if_it_asks_first(site, tmp_path):
    state = preview.State(generation=1, site=site)
    app = preview.make_app(state)
    status, headers, body = request(app, "/_static/style.css")
    assert (status, body) == (200, b"body { color: black }")
    assert headers["cache-control"] == "no-cache" and headers["etag"]  # revalidated on every use
    status, again, body = request(app, "/_static/style.css", {"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")  # unchanged: the browser keeps what it parsed
    changed = tmp_path / "site2"
    shutil.copytree(site, changed)
    time.sleep(0.01)
    (changed / "_static" / "style.css").write_text("body { color: navy }")
    state.serve(changed, {})
    status, _, body = request(app, "/_static/style.css", {"If-None-Match": headers["etag"]})
    assert (status, body) == (200, b"body { color: navy }")  # a new generation's file is sent again
    status, headers, _ = request(app, "/_static/style.css?digest=55c26ed414f5f8a31ebb")
    assert status == 200 and headers["cache-control"] == "max-age=86400, immutable"  # the theme's, by its build
    status, headers, _ = request(app, "/_static/style.css?v=17aa17f0")
    assert status == 200 and headers["cache-control"] == "max-age=86400, immutable"  # Sphinx's checksum of the bytes


def test_a_page_names_the_version_of_each_file_its_head_loads_so_a_reload_does_not_ask_again(site, tmp_path):
    """The theme loads searchtools.js, language_data.js and searchindex.js in every page's head
    without a version: on each reload the page's parsing waited for the server's 304s."""
    (site / "book").mkdir()
    (site / "searchindex.js").write_text("Search.setIndex({})")
    (site / "book" / "p.html").write_text(
        '<html><head><script src="../searchindex.js"></script><script src="../_static/style.css?v=1"></script>'
        '<link rel="stylesheet" href="../_static/style.css" /><link rel="next" href="q.html" />'
        '<script src="../_static/missing.js"></script><script src="https://example.org/x.js"></script></head>'
        '<body><img src="../searchindex.js"></body></html>')
    state = preview.State(generation=1, site=site)
    app = preview.make_app(state)
    _, _, body = request(app, "/book/p.html")
    index = hashlib.sha256(b"Search.setIndex({})").hexdigest()[:12]
    style = hashlib.sha256(b"body { color: black }").hexdigest()[:12]
    assert f'<script src="../searchindex.js?v={index}"></script>'.encode() in body
    assert f'<link rel="stylesheet" href="../_static/style.css?v={style}" />'.encode() in body
    for kept in (b'style.css?v=1"', b'href="q.html"', b'src="../_static/missing.js"', b'https://example.org/x.js"',
                 b'<img src="../searchindex.js">'):  # versioned, a page, no such file, elsewhere, not in the head
        assert kept in body
    assert f"?v={index}".encode() not in (site / "book" / "p.html").read_bytes()  # as served, never written
    status, headers, _ = request(app, f"/searchindex.js?v={index}")
    assert status == 200 and headers["cache-control"] == "max-age=86400, immutable"
    changed = tmp_path / "site2"
    shutil.copytree(site, changed)
    (changed / "searchindex.js").write_text("Search.setIndex({titles: []})")
    state.serve(changed, {})  # the next build: its index has a new address
    _, _, body = request(app, "/book/p.html")
    assert hashlib.sha256(b"Search.setIndex({titles: []})").hexdigest()[:12].encode() in body and index.encode() not in body


def test_the_script_and_the_state_have_their_own_addresses(site):
    state = preview.State(generation=2, site=site, error="notebook 2011-12/asb failed in cell 3")
    app = preview.make_app(state)
    status, headers, body = request(app, "/_cspbook-preview/livereload.js")
    assert status == 200 and headers["content-type"].startswith("text/javascript")
    assert b"EventSource" in body and headers["cache-control"] == "no-store"
    version = hashlib.sha256(body).hexdigest()[:12]
    status, headers, _ = request(app, f"/_cspbook-preview/livereload.js?v={version}")  # as the pages name it
    assert status == 200 and headers["cache-control"] == "max-age=86400, immutable"
    status, _, body = request(app, "/_cspbook-preview/state")
    assert json.loads(body) == {"generation": 2, "error": "notebook 2011-12/asb failed in cell 3", "building": False,
                                "phase": None, "viewing": []}


def test_before_the_first_good_build_every_page_says_what_happened(tmp_path):
    state = preview.State(error="data/reports/x.yml, line 3: <unknown> key")
    status, headers, body = request(preview.make_app(state), "/book/2011-12/asb.html")
    assert status == 200 and headers["content-type"].startswith("text/html")
    assert b"data/reports/x.yml, line 3: &lt;unknown&gt; key" in body
    assert b'data-generation="0"' in body


def test_a_site_copy_links_the_files_sphinx_left_alone_and_copies_the_others(tmp_path, site):
    catalog = site / "_static" / "locales" / "de" / "LC_MESSAGES" / "booktheme.mo"  # the theme's, for Sphinx
    catalog.parent.mkdir(parents=True)
    catalog.write_bytes(b"\x95\x04\x12\xde")
    first = preview.copy_site(site, tmp_path / "1", None, {})
    assert sorted(first) == ["_static/style.css", "index.html"]  # no page asks for the catalogs: not copied
    assert not (tmp_path / "1" / "_static" / "locales").exists()
    time.sleep(0.01)
    (site / "index.html").write_text("<html><body><p>Changed page</p></body></html>")
    second = preview.copy_site(site, tmp_path / "2", tmp_path / "1", first)
    assert os.path.samefile(tmp_path / "1" / "_static" / "style.css", tmp_path / "2" / "_static" / "style.css")
    assert not os.path.samefile(tmp_path / "1" / "index.html", tmp_path / "2" / "index.html")
    assert (tmp_path / "2" / "index.html").read_text().count("Changed page") == 1
    assert (tmp_path / "1" / "index.html").read_text().count("Good page") == 1  # copies are never written again
    shutil.rmtree(tmp_path / "1")
    assert (tmp_path / "2" / "_static" / "style.css").read_text() == "body { color: black }"
    assert second != first
    time.sleep(0.01)
    (site / "index.html").write_text((site / "index.html").read_text())  # written again, the same bytes
    third = preview.copy_site(site, tmp_path / "3", tmp_path / "2", second)
    assert third["index.html"][:2] != second["index.html"][:2] and third["index.html"][2] == second["index.html"][2]
    state = preview.State()
    for files in (second, third):
        state.serve(tmp_path / "x", files)
    assert state.same_page("index.html", state.generation - 1, state.generation)  # an open tab is not reloaded


@pytest.mark.slow
def test_sphinx_in_the_process_rewrites_only_the_changed_page_on_a_rebuild(built_book, tmp_path, monkeypatch):
    """Sphinx kept in the preview's process: a second build in the same process rewrites the
    changed page, not all of them (the configuration must not differ from one run to the next)."""
    home = tmp_path / "book"
    shutil.copytree(built_book.home, home, ignore=shutil.ignore_patterns(".cspbook", "_build"))
    monkeypatch.setenv("CSPBOOK_HOME", str(home))
    html = preview.sphinx_html(home, tmp_path / "jb")
    pages = sorted(html.rglob("book/*/*.html"))
    assert len(pages) == 12
    before = {p: p.stat().st_mtime_ns for p in pages}
    time.sleep(0.05)
    (home / "book" / built_book.year / "violent_crime.ipynb").touch()
    preview.sphinx_html(home, tmp_path / "jb")
    rewritten = sorted(p.name for p in pages if p.stat().st_mtime_ns != before[p])
    assert rewritten == ["overview.html", "violent_crime.html"]  # the page, and the root that holds the toctree


@pytest.mark.slow
def test_one_sphinx_application_kept_warm_writes_the_bytes_of_a_new_one_each_time(built_book, tmp_path, monkeypatch):
    """The preview keeps one Sphinx application across rebuilds (issue 21): after edits of a page
    it rewrites that page (and the root holding the toctree) only, on the same application, and
    its book is byte for byte what a new application per rebuild writes; a change of _config.yml
    makes a new application."""
    from cspbook.publish import sphinx_run
    from conftest import snapshot

    home = tmp_path / "book"
    shutil.copytree(built_book.home, home, ignore=shutil.ignore_patterns(".cspbook", "_build"))
    monkeypatch.setenv("CSPBOOK_HOME", str(home))
    page = home / "book" / built_book.year / "violent_crime.ipynb"
    original = page.read_text(encoding="utf-8")
    paragraph = next("".join(c["source"]) for c in json.loads(original)["cells"]  # not the title: the toc has it
                     if c["cell_type"] == "markdown" and not "".join(c["source"]).startswith("#"))
    sentence = json.dumps(paragraph.splitlines()[0])[1:-1]
    assert sentence and sentence in original
    fresh = []
    for n in (1, 2):
        page.write_text(original.replace(sentence, f"{sentence} (edit {n})", 1), encoding="utf-8")
        fresh.append(snapshot(sphinx_run.html(home, tmp_path / "fresh")))
    page.write_text(original, encoding="utf-8")
    warm = sphinx_run.Warm(home, tmp_path / "warm")
    try:
        html = warm.build()
        pages = sorted(html.rglob("book/*/*.html"))
        for n in (1, 2):
            before = {p: p.stat().st_mtime_ns for p in pages}
            time.sleep(0.05)
            page.write_text(original.replace(sentence, f"{sentence} (edit {n})", 1), encoding="utf-8")
            assert snapshot(warm.build()) == fresh[n - 1]
            assert sorted(p.name for p in pages if p.stat().st_mtime_ns != before[p]) == ["overview.html", "violent_crime.html"]
        assert warm.reused == 2
        with open(home / "_config.yml", "a", encoding="utf-8") as config:
            config.write("\n# a change of the configuration\n")
        warm.build()
        assert warm.reused == 2  # a new application for the new configuration
    finally:
        warm.close()


def test_a_page_served_again_unchanged_is_not_reloaded_and_the_open_pages_are_known(site):
    state = preview.State()
    state.serve(site, {"book/a.html": (10, 1), "book/b.html": (20, 1)})
    state.serve(site, {"book/a.html": (11, 2), "book/b.html": (20, 1)}, phase="in view")  # a rebuilt first
    state.serve(site, {"book/a.html": (11, 2), "book/b.html": (21, 3)})  # then the rest
    assert state.generation == 3 and state.phase == "in view"
    assert not state.same_page("book/a.html", 1, 2) and state.same_page("book/a.html", 2, 3)
    assert state.same_page("book/b.html", 1, 2) and not state.same_page("book/b.html", 2, 3)
    assert not state.same_page("book/c.html", 2, 3) and not state.same_page("book/a.html", 0, 3)  # unknown: reload
    state.viewers.update({object(): "book/a.html", object(): preview.page_of("/")})
    assert state.viewed() == {"book/a.html", "index.html"}


def test_the_rest_of_a_rebuild_waits_for_the_tabs_in_view_to_reload_but_not_for_long(site):
    """After the pages in view are served, the rest of the book is rebuilt in the same process:
    it waits until each tab whose page changed has come back with the new generation (its event
    stream reopened), and at most the grace given, so that a tab that never comes back (closed)
    cannot stop the rebuild."""
    state = preview.State()
    state.serve(site, {"book/a.html": (10, 1)})
    state.arrived("book/a.html", 1)
    assert state.wait_reloaded({"book/a.html"}, 1, timeout=0.01) and state.wait_reloaded(set(), 2, timeout=0.01)
    threading.Timer(0.2, state.arrived, args=("book/a.html", 2)).start()  # the tab reloads 0.2 s later
    started = time.monotonic()
    assert state.wait_reloaded({"book/a.html"}, 2, timeout=10)
    assert 0.15 < time.monotonic() - started < 5
    state.arrived("book/a.html", 1)  # an older tab of the same page does not count as the reload
    started = time.monotonic()
    assert not state.wait_reloaded({"book/a.html", "book/b.html"}, 2, timeout=0.3)  # b's tab never came back
    assert time.monotonic() - started >= 0.3


def test_a_tab_s_event_stream_says_which_generation_it_loaded(site):
    state = preview.State()
    state.serve(site, {"book/a.html": (10, 1)})
    app = preview.make_app(state)

    async def connect():
        scope = {"type": "http", "method": "GET", "path": "/_cspbook-preview/events", "headers": [(b"host", b"127.0.0.1")],
                 "query_string": b"page=/book/a.html&generation=1", "client": ("127.0.0.1", 1), "server": ("127.0.0.1", 80),
                 "scheme": "http", "root_path": "", "http_version": "1.1"}
        sent = []

        async def receive():
            await asyncio.sleep(0.2)
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        try:
            await asyncio.wait_for(app(scope, receive, send), 10)
        except asyncio.TimeoutError:
            pass

    thread = threading.Thread(target=asyncio.run, args=(connect(),))  # playwright may hold a loop in this thread
    thread.start()
    thread.join(timeout=30)
    assert state.arrivals == {"book/a.html": 1}


def test_the_kernels_are_primed_on_chapters_in_the_background_and_a_failure_is_ignored(tmp_path, monkeypatch):
    """The preview's first build finds every page up to date and runs no kernel: the kernels
    then run two chapters each in the background (output thrown away), so the first edit finds
    them at their working size; a priming run that fails (the pool closing, a bad page) is
    nobody's concern."""
    from types import SimpleNamespace

    ran, done = [], threading.Event()

    class Pool:
        size = 2

        def execute_notebook(self, template, output, parameters, cwd=None, env=None):
            ran.append((threading.current_thread().name, template, parameters["priority"], Path(output).parent))
            if len(ran) == 4:
                done.set()
            if parameters["priority"] == "asb":
                raise RuntimeError("a priming run failed")

    monkeypatch.setattr(preview, "preview_dir", lambda: tmp_path)
    jobs = [SimpleNamespace(template=Path("priority.ipynb"), parameters={"priority": p}) for p in ("violent_crime", "asb")]
    preview.prime(Pool(), jobs)
    assert done.wait(10)
    assert sorted(r[2] for r in ran) == ["asb", "asb", "violent_crime", "violent_crime"]
    assert {r[0] for r in ran} == {"cspbook-prime-0", "cspbook-prime-1"}  # one thread per kernel, in the background
    assert {r[3] for r in ran} == {tmp_path / "prime"}  # never into the book


@pytest.mark.slow
def test_a_warm_build_of_the_pages_in_view_writes_them_only_and_the_next_build_the_book_of_a_new_application(
        built_book, tmp_path, monkeypatch):
    """The pages in view first (issue 21): after edits of two pages, a build with ``only`` one of
    them writes that page as a full build would and nothing else (not the overview holding the
    toctree, nor the search index); the build after it leaves the book byte for byte what a new
    application writes."""
    from cspbook.publish import sphinx_run
    from conftest import snapshot

    home = tmp_path / "book"
    shutil.copytree(built_book.home, home, ignore=shutil.ignore_patterns(".cspbook", "_build"))
    monkeypatch.setenv("CSPBOOK_HOME", str(home))
    folder = home / "book" / built_book.year
    originals = {name: (folder / f"{name}.ipynb").read_text(encoding="utf-8") for name in ("violent_crime", "asb")}

    def edit(name: str) -> None:
        text = originals[name]
        paragraph = next("".join(c["source"]) for c in json.loads(text)["cells"]
                         if c["cell_type"] == "markdown" and not "".join(c["source"]).startswith("#"))
        sentence = json.dumps(paragraph.splitlines()[0])[1:-1]
        (folder / f"{name}.ipynb").write_text(text.replace(sentence, f"{sentence} (an edit of {name})", 1), encoding="utf-8")

    warm = sphinx_run.Warm(home, tmp_path / "warm")
    try:
        html = warm.build()
        before = {p.relative_to(html).as_posix(): p.stat().st_mtime_ns for p in html.rglob("*") if p.is_file()}
        styles = (html / "_static" / "pygments.css").read_bytes()
        time.sleep(0.05)
        edit("violent_crime")
        edit("asb")
        warm.build(only={f"book/{built_book.year}/violent_crime"})
        written = sorted(p.relative_to(html).as_posix() for p in html.rglob("*")
                         if p.is_file() and p.stat().st_mtime_ns != before.get(p.relative_to(html).as_posix()))
        assert written == ["_static/pygments.css", f"book/{built_book.year}/violent_crime.html"]
        assert (html / "_static" / "pygments.css").read_bytes() == styles  # written again (its checksum is the page's), as it was
        assert "(an edit of violent_crime)" in (html / f"book/{built_book.year}/violent_crime.html").read_text()
        assert "(an edit of asb)" not in (html / f"book/{built_book.year}/asb.html").read_text()
        shown = (html / f"book/{built_book.year}/violent_crime.html").read_bytes()
        after = snapshot(warm.build())
        assert (html / f"book/{built_book.year}/violent_crime.html").read_bytes() == shown  # what the reader saw first
        assert warm.reused == 2
    finally:
        warm.close()
    assert after == snapshot(sphinx_run.html(home, tmp_path / "fresh"))


def test_a_save_under_way_is_waited_for_an_emptied_file_is_not_handed_over(tmp_path, monkeypatch):
    """A program that empties a file and then writes it (nbformat.write validates the notebook
    in between): the watcher hands the change over once the file is written, not empty."""
    from cspbook.publish import preview_watch

    target = tmp_path / "data" / "partner" / "x.csv"
    target.parent.mkdir(parents=True)
    watcher = preview_watch.Watcher(tmp_path)
    watcher.start()
    got: list = []
    try:
        waiting = threading.Thread(target=lambda: got.append((watcher.next_batch(timeout=20), time.monotonic())))
        waiting.start()
        target.write_text("")
        time.sleep(0.5)  # far longer than QUIET_MS: the emptying alone has been handed on
        written = time.monotonic()
        target.write_text("borough,year\n")
        waiting.join(timeout=30)
        assert got and got[0][0] == ["data/partner/x.csv"] and got[0][1] >= written
        monkeypatch.setattr(preview_watch, "MAX_BURST_MS", 300)
        target.write_text("")  # emptied for good: handed over after MAX_BURST_MS, not held for ever
        assert watcher.next_batch(timeout=20) == ["data/partner/x.csv"]
    finally:
        watcher.close()


def test_a_failed_rebuild_waits_for_an_emptied_file_to_be_written_before_comparing(tmp_path):
    from cspbook.publish import preview_watch

    target = tmp_path / "book" / "templates" / "asb.ipynb"
    target.parent.mkdir(parents=True)
    target.write_text("")
    threading.Timer(0.3, lambda: target.write_text("{}")).start()
    started = time.monotonic()
    preview_watch.settle(tmp_path)
    assert target.read_text() == "{}" and time.monotonic() - started >= 0.25
