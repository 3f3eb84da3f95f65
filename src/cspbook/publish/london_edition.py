"""The London edition: `cspbook build --borough all --year 2024-25` builds every borough's book
of one year into one site, with a London front page (the maps and the boroughs side by side, each
borough linking to its book), as a recipe:

lock -> data (fetch if needed) -> snapshot of the inputs -> plan (the front page, then each borough's pages in its own
folder, ``book/london-<year>/<borough>/``) -> execute all of them on one pool of warm kernels
(the dataset is computed once, each borough's page context once, and unpickled by each kernel)
-> CSV downloads -> _toc.yml (a chapter per borough) -> Jupyter Book once -> every input checked
against the snapshot -> swap into _build/html.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path

from cspbook import config, definitions, logs, words
from cspbook.compute import dataset
from cspbook.data import rawcache
from cspbook.definitions import periods, reports
from cspbook.errors import BuildError
from cspbook.execute import plan, snapshot
from cspbook.execute.plan import Job
from cspbook.publish import book, lock, overlap
from cspbook.compute.csvtext import to_csv as _csv
from cspbook.publish.build import BuildResult, counts

ALL = "all"
FRONT = "london_edition"  # the front page's template, book/templates/london_edition.ipynb
FRONT_TITLE = "London"


def is_all(borough: str) -> bool:
    """Whether ``--borough`` asks for the London edition.

    >>> is_all("all"), is_all(" ALL "), is_all("Barnet")
    (True, True, False)
    """
    return borough.strip().lower() == ALL


def edition_dir(year: int) -> Path:
    return config.home() / "book" / f"london-{periods.label(year)}"


def borough_dir(year: int, borough: str) -> Path:
    return edition_dir(year) / definitions.slug(borough)


def front_job(year: int, boroughs: list[str], manifest: dict, span: periods.Period | None = None) -> Job:
    """The London front page: its parameters are the year (whole or to date) and the boroughs of the edition."""
    template = config.templates_dir() / f"{FRONT}.ipynb"
    if not template.exists():
        raise BuildError(f"template {template} is missing; the London edition needs its front page in book/templates/")
    params = {"year": (span or periods.Period(year)).text, "boroughs": list(boroughs), "home": str(config.home())}
    key, code_key = plan.keys(template.read_bytes(), json.dumps(params, sort_keys=True).encode(), FRONT_TITLE.encode(),
                              plan.inputs_digest(manifest))
    return Job(FRONT, year, FRONT_TITLE, template, edition_dir(year) / "index.ipynb", params, key, code_key)


def planned(year: int, boroughs: list[str], manifest: dict, span: periods.Period | None = None) -> tuple[Job, dict[str, list[Job]]]:
    """The front page's job and each borough's jobs (its pages, from its report configuration).
    ``span``: the year whole or to date (default whole), as the pages' ``year``."""
    span = span or periods.Period(year)
    jobs = {b: plan.plan(b, [year], {year: reports.load(b, year).pages}, manifest, folder=borough_dir(year, b),
                         spans={year: span}) for b in boroughs}
    return front_job(year, boroughs, manifest, span), jobs


PART = "The boroughs' reports"


def toc(front: Job, jobs: dict[str, list[Job]]) -> dict:
    """The front page as the landing page, then a chapter per borough (its overview, titled
    with its name) with its other pages as sections. The navigation of every page lists the
    32 boroughs and the pages of its own borough only (``collapse_navbar``), not all 385: a list
    a reader can use, and Sphinx no longer copies the whole tree into each page (the edition's
    Sphinx run took 110 s, four fifths of it the navigation)."""
    chapters = [{"file": book._rel(pages[0].output), "title": borough,
                 "sections": [{"file": book._rel(j.output), "title": j.title} for j in pages[1:]]}
                for borough, pages in jobs.items()]
    return {"format": "jb-book", "root": book._rel(front.output), "parts": [{"caption": PART, "chapters": chapters}]}


