"""The book as a page for print: every chapter a top-level section on a named page whose
header carries the chapter title, scripts removed, a title page with the contents, and every
link written out (the target's title and, once a draft has been printed, its page; external
addresses and the CSV download in full). Printing itself is :mod:`cspbook.publish.pdf`."""

from __future__ import annotations

import copy
import os
import re
from pathlib import Path
from urllib.parse import unquote

from cspbook.errors import BuildError
from cspbook.execute import plan

LONG_WORD = 24  # characters: a table cell with a longer word may break it anywhere in print


def chapters(html: str) -> list[tuple[str, str]]:
    """The chapters of a single-page book in order: (document name, title).

    >>> page = ('<html><head></head><body><article class="bd-article"><section id="o"><h1>Overview<a class="headerlink">#</a></h1>'
    ...         '<section id="w"><h2>What changed</h2><span id="document-book/2011-12/asb"></span>'
    ...         '<section id="a"><h1>Anti-social behaviour</h1></section></section></section></article></body></html>')
    >>> chapters(page)
    [('', 'Overview'), ('book/2011-12/asb', 'Anti-social behaviour')]
    """
    return _titled(_chapter_sections(_soup(html)))


def _titled(found: list) -> list[tuple[str, str]]:
    return [(doc, _title(section)) for doc, section in found]


def prepare(html: str, only: str | None = None, title: str | None = None) -> str:
    """The single-page book ready to print: each chapter moved to the top level of the
    article, on its own named page with the chapter title in the header; scripts removed.
    With ``only`` (a document name), every other chapter is left out; with ``title``, a
    title page listing the chapters comes first.

    >>> page = ('<html><head></head><body><article class="bd-article"><section id="o"><h1>Overview</h1>'
    ...         '<section id="w"><h2>What changed</h2><span id="document-book/2011-12/asb"></span>'
    ...         '<section id="a"><h1>Anti-social "behaviour"</h1></section></section></section></article>'
    ...         '<script>x()</script></body></html>')
    >>> out = prepare(page)
    >>> 'data-cspbook-chapter="1"' in out, '<script' in out
    (True, False)
    >>> 'class="cspbook-long"' in prepare(page.replace("</h1>", "</h1><table><tr><td>" + "a" * 64 + "</td></tr></table>", 1))
    True
    >>> print(out[out.index("@page cspbook-chapter-1"):].splitlines()[0])
    @page cspbook-chapter-1 { @top-left { content: "Anti-social \\22 behaviour\\22 "; } }
    >>> chapters(prepare(page, only="book/2011-12/asb"))
    [('book/2011-12/asb', 'Anti-social "behaviour"')]
    >>> titled = prepare(page, title="Brent CSP Annual Report 2011-12")
    >>> titled.index("Brent CSP Annual Report") < titled.index("<li>Overview</li><li>Anti-social")
    True
    """
    soup = _soup(html)
    found = _flatten(soup)
    places = link_targets(found)
    if only is not None:
        found = _keep_only(found, only)
    write_out_links(soup, places)
    if title:
        soup.select_one("article.bd-article").insert(0, _title_page(soup, title, headers(_titled(found))))
    for script in soup.find_all("script"):
        script.decompose()
    for cell in soup.select("td, th"):  # a long file name or SHA-256 may break anywhere; "-7.9%" may not
        if any(len(word) > LONG_WORD for word in cell.get_text(" ").split()):
            cell["class"] = [*cell.get("class", []), "cspbook-long"]
    style = soup.new_tag("style", id="cspbook-print-chapters")
    style.string = _page_rules(found, bool(title))
    soup.head.append(style)
    return str(soup)


HEADINGS = ["h1", "h2", "h3", "h4", "h5", "h6"]


def link_targets(found: list) -> dict[str, tuple[str, list[str]]]:
    """Every place a link may lead to in the chapters ``found``: id -> (chapter title, the
    headings from the chapter down to the place). Taken before any chapter is left out, so
    a link into a chapter that is not printed can still name it."""
    places = {}
    for _, section in found:
        chapter = _title(section)
        for element in [section, *section.find_all(id=True)]:
            if element.get("id"):
                places[element["id"]] = (chapter, _headings(element, section))
    return places


def _headings(element, chapter) -> list[str]:
    """The headings above ``element`` inside ``chapter`` (the chapter's own title left out),
    and its own heading when it has one (a section, or a block that starts with one)."""
    own = element if element.name in HEADINGS else element.find(HEADINGS) if element.name in ("section", "div") else None
    path = [_text(own)] if own is not None and element is not chapter else []
    for parent in element.parents:
        if parent is chapter or parent is None:
            break
        if parent.name == "section" and parent.find(HEADINGS) is not None:
            path.insert(0, _text(parent.find(HEADINGS)))
    return path


def _text(heading) -> str:
    parts = [s for s in heading.find_all(string=True) if not s.find_parent("a", class_="headerlink")]
    return " ".join("".join(parts).split())


