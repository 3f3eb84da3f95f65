"""A small Sphinx extension loaded by the book's ``_config.yml``.

sphinx-book-theme 1.3.0 writes the page title into a print-only header as
``<h1>{{ pagetitle }}</h1>`` without escaping it, and sets ``pagetitle`` to the title's
plain text: a title containing ``<script>`` (from a report configuration) would run in the
reader's browser. We escape ``pagetitle`` after the theme has set it.

Sphinx 7.4 stores the section titles and index entries of every page in ``searchindex.js``
as plain text, and its search page inserts them as HTML (``innerHTML``): a title such as
``Prio <img src=x onerror=...>`` would run when a reader searches for it. We HTML-escape
them as each page is indexed (the page titles there are already HTML, rendered by Sphinx).
The indexer's stemmer remembers the words it has stemmed (:func:`_memoised`).

An incremental Sphinx build keeps, in ``searchindex.js``, every word that a rewritten page no
longer has, with an empty list of pages (``"word": []``); a clean build has no such word. We
leave them out (:func:`_terms_without_empty`), so an incremental build gives the clean bytes.

myst-nb copies its stylesheet into the output only when the build has finished, so the
pages written by a clean build link it without a ``?v=`` checksum and the pages rewritten by
a later build with one: the same inputs gave different bytes. We copy it before any page is
written, so every build links it the same way.

The theme puts the book's title (a link to the landing page) in the primary sidebar
outside any landmark, so a screen reader's list of regions misses it (axe-core: ``region``).
We wrap it in a navigation landmark of its own (see :func:`_landmark_for_the_title`).

sphinx-external-toc always loads sphinx-multitoc-numbering, which does not say whether it is
safe for parallel reading, so Sphinx reads one page at a time (and, strict, warns). It only
replaces how section numbers are assigned once every page has been read, in the main process
(``TocTreeCollector.assign_section_numbers``, run on ``env-updated``): nothing it does happens
while a page is read. We declare it safe for reading (:func:`_multitoc_reads_in_parallel`), so
that `cspbook build` reads the pages on every core; the parallel build gives the serial
build's bytes (``tests/test_sphinx_parallel.py``).
"""

from __future__ import annotations

import html

import jinja2


def _escape_pagetitle(app, pagename, templatename, context, doctree):
    if isinstance(context.get("pagetitle"), str):
        context["pagetitle"] = html.escape(context["pagetitle"], quote=True)


def escape_index_entries(indexer, docname: str) -> None:
    """HTML-escape the titles and index entries the search indexer holds for ``docname``
    (plain text from the doctree, which Sphinx's searchtools.js inserts as HTML)."""
    titles = getattr(indexer, "_all_titles", {})
    if docname in titles:
        titles[docname] = [(html.escape(title, quote=True), anchor) for title, anchor in titles[docname]]
    entries = getattr(indexer, "_index_entries", {})
    if docname in entries:
        entries[docname] = [(html.escape(entry, quote=True), anchor, main) for entry, anchor, main in entries[docname]]


_STEMS: dict[tuple[str, str], str] = {}  # (language, word) -> stem, for the life of the process
_STEMS_MAX = 200_000  # words; the book has about 10,000


def _memoised(lang):
    """The stemmer of ``lang`` (a search language's, a pure function of the word) remembering
    its answers in this process. Sphinx memoises it for one page at a time, and its indexer (and
    language) is new in every build; the preview's rebuilds then stem each word of the book
    once, not once per page per rebuild (a tenth of a second per page: Snowball's Porter
    stemmer is pure Python)."""
    stem, name = lang.stem, f"{type(lang).__module__}.{type(lang).__qualname__}"

    def stem_known(word: str) -> str:
        found = _STEMS.get((name, word))
        if found is None:
            if len(_STEMS) >= _STEMS_MAX:
                _STEMS.clear()
            found = _STEMS[name, word] = stem(word)
        return found

    stem_known.cspbook_memo = True
    return stem_known


def _escaping_feed(feed):
    def feed_escaped(self, docname, filename, title, doctree):
        if not getattr(self.lang.stem, "cspbook_memo", False):
            self.lang.stem = _memoised(self.lang)
        feed(self, docname, filename, title, doctree)
        escape_index_entries(self, docname)

    feed_escaped.cspbook_escapes = True
    return feed_escaped


def _terms_without_empty(get_terms):
    def get_terms_found(self, fn2index):
        return tuple({word: pages for word, pages in terms.items() if pages != []} for terms in get_terms(self, fn2index))

    get_terms_found.cspbook_prunes = True
    return get_terms_found


def _copy_mystnb_css_early(app):
    if app.builder.format == "html":
        from pathlib import Path

        from myst_nb.sphinx_ext import add_global_html_resources

        (Path(app.builder.outdir) / "_static").mkdir(parents=True, exist_ok=True)
        add_global_html_resources(app, None)


# --- the book's title in a landmark --------------------------------------------------------

# The theme's own template, included as it is ("!" searches the theme, not this loader).
TITLE_TEMPLATE = (
    '<nav class="cspbook-home" aria-label="Report home">'
    '{% include "!components/navbar-logo.html" %}'
    "</nav>"
)


def _landmark_for_the_title(app):
    """Serve ``navbar-logo.html`` (the sidebar's book title) wrapped in ``<nav>``, ahead of
    the theme's templates."""
    templates = getattr(app.builder, "templates", None)
    if templates is not None and hasattr(templates, "loaders"):
        templates.loaders.insert(0, jinja2.DictLoader({"navbar-logo.html": TITLE_TEMPLATE}))
        templates.templatepathlen += 1  # a "!" name still skips every loader before the theme's


def _multitoc_reads_in_parallel(app) -> None:
    """Declare sphinx-multitoc-numbering safe for parallel reading (see the module's docstring)."""
    extension = app.extensions.get("sphinx_multitoc_numbering")
    if extension is not None and extension.parallel_read_safe is None:
        extension.parallel_read_safe = True


def setup(app):
    from sphinx.search import IndexBuilder

    _multitoc_reads_in_parallel(app)

    if not getattr(IndexBuilder.feed, "cspbook_escapes", False):  # once per process
        IndexBuilder.feed = _escaping_feed(IndexBuilder.feed)
    if not getattr(IndexBuilder.get_terms, "cspbook_prunes", False):
        IndexBuilder.get_terms = _terms_without_empty(IndexBuilder.get_terms)
    app.connect("html-page-context", _escape_pagetitle, priority=900)  # after the theme's (500)
    app.connect("builder-inited", _copy_mystnb_css_early)
    app.connect("builder-inited", _landmark_for_the_title)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "3"}
