"""What `cspbook preview` serves on 127.0.0.1: the last good copy of the book, with a small
live-reload script injected into each HTML page as it is sent (never written into a book),
an event stream that tells open pages to reload when a rebuild changed them, and a page that
shows a failed rebuild's notebook, cell and message while the last good pages stay served.

Each open page's event stream names the page (``?page=/book/2011-12/asb.html``): the preview
knows which pages the open tabs show (:meth:`State.viewed`) and rebuilds those first; a page
reloads only when the generation now served holds another version of it (:meth:`State.same_page`)."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
import os
import shutil
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from cspbook.errors import CspbookError
from cspbook.publish.preview_versions import pin

PREFIX = "/_cspbook-preview"  # the preview's own URLs (no page of the book starts with it)
KEEPALIVE_SECONDS = 15.0


SCRIPT = Path(__file__).with_name("livereload.js")


@dataclass
class State:
    generation: int = 0  # 0: no good build yet
    site: Path | None = None  # the folder served
    error: str | None = None
    building: bool = False
    listeners: list = field(default_factory=list)  # callables taking the state as JSON
    lock: threading.Lock = field(default_factory=threading.Lock)
    phase: str | None = None  # "in view": the pages the open tabs show are served, the rest is being rebuilt
    versions: dict = field(default_factory=dict)  # generation -> {page: what its file was copied from}
    viewers: dict = field(default_factory=dict)  # open event stream -> the page it shows
    arrivals: dict = field(default_factory=dict)  # page -> the newest generation a tab showing it came back with

    def __post_init__(self):
        self.seen = threading.Condition(self.lock)

    def arrived(self, page: str, generation: int) -> None:
        """A tab showing ``page`` of ``generation`` opened its event stream (it has loaded the page)."""
        with self.seen:
            if generation > self.arrivals.get(page, -1):
                self.arrivals[page] = generation
            self.seen.notify_all()

    def wait_reloaded(self, pages, generation: int, timeout: float) -> bool:
        """Wait until a tab showing each of ``pages`` has come back with ``generation`` (it
        reloaded), at most ``timeout`` seconds; whether they all did."""
        deadline = time.monotonic() + timeout
        with self.seen:
            while not all(self.arrivals.get(page, -1) >= generation for page in pages):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self.seen.wait(left)
        return True

    def as_json(self) -> str:
        return json.dumps({"generation": self.generation, "error": self.error, "building": self.building,
                           "phase": self.phase})

    def viewed(self) -> set[str]:
        """The pages the open tabs show, e.g. ``{"book/2011-12/asb.html"}``."""
        with self.lock:
            return set(self.viewers.values())

    def same_page(self, page: str, old: int, new: int) -> bool:
        """Whether generation ``new`` serves ``page`` exactly as generation ``old`` did."""
        with self.lock:
            before, after = self.versions.get(old), self.versions.get(new)
        return before is not None and after is not None and page in before and before.get(page) == after.get(page)

    @staticmethod
    def _version(copied: tuple) -> tuple:
        """What says a file is the same: a page's sha256 when known, else its size and time."""
        return copied[2:] or copied

    def serve(self, site: Path, files: dict, **changes) -> None:
        """Serve ``site`` as the next generation (``files``: its pages' versions)."""
        with self.lock:
            self.versions[self.generation + 1] = {name: self._version(value) for name, value in files.items()}
            for old in sorted(self.versions)[:-20]:  # a tab older than that reloads
                del self.versions[old]
        self.update(site=site, generation=self.generation + 1, error=None, **changes)

    def update(self, **changes) -> None:
        with self.lock:
            for key, value in changes.items():
                setattr(self, key, value)
            message = self.as_json()
            listeners = list(self.listeners)
        for listener in listeners:
            listener(message)


def page_of(path: str) -> str:
    """The file a tab's address shows, relative to the site.

    >>> page_of("/book/2011-12/asb.html"), page_of("/"), page_of("/book/")
    ('book/2011-12/asb.html', 'index.html', 'book/index.html')
    """
    path = path.lstrip("/")
    return path + "index.html" if path == "" or path.endswith("/") else path


