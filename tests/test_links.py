"""Every internal link and anchor of the built book resolves, and nothing it loads comes
from another site (no CDN script or style sheet: the book must work on an intranet).

Static: parses the HTML files of ``_build/html`` (no browser), so it runs in seconds once
the session's book is built.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup

pytestmark = pytest.mark.slow  # needs the built book

# (tag, attribute) pairs that point at another file or anchor
LINKING = [("a", "href"), ("link", "href"), ("script", "src"), ("img", "src"), ("source", "src"),
           ("iframe", "src"), ("video", "src"), ("audio", "src"), ("form", "action")]
SKIPPED_SCHEMES = ("mailto:", "tel:", "data:", "javascript:")


def html_files(html: Path) -> list[Path]:
    """The book's pages. Not ``_static``: the themes copy their Jinja macro files there
    (webpack-macros.html), templates that no page loads; nor ``_sources``."""
    return sorted(p for p in html.rglob("*.html") if p.relative_to(html).parts[0] not in ("_static", "_sources"))


@lru_cache(maxsize=None)
def parse(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


@lru_cache(maxsize=None)
def anchors(path: Path) -> frozenset[str]:
    soup = parse(path)
    return frozenset({el["id"] for el in soup.find_all(id=True)} | {el["name"] for el in soup.find_all("a", attrs={"name": True})})


def is_external(url: str) -> bool:
    return bool(re.match(r"^([a-z][a-z0-9+.-]*:)?//", url, re.I))


def references(path: Path):
    """(tag, attribute, url) of every link in ``path``, with the target of a meta refresh."""
    soup = parse(path)
    for tag, attr in LINKING:
        for el in soup.find_all(tag, attrs={attr: True}):
            yield tag, attr, el[attr].strip()
    for meta in soup.find_all("meta", attrs={"http-equiv": re.compile("^refresh$", re.I)}):
        found = re.search(r"url=(.+)$", meta.get("content", ""), re.I)
        if found:
            yield "meta", "content", found.group(1).strip()


def resolve(html: Path, page: Path, url: str) -> tuple[Path, str]:
    """The file and anchor an internal ``url`` in ``page`` points at."""
    parts = urlsplit(url)
    target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def test_every_internal_link_and_anchor_resolves(built_book):
    html = built_book.html.resolve()
    files = html_files(html)
    assert len(files) >= 12, files
    broken, checked = [], 0
    for page in files:
        for tag, attr, url in references(page):
            if not url or url.lower().startswith(SKIPPED_SCHEMES) or is_external(url):
                continue
            target, anchor = resolve(html, page, url)
            where = f"{page.relative_to(html)}: <{tag} {attr}={url!r}>"
            checked += 1
            if html not in target.parents and target != html:
                broken.append(f"{where} leaves the book ({target})")
            elif not target.is_file():
                broken.append(f"{where}: no file {target.relative_to(html)}")
            elif anchor and target.suffix == ".html" and anchor not in anchors(target):
                broken.append(f"{where}: no element with id {anchor!r} in {target.relative_to(html)}")
    assert checked > 100, checked
    assert not broken, f"{len(broken)} broken link(s):\n" + "\n".join(broken[:50])


def test_no_script_or_style_sheet_comes_from_another_site(built_book):
    html = built_book.html.resolve()
    outside = []
    for page in html_files(html):
        for tag, attr, url in references(page):
            if tag in ("script", "link", "img", "iframe", "source", "video", "audio") and is_external(url):
                outside.append(f"{page.relative_to(html)}: <{tag} {attr}={url!r}>")
    assert not outside, "the book loads files from other sites:\n" + "\n".join(outside[:50])


def test_style_sheets_import_nothing_from_another_site(built_book):
    """A CDN font or style sheet pulled in by ``@import`` or ``url(...)`` inside a CSS file."""
    html = built_book.html.resolve()
    pattern = re.compile(r"""(@import\s+(url\()?|url\()\s*['"]?((https?:)?//[^'")\s]+)""", re.I)
    found = [f"{css.relative_to(html)}: {m.group(3)}" for css in sorted(html.rglob("*.css"))
             for m in pattern.finditer(css.read_text(encoding="utf-8", errors="replace"))]
    # SVG namespace URIs inside data: URLs are identifiers, not requests
    found = [f for f in found if "www.w3.org/2000/svg" not in f]
    assert not found, "style sheets that fetch from other sites:\n" + "\n".join(found)


def test_external_links_are_only_the_ones_we_expect(built_book):
    """Links a reader may follow out of the book (never loaded by it): list them, so a new
    one is seen in review. None may point at a CDN."""
    html = built_book.html.resolve()
    hosts = {}
    for page in html_files(html):
        for tag, _, url in references(page):
            if tag == "a" and is_external(url):
                hosts.setdefault(urlsplit(url).hostname, set()).add(page.relative_to(html).as_posix())
    cdns = {h for h in hosts if h and re.search(r"cdn|jsdelivr|unpkg|cloudflare|googleapis|gstatic|bootstrapcdn", h)}
    assert not cdns, {h: sorted(hosts[h]) for h in cdns}
