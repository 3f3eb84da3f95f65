"""Shared helpers for tests that read the book in a real browser: Debian's Chromium driven
by playwright, the book served from a loopback HTTP server, and a record of everything a
page did (console errors and warnings, failed requests, requests that tried to leave the
server, dialogs), and axe-core's findings.

Use in a test module with ``from browser import book_server, chromium  # noqa: F401``.
Chromium is ``/usr/bin/chromium`` (Debian's package) or ``$CSPBOOK_CHROMIUM``. Without it the
browser tests are skipped with the reason, unless ``CSPBOOK_REQUIRE_BROWSER=1`` (CI), when
they fail instead.
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import threading
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
SCREENSHOTS = REPO / "test-artifacts" / "screenshots"
CHROMIUM = Path(os.environ.get("CSPBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
REQUIRE_ENV = "CSPBOOK_REQUIRE_BROWSER"
DESKTOP = {"width": 1280, "height": 900}
MOBILE = {"width": 390, "height": 844}  # a current phone, portrait

def book_pages(html: Path) -> list[str]:
    """Every page of a built book, as paths relative to ``html`` (the landing page, search
    and the index included; nothing under _static or _sources)."""
    pages = []
    for path in sorted(html.rglob("*.html")):
        rel = path.relative_to(html)
        if rel.parts[0] in ("_static", "_sources"):
            continue
        pages.append(rel.as_posix())
    return pages


# --- the loopback server -------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the stdlib's signature
        pass


@contextlib.contextmanager
def serve(folder: Path):
    """Serve ``folder`` on 127.0.0.1 (a free port); yield the base URL, ending in '/'."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name=f"book-server-{folder.name}", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


# --- the browser ---------------------------------------------------------------------------


def unavailable() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        found = shutil.which("chromium")
        return f"no Chromium at {CHROMIUM} (on PATH: {found or 'none'}); `make browser` installs Debian's chromium"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"the playwright package is not installed ({exc}); `make setup` installs it"
    return None


def skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{REQUIRE_ENV}=1 but the browser tests cannot run: {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the whole session (each test opens its own contexts)."""
    reason = unavailable()
    if reason:
        skip_or_fail(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        except Exception as exc:  # noqa: BLE001 - a broken install is a skip (or a failure in CI)
            skip_or_fail(f"Chromium at {CHROMIUM} would not start: {exc}")
        yield browser
        browser.close()


@pytest.fixture(scope="session")
def book_server(built_book):
    """The built book served from a loopback server for the session; its base URL."""
    with serve(built_book.html) as url:
        yield url


# --- what a page did -----------------------------------------------------------------------


@dataclass
class Traffic:
    """Everything a browser context did that a reader should never see, and the requests
    still in flight (to wait for a page to settle before leaving it)."""

    origin: str  # scheme://host:port of the book's server
    console: list = field(default_factory=list)  # console errors and warnings, uncaught errors
    failed: list = field(default_factory=list)
    outside: list = field(default_factory=list)
    dialogs: list = field(default_factory=list)
    pending: set = field(default_factory=set)
    tool_urls: set = field(default_factory=set)  # addresses a test tool (axe-core) asks for that a reader never would

    def problems(self) -> list[str]:
        return [*self.console, *self.failed, *(f"request outside the book's server: {u}" for u in self.outside),
                *(f"dialog: {d}" for d in self.dialogs)]

    def clear(self) -> None:
        for items in (self.console, self.failed, self.outside, self.dialogs):
            items.clear()

    def settle(self, page, quiet_ms: int = 60, timeout_ms: int = 10_000) -> None:
        """Wait until no request has been in flight for ``quiet_ms`` (the favicon, fonts and
        images load after the load event; leaving earlier would abort them)."""
        waited = quiet = 0
        while quiet < quiet_ms and waited < timeout_ms:
            page.wait_for_timeout(25)
            waited += 25
            quiet = quiet + 25 if not self.pending else 0
        if self.pending:
            raise AssertionError(f"requests still in flight after {timeout_ms} ms: {sorted(r.url for r in self.pending)}")


def watch(context, base_url: str) -> Traffic:
    """Route every request of ``context``: requests to the book's server go through, any
    other is aborted and recorded. Record console errors and warnings, uncaught errors,
    failed requests, HTTP errors and dialogs (which are dismissed)."""
    parts = urlsplit(base_url)
    traffic = Traffic(f"{parts.scheme}://{parts.netloc}")

    def route(r):
        if r.request.url.startswith(traffic.origin + "/"):
            r.continue_()
        else:
            traffic.outside.append(r.request.url)
            r.abort("blockedbyclient")

    def console(msg):
        if msg.location.get("url") in traffic.tool_urls and msg.text.startswith("Failed to load resource"):
            return  # axe-core's own misresolved request (see `axe_violations`), not the reader's
        if msg.type in ("error", "warning"):
            traffic.console.append(f"console {msg.type} on {msg.page.url if msg.page else '?'}: {msg.text} ({msg.location})")

    def failed(request):
        traffic.pending.discard(request)
        if request.url.startswith(traffic.origin + "/"):  # the others are recorded by the route
            traffic.failed.append(f"request failed: {request.url} ({request.failure})")

    def response(resp):
        if resp.status >= 400 and resp.url not in traffic.tool_urls:
            traffic.failed.append(f"HTTP {resp.status}: {resp.url}")

    def dialog(d):
        traffic.dialogs.append(f"{d.type}: {d.message!r} on {d.page.url if d.page else '?'}")
        d.dismiss()

    context.route("**/*", route)
    context.on("request", lambda request: traffic.pending.add(request))
    context.on("requestfinished", lambda request: traffic.pending.discard(request))
    context.on("requestfailed", failed)
    context.on("response", response)
    context.on("console", console)
    context.on("weberror", lambda err: traffic.console.append(f"uncaught error: {err.error}"))
    context.on("dialog", dialog)
    return traffic


def open_page(page, url: str, traffic: Traffic | None = None, lands_on=None) -> None:
    """Go to ``url`` and wait until it has loaded (with ``lands_on``, a URL glob, regex or
    predicate: until the page it redirects to has), and with ``traffic`` until it settled."""
    page.goto(url, wait_until="load")
    if lands_on is not None:
        page.wait_for_url(lands_on, wait_until="load")
    page.evaluate("document.fonts.ready.then(() => true)")
    if traffic is not None:
        traffic.settle(page)


def animations_done(page) -> None:
    """Wait for running CSS animations (myst-nb fades opened content in over 0.3 s; a check
    of colours before it ends sees half-transparent text)."""
    page.evaluate("Promise.all(document.getAnimations().map(a => a.finished)).then(() => true)")


def refresh_target(html: Path) -> str | None:
    """Where a ``<meta http-equiv="Refresh">`` page sends the reader, relative to it."""
    found = re.search(r'<meta\s+http-equiv="refresh"\s+content="\d+;\s*url=([^"]+)"', html.read_text(encoding="utf-8"), re.I)
    return found.group(1) if found else None


def overflow(page) -> tuple[int, int]:
    """(scrollWidth, clientWidth) of the document: a page scrolls sideways when the first is larger."""
    return tuple(page.evaluate(
        "[document.scrollingElement.scrollWidth, document.scrollingElement.clientWidth]"
    ))


def wide_elements(page, limit: int = 5) -> list[str]:
    """The elements that stick out to the right of the viewport (to say what scrolls)."""
    return page.evaluate(
        """(limit) => {
            const width = document.documentElement.clientWidth, out = [];
            for (const el of document.querySelectorAll('body *')) {
                const r = el.getBoundingClientRect();
                if (r.right > width + 1 && r.width > 0) {
                    out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} right=${Math.round(r.right)}`);
                    if (out.length >= limit) break;
                }
            }
            return out;
        }""",
        limit,
    )


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- axe-core ------------------------------------------------------------------------------


def misresolved_imports(page) -> set[str]:
    """The addresses axe-core asks for when it re-reads the page's ``@import``-ed style sheets.

    axe resolves each import against the page instead of the sheet that holds it
    (``_static/styles/theme.css`` imports ``../basic.css``; from ``book/2011-12/asb.html`` axe
    asks for ``book/basic.css`` and gets a 404). Only imports that the browser itself loaded
    are listed, so a style sheet that is really missing is still reported."""
    return set(page.evaluate("""() => {
        const out = [];
        for (const sheet of document.styleSheets) {
            let rules;
            try { rules = sheet.cssRules; } catch (e) { continue; }
            for (const rule of rules) {
                if (!(rule instanceof CSSImportRule) || !rule.styleSheet) continue;
                let loaded;
                try { loaded = rule.styleSheet.cssRules.length > 0; } catch (e) { loaded = false; }
                const wrong = new URL(rule.href, location.href).href;
                if (loaded && wrong !== rule.styleSheet.href) out.push(wrong);
            }
        }
        return out;
    }"""))


def axe_violations(axe, page, traffic: Traffic) -> list[str]:
    """Every axe-core violation on ``page``, whatever its impact, one line each.

    The 404s of axe's misresolved ``@import`` requests (see :func:`misresolved_imports`), and
    the console errors they cause, are the tool's, not the reader's: only those addresses are
    left out of ``traffic`` (for the rest of the context: an event may arrive late, and no
    page of the book refers to them); anything else that happens while axe runs stays recorded."""
    traffic.tool_urls |= misresolved_imports(page)
    result = axe.run(page)
    traffic.settle(page)
    out = []
    for v in result.response["violations"]:
        targets = [" ".join(map(str, n["target"])) for n in v["nodes"][:5]]
        out.append(f"{v['id']} ({v['impact']}): {v['help']}; {len(v['nodes'])} element(s), e.g. {targets}")
    return out