@functools.cache
def _script_version() -> str:
    """The checksum of the live-reload script, in its address: a reload does not ask for it again."""
    return hashlib.sha256(SCRIPT.read_bytes()).hexdigest()[:12]


def _script_tag(generation: int) -> bytes:
    return (f'<script src="{PREFIX}/livereload.js?v={_script_version()}" data-generation="{generation}" '
            f'data-events="{PREFIX}/events"></script>').encode()


def inject(html: bytes, generation: int) -> bytes:
    """``html`` with the live-reload script before its last ``</body>`` (or at the end).

    >>> inject(b"<html><body>x</body></html>", 3)[-57:]
    b'events="/_cspbook-preview/events"></script></body></html>'
    """
    tag = _script_tag(generation)
    at = html.rfind(b"</body>")
    return html[:at] + tag + html[at:] if at >= 0 else html + tag


def waiting_page(state: State) -> bytes:
    """The page served before the first good build: what happened so far."""
    import html as html_mod

    text = html_mod.escape(state.error or "The book is being built; this page reloads itself when it is ready.")
    return (b"<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>cspbook preview</title></head>"
            b"<body><main><h1>cspbook preview</h1><pre>" + text.encode() + b"</pre></main></body></html>")


LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")


def local_host(value: bytes) -> bool:
    """Whether a ``Host`` header names this machine's loopback (with or without the port):
    a page elsewhere that made its name resolve to 127.0.0.1 (DNS rebinding) is refused. No
    ``Host`` at all (an HTTP/1.0 client on this machine) is answered: a browser always sends it.

    >>> local_host(b"127.0.0.1:8000"), local_host(b"[::1]:8000"), local_host(b"localhost"), local_host(b"evil.example:8000")
    (True, True, True, False)
    """
    text = value.decode("latin-1").strip().lower()
    if not text:
        return True
    host, _, port = text.rpartition(":") if not text.endswith("]") else (text, "", "")
    if not host or "]" in port:
        host, port = text, ""
    return host in LOCAL_HOSTS and (port == "" or port.isdigit())


