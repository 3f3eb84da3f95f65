"""``cspbook preview``: the analyst's edit loop. Build once, serve the book on 127.0.0.1,
watch the sources, rebuild what changed, and reload the open pages.

- **Build**: the recipe of :mod:`cspbook.publish.build`, in this process, into its own folder
  ``.cspbook/preview/`` (never ``_build/html``). Notebooks are rerun only when their cache
  key changed (:func:`cspbook.execute.plan.plan`), on a pool of warm kernels opened once and kept
  between rebuilds (:class:`cspbook.execute.pool.Pool`). Sphinx runs in this process too, and
  one application is kept across rebuilds (:class:`cspbook.publish.sphinx_run.Warm`: its
  environment stays in memory; a new one when ``_config.yml``, ``_toc.yml`` or the static
  files change); its working tree ``.cspbook/preview/jb`` makes each rebuild incremental
  (``benchmarks/sphinx_warm.py`` measures a kept application against a new one per rebuild).
- **Serve**: Starlette's static files under uvicorn, from an immutable copy of the last
  good HTML (``.cspbook/preview/site/<generation>``), switched atomically after a
  successful rebuild. A small script (``livereload.js``) is added to each HTML page *as it
  is served*, never written to disk, as sphinx-autobuild does; it listens for the preview's
  state on Server-Sent Events: a new generation reloads the page, a failed rebuild shows
  its error (notebook, cell, message) over the last good page.
- **Watch**: ``watchfiles`` on ``book/templates``, ``book/_static``, ``data/`` (definitions,
  report configuration, partner and published figures, the raw data cache) and
  ``_config.yml``. Changes that come within :data:`QUIET_MS` of each other, and all those
  made while a rebuild runs, make one rebuild.
- **Stop**: Ctrl-C or SIGTERM (:mod:`cspbook.signals`) stops the watcher, the server and
  every kernel, and exits 130 or 143.
"""

from __future__ import annotations

import contextlib
import gc
import os
import shutil
import sys
import threading
import time
import webbrowser
from pathlib import Path

from cspbook import config, definitions, logs
from cspbook.compute import dataset
from cspbook.data import rawcache
from cspbook.definitions import periods, reports
from cspbook.errors import BuildError, CspbookError
from cspbook.execute import plan, snapshot
from cspbook.publish import book, downloads, lock, sphinx_run
from cspbook.publish.preview_serve import (  # noqa: F401
    PREFIX,
    Server,
    State,
    copy_site,
    inject,
    make_app,
    page_of,
    waiting_page,
)
from cspbook.publish.preview_watch import Watcher, relevant, settle, watched  # noqa: F401

DEFAULT_PORT = 8000


def preview_dir() -> Path:
    return config.preview_dir()


def sphinx_html(source: Path, work: Path) -> Path:
    """Build the HTML book of ``source`` strictly with a new Sphinx application in this
    process, incrementally in ``work``, as ``jupyter-book build -W --keep-going`` does; the
    HTML folder (see :mod:`cspbook.publish.sphinx_run`)."""
    return sphinx_run.html(source, work, FAILURE)


FAILURE = "Jupyter Book (Sphinx) failed; the last good pages stay served"


