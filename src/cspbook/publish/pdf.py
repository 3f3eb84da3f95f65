"""`cspbook pdf`: the book and its Cabinet cover paper as two PDFs, printed by an installed
Chromium (Jupyter Book's own ``pdfhtml`` builder downloads a browser and fails offline).

The recipe: build the HTML book (nothing to do when it is up to date) -> build the same
table of contents as one single HTML page with Jupyter Book (strict) -> prepare it for
print (every chapter a top-level section on a named page whose header carries the
chapter title; scripts removed) -> print it, and the cover paper alone, with headless
Chromium -> move both PDFs into ``_build/pdf/`` with renames that a signal cannot cut in
two, so a reader never sees half a file, nor a report beside another build's cover paper.

The print stylesheet (A4, page numbers, no navigation, charts sized to the page, links
written out) is ``book/_static/cspbook.css``; the running header needs a named page per
chapter (``@page`` margin boxes; Chromium has no ``string-set``), so it is generated here.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from cspbook import config, definitions, logs
from cspbook.definitions import periods, reports
from cspbook.errors import BuildError
from cspbook.execute import plan
from cspbook.publish import book, build, lock
from cspbook.publish.print_page import (
    _drop_empty_notes,
    _rewrite,
    _soup,
    _write_print_page,
    prepare,
)

CHROMIUM_ENV = config.CHROMIUM_ENV


BROWSERS = ("chromium", "chromium-browser", "google-chrome")


CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--no-first-run", "--disable-extensions", "--no-pdf-header-footer",
)


PRINT_TIMEOUT = 300  # seconds for one PDF


@dataclass
class PdfResult:
    report: Path
    cover_paper: Path


def pdf_dir() -> Path:
    return config.pdf_dir()


def names(borough: str, year: int) -> tuple[str, str]:
    """The file names of the two PDFs.

    >>> names("Barking and Dagenham", 2011)
    ('barking-and-dagenham-2011-12-report.pdf', 'barking-and-dagenham-2011-12-cover-paper.pdf')
    """
    stem = f"{definitions.slug(borough)}-{periods.label(year)}"
    return f"{stem}-report.pdf", f"{stem}-cover-paper.pdf"


def pdf(borough: str, year: str, years: str | None = None, jobs: int | None = None, mirror: Path | None = None,
        offline: bool = False, log=None, to: str | None = None) -> PdfResult:
    """Build the book of ``borough`` and ``year`` if needed, then write both PDFs."""
    log = log or logs.line
    browser = chromium()
    name, start = definitions.resolve_borough(borough), periods.parse_year(year)
    report_name, paper_name = names(name, start)
    with lock.held(plan.work_dir() / "build.lock", notice=log):  # one hold from the build to the last PDF
        build.build(name, year, years=years, jobs=jobs, mirror=mirror, offline=offline, log=log, locked=True, to=to)
        page = singlehtml(log)
        html = page.read_text(encoding="utf-8")
        whole = page_references(browser, _write_print_page(page, "print-report.html", prepare(html, title=reports.load(name, start).title)), log)
        paper = _write_print_page(page, "print-cover-paper.html", prepare(html, only=f"book/{periods.label(start)}/cover_paper"))
        log(f"printing the PDFs with {browser}")
        targets = [pdf_dir() / report_name, pdf_dir() / paper_name]
        printed = []
        for left in pdf_dir().glob(".*.printed"):  # left by a process killed outright
            left.unlink(missing_ok=True)
        try:
            for source, target in zip((whole, paper), targets):
                printed.append(print_pdf(browser, source, _pending(target)))
            result = PdfResult(*install_together(printed, targets))
        finally:
            for tmp in printed:
                tmp.unlink(missing_ok=True)
    log(f"wrote {result.report} and {result.cover_paper}")
    return result


def chromium() -> str:
    """The Chromium (or Chrome) to print with: ``$CSPBOOK_CHROMIUM`` or the first on PATH."""
    given = config.chromium_from_env()
    if given:
        found = shutil.which(given)
        if not found:
            raise BuildError(f"{CHROMIUM_ENV}={given}: no such program; point it at a Chromium or Chrome binary")
        return found
    for candidate in BROWSERS:
        found = shutil.which(candidate)
        if found:
            return found
    raise BuildError(
        f"no Chromium to print the PDF with (looked for {', '.join(BROWSERS)} on PATH); install Debian's chromium "
        f"(`apt-get install chromium`, or `make browser`) or set {CHROMIUM_ENV} to a Chromium or Chrome binary"
    )


def singlehtml(log) -> Path:
    """Build the book's table of contents as one HTML page (strict, like the HTML book);
    the path of that page."""
    stage = plan.work_dir() / "singlehtml"
    unfinished = plan.work_dir() / "singlehtml.unfinished"
    if unfinished.exists():  # a failed or interrupted build may have left it broken
        log(f"discarding {stage}: it was left by a build that did not finish; building from scratch")
        shutil.rmtree(stage, ignore_errors=True)
    unfinished.parent.mkdir(parents=True, exist_ok=True)
    unfinished.touch()
    log("building the single-page HTML for print with Jupyter Book (warnings are errors)")
    book.jupyter_book("singlehtml", stage, "Jupyter Book could not build the single-page HTML")
    unfinished.unlink()
    root = yaml.safe_load(config.toc_path().read_text(encoding="utf-8"))["root"]
    page = stage / "_build" / "singlehtml" / f"{root}.html"
    if not page.exists():
        raise BuildError(f"Jupyter Book reported success but {page} is missing; delete {stage} and try again")
    return page


def page_references(browser: str, page: Path, log) -> Path:
    """Fill in the page number of every in-book link of a prepared print page (``page 00``
    from :func:`write_out_links`): print a draft, read on which page each link target
    landed (the PDF's named destinations, with poppler's ``pdfinfo -dests``), write the
    numbers in, and print again until they stay put (at most three drafts). Without
    ``pdfinfo`` the links keep their target's title and say "below" or "above" instead."""
    soup = _soup(page.read_text(encoding="utf-8"))
    numbers = soup.select("span.cspbook-page")
    if not numbers:
        return page
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        log("note: no pdfinfo (apt-get install poppler-utils) to find page numbers; links name their target only")
        for number in numbers:
            number.decompose()
        return _rewrite(page, _drop_empty_notes(soup))
    for fallback in soup.select("span.cspbook-direction"):
        fallback.decompose()
    draft, written = page.with_name(page.stem + "-draft.pdf"), None
    try:
        for _ in range(3):
            print_pdf(browser, page, draft)
            landed = destinations(pdfinfo, draft)
            found = {n["data-cspbook-anchor"]: landed.get(n["data-cspbook-anchor"]) for n in numbers}
            if found == written:
                break
            for number in numbers:
                at = found[number["data-cspbook-anchor"]]
                number.string = f"{number['data-cspbook-prefix']}page {at}" if at else ""
            page, written = _rewrite(page, _drop_empty_notes(soup)), found
    finally:
        draft.unlink(missing_ok=True)
    return page


