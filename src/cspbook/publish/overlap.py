"""Work a build starts early so that it runs while the build does something else (issue 21).

- :class:`Kernels`: the warm kernels (:class:`cspbook.execute.pool.Pool`) started as soon as
  the build knows it will execute notebooks, so their start-up and imports (about 1.5 s of
  CPU each) run while this process fetches, snapshots and computes the dataset, instead of
  after it; the same kernels, settings and environment as :func:`cspbook.execute.plan.execute`
  would start itself (it is handed the pool). Closed at the end of the build; killed at once
  when it fails or is interrupted.
- :func:`import_sphinx`: Sphinx, Jupyter Book and the book's Sphinx extensions imported on a
  background thread while the kernels execute the notebooks (this process only waits then),
  so that the in-process Sphinx of :mod:`cspbook.publish.sphinx_run` starts with them loaded.

Neither changes what is built: the kernels are reset after every notebook whenever they were
started, and importing a module early runs the same module code as importing it later.
"""

from __future__ import annotations

import contextlib
import importlib
import threading
from pathlib import Path

from cspbook import config

# Always loaded by Jupyter Book 1's configuration (jupyter_book.config), besides the book's own
# `sphinx: config: extensions` in _config.yml.
SPHINX_MODULES = ("sphinx.application", "sphinx.builders.html", "jupyter_book.config", "myst_nb", "jupyter_book",
                  "sphinx_external_toc", "sphinx_multitoc_numbering", "sphinx_jupyterbook_latex", "sphinx_book_theme")


class Kernels:
    """The build's warm-kernel pool, started by :meth:`start` (once) and stopped on leaving the
    ``with`` block: closed after a build that succeeded, killed after one that failed."""

    def __init__(self):
        self.pool = None

    def start(self, workers: int) -> None:
        """Start ``workers`` warm kernels in the background (not with ``CSPBOOK_ENGINE=papermill``,
        nor for no notebook); a bad engine name is left for the plan to report."""
        if self.pool is not None or workers < 1:
            return
        from cspbook.errors import BuildError
        from cspbook.execute import plan

        try:
            if plan.engine_name() != "warm":
                return
        except BuildError:
            return
        from cspbook.execute import pool as warm_pool

        self.pool = warm_pool.Pool(workers, plan.work_dir() / "running", env=plan.KERNEL_ENV, cwd=config.home())

    def close(self) -> None:
        """Stop the kernels (once the notebooks have run: they hold memory Sphinx could use)."""
        if self.pool is not None:
            pool, self.pool = self.pool, None
            pool.close()

    def __enter__(self) -> Kernels:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.pool is not None:
            pool, self.pool = self.pool, None
            pool.close() if exc_type is None else pool.abort()
        return False


def to_execute(jobs) -> int:
    """How many of ``jobs`` have no sound executed notebook in the cache and none executed from
    the same code either (a prose-only edit is made without a kernel: no kernel is started for it)."""
    from cspbook.execute import plan

    return sum(1 for job in jobs if plan.cache_problem(job) != "" and plan.executed_before(job) is None)


def clean() -> bool:
    """True when no executed notebook is cached yet (a clean project tree): every page will run."""
    cache = config.work_dir() / "cache"
    return not cache.is_dir() or not any(cache.glob("*.ipynb"))


def _book_extensions(home: Path) -> list[str]:
    from cspbook.definitions.schema import read_yaml

    try:
        data = read_yaml(home / "_config.yml") or {}
        extensions = ((data.get("sphinx") or {}).get("config") or {}).get("extensions") or []
    except Exception:  # noqa: BLE001 - only a head start: Sphinx reports a bad configuration itself
        return []
    return [name for name in extensions if isinstance(name, str)]


def import_for_build(home: Path) -> None:
    """Import, in this thread, what a Sphinx application for the book at ``home`` loads as it
    starts (:func:`import_sphinx`'s modules, Sphinx's built-in extensions, the extensions of
    Jupyter Book's final configuration and the modules their ``setup`` imports): the early
    Sphinx process (:mod:`cspbook.publish.sphinx_early`) does this before its build is asked for."""
    _import([*SPHINX_MODULES, *_book_extensions(home)])
    names = list(SETUP_MODULES)
    with contextlib.suppress(Exception):  # only a head start: Sphinx reports a bad configuration itself
        from sphinx.application import builtin_extensions

        from cspbook.publish import sphinx_run

        names = [*builtin_extensions, *sphinx_run._configuration(home).get("extensions", []), *names]
    _import(names)


# what the extensions' setup functions import (myst-nb: papermill, jupyter-cache, SQLAlchemy)
SETUP_MODULES = ("myst_nb.sphinx_ext", "myst_nb.sphinx_", "myst_nb.ext.glue.directives", "myst_nb.ext.glue.domain",
                 "myst_nb.ext.glue.roles", "myst_nb.ext.execution_tables", "myst_parser.sphinx_ext.main",
                 "myst_parser.sphinx_ext.directives", "myst_parser.sphinx_ext.mathjax", "myst_parser.sphinx_ext.myst_refs",
                 "sphinx.search.en", "sphinx.builders.html.transforms", "sphinx.builders.latex.transforms",
                 "sphinx.ext.mathjax", "sphinx_design.extension", "sphinx_external_toc.events", "jinja2.ext",
                 "pydata_sphinx_theme", "a11y_pygments.a11y_high_contrast_light.style",
                 "a11y_pygments.a11y_high_contrast_dark.style")


def import_sphinx(home: Path | None = None) -> threading.Thread:
    """Import Sphinx and the book's extensions on a daemon thread (started; returned)."""
    names = list(SPHINX_MODULES) + _book_extensions(home or config.home())
    thread = threading.Thread(target=_import, args=(names,), name="cspbook-import-sphinx", daemon=True)
    thread.start()
    return thread


def _import(names) -> None:
    """Import each of ``names`` once; one that fails is left: Sphinx imports it again and
    reports the error where it belongs."""
    for name in dict.fromkeys(names):
        with contextlib.suppress(Exception):
            importlib.import_module(name)