class Builder:
    """Rebuilds the book of one borough and year(s) on demand, keeping its kernels warm."""

    def __init__(self, borough: str, year: str, years: str | None, jobs: int, mirror: Path | None,
                 offline: bool, log, to: str | None = None):
        self.borough_arg, self.year_arg, self.years_arg, self.to = borough, year, years, to
        self.jobs = jobs
        self.mirror, self.offline = mirror, offline
        self.log = log
        self.pool, self.inputs = None, None  # the warm kernels; the snapshot this rebuild read (see build_checked)
        self.library = _library_digest()
        self.served_stamp: str | None = None
        self.data_checked = False
        self.timings: dict[str, float] = {}  # seconds of the last rebuild's steps
        self.site: Path | None = None  # the last copy made, and what each of its files was copied from
        self.copied: dict[str, tuple] = {}
        self.sphinx = sphinx_run.Warm(config.home(), preview_dir() / "jb")  # one application, kept warm
        self.shared: dict = {}  # what every page's context holds alike, while the dataset stays (pages.prepared)
        self.prepared_for = None  # the snapshot (and years) whose contexts were last sealed

    def open_pool(self) -> None:
        if plan.engine_name() == "warm" and self.pool is None:
            from cspbook.execute import pool

            # the kernels keep their heap between notebooks: the same pages run again in it, edit after edit
            self.pool = pool.Pool(self.jobs, plan.work_dir() / "running", env=plan.KERNEL_ENV, cwd=config.home(),
                                  release_memory=False)

    def close(self) -> None:
        self.sphinx.close()
        if self.pool is not None:
            self.pool.close()
            self.pool = None

    def build(self, reload_data: bool = True, viewed: set[str] = frozenset(), serve=None, pending=None) -> Path | None:
        """One rebuild; the new site folder, or None when the HTML would be unchanged.
        Raises CspbookError (bad input, a failing cell, a Sphinx warning). ``viewed``: the pages
        the open tabs show (``book/2011-12/asb.html``); their notebooks run first and their site
        goes to ``serve(site)`` before the rest of the book is rebuilt, unless ``pending()`` says a
        newer save came, which stops the rebuild there (:class:`Superseded`)."""
        began = time.monotonic()
        if _library_digest() != self.library:
            raise BuildError("the cspbook library (src/cspbook) changed since the preview started; "
                             "stop the preview (Ctrl-C) and start it again to use the new code")
        _forget_definitions(reload_data)
        if reload_data:
            self.shared.clear()
        name = definitions.resolve_borough(self.borough_arg)
        primary = periods.parse_year(self.year_arg)
        all_years = sorted(set(periods.parse_year_range(self.years_arg)) | {primary}) if self.years_arg else [primary]
        pending = pending or (lambda: False)
        with lock.held(plan.work_dir() / "build.lock", notice=self.log, kind="preview"):
            # fetch (when needed) at the start only; then the cache as it is (`cspbook fetch` updates it)
            rawcache.ensure(mirror=self.mirror, offline=self.offline or self.data_checked, notice=self.log)
            self.data_checked = True
            inputs = self.inputs = snapshot.take()  # the rebuild reads only these bytes (cspbook.execute.snapshot)
            with snapshot.reading(inputs, keep_dataset=not reload_data):
                configs = {y: reports.load(name, y) for y in all_years}
                pages = {y: configs[y].pages for y in all_years}
                last = plan.last_month(inputs.manifest)
                spans = {y: periods.resolve(y, last, self.to if y == primary else None) for y in all_years}
                planned = plan.plan(name, all_years, pages, inputs.manifest, spans=spans)
                def csv_texts() -> list[tuple[int, str, str]]:  # the downloads: after the pages in view
                    made = downloads.texts(inputs.manifest, name, configs, spans, dataset.dataset)
                    return [(y, *made[y]) for y in all_years]

                first = in_view_first(planned, viewed) if serve is not None else []
                will_run, opening = bool(first) or not plan.all_cached(planned), self.pool is None
                if will_run or opening:  # the kernels start with the preview
                    self.open_pool()
                    seal_contexts(self, first or planned, planned)
                    if opening and not will_run and self.pool is not None:  # nothing runs now: the kernels warm up
                        seal_contexts(self, planned, planned, always=True)
                        prime(self.pool, [j for j in planned if Path(j.template).stem == "priority"][:2] or planned[:1])
                started = time.monotonic()
                self.timings = {"prepare": started - began}
                if first:
                    self.log(f"pages in view first: {', '.join(job.label for job in first)}")
                plan.execute(first or planned, self.jobs, log=self.log, progress=False, pool=self.pool)
                self.timings["notebooks"] = time.monotonic() - started
                texts = None if first else csv_texts()
            book.write_toc(book.toc(planned, primary))
            if first:  # the CSV downloads as they were until the rest is done
                serve(self._pages(inputs, only={page_file(job).removesuffix(".html") for job in first}))
                self.served_stamp = None
                self.log(f"pages in view reloaded in {time.monotonic() - began:.1f}s; now the rest of the book")
                if pending():
                    raise Superseded()
                with snapshot.reading(inputs, keep_dataset=not reload_data):
                    started = time.monotonic()
                    seal_contexts(self, planned, planned)
                    plan.execute(planned, self.jobs, log=self.log, progress=False, pool=self.pool)
                    texts = csv_texts()
                    self.timings["rest"] = time.monotonic() - started
                if pending():
                    raise Superseded()
            files = [book.write_downloads(y, indicators) for y, indicators, _ in texts]
            files += [book.write_london(y, sides) for y, _, sides in texts]  # the London page's download
            digest = book.stamp(planned, files)
            if digest == self.served_stamp:
                snapshot.check(inputs)
                return None
            site = self._pages(inputs)
        self.served_stamp = digest
        return site

    def _pages(self, inputs, only: set[str] | None = None) -> Path:
        """Sphinx on the notebooks installed (writing only the pages ``only`` when given:
        :meth:`cspbook.publish.sphinx_run.Warm.build`), the inputs checked, and a new copy of
        the site."""
        started = time.monotonic()
        html = self.sphinx.build(FAILURE, only=only)
        self.timings["pages"] = time.monotonic() - started
        snapshot.check(inputs)  # an input saved during the rebuild: not served; the watcher rebuilds with it
        started = time.monotonic()
        site = preview_dir() / "site" / f"{time.time_ns()}"
        self.copied = copy_site(html, site, self.site, self.copied)
        self.site = site
        self.timings["copy"] = time.monotonic() - started
        return site


