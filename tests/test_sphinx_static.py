"""A change of the book's own static files (``book/_static``): each page links them with a
checksum (``cspbook.css?v=...``) so that a reader's browser fetches a changed file again; Sphinx
rewrites no page when only a static file changed, so an incremental build kept the old checksum
(a book unlike the clean build's, whose readers kept the old style). The build and the preview's
kept application write every page again then (cspbook.publish.sphinx_run._build)."""

from __future__ import annotations

import re
import shutil

import pytest
from conftest import snapshot

from cspbook.publish import sphinx_run

PAGE = "book/2011-12/asb.html"


def _linked(html) -> str:
    return re.search(r"cspbook\.css\?v=\w+", (html / PAGE).read_text(encoding="utf-8"))[0]


@pytest.mark.slow
def test_an_edit_of_a_static_file_gives_the_clean_builds_pages(built_book, tmp_path, monkeypatch):
    home = tmp_path / "book"
    shutil.copytree(built_book.home, home, ignore=shutil.ignore_patterns(".cspbook", "_build"))
    monkeypatch.setenv("CSPBOOK_HOME", str(home))
    css = home / "book" / "_static" / "cspbook.css"
    original = css.read_text(encoding="utf-8")
    before = _linked(sphinx_run.html(home, tmp_path / "work"))
    warm = sphinx_run.Warm(home, tmp_path / "warm")  # no other Sphinx in the process while it lives
    try:
        warm.build()
        css.write_text(original + "\n/* a change of style */\n", encoding="utf-8")
        kept = snapshot(warm.build())  # a new application (book/_static changed), on the same working tree
    finally:
        warm.close()
    incremental = sphinx_run.html(home, tmp_path / "work")
    clean = sphinx_run.html(home, tmp_path / "clean")
    assert _linked(clean) != before  # the checksum names the new bytes...
    assert snapshot(incremental) == snapshot(clean)  # ...in every page of the incremental build
    assert kept == snapshot(clean)  # and of the preview's
