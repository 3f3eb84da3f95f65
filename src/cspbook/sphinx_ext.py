"""A small Sphinx extension loaded by the book's ``_config.yml``.

sphinx-book-theme 1.3.0 writes the page title into a print-only header as
``<h1>{{ pagetitle }}</h1>`` without escaping it, and sets ``pagetitle`` to the title's
plain text: a title containing ``<script>`` (from a report configuration) would run in the
reader's browser. We escape ``pagetitle`` after the theme has set it.
"""

from __future__ import annotations

import html


def _escape_pagetitle(app, pagename, templatename, context, doctree):
    if isinstance(context.get("pagetitle"), str):
        context["pagetitle"] = html.escape(context["pagetitle"], quote=True)


def setup(app):
    app.connect("html-page-context", _escape_pagetitle, priority=900)  # after the theme's (500)
    return {"parallel_read_safe": True, "parallel_write_safe": True, "version": "1"}