def seal_contexts(builder: Builder, jobs: list, planned: list, always: bool = False) -> None:
    """Compute and seal the pages' contexts (:mod:`cspbook.pages.prepared`), each once, from
    the dataset in memory, when one of ``jobs`` will run on ``builder``'s kernels (``always``:
    in any case); not when they are cached or made from their prose (a template's sentence)."""
    if builder.pool is None or not (always or any(plan.needs_kernel(job) for job in jobs)):
        return
    from cspbook.pages import prepared

    key = (config.inputs(), tuple(sorted({(p["year"], p.get("home")) for p in (job.parameters for job in planned)})))
    if key != builder.prepared_for:  # once per snapshot: the rest of the book finds them made
        prepared.prepare([job.parameters for job in planned], builder.shared)
        builder.prepared_for = key


def prime(pool, jobs: list) -> None:
    """Run the notebooks of ``jobs`` on the kernels of ``pool`` (just opened), in the
    background, their output thrown away (each of the pool's threads runs them all, so each
    kernel runs about as many): each kernel then holds what a page works with (the dataset and
    the page context, about 80 MiB) before the first edit needs it, so the first edit runs as
    fast as the next and the preview starts at its working size. A failure here is no one's
    concern: the edit that needs the kernel reports its own."""
    env, folder = snapshot.kernel_env(), preview_dir() / "prime"
    folder.mkdir(parents=True, exist_ok=True)

    def run(number: int) -> None:
        with contextlib.suppress(Exception):
            for job in jobs:
                pool.execute_notebook(job.template, folder / f"{number}.ipynb", job.parameters, cwd=str(config.home()),
                                      env=env)

    for number in range(pool.size):
        threading.Thread(target=run, args=(number,), name=f"cspbook-prime-{number}", daemon=True).start()


RELOAD_GRACE = 1.0  # seconds the rest of a rebuild waits for the tabs showing the pages in view to reload


def build_checked(builder: Builder, **kwargs):
    """``builder.build(**kwargs)``; when it fails on an input saved again while it read that
    rebuild's snapshot (the error may be that of a file read half written: an editor that
    empties a file, then writes it: a watched file still empty is waited for first),
    InputsChanged naming it instead: the rebuild with the file as saved decides. An error raised before the snapshot was taken stands as it is."""
    builder.inputs = None
    try:
        return builder.build(**kwargs)
    except (snapshot.InputsChanged, lock.LockHeld):
        raise
    except CspbookError:
        if builder.inputs is not None:
            settle(config.home())  # a file still empty: compared once written
            snapshot.check(builder.inputs)
        raise


class Superseded(Exception):
    """A newer save came while the rest of the book was rebuilt: its rebuild does the rest."""


def page_file(job) -> str:
    """The page of the site that ``job``'s notebook makes, e.g. ``book/2011-12/asb.html``."""
    return job.output.relative_to(config.home()).with_suffix(".html").as_posix()


def in_view_first(planned: list, viewed: set[str]) -> list:
    """The jobs to run first: those of the pages in view that must run, when other jobs must
    run too (else none: one pass does it all)."""
    todo = [job for job in planned if plan.cache_problem(job) != ""]
    first = [job for job in todo if page_file(job) in viewed]
    return first if first and len(first) < len(todo) else []


def release_memory() -> None:
    """Collect garbage and hand freed heap back to the system (glibc), so the preview's size
    stays flat across rebuilds rather than keeping each Sphinx run's peak."""
    import ctypes
    import gc

    gc.collect()
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)


def _library_digest() -> str:
    from cspbook import fingerprint

    return fingerprint.library()


def _forget_definitions(reload_data: bool) -> None:
    """Forget what this process read from data/ (the lru caches of the definitions); with
    ``reload_data`` also the dataset memo (its key is the raw files, not the definitions)."""
    import functools

    for module_name, module in list(sys.modules.items()):
        if module is None or not (module_name == "cspbook" or module_name.startswith("cspbook.")):
            continue
        for value in list(vars(module).values()):
            if isinstance(value, functools._lru_cache_wrapper):
                value.cache_clear()
    if reload_data:
        dataset._MEMO.clear()


# Changes under these (relative to the project) leave the computed dataset as it was.
_DATASET_SAFE = ("book/", "data/partner/", "data/published/", "data/reports/", "_config.yml")


def needs_data_reload(paths) -> bool:
    """Whether a change of ``paths`` (relative, '/'-separated) may change the dataset.

    >>> needs_data_reload(["book/templates/asb.ipynb", "data/partner/x.csv"])
    False
    >>> needs_data_reload(["data/indicators.yml"])
    True
    """
    return any(not p.startswith(_DATASET_SAFE) for p in paths)


