"""Sphinx in this process, strictly and incrementally, as ``jupyter-book build -W --keep-going``
runs it: the same configuration (Jupyter Book's ``get_final_config`` of ``_config.yml`` and
``_toc.yml``), the same application, its environment and doctrees kept in a working folder so
that a rebuild reads and writes only the changed pages.

Both `cspbook build` (in ``.cspbook/jb``) and `cspbook preview` (in ``.cspbook/preview/jb``)
build this way: the modules stay loaded (no interpreter, no imports per build). Any warning
or error fails the build with a BuildError naming it (up to 20 lines of them).

:class:`Warm` keeps one application across rebuilds (the preview): Sphinx re-reads the
pages whose notebooks changed, with its environment in memory, instead of a new
application reading its pickle; a new application is made when ``_config.yml``, ``_toc.yml``
or the static files change, and after a failed build.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from pathlib import Path

from cspbook import fingerprint
from cspbook.errors import BuildError


def _configuration(source: Path) -> dict:
    from jupyter_book.config import get_final_config

    sphinx_config, _ = get_final_config(
        user_yaml=source / "_config.yml",
        cli_config={"external_toc_path": (source / "_toc.yml").as_posix(), "latex_individualpages": False},
        sourcedir=source, use_external_toc=True,
    )
    # A list of our own: Sphinx's default ``templates_path`` is one list object shared by every
    # application in the process, and the themes append their folders to it. Shared, it grew
    # with each rebuild, changed the configuration's hash, and so made Sphinx rewrite every page.
    sphinx_config["templates_path"] = list(sphinx_config.get("templates_path") or [])
    return sphinx_config


def _application(source: Path, work: Path, output: io.StringIO, parallel: int = 1):
    from sphinx.application import Sphinx
    from sphinx.util import console

    console.nocolor()
    return Sphinx(srcdir=source, confdir=None, outdir=work / "_build" / "html", doctreedir=work / "_build" / ".doctrees",
                  buildername="html", confoverrides=_configuration(source), status=output, warning=output,
                  freshenv=False, warningiserror=True, keep_going=True, parallel=parallel)


@contextlib.contextmanager
def _quiet_root_logger():
    """Sphinx's extensions configure the root logger (and warn of deprecations): put it back after."""
    root = logging.getLogger()
    saved = root.level, list(root.handlers)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            yield
    finally:
        root.setLevel(saved[0])
        root.handlers[:] = saved[1]


def _raise_for(status: int, output: str, failure: str) -> None:
    problems = [line for line in output.splitlines() if "WARNING" in line or "ERROR" in line]
    if status or problems:
        shown = "\n".join(problems[:20]) or output[-3000:]
        raise BuildError(f"{failure}:\n{shown}")


def html(source: Path, work: Path, failure: str = "Jupyter Book (Sphinx) failed", parallel: int = 1) -> Path:
    """Build the HTML book of ``source`` with a new Sphinx application in this process,
    incrementally in ``work``; the HTML folder (``work/_build/html``). BuildError(``failure``
    and the warnings) on any warning or error. KeyboardInterrupt passes through.
    ``parallel``: processes that read and write the pages (Sphinx forks them; more than 5
    pages to read). The London edition's 385 pages take about a sixth less time with 2 on
    2 cores; a one-borough book's 12 gain nothing, so it builds with 1."""
    from sphinx.util.docutils import docutils_namespace, patch_docutils

    output = io.StringIO()
    status = 1
    with _quiet_root_logger():
        try:
            with patch_docutils(source), docutils_namespace():
                app = _application(source, work, output, parallel)
                status = _build(app, source, work)
        except Exception as exc:  # noqa: BLE001 - a Sphinx or extension error: report it like a warning
            output.write(f"ERROR: {type(exc).__name__}: {exc}\n")
    _raise_for(status, output.getvalue(), failure)
    return work / "_build" / "html"


STATIC_STAMP = ".cspbook-static"  # in the working tree: the book/_static its pages were written with


def static_digest(source: Path) -> str:
    """The fingerprint of ``book/_static`` (the book's own styles, scripts and images)."""
    static = source / "book" / "_static"
    return fingerprint.tree(static, "*") if static.exists() else "-"


def _build(app, source: Path, work: Path) -> int:
    """``app.build``, incremental unless ``book/_static`` changed since the working tree's pages
    were written: each page links a static file with its checksum (``cspbook.css?v=...``,
    so that a reader's browser fetches it again when it changes), and Sphinx rewrites no page
    when only a static file changed, so every page is written again then (else the book
    differs from a clean build and browsers keep the old style); so too after a build that did
    not finish (it left no stamp). Its status code."""
    stamp, now = work / STATIC_STAMP, static_digest(source)
    before = stamp.read_text(encoding="ascii") if stamp.exists() else None
    stamp.unlink(missing_ok=True)  # until this build has finished
    app.build(before != now and (work / "_build" / ".doctrees" / "environment.pickle").exists(), [])
    if app.statuscode == 0:
        stamp.write_text(now, encoding="ascii")
    return app.statuscode