def make_app(state: State):
    """The ASGI app: the preview's own URLs, then the current site's static files with the
    script added to HTML pages and no caching (each generation is a new copy)."""
    from starlette.exceptions import HTTPException
    from starlette.responses import Response, StreamingResponse
    from starlette.staticfiles import StaticFiles

    sites: dict[Path, tuple[StaticFiles, dict]] = {}  # the current site's files and checksums
    streams: set[asyncio.Queue] = set()
    loop_box: list = []

    def publish(message: str) -> None:
        if loop_box:
            loop_box[0].call_soon_threadsafe(lambda: [q.put_nowait(message) for q in list(streams)])

    state.listeners.append(publish)

    async def events(scope, receive, send):
        if not loop_box:
            loop_box.append(asyncio.get_running_loop())
        inbox: asyncio.Queue = asyncio.Queue()
        query = parse_qs((scope.get("query_string") or b"").decode("latin-1"))
        page = page_of(query.get("page", [""])[0])
        shown = [int(query["generation"][0]) if query.get("generation", [""])[0].isdigit() else -1]
        streams.add(inbox)
        with state.lock:
            state.viewers[inbox] = page
        state.arrived(page, shown[0])
        inbox.put_nowait(state.as_json())

        def for_this_page(message: str) -> str:
            """The state, with ``reload``: whether this page changed since the generation it shows."""
            data = json.loads(message)
            if data["generation"] != shown[0] and state.same_page(page, shown[0], data["generation"]):
                shown[0] = data["generation"]  # served again unchanged: nothing to reload
            data["reload"] = data["generation"] != shown[0]
            return json.dumps(data)

        async def stream():
            try:
                while True:
                    try:
                        message = await asyncio.wait_for(inbox.get(), KEEPALIVE_SECONDS)
                    except asyncio.TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    if message is None:
                        return
                    yield f"event: state\ndata: {for_this_page(message)}\n\n"
            finally:
                streams.discard(inbox)
                with state.lock:
                    state.viewers.pop(inbox, None)

        response = StreamingResponse(stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"})
        await response(scope, receive, send)

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            return
        if not local_host(dict(scope.get("headers") or []).get(b"host", b"")):
            await Response("the preview answers only requests to 127.0.0.1, localhost or [::1]\n", status_code=403,
                           media_type="text/plain")(scope, receive, send)
            return
        path = scope.get("path", "")
        if path == f"{PREFIX}/events":
            await events(scope, receive, send)
            return
        if path == f"{PREFIX}/livereload.js":
            kept = "max-age=86400, immutable" if scope.get("query_string") == f"v={_script_version()}".encode() else "no-store"
            await Response(SCRIPT.read_bytes(), media_type="text/javascript", headers={"Cache-Control": kept})(scope, receive, send)
            return
        if path == f"{PREFIX}/state":  # with the pages the open tabs show
            shown = json.dumps(dict(json.loads(state.as_json()), viewing=sorted(state.viewed())))
            await Response(shown, media_type="application/json", headers={"Cache-Control": "no-store"})(scope, receive, send)
            return
        with state.lock:
            site, generation = state.site, state.generation
        if site is None:
            await Response(inject(waiting_page(state), 0), media_type="text/html", headers={"Cache-Control": "no-store"})(scope, receive, send)
            return
        if site not in sites:
            sites.clear()
            sites[site] = (StaticFiles(directory=site, html=True), {})
        files, digests = sites[site]
        if _page_path(path):  # a page is always sent whole: the script goes into it as it is sent
            scope = dict(scope, headers=[(k, v) for k, v in scope["headers"] if k not in (b"if-none-match", b"if-modified-since")])
        try:
            pinned = functools.partial(pin, page=page_of(path), site=site, digests=digests)
            await files(scope, receive, _injecting(send, generation, _versioned(scope.get("query_string") or b""), pinned))
        except HTTPException as exc:  # a page that does not exist: 404, no traceback
            await Response(f"{exc.detail}: {path}\n", status_code=exc.status_code, media_type="text/plain")(scope, receive, send)

    def end_streams() -> None:
        """End every open event stream (the server is stopping)."""
        if loop_box:
            loop_box[0].call_soon_threadsafe(lambda: [q.put_nowait(None) for q in list(streams)])

    app.end_streams = end_streams
    return app


def _page_path(path: str) -> bool:
    """Whether ``path`` asks for an HTML page (a file ending in .html, or a folder's index).

    >>> _page_path("/book/2011-12/asb.html"), _page_path("/"), _page_path("/_static/styles/theme.css")
    (True, True, False)
    """
    name = path.rsplit("/", 1)[-1]
    return name == "" or name.endswith((".html", ".htm")) or "." not in name


def _versioned(query: bytes) -> bool:
    """Whether a file's address names its version: the theme's styles and scripts (``?digest=``
    of the installed theme's build) and those Sphinx links with the checksum of their bytes
    (``?v=``; every page is written again when ``book/_static`` changes, see
    :func:`cspbook.publish.sphinx_run._build`, so no page names an old checksum).

    >>> _versioned(b"digest=55c26ed414f5f8a31ebb"), _versioned(b"v=17aa17f0"), _versioned(b"page=x"), _versioned(b"")
    (True, True, False, False)
    """
    return any(part.startswith((b"digest=", b"v=")) for part in query.split(b"&"))


def _injecting(send, generation: int, versioned: bool = False, pinned=None):
    """An ASGI ``send`` that adds the script to an HTML body and forbids caching it. Any other
    file (downloads, fonts, the book's own styles and scripts) keeps its validators and may be
    kept by the browser if it asks first (``no-cache``): a reload then gets ``304 Not
    Modified`` for what did not change, and Chromium reuses what it parsed and compiled; a
    ``versioned`` one (:func:`_versioned`) is kept without asking: a page reloads without a
    request for each of its twenty styles and scripts. ``pinned``: what a page's bytes go
    through first (:func:`cspbook.publish.preview_versions.pin`)."""
    held: dict = {}

    async def wrapped(message):
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", []))
            is_html = any(k.lower() == b"content-type" and v.startswith(b"text/html") for k, v in headers)
            dropped = (b"etag", b"last-modified", b"cache-control") if is_html else (b"cache-control",)
            headers = [(k, v) for k, v in headers if k.lower() not in dropped]
            kept = b"max-age=86400, immutable" if versioned and message.get("status") == 200 else b"no-cache"
            headers.append((b"cache-control", b"no-store" if is_html else kept))
            message = dict(message, headers=headers)
            if is_html:
                held["start"], held["body"] = message, []
                return
            await send(message)
        elif message["type"] == "http.response.body" and "start" in held:
            held["body"].append(message.get("body", b""))
            if message.get("more_body"):
                return
            body = b"".join(held["body"])
            body = inject(pinned(body) if pinned else body, generation)
            start = held.pop("start")
            start["headers"] = [(k, v) for k, v in start["headers"] if k.lower() != b"content-length"]
            start["headers"].append((b"content-length", str(len(body)).encode()))
            await send(start)
            await send({"type": "http.response.body", "body": body})
        else:
            await send(message)

    return wrapped


class Server:
    """uvicorn in a thread, on a socket bound to 127.0.0.1 only."""

    def __init__(self, app, port: int):
        import uvicorn

        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind(("127.0.0.1", port))
        except OSError as exc:
            self.sock.close()
            raise CspbookError(f"cannot serve on 127.0.0.1:{port}: {exc.strerror}; "
                               "choose another port with --port N (0 picks a free one)") from None
        self.port = self.sock.getsockname()[1]
        self.app = app
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False,
                                                    timeout_graceful_shutdown=1))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]},
                                       name="cspbook-preview-server", daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    def start(self) -> None:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started and self.thread.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        if not self.server.started:
            raise CspbookError(f"the preview server did not start on {self.url}")

    def close(self) -> None:
        self.app.end_streams()
        self.server.should_exit = True
        self.thread.join(timeout=5)
        self.sock.close()