def destinations(pdfinfo: str, pdf_path: Path) -> dict[str, int]:
    """The page of each named destination of a PDF (Chromium writes one per element id).

    >>> [(int(m[1]), m[2]) for m in _DEST.finditer('   4 [ XYZ    0  815 null      ] "document-book/2011-12/asb"')]
    [(4, 'document-book/2011-12/asb')]
    """
    out = subprocess.run([pdfinfo, "-dests", str(pdf_path)], capture_output=True, text=True, timeout=60)
    if out.returncode != 0:
        raise BuildError(f"pdfinfo could not read the draft {pdf_path} (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    pages = {}
    for match in _DEST.finditer(out.stdout):
        pages.setdefault(match[2], int(match[1]))
    return pages


_DEST = re.compile(r'^\s*(\d+)\s+\[[^\]]*\]\s+"(.*)"\s*$', re.M)


def _pending(target: Path) -> Path:
    """Where a PDF waits, printed, until both are moved into place together."""
    return target.with_name(f".{target.name}.{os.getpid()}.printed")


def install_together(printed: list[Path], targets: list[Path]) -> list[Path]:
    """Move every printed PDF into place with SIGINT and SIGTERM held back, so the report
    and its cover paper are always from the same build; a signal that came meanwhile is
    delivered afterwards and says that they were written."""
    from cspbook import signals

    try:
        with signals.deferred():
            for tmp, target in zip(printed, targets):
                os.replace(tmp, target)
    except KeyboardInterrupt as exc:
        exc.outcome = f"the new PDFs were written to {targets[0].parent} (the signal came as they were being moved in)"
        raise
    return targets


def print_pdf(browser: str, page: Path, target: Path, timeout: int = PRINT_TIMEOUT) -> Path:
    """Print ``page`` to ``target`` with headless Chromium, atomically (temp file + rename)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    tmp.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="cspbook-chromium-") as profile:
        cmd = [browser, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--print-to-pdf={tmp}", page.resolve().as_uri()]
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
        try:
            output, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            _stop(proc)
            tmp.unlink(missing_ok=True)
            raise BuildError(f"Chromium did not finish printing {page} within {timeout}s; nothing was written") from None
        except BaseException:  # interrupted: stop the browser we started, leave no partial file
            _stop(proc)
            tmp.unlink(missing_ok=True)
            raise
    if proc.returncode != 0 or not tmp.exists() or tmp.read_bytes()[:5] != b"%PDF-":
        tmp.unlink(missing_ok=True)
        tail = "\n".join(output.strip().splitlines()[-10:])
        raise BuildError(f"Chromium could not print {page} (exit {proc.returncode}); nothing was written:\n{tail}")
    os.replace(tmp, target)
    return target


def _stop(proc: subprocess.Popen) -> None:
    """End the browser we started and its helper processes (its own process group)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()