def clean(folder: Path, keep: set[Path]) -> None:
    """Remove every site copy in ``folder`` but those in ``keep``."""
    for path in folder.glob("*") if folder.exists() else []:
        if path not in keep:
            shutil.rmtree(path, ignore_errors=True)


def preview(borough: str, year: str, years: str | None = None, port: int = DEFAULT_PORT, jobs: int | None = None,
            mirror: Path | None = None, offline: bool = False, open_browser: bool = False, log=None,
            ready=None, to: str | None = None) -> None:
    """Serve and rebuild until interrupted (KeyboardInterrupt / signals.Interrupted)."""
    log = log or logs.line
    home = config.home()
    definitions.resolve_borough(borough)  # bad input: one message before anything starts
    start = periods.parse_year(year)
    if to:
        periods.within(start, to)
    if years:
        periods.parse_year_range(years)
    state = State()
    builder = Builder(borough, year, years, jobs or os.cpu_count() or 1, mirror, offline, log, to)
    sites = preview_dir() / "site"
    clean(sites, set())
    server = Server(make_app(state), port)
    watcher = Watcher(home)
    try:
        watcher.start()
        server.start()
        log(f"serving the preview of {borough} {year} on {server.url} (127.0.0.1 only); Ctrl-C stops it")

        def rebuild(changed: list[str] | None) -> bool:
            """One rebuild; True when it must be tried again without a save (an input changed
            while it ran, or another build held the lock)."""
            started = time.monotonic()
            state.update(building=True)
            if changed:
                log(f"changed: {', '.join(changed[:5])}{' ...' if len(changed) > 5 else ''}")
            def serve_first(site: Path) -> None:  # the pages in view, before the rest of the book
                old, before, viewed = state.site, state.generation, state.viewed()
                state.serve(site, builder.copied, phase="in view")
                log(f"pages in view served in {time.monotonic() - started:.2f}s")
                gc.enable()
                # the rest of the book waits until the tabs have reloaded (at most RELOAD_GRACE):
                # rebuilt in this process at once, it held the interpreter while they loaded
                changed = {page for page in viewed if not state.same_page(page, before, state.generation)}
                state.wait_reloaded(changed, state.generation, RELOAD_GRACE)
                clean(sites, {site, *([old] if old else [])})  # not before: the tabs' requests come first

            gc.disable()  # no 0.1-0.2 s pause for cyclic garbage before the pages in view are served
            try:
                site = build_checked(builder, reload_data=changed is None or needs_data_reload(changed),
                                     viewed=state.viewed(), serve=serve_first, pending=lambda: not watcher.changes.empty())
            except Superseded:
                log("a newer save came: the rest of the book is rebuilt with it")
                state.update(building=False, phase=None)
                return False
            except snapshot.InputsChanged as exc:
                log(f"{exc.names[0]} changed during the rebuild; nothing of it is served; rebuilding with the change")
                state.update(building=False, phase=None)
                return True
            except lock.LockHeld as exc:
                message = f"{exc}; the preview rebuilds by itself when it ends"
                log(f"rebuild waits: {message}")
                state.update(building=False, error=message, phase=None)
                return True
            except CspbookError as exc:
                log(f"rebuild failed: {exc}")
                log(f"still serving the last good pages on {server.url}")
                state.update(building=False, error=str(exc), phase=None)
                return False
            except Exception as exc:  # noqa: BLE001 - keep serving; say what happened
                log(f"rebuild failed: {type(exc).__name__}: {exc}")
                state.update(building=False, error=f"{type(exc).__name__}: {exc}", phase=None)
                return False
            finally:
                gc.enable()
            seconds = time.monotonic() - started
            if site is None:
                log(f"rebuilt in {seconds:.1f}s: the pages are unchanged")
                state.update(building=False, error=None, phase=None)
                return False
            old = state.site
            state.serve(site, builder.copied, building=False, phase=None)
            clean(sites, {site, *([old] if old else [])})  # the previous copy may still be serving a request
            release_memory()
            steps = ", ".join(f"{name} {value:.2f}s" for name, value in builder.timings.items())
            log(f"rebuilt in {seconds:.1f}s ({steps}); open pages reload ({server.url})")
            return False

        again = rebuild(None)
        if open_browser:
            webbrowser.open(server.url)
        if ready is not None:
            ready(server.url)
        while True:
            changed = watcher.next_batch(timeout=0.5)
            if changed:
                again = rebuild(changed)
            elif again and lock.holder(plan.work_dir() / "build.lock") is None:
                again = rebuild(None)  # the build that held the lock ended, or an input changed mid-rebuild
    finally:
        watcher.close()
        server.close()
        builder.close()