# Folders of the built book that no page asks for: the theme's message catalogs for Sphinx
# (sphinx-book-theme keeps them in its static folder, so every book has them: 90 folders of .mo
# files, whose making was a quarter of the site copy's time)
NOT_SERVED = frozenset({"_static/locales"})


def copy_site(html: Path, site: Path, previous: Path | None, copied: dict) -> dict[str, tuple]:
    """Copy the HTML folder ``html`` to ``site``, a folder that is never written again. A file
    that Sphinx left as it was when ``previous`` was copied (same size and modification time)
    is hard-linked from ``previous`` instead (the theme's static files: most of the bytes).
    What each file was copied from, for the next call: size, modification time and, for a
    page, the sha256 of its bytes (a page Sphinx wrote again with the same bytes is the same
    page: an open tab showing it is not reloaded). Not copied: :data:`NOT_SERVED`."""
    now = {}
    site.mkdir(parents=True, exist_ok=True)
    for folder, dirs, files in os.walk(html):  # top-down: a folder is made before what it holds
        prefix = os.path.relpath(folder, html).replace(os.sep, "/")
        prefix = "" if prefix == "." else prefix + "/"
        dirs[:] = sorted(name for name in dirs if prefix + name not in NOT_SERVED)
        for name in dirs:
            (site / (prefix + name)).mkdir(exist_ok=True)
        for name in sorted(files):
            rel, source = prefix + name, os.path.join(folder, name)
            info = os.stat(source)
            stat = (info.st_size, info.st_mtime_ns)
            before = copied.get(rel)
            target = site / rel
            if previous is not None and before is not None and before[:2] == stat and os.path.isfile(previous / rel):
                os.link(previous / rel, target)
                now[rel] = before
            elif rel.endswith(".html"):
                data = Path(source).read_bytes()
                target.write_bytes(data)
                shutil.copystat(source, target)
                now[rel] = (*stat, hashlib.sha256(data).hexdigest())
            else:
                shutil.copy2(source, target)
                now[rel] = stat
    return now