def write_out_links(soup, places: dict[str, tuple[str, list[str]]]) -> None:
    """Write out, after its text, where each link leads, for a reader of paper. A link to
    another place in the book gets that place's title and a page number (“Methodology”,
    page 40; the number is left as ``00`` for :func:`page_references` to fill in, with
    "below" or "above" as the fallback in the same chapter); a link into a chapter that is
    not printed names it in the full report; a download (a file of the HTML book) gets its
    address in that book. Web addresses are written out by the print style sheet
    (``a[href^="http"]::after`` in ``book/_static/cspbook.css``).

    >>> page = ('<html><head></head><body><article class="bd-article">'
    ...         '<section id="o"><h1>Overview</h1><p>See <a href="#document-m">the method</a> (<a href="#m">Methodology</a>), '
    ...         '<a class="reference download internal" href="_downloads/ab/indicators.csv">indicators.csv</a> and '
    ...         '<a href="#calc-x">How this is calculated</a>.</p><section id="c"><h2>How this is calculated</h2>'
    ...         '<div id="calc-x"><h3>Robbery</h3></div></section></section>'
    ...         '<span id="document-m"></span><section id="m"><h1>Methodology</h1></section></article></body></html>')
    >>> print(" ".join(_soup(prepare(page)).select_one("section#o p").get_text().split()))
    See the method (see “Methodology”, page 00) (Methodology (page 00)), indicators.csv (in the HTML book: _downloads/ab/indicators.csv) and How this is calculated (see “Robbery”, page 00 below).
    >>> alone = _soup(prepare(page, only=""))  # the overview printed alone: Methodology is not in it
    >>> print(" ".join(alone.select_one("section#o p").get_text().split()).split(", ")[0])
    See the method (see “Methodology” in the full report) (Methodology (in the full report))
    """
    article = soup.select_one("article.bd-article")
    chapters = {id(section) for section in article.find_all("section", recursive=False)}
    for link in article.find_all("a", href=True):
        href = link["href"]
        if "headerlink" in link.get("class", []) or re.match(r"^[a-z][a-z0-9+.-]*:", href, re.I):
            continue  # a heading's own anchor; a web address (the style sheet writes those out)
        note = soup.new_tag("span", attrs={"class": "cspbook-print-ref"})
        if href.startswith("#"):
            anchor = unquote(href[1:])
            text, direction = _where(link, anchor, soup, places, chapters)
            if not text and direction is None:
                continue
            note.append(f" ({text}")
            if direction is not None:
                prefix = ", " if text else ""
                number = soup.new_tag("span", attrs={"class": "cspbook-page", "data-cspbook-anchor": anchor,
                                                     "data-cspbook-prefix": prefix})
                number.string = f"{prefix}page 00"
                fallback = soup.new_tag("span", attrs={"class": "cspbook-direction"})
                fallback.string = f" {direction}" if direction else ""
                note.extend([number, fallback])
            note.append(")")
        elif "download" in link.get("class", []) or href.startswith("_downloads/"):
            note.string = f" (in the HTML book: {href})"
        else:
            continue
        link.insert_after(note)


def _where(link, anchor: str, soup, places, chapters) -> tuple[str, str | None]:
    """Where an in-book link leads, as words, and "below", "above" or "" (another chapter)
    for the page number to replace; None when there will be no page to give."""
    if anchor not in places:
        return "", None
    chapter, path = places[anchor]
    target = soup.find(id=anchor)
    said = " ".join(link.get_text().split())
    if target is None:
        return ("in the full report" if said == chapter else f"see “{chapter}” in the full report"), None
    path = [heading for heading in path if heading != said]  # "How this is calculated" says itself
    if _chapter_of(link, chapters) is not _chapter_of(target, chapters):
        if not path:
            return ("" if said == chapter else f"see “{chapter}”"), ""
        return f"see “{path[-1]}” in “{chapter}”", ""
    if not path:
        return "", None  # the start of the link's own chapter
    return f"see “{': '.join(path)}”", "below" if link.find_next(id=anchor) is target else "above"


def _drop_empty_notes(soup) -> str:
    """The page as HTML, without notes left empty (a link named by its own text whose page
    is not known)."""
    soup = copy.copy(soup)  # the caller's soup keeps every note, to be filled by a later draft
    for note in soup.select("span.cspbook-print-ref"):
        if note.get_text().strip() == "()":
            note.decompose()
    return str(soup)


def _chapter_of(element, chapters: set[int]):
    """The top-level chapter section holding ``element`` (``chapters``: their ``id()``)."""
    return next((p for p in [element, *element.parents] if id(p) in chapters), None)


def _flatten(soup) -> list[tuple[str, object]]:
    """Move every chapter to the top level of the article (Sphinx nests them inside the
    root page's last section); the chapters in order."""
    found = _chapter_sections(soup)
    article = soup.select_one("article.bd-article")
    for doc, section in found[1:]:
        marker = soup.find(id=f"document-{doc}")  # the target of links to the chapter: kept, inside the
        article.append(section.extract())       # section (on its own it would get a page of its own)
        section.insert(0, marker.extract())
    return found


