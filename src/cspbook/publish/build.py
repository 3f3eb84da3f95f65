"""`cspbook build`: the whole report, as a recipe.

lock -> check parameters -> data (fetch if needed) -> snapshot of the inputs -> plan notebooks
-> execute (cached, parallel; kernels read the snapshot) -> CSV downloads and _toc.yml ->
Jupyter Book (strict) -> every input checked against the snapshot -> swap into _build/html.
"""

from __future__ import annotations

import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from cspbook import config, definitions, logs, words
from cspbook.compute import dataset
from cspbook.data import rawcache
from cspbook.definitions import periods, reports
from cspbook.execute import plan, snapshot
from cspbook.publish import book, downloads, lock, overlap, sphinx_early


def _unchanged(planned: list, primary: int, years: list[int], log=None) -> bool:
    """True when every notebook is cached and the HTML was built from exactly these inputs.

    The CSV downloads need no recomputing then: they depend only on the data, definitions
    and library that the notebooks' keys already cover.
    """
    if not plan.all_cached(planned):
        return False
    downloads = [book.download_path(y) for y in years] + [book.london_path(y) for y in years]
    if not all(path.exists() for path in downloads):
        return False
    book.write_toc(book.toc(planned, primary))
    return book.up_to_date(book.stamp(planned, downloads), log=log)


@dataclass
class BuildResult:
    html: Path
    ran: list
    reused: list
    skipped_html: bool
    seconds: float
    prose: list = field(default_factory=list)  # made from their earlier outputs: only prose changed


def counts(outcome: dict) -> str:
    """The notebooks of a build, for its last line.

    >>> counts({"ran": [1], "reused": [], "prose": []}), counts({"ran": [], "reused": [1, 2], "prose": [3]})
    ('1 notebook executed, 0 reused', '0 notebooks executed, 2 reused, 1 prose only (outputs reused)')
    """
    text = f"{words.plural(len(outcome['ran']), 'notebook')} executed, {len(outcome['reused'])} reused"
    return text + (f", {len(outcome['prose'])} prose only (outputs reused)" if outcome.get("prose") else "")


def build(borough: str, year: str, years: str | None = None, jobs: int | None = None,
          mirror: Path | None = None, offline: bool = False, log=None, progress: bool | None = None, locked: bool = False,
          to: str | None = None) -> BuildResult:
    """Build the book of ``borough`` for ``year`` (and the other ``years``, e.g. 2010-11..2012-13).
    A year the data do not cover to March is reported to date (to ``to``, YYYY-MM, when given).
    ``locked``: the caller already holds the build lock (``cspbook pdf`` holds it from the
    build to the last PDF, so no other build can change the book in between)."""
    log = log or logs.line
    started = time.monotonic()
    name = definitions.resolve_borough(borough)
    primary = periods.parse_year(year)
    if to:
        periods.within(primary, to)  # a bad --to is named before anything starts
    all_years = sorted(set(periods.parse_year_range(years)) | {primary}) if years else [primary]
    configs = {y: reports.load(name, y) for y in all_years}
    workers = jobs or os.cpu_count() or 1
    with contextlib.nullcontext() if locked else lock.held(plan.work_dir() / "build.lock", notice=log), \
            overlap.Kernels() as kernels, sphinx_early.Early() as early:
        early.start(config.home())  # Sphinx imported on the other core meanwhile (stopped when not needed)
        book.check_writable()
        if overlap.clean():  # every page will run: the kernels warm up while the data are fetched and read
            kernels.start(min(workers, sum(len(configs[y].pages) for y in all_years)))
        rawcache.ensure(mirror=mirror, offline=offline, notice=log)
        inputs = snapshot.take()  # from here on, this process and its kernels read only these bytes
        with snapshot.reading(inputs):
            configs = {y: reports.load(name, y) for y in all_years}
            pages = {y: configs[y].pages for y in all_years}
            last = plan.last_month(inputs.manifest)
            spans = {y: periods.resolve(y, last, to if y == primary else None) for y in all_years}
            planned = plan.plan(name, all_years, pages, inputs.manifest, spans=spans)
            if _unchanged(planned, primary, all_years, log):
                # Nothing that the book depends on changed: no data to load, no notebook to run,
                # no Jupyter Book (and no pandas import: this path is nearly free).
                outcome = plan.execute(planned, workers, log=log, progress=progress)
                snapshot.check(inputs)
                seconds = time.monotonic() - started
                log(f"the book at {book.html_dir()} is up to date; Jupyter Book not run")
                log(f"built {book.html_dir() / 'index.html'}: {words.plural(0, 'notebook')} executed, {len(planned)} reused, in {seconds:.1f}s")
                return BuildResult(book.html_dir(), outcome["ran"], outcome["reused"], True, seconds)
            kernels.start(min(workers, overlap.to_execute(planned)))  # warming up while the dataset is computed
            # the CSV downloads first (computing them checks every year's figures), unless kept from
            # the same inputs: then a prose edit loads no dataset
            texts = downloads.texts(inputs.manifest, name, configs, spans, dataset.dataset)
            if kernels.pool is not None:
                from cspbook.pages import prepared

                prepared.prepare([job.parameters for job in planned])  # once, not once per page: while the kernels warm up
            outcome = plan.execute(planned, workers, log=log, progress=progress, pool=kernels.pool)
            kernels.close()
        files = [book.write_downloads(y, texts[y][0]) for y in all_years]
        files += [book.write_london(y, texts[y][1]) for y in all_years]
        book.write_toc(book.toc(planned, primary))
        digest = book.stamp(planned, files)
        if book.up_to_date(digest, log=log):
            snapshot.check(inputs)
            log(f"the book at {book.html_dir()} is up to date; Jupyter Book not run")
            skipped = True
        else:
            book.build_html(digest, log=log, check=lambda: snapshot.check(inputs), early=early)
            skipped = False
    seconds = time.monotonic() - started
    log(f"built {book.html_dir() / 'index.html'}: {counts(outcome)}, in {seconds:.1f}s")
    return BuildResult(book.html_dir(), outcome["ran"], outcome["reused"], skipped, seconds, outcome["prose"])
