"""A small Sphinx extension loaded by the book's ``_config.yml``.

sphinx-book-theme 1.3.0 writes the page title into a print-only header as
``<h1>{{ pagetitle }}</h1>`` without escaping it, and sets ``pagetitle`` to the title's
plain text: a title containing ``<script>`` (from a report configuration) would run in the
reader's browser. We escape ``pagetitle`` after the theme has set it.

The theme puts the book's title (a link to the landing page) in the primary sidebar
outside any landmark, so a screen reader's list of regions misses it (axe-core: ``region``).
We wrap it in a navigation landmark of its own (see :func:`_landmark_for_the_title`).
"""

from __future__ import annotations

import html

import jinja2


def _escape_pagetitle(app, pagename, templatename, context, doctree):
    if isinstance(context.get("pagetitle"), str):
        context["pagetitle"] = html.escape(context["pagetitle"], quote=True)


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


def setup(app):
    app.connect("html-page-context", _escape_pagetitle, priority=900)  # after the theme's (500)
    app.connect("builder-inited", _landmark_for_the_title)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