def _pages_only(app, docnames: set[str]) -> int:
    """Read the changed pages, write those of ``docnames`` only: the pages a reader is looking
    at, shown before the rest of the book is done. Not written: the other pages (the overview
    that lists them among them), the indices, the search index, the static files, the
    environment's pickle. The pages read are marked unread, so that the next (full) build
    reads and writes them with everything that depends on them, as if this one had not
    been. Its status code."""
    from sphinx.util.build_phase import BuildPhase
    from sphinx.util.logging import pending_warnings
    from sphinx.util.parallel import SerialTasks

    builder, env = app.builder, app.env
    with pending_warnings():
        read = set(builder.read())
    wanted = sorted(set(docnames) & env.found_docs)
    try:
        app.phase = BuildPhase.RESOLVING
        builder.finish_tasks = SerialTasks()
        builder.events.emit("write-started", builder)
        # no search index here (the full build that follows feeds it every page read): neither
        # the index on disk loaded nor the pages fed to it
        builder.load_indexer = lambda docnames: None
        try:
            builder.prepare_writing(set(wanted))
        finally:
            del builder.load_indexer
        builder.indexer = None
        # each page links pygments.css with the checksum of Sphinx's own version, which a full
        # build writes before its pages and the theme overwrites when the build ends: so here too
        builder.create_pygments_style_file()
        builder._write_serial(wanted)
        from pydata_sphinx_theme import pygments as theme_pygments

        theme_pygments.overwrite_pygments_css(app)
    finally:
        for docname in read:
            env.all_docs[docname] = 0  # older than its source: the next build reads it again
    return app.statuscode


def inputs_digest(source: Path) -> str:
    """What a kept application was made from: ``_config.yml``, ``_toc.yml``, ``book/_static``."""
    return fingerprint.digest(*((source / name).read_bytes() if (source / name).exists() else b"-"
                                for name in ("_config.yml", "_toc.yml")), static_digest(source).encode())


def _forget_page_assets(app, registered: tuple[list, list]) -> None:
    """Drop the scripts and stylesheets added for single pages (the theme adds one per page,
    ``DOCUMENTATION_OPTIONS.pagename = ...``, to the application's registry and the builder):
    Sphinx puts the build's own back before each page but not after the last, and would take
    them for the book's own in the next build. ``registered``: the registry's lists as the
    extensions left them."""
    app.registry.js_files[:], app.registry.css_files[:] = (list(files) for files in registered)
    for name in ("_js_files", "_css_files"):
        kept = getattr(app.builder, f"_orig{name}", None)
        if kept is not None:
            getattr(app.builder, name)[:] = kept


class Warm:
    """One Sphinx application kept across rebuilds of ``source`` into ``work`` (the preview's).

    Its docutils namespace (the directives and roles its extensions registered) stays open
    while it lives, in this thread: no other Sphinx may run in the process meanwhile.
    """

    def __init__(self, source: Path, work: Path):
        self.source, self.work = source, work
        self.app = None
        self.made_from: str | None = None
        self.output = io.StringIO()
        self.stack: contextlib.ExitStack | None = None
        self.registered: tuple[list, list] = ([], [])
        self.reused = 0  # builds on a kept application (for the log and the tests)

    def close(self) -> None:
        if self.stack is not None:
            self.stack.close()
        self.stack, self.app, self.made_from = None, None, None

    def build(self, failure: str = "Jupyter Book (Sphinx) failed", only: set[str] | None = None) -> Path:
        """Build incrementally; with ``only`` (docnames, e.g. ``book/2011-12/asb``) the changed
        pages are read but only those are written (:func:`_pages_only`), and the next build
        does the rest."""
        from sphinx.util.docutils import docutils_namespace, patch_docutils

        digest = inputs_digest(self.source)
        if self.app is not None and digest != self.made_from:
            self.close()
        status = 1
        self.output.seek(0)
        self.output.truncate()
        ok, kept = False, self.app is not None
        with _quiet_root_logger():
            try:
                if not kept:
                    self.stack = contextlib.ExitStack()
                    self.stack.enter_context(patch_docutils(self.source))
                    self.stack.enter_context(docutils_namespace())
                    self.app = _application(self.source, self.work, self.output)
                    self.registered = (list(self.app.registry.js_files), list(self.app.registry.css_files))
                    self.made_from = digest
                else:
                    self.reused += 1
                # a new application builds whole: its static files and configuration are news
                status = _pages_only(self.app, only) if only and kept else _build(self.app, self.source, self.work)
                ok = status == 0
                _forget_page_assets(self.app, self.registered)
            except Exception as exc:  # noqa: BLE001 - a Sphinx or extension error: report it like a warning
                self.output.write(f"ERROR: {type(exc).__name__}: {exc}\n")
            finally:
                text = self.output.getvalue()
                if not ok or "WARNING" in text or "ERROR" in text:
                    self.close()  # a failed build leaves no application to build on (its warnings count on)
        _raise_for(status, text, failure)
        return self.work / "_build" / "html"