def _keep_only(found: list, only: str) -> list:
    if only not in [doc for doc, _ in found]:
        raise BuildError(f"the single-page book has no chapter '{only}'; it has {', '.join(d for d, _ in found if d)}")
    for doc, section in found:
        if doc != only:
            section.decompose()
    return [(doc, section) for doc, section in found if doc == only]


def _page_rules(found: list, title_page: bool) -> str:
    """A named page per chapter, whose header is the chapter title; the title page has no
    header or number. The page around the chapters takes the first page's name: a change
    of named page forces a page break, which would otherwise leave page 1 empty."""
    rules = [
        "@page { @top-left { font-family: sans-serif; font-size: 8.5pt; color: #333; } }",
        f"body {{ page: {'cspbook-title' if title_page else 'cspbook-chapter-0'}; }}",
        ".cspbook-title-page { page: cspbook-title; }",
        "@page cspbook-title { @top-left { content: none; } @bottom-center { content: none; } }",
    ]
    for number, ((_, section), header) in enumerate(zip(found, headers(_titled(found)))):
        section["data-cspbook-chapter"] = str(number)
        rules.append(f'[data-cspbook-chapter="{number}"] {{ page: cspbook-chapter-{number}; }}')
        rules.append(f"@page cspbook-chapter-{number} {{ @top-left {{ content: {css_string(header)}; }} }}")
    return "\n".join(rules) + "\n"


def _title_page(soup, title: str, contents: list[str]):
    """The report's title and the list of its chapters, on a page of their own."""
    page = soup.new_tag("section", attrs={"class": "cspbook-title-page"})
    for css, text in (("cspbook-title", title), ("cspbook-contents-label", "Contents")):
        para = soup.new_tag("p", attrs={"class": css})
        para.string = text
        page.append(para)
    listing = soup.new_tag("ol", attrs={"class": "cspbook-contents"})
    for text in contents:
        item = soup.new_tag("li")
        item.string = text
        listing.append(item)
    page.append(listing)
    return page


def headers(chapters: list[tuple[str, str]]) -> list[str]:
    """The running header of each chapter: its title, and its year when the book has more
    than one (the root page, unnamed, is the first year's overview).

    >>> headers([("", "Overview"), ("book/2011-12/asb", "Anti-social behaviour")])
    ['Overview', 'Anti-social behaviour']
    >>> headers([("", "Overview"), ("book/2012-13/asb", "ASB"), ("book/2011-12/overview", "Overview")])
    ['Overview, 2012-13', 'ASB, 2012-13', 'Overview, 2011-12']
    """
    years = [m.group(1) if (m := re.match(r"book/(\d{4}-\d{2})/", doc)) else "" for doc, _ in chapters]
    if years and not years[0] and len(years) > 1:
        years[0] = years[1]
    titles = [title for _, title in chapters]
    if len(set(years)) <= 1:
        return titles
    return [f"{t}, {y}" if y else t for t, y in zip(titles, years)]


def css_string(text: str) -> str:
    """``text`` as a quoted CSS string; anything but plain letters, digits and simple
    punctuation is written as a hex escape, so it can never end the string or the style.

    >>> css_string('Crime & "disorder" </style>')
    '"Crime \\\\26  \\\\22 disorder\\\\22  \\\\3c /style\\\\3e "'
    """
    safe = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,:;!?-()'/")
    return '"' + "".join(ch if ch in safe else f"\\{ord(ch):x} " for ch in text) + '"'


def _soup(html: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def _chapter_sections(soup) -> list[tuple[str, object]]:
    """(document name, section) of the root page ('' for its name) and of every chapter."""
    article = soup.select_one("article.bd-article")
    root = article.find("section") if article else None
    if root is None:
        raise BuildError("the single-page book has no article with a section; has the Jupyter Book theme changed?")
    found = []
    for marker in article.select('span[id^="document-"]'):
        section = marker.find_next_sibling("section") or marker.parent  # as Sphinx wrote it, or as prepared
        if section is not None and section.name == "section":
            found.append((marker["id"][len("document-"):], section))
    if all(section is not root for _, section in found):
        found.insert(0, ("", root))
    return found


def _title(section) -> str:
    heading = section.find(["h1", "h2"])
    if heading is None:
        return ""
    parts = [s for s in heading.find_all(string=True) if not s.find_parent("a", class_="headerlink")]
    return " ".join("".join(parts).split())


def _write_print_page(page: Path, name: str, html: str) -> Path:
    """Write a prepared page at the top of the single-page build: its links to _static/
    are relative to that folder, wherever Sphinx put the page itself."""
    path = plan.work_dir() / "singlehtml" / "_build" / "singlehtml" / name
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, path)
    return path


def _rewrite(page: Path, html: str) -> Path:
    """Write ``html`` over ``page`` in one rename (a reader of the page never sees half)."""
    tmp = page.with_name(page.name + ".tmp")
    tmp.write_text(html, encoding="utf-8")
    os.replace(tmp, page)
    return page