def build_all(year: str, boroughs: list[str] | None = None, jobs: int | None = None, mirror: Path | None = None,
              offline: bool = False, log=None, progress: bool | None = None, locked: bool = False) -> BuildResult:
    """Build the London edition of ``year``: every borough (or ``boroughs``, canonical names).
    As `cspbook build` does: the kernels warm up while the data are read; this process and
    the kernels read one snapshot of the inputs, checked again before the book is swapped in;
    each borough's page context is computed once (:mod:`cspbook.pages.prepared`)."""
    log = log or logs.line
    started = time.monotonic()
    start = periods.parse_year(year)
    names = [definitions.resolve_borough(b) for b in boroughs] if boroughs else list(definitions.boroughs())
    workers = jobs or os.cpu_count() or 1
    with contextlib.nullcontext() if locked else lock.held(plan.work_dir() / "build.lock", notice=log), \
            overlap.Kernels() as kernels:
        book.check_writable()
        if overlap.clean():  # every page will run: the kernels warm up while the data are fetched and read
            kernels.start(workers)
        rawcache.ensure(mirror=mirror, offline=offline, notice=log)
        inputs = snapshot.take()  # from here on, this process and its kernels read only these bytes
        with snapshot.reading(inputs):
            span = periods.resolve(start, plan.last_month(inputs.manifest))  # whole, or to date
            front, by_borough = planned(start, names, inputs.manifest, span)
            every = [front] + [j for pages in by_borough.values() for j in pages]
            kernels.start(min(workers, overlap.to_execute(every)))
            from cspbook.compute import london, table, wards

            data = dataset.dataset()
            wards.ward_years(months=span.months)  # computed once here, read by every kernel
            configs = {b: reports.load(b, start) for b in names}
            tables = {b: table.indicator_table(data, configs[b], period=span) for b in names}  # checks the year first
            log(f"the London edition of {periods.label(start)}: {words.plural(len(names), 'borough')}, {words.plural(len(every), 'notebook')}")
            if kernels.pool is not None:
                from cspbook.pages import prepared

                prepared.prepare([job.parameters for job in every if "borough" in job.parameters])
                overlap.import_sphinx()  # while the kernels run the notebooks
            outcome = plan.execute(every, workers, log=log, progress=progress, pool=kernels.pool)
            kernels.close()
            sides = {b: london.side_by_side_for(data, span, configs[b].headline) for b in names}
            whole = london.side_by_side_for(data, span, headline(configs))
        downloads = []
        for b in names:
            folder = borough_dir(start, b)
            downloads.append(book._write(folder / "indicators.csv", _csv(tables[b])))
            downloads.append(book._write(folder / "london.csv", _csv(sides[b])))
        downloads.append(book._write(edition_dir(start) / "london.csv", _csv(whole)))
        book.write_toc(toc(front, by_borough))
        digest = book.stamp(every, downloads)
        skipped = book.up_to_date(digest, log=log)
        if skipped:
            snapshot.check(inputs)
            log(f"the book at {book.html_dir()} is up to date; Jupyter Book not run")
        else:
            book.build_html(digest, log=log, check=lambda: snapshot.check(inputs), parallel=workers)
    seconds = time.monotonic() - started
    log(f"built {book.html_dir() / 'index.html'} (the London edition): {counts(outcome)}, in {seconds:.1f}s")
    return BuildResult(book.html_dir(), outcome["ran"], outcome["reused"], skipped, seconds, outcome["prose"])


def headline(configs: dict) -> list[str]:
    """The headline measures of every borough's report, in order of first appearance."""
    return list(dict.fromkeys(i for report in configs.values() for i in report.headline))


def cover_papers(year: str, boroughs: list[str] | None = None, jobs: int | None = None, mirror: Path | None = None,
                 offline: bool = False, log=None) -> list[Path]:
    """`cspbook pdf --borough all`: the London edition built (if needed), then every borough's
    Cabinet cover paper printed as its own PDF (``<borough>-<year>-cover-paper.pdf``), all
    moved into ``_build/pdf`` together."""
    from cspbook.publish import pdf
    from cspbook.publish.print_page import _write_print_page, prepare

    log = log or logs.line
    browser = pdf.chromium()
    start = periods.parse_year(year)
    names = [definitions.resolve_borough(b) for b in boroughs] if boroughs else list(definitions.boroughs())
    with lock.held(plan.work_dir() / "build.lock", notice=log):  # one hold from the build to the last PDF
        build_all(year, boroughs=names, jobs=jobs, mirror=mirror, offline=offline, log=log, locked=True)
        page = pdf.singlehtml(log)
        html = page.read_text(encoding="utf-8")
        targets = [pdf.pdf_dir() / pdf.names(b, start)[1] for b in names]
        log(f"printing {words.plural(len(names), 'cover paper')} with {browser}")
        printed = []
        try:
            for borough, target in zip(names, targets):
                doc = book._rel(borough_dir(start, borough) / "cover_paper.ipynb")
                source = _write_print_page(page, f"print-{definitions.slug(borough)}-cover-paper.html", prepare(html, only=doc))
                printed.append(pdf.print_pdf(browser, source, pdf._pending(target)))
            done = pdf.install_together(printed, targets)
        finally:
            for tmp in printed:
                tmp.unlink(missing_ok=True)
    log(f"wrote {words.plural(len(done), 'cover paper')} into {pdf.pdf_dir()}")
    return done
