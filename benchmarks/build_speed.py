"""Build speed, side by side on one machine, for the Barking and Dagenham book of one year
(2011-12) and of three years (2010-11..2012-13):

  fetch  `cspbook fetch` from the mirror into a clean project tree (the MPS files and the open
      sources, each checked by its reader, 4-8 s; since 2026-12-04 night the frames those checks
      parsed are kept in .cspbook/parsed, and every later process, a's build and b's preparation
      alike, reads them instead of parsing the files again): timed once, on its own; every
      scenario below starts from a copy of that tree, as b and e always did
  a   `cspbook build` from a clean project tree whose raw data are fetched (no dataset, no
      page context, no CSV downloads, no notebook cache, no HTML)
  b   the same notebooks the way a plain Jupyter Book user builds them: the templates with
      their parameters written in (papermill, prepare only, with the dataset and the downloads
      the notebooks read: timed, as a pays for them), `execute_notebooks: force`
      (Jupyter Book's own serial execution), the same _toc.yml, `jupyter-book build`
  c   `cspbook build` again with nothing changed
  d   `cspbook build` after changing one sentence of one template (the priority template: a change of
      prose only, so its five chapters are made from their earlier outputs, no kernel)
  e   the floor: an empty notebook executed by papermill once per notebook of the book,
      divided by the number of workers, plus a Jupyter Book build of the same pages with
      execution off
  p   `cspbook preview` (issue 12), running on the tree of a/c/d: the time from saving a
      change of one sentence of the priority template to the violent crime page in Chromium
      showing it after its automatic reload (median of the run's template edits). "Showing":
      the end of the ``load`` event of the reloaded page that holds the change, by the
      browser's own navigation timing (performance.timeOrigin + loadEventEnd, this machine's
      clock, as the time of the save). Playwright confirms the text is on the page, but its
      wait polls every 500 ms after the first quarter second, which added up to half a
      second of its own to each edit; that time is kept as ``observed``
  p2  the same for a change of one partner figure (drug treatment completion), on the
      page that shows it (reducing re-offending); template and partner edits alternate, 20
      edits in all; the preview's memory (RSS of its process tree: itself and its warm
      kernels) is sampled after the first edit, the second and the twentieth (the first, a
      change of prose only, runs no kernel: the second is the first after which the kernels
      have run notebooks)
  f   the library alone: every indicator for all 32 boroughs and all years (in-process)
  a_papermill   a with CSPBOOK_ENGINE=papermill (a fresh kernel per notebook), for comparison

    .venv/bin/python benchmarks/build_speed.py            # full: 3 runs each, both books
    .venv/bin/python benchmarks/build_speed.py --quick    # smoke check: 1 run, one-year book

Every build is a separate process (the command line, as an analyst runs it) in a scratch
project tree under a temporary folder, so the repository's own _build/ and .cspbook/ are
untouched. The library is a snapshot of src/ taken at the start (PYTHONPATH), so colleagues
editing the tree during the run cannot invalidate caches between a and c. Times are wall
clock, medians over the runs; CPU is the user+system time of the whole process tree
(resource.getrusage(RUSAGE_CHILDREN) around each build), steadier than wall time on a shared
machine. Peak memory is the largest sum of RSS over the build's process tree (the build,
its kernels, Jupyter Book), sampled every 20 ms with psutil; pages shared between processes
are counted once per process, so it errs high. Results: benchmarks/results/build_speed-<timestamp>.json.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(REPO / "tests"))

import indicators as indicators_bench  # noqa: E402  (benchmarks/indicators.py)

from cspbook.words import plural  # noqa: E402

BOROUGH = "Barking and Dagenham"
BOOKS = {
    "one-year": {"year": "2011-12", "years": None},
    "three-year": {"year": "2011-12", "years": "2010-11..2012-13"},
}
CHANGED_TEMPLATE = "priority"  # the one template of every priority chapter: its five notebooks are remade
CHANGED_PAGE = "violent_crime"  # a page made from it, where the change is read
# Every target, in one table: the limit printed is the limit checked (issues 5, 12, 21).
TARGETS = {
    ("*", "a/b"): 0.3, ("*", "c/a"): 0.05, ("*", "d/a"): 0.35, ("*", "a/e"): 1.2,
    ("*", "p/a"): 0.15, ("*", "p2/a"): 0.1,
}
PEAK_TARGET_MIB = 1.5 * 1024  # one-year build
PREVIEW_EDITS = 20
MEMORY_GROWTH_TARGET = 0.10  # after 20 edits, within 10% of after the first
CHROMIUM = Path(os.environ.get("CSPBOOK_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
BIN = Path(sys.executable).parent


# -- measuring one process tree -----------------------------------------------------


class Measured:
    """Run a command; wall seconds, CPU seconds of the tree, peak RSS of the tree, output."""

    def __init__(self, cmd: list[str], env: dict, cwd: Path, interval: float = 0.02):
        self.cmd = cmd
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        self.peak_rss = 0
        self.peak_processes = 0
        done = threading.Event()

        def sample():
            root = psutil.Process(proc.pid)
            while not done.is_set():
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    break
                total = 0
                for p in tree:
                    try:
                        total += p.memory_info().rss
                    except psutil.Error:
                        pass
                self.peak_rss = max(self.peak_rss, total)
                self.peak_processes = max(self.peak_processes, len(tree))
                done.wait(interval)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        self.output, _ = proc.communicate()
        self.seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        self.cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        self.returncode = proc.returncode
        if proc.returncode != 0:
            raise SystemExit(f"failed (exit {proc.returncode}): {' '.join(cmd)}\n{self.output[-4000:]}")

    def record(self, **extra) -> dict:
        return {"seconds": self.seconds, "cpu_seconds": self.cpu, "peak_rss_mib": self.peak_rss / 2**20,
                "peak_processes": self.peak_processes, **extra}


# -- the scenarios ------------------------------------------------------------------


class Bench:
    def __init__(self, root: Path, mirror: Path, jobs: int, log):
        self.root = root
        self.mirror = mirror
        self.jobs = jobs
        self.log = log
        self.lib = root / "lib"
        shutil.copytree(REPO / "src", self.lib, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        compileall.compile_dir(self.lib, quiet=1)  # as on a machine that caches bytecode
        from bookfixtures import make_project

        self.seed = make_project(root / "seed")  # templates, _config.yml, definitions: snapshot too
        self.count = 0
        self.fetched = Measured([str(BIN / "cspbook"), "fetch"], self.env(self.seed), self.seed).record()
        log(f"  fetch  cspbook fetch into a clean tree {self.fetched['seconds']:7.2f} s  (every scenario starts from a copy of it)")

    def env(self, home: Path, engine: str = "warm") -> dict:
        return dict(os.environ, CSPBOOK_HOME=str(home), CSPBOOK_MIRROR=str(self.mirror), CSPBOOK_ENGINE=engine,
                    PYTHONPATH=os.pathsep.join([str(self.lib), *filter(None, [os.environ.get("PYTHONPATH")])]),
                    PYTHONDONTWRITEBYTECODE="1")

    def project(self, label: str) -> Path:
        self.count += 1
        home = self.root / f"{self.count:03d}-{label}"
        shutil.copytree(self.seed, home)
        return home

    def build_cmd(self, book: dict) -> list[str]:
        cmd = [str(BIN / "cspbook"), "build", "--borough", BOROUGH, "--year", book["year"], "--jobs", str(self.jobs)]
        return cmd + (["--years", book["years"]] if book["years"] else [])

    def cspbook_build(self, home: Path, book: dict, engine: str = "warm") -> dict:
        m = Measured(self.build_cmd(book), self.env(home, engine), home)
        found = re.search(r"(\d+) notebooks? executed, (\d+) reused(?:, (\d+) prose only \(outputs reused\))?, in ([\d.]+)s", m.output)
        executed, reused, prose, inside = ((int(found[1]), int(found[2]), int(found[3] or 0), float(found[4])) if found
                                           else (None, None, None, None))
        return m.record(executed=executed, reused=reused, prose=prose, seconds_inside=inside,
                        jupyter_book_skipped="Jupyter Book not run" in m.output)

    def a(self, book: dict, engine: str = "warm") -> tuple[dict, Path]:
        home = self.project(f"a-{engine}")
        return self.cspbook_build(home, book, engine), home

    def c(self, home: Path, book: dict) -> dict:
        result = self.cspbook_build(home, book)
        if result["executed"] != 0 or not result["jupyter_book_skipped"]:
            self.log(f"    warning: c executed {plural(result['executed'], 'notebook')}; Jupyter Book skipped: {result['jupyter_book_skipped']}")
        return result

    def d(self, home: Path, book: dict, edit: int) -> dict:
        import nbformat

        path = home / "book" / "templates" / f"{CHANGED_TEMPLATE}.ipynb"
        nb = nbformat.read(path, as_version=4)
        cell = next(c for c in nb.cells if c.cell_type == "markdown" and not c.source.startswith("# "))
        cell.source += f"\n\n(Benchmark edit {edit}.)"
        nbformat.write(nb, path)
        result = self.cspbook_build(home, book)
        expected = self.chapters(book)  # a sentence: prose only, every chapter of the template remade without a kernel
        if (result["executed"], result["prose"]) != (0, expected):
            self.log(f"    warning: d executed {plural(result['executed'], 'notebook')} and made {result['prose']} from prose only; "
                     f"expected 0 and {expected}")
        return result

    def chapters(self, book: dict) -> int:
        """How many pages of the book the priority template makes: the priority chapters of every year."""
        from cspbook import caches
        from cspbook.definitions import periods, reports

        old = os.environ.get("CSPBOOK_HOME")
        os.environ["CSPBOOK_HOME"] = str(self.seed)
        caches.clear()
        try:
            return sum(priority for year in self.years(book)
                       for _, _, priority in reports.load(BOROUGH, periods.parse_year(year)).pages)
        finally:
            if old is None:
                os.environ.pop("CSPBOOK_HOME", None)
            else:
                os.environ["CSPBOOK_HOME"] = old
            caches.clear()

    def years(self, book: dict) -> list[str]:
        if not book["years"]:
            return [book["year"]]
        first, last = book["years"].split("..")
        return [f"{y}-{(y + 1) % 100:02d}" for y in range(int(first[:4]), int(last[:4]) + 1)]

    def b(self, book: dict) -> dict:
        """Plain Jupyter Book: parameters written in, execute_notebooks: force."""
        home = self.project("b")
        env = self.env(home)
        prepare = Measured([sys.executable, "-c", PREPARE_PLAIN_BOOK, BOROUGH, book["year"], book["years"] or ""], env, home)
        prepared = json.loads(prepare.output.strip().splitlines()[-1])
        m = Measured([str(BIN / "jupyter-book"), "build", str(home)], env, home)
        failed = [line for line in m.output.splitlines() if "Execution Failed" in line or "Executing notebook failed" in line
                  or ("WARNING" in line and "execut" in line.lower())]
        if failed:
            raise SystemExit("the plain Jupyter Book build did not execute every notebook:\n" + "\n".join(failed[:10]))
        executed = len(re.findall(r"Executed notebook in", m.output)) or None
        warnings = [line for line in m.output.splitlines() if "WARNING" in line]
        record = m.record(notebooks=prepared["notebooks"], parameterize_seconds=prepared["seconds"],
                          executed_reported=executed, warnings=warnings[:20], jupyter_book_seconds=m.seconds,
                          prepare_seconds=prepare.seconds)
        # the dataset, the downloads and the parameters: what a pays for too
        record.update(seconds=prepare.seconds + m.seconds, cpu_seconds=prepare.cpu + m.cpu,
                      peak_rss_mib=max(prepare.peak_rss, m.peak_rss) / 2**20)
        return record

    def e(self, built_home: Path, notebooks: int) -> dict:
        """The floor: empty notebooks through papermill (serial, / workers) + Jupyter Book, execution off."""
        home = self.project("e")
        empty = self.root / "empty.ipynb"
        m1 = Measured([sys.executable, "-c", EMPTY_NOTEBOOKS, str(empty), str(notebooks)], self.env(home), home)
        papermill_seconds = json.loads(m1.output.strip().splitlines()[-1])["seconds"]
        for item in ("_toc.yml", "_config.yml"):
            shutil.copy2(built_home / item, home / item)
        for year_dir in (built_home / "book").glob("[0-9]*"):
            shutil.copytree(year_dir, home / "book" / year_dir.name)
        m2 = Measured([str(BIN / "jupyter-book"), "build", str(home)], self.env(home), home)
        return {
            "seconds": papermill_seconds / self.jobs + m2.seconds,
            "papermill_empty_total_seconds": papermill_seconds,
            "papermill_empty_per_notebook_seconds": papermill_seconds / notebooks,
            "workers": self.jobs,
            "notebooks": notebooks,
            "jupyter_book_off_seconds": m2.seconds,
            "cpu_seconds": m1.cpu + m2.cpu,
            "peak_rss_mib": max(m1.peak_rss, m2.peak_rss) / 2**20,
        }


    def preview(self, home: Path, book: dict, edits: int = PREVIEW_EDITS) -> dict:
        """p and p2, measured in Chromium on a running `cspbook preview` (see the docstring)."""
        import signal

        from playwright.sync_api import sync_playwright

        cmd = [str(BIN / "cspbook"), "preview", "--borough", BOROUGH, "--year", book["year"], "--port", "0",
               "--jobs", str(self.jobs)] + (["--years", book["years"]] if book["years"] else [])
        proc = subprocess.Popen(cmd, env=self.env(home), cwd=home, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                text=True, process_group=0)
        lines: list[str] = []
        reader = threading.Thread(target=lambda: lines.extend(iter(proc.stderr.readline, "")), daemon=True)
        reader.start()

        def wait_for(text: str, count: int = 1, timeout: float = 300) -> None:
            deadline = time.monotonic() + timeout
            while sum(text in line for line in list(lines)) < count:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise SystemExit("the preview stopped or hung:\n" + "".join(lines)[-4000:])
                time.sleep(0.02)

        def open_in_tab(page, path: str) -> None:
            """Open ``path`` and wait until the preview knows the tab shows it (its event stream is
            open), as for an analyst who has the page open before saving: ``load`` fires before the
            page's event stream connects, and a save in between would find no page in view."""
            import json
            import urllib.request

            page.goto(f"{url}{path}", wait_until="load")
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                with urllib.request.urlopen(f"{url}_cspbook-preview/state", timeout=5) as response:
                    if path in json.loads(response.read())["viewing"]:
                        return
                time.sleep(0.02)
            raise SystemExit(f"the preview never saw the tab on {path}")

        def tree_rss_mib() -> dict:
            """RSS of the preview process and of each of its children (the warm kernels), MiB."""
            sizes = []
            for p in [psutil.Process(proc.pid), *psutil.Process(proc.pid).children(recursive=True)]:
                try:
                    sizes.append(p.memory_info().rss / 2**20)
                except psutil.Error:
                    pass
            return {"total": sum(sizes), "preview": sizes[0], "children": sizes[1:]}

        def shown_after(saved: float) -> float:
            """Seconds from ``saved`` (time.time() of the save) to the end of the load event of
            the page now open, which shows the change (see the module's docstring)."""
            page.wait_for_load_state("load")
            loaded = page.evaluate("() => performance.timeOrigin + performance.getEntriesByType('navigation')[0].loadEventEnd")
            return loaded / 1000 - saved

        template = home / "book" / "templates" / f"{CHANGED_TEMPLATE}.ipynb"
        partner = home / "data" / "partner" / "barking-and-dagenham-2011-12.csv"
        figure = "drug_treatment_completion,57,63,"
        p, p2, memory = [], [], {}
        observed: dict[str, list[float]] = {"p": [], "p2": []}  # Playwright's wait (its polling included)
        try:
            wait_for("rebuilt in")
            url = re.search(r"on (http://127\.0\.0\.1:\d+/)", "".join(lines))[1]
            with sync_playwright() as pw:
                browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
                page = browser.new_page()
                for edit in range(1, edits + 1):
                    rebuilds = sum("rebuilt in" in line for line in list(lines))
                    if edit % 2:  # a sentence in the template, read on its page
                        open_in_tab(page, f"book/{book['year']}/{CHANGED_PAGE}.html")
                        import nbformat

                        nb = nbformat.read(template, as_version=4)
                        cell = next(c for c in nb.cells if c.cell_type == "markdown" and not c.source.startswith("# "))
                        shown = f"Preview benchmark edit {edit}."
                        cell.source += f"\n\n{shown}"
                        text = nbformat.writes(nb)
                        started, saved = time.perf_counter(), time.time()
                        template.write_text(text, encoding="utf-8")
                        page.get_by_text(shown).first.wait_for(timeout=300_000)
                        observed["p"].append(time.perf_counter() - started)
                        p.append(shown_after(saved))
                    else:  # one partner figure, read on the page that shows it
                        open_in_tab(page, "book/2011-12/reoffending.html")
                        value = 64 + edit // 2  # 65, 66, ...: each edit shows a new figure
                        new = f"drug_treatment_completion,57,{value},"
                        text = partner.read_text(encoding="utf-8")
                        started, saved = time.perf_counter(), time.time()
                        partner.write_text(text.replace(figure, new), encoding="utf-8")
                        page.get_by_text(f"from 57% to {value}%").first.wait_for(timeout=300_000)
                        observed["p2"].append(time.perf_counter() - started)
                        p2.append(shown_after(saved))
                        figure = new
                    wait_for("rebuilt in", rebuilds + 1)
                    if edit in (1, 2, edits):  # after edit 2 too: edit 1 (prose only) runs no kernel
                        time.sleep(0.5)
                        memory[edit] = tree_rss_mib()
                    key = "p" if edit % 2 else "p2"
                    self.log(f"      edit {edit:2}: {(p if edit % 2 else p2)[-1]:.2f} s (Playwright saw it after {observed[key][-1]:.2f} s)")
                browser.close()
        finally:
            os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            reader.join(5)
        first, second, last = memory.get(1), memory.get(2), memory.get(edits)
        return {"p": {"seconds": statistics.median(p), "all": p, "observed": observed["p"]},
                "p2": {"seconds": statistics.median(p2), "all": p2, "observed": observed["p2"]},
                "memory_mib": {"after_edit_1": first["total"], "after_edit_2": second["total"], f"after_edit_{edits}": last["total"],
                               "growth": last["total"] / first["total"] - 1,
                               "growth_from_edit_2": last["total"] / second["total"] - 1,
                               "by_process": {1: first, 2: second, edits: last}},
                "exit_code": proc.returncode}


PREPARE_PLAIN_BOOK = r"""
import json, sys, time
import papermill, yaml
from cspbook import config, definitions
from cspbook.publish import book
from cspbook.definitions import periods
from cspbook.definitions import reports
from cspbook.execute import plan
from cspbook.compute import table
from cspbook.compute import dataset
from cspbook.data import rawcache
borough, year, years = sys.argv[1], sys.argv[2], sys.argv[3]
name = definitions.resolve_borough(borough)
primary = periods.parse_year(year)
all_years = sorted(set(periods.parse_year_range(years)) | {primary}) if years else [primary]
configs = {y: reports.load(name, y) for y in all_years}
manifest = rawcache.ensure()
data = dataset.dataset()
for y in all_years:  # the download the overview links to
    book.write_downloads(y, table.indicator_table(data, configs[y]).to_csv(index=False, lineterminator="\n"))
pages = {y: configs[y].pages for y in all_years}
jobs = plan.plan(name, all_years, pages, manifest)
started = time.perf_counter()
for job in jobs:
    job.output.parent.mkdir(parents=True, exist_ok=True)
    papermill.execute_notebook(str(job.template), str(job.output), parameters=job.parameters,
                               prepare_only=True, kernel_name="python3", progress_bar=False)
seconds = time.perf_counter() - started
book.write_toc(book.toc(jobs, primary))
cfg_path = config.home() / "_config.yml"
cfg = yaml.safe_load(cfg_path.read_text())
cfg.setdefault("execute", {}).update({"execute_notebooks": "force", "timeout": 600})
cfg_path.write_text(yaml.safe_dump(cfg, sort_keys=False))
print(json.dumps({"notebooks": len(jobs), "seconds": seconds}))
"""

EMPTY_NOTEBOOKS = r"""
import json, sys, time
import nbformat, papermill
path, count = sys.argv[1], int(sys.argv[2])
nb = nbformat.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbformat.v4.new_code_cell("pass")]
nbformat.write(nb, path)
started = time.perf_counter()
for i in range(count):
    papermill.execute_notebook(path, path + ".out.ipynb", progress_bar=False, kernel_name="python3")
print(json.dumps({"seconds": time.perf_counter() - started}))
"""


# -- the run ---------------------------------------------------------------------------


def median(records: list[dict], key: str = "seconds") -> float | None:
    values = [r[key] for r in records if r.get(key) is not None]
    return statistics.median(values) if values else None


def measure_book(bench: Bench, label: str, book: dict, runs: int, papermill_too: bool, log, preview_too: bool = True) -> dict:
    scenarios = {k: [] for k in ("a", "c", "d", "b", "e", *(["a_papermill"] if papermill_too else []),
                                 *(["p", "p2"] if preview_too else []))}
    memory: list[dict] = []
    for run in range(1, runs + 1):
        log(f"  [{label}] run {run}/{runs}")
        a, home = bench.a(book)
        scenarios["a"].append(a)
        log(f"    a  cspbook build, clean tree       {a['seconds']:7.2f} s  ({a['executed']} notebooks, peak {a['peak_rss_mib']:.0f} MiB)")
        c = bench.c(home, book)
        scenarios["c"].append(c)
        log(f"    c  nothing changed                 {c['seconds']:7.2f} s  (inside the build: {c['seconds_inside']} s)")
        d = bench.d(home, book, run)
        scenarios["d"].append(d)
        log(f"    d  one template sentence changed   {d['seconds']:7.2f} s  ({d['executed']} rerun, {d['prose']} prose only)")
        if preview_too:
            pv = bench.preview(home, book)
            scenarios["p"].append(pv["p"])
            scenarios["p2"].append(pv["p2"])
            memory.append(pv["memory_mib"])
            log(f"    p  preview, template edit -> page  {pv['p']['seconds']:7.2f} s  (median of {len(pv['p']['all'])}; "
                f"Playwright saw it after {statistics.median(pv['p']['observed']):.2f} s)")
            log(f"    p2 preview, partner figure -> page {pv['p2']['seconds']:7.2f} s  (median of {len(pv['p2']['all'])}; "
                f"Playwright saw it after {statistics.median(pv['p2']['observed']):.2f} s); "
                f"memory {pv['memory_mib']['after_edit_1']:.0f} MiB after edit 1, "
                f"{pv['memory_mib'][f'after_edit_{PREVIEW_EDITS}']:.0f} MiB after edit {PREVIEW_EDITS}")
        if papermill_too:
            ap, _ = bench.a(book, engine="papermill")
            scenarios["a_papermill"].append(ap)
            log(f"    a  with CSPBOOK_ENGINE=papermill   {ap['seconds']:7.2f} s  (peak {ap['peak_rss_mib']:.0f} MiB)")
        b = bench.b(book)
        scenarios["b"].append(b)
        log(f"    b  plain Jupyter Book, force       {b['seconds']:7.2f} s  ({b['notebooks']} notebooks, peak {b['peak_rss_mib']:.0f} MiB)")
        e = bench.e(home, a["executed"] or b["notebooks"])
        scenarios["e"].append(e)
        log(f"    e  floor                           {e['seconds']:7.2f} s  (papermill empty {e['papermill_empty_per_notebook_seconds']:.2f} s/notebook, "
            f"Jupyter Book off {e['jupyter_book_off_seconds']:.2f} s)")
    med = {k: median(v) for k, v in scenarios.items()}
    med_cpu = {k: median(v, "cpu_seconds") for k, v in scenarios.items()}
    ratios = {"a/b": med["a"] / med["b"], "c/a": med["c"] / med["a"], "d/a": med["d"] / med["a"], "a/e": med["a"] / med["e"]}
    if papermill_too:
        ratios["a/a_papermill"] = med["a"] / med["a_papermill"]
    if preview_too:
        ratios["p/a"], ratios["p2/a"] = med["p"] / med["a"], med["p2"] / med["a"]
    peak = {k: max(r["peak_rss_mib"] for r in v) for k, v in scenarios.items() if k not in ("p", "p2")}
    targets = {}
    for (which, ratio), limit in TARGETS.items():
        if which in ("*", label) and ratio in ratios:
            targets[f"{ratio} <= {limit}"] = ratios[ratio] <= limit
    if label == "one-year":
        targets[f"peak memory of a < {PEAK_TARGET_MIB:.0f} MiB"] = peak["a"] < PEAK_TARGET_MIB
    if preview_too:
        growth = max(m["growth"] for m in memory)
        targets[f"preview memory after {PREVIEW_EDITS} edits within {MEMORY_GROWTH_TARGET:.0%} of after 1"] = growth <= MEMORY_GROWTH_TARGET
    return {"book": book, "runs": scenarios, "median_seconds": med, "median_cpu_seconds": med_cpu,
            "ratios": ratios, "peak_rss_mib": peak, "targets": targets, "preview_memory_mib": memory}


def machine() -> dict:
    def version(dist):
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as v

        try:
            return v(dist)
        except PackageNotFoundError:
            return None

    git = lambda *args: subprocess.run(["git", *args], cwd=REPO, capture_output=True, text=True).stdout.strip()  # noqa: E731
    return {
        "cores_logical": os.cpu_count(), "cores_physical": psutil.cpu_count(logical=False),
        "memory_gib": psutil.virtual_memory().total / 2**30, "platform": platform.platform(),
        "python": platform.python_version(),
        "packages": {d: version(d) for d in ("jupyter-book", "myst-nb", "sphinx", "papermill", "nbclient", "jupyter_client",
                                             "ipykernel", "pandas", "matplotlib", "seaborn")},
        "git_head": git("rev-parse", "HEAD"), "git_dirty": git("status", "--porcelain").splitlines(),
    }


def summary(results: dict) -> str:
    lines = []
    for label, r in results["books"].items():
        m, c, ratios = r["median_seconds"], r["median_cpu_seconds"], r["ratios"]
        lines.append(f"{label} book ({r['runs']['a'][0]['executed']} notebooks), median of {plural(len(r['runs']['a']), 'run')}:")
        names = {"a": "cspbook build, clean tree, data fetched", "b": "plain Jupyter Book (+ dataset, parameters)", "c": "rebuild, nothing changed",
                 "d": f"rebuild, {CHANGED_TEMPLATE} template sentence changed", "e": "floor (empty papermill / workers + JB off)",
                 "a_papermill": "a with CSPBOOK_ENGINE=papermill",
                 "p": "preview: template edit to page shown", "p2": "preview: partner figure to page shown"}
        for key, name in names.items():
            if key in ("p", "p2") and key in m:
                seen = statistics.median([x for run in r["runs"][key] for x in run.get("observed", [])] or [float("nan")])
                lines.append(f"  {key:12} {name:44} {m[key]:7.2f} s wall (the page loaded; Playwright saw it after {seen:.2f} s)")
            elif key in m:
                lines.append(f"  {key:12} {name:44} {m[key]:7.2f} s wall {c[key]:7.2f} s CPU  peak {r['peak_rss_mib'][key]:6.0f} MiB")
        for mem in r.get("preview_memory_mib", []):
            lines.append(f"  preview memory (process tree): {mem['after_edit_1']:.0f} MiB after edit 1, "
                         f"{mem[f'after_edit_{PREVIEW_EDITS}']:.0f} MiB after edit {PREVIEW_EDITS} ({mem['growth']:+.1%}); "
                         f"after edit 2, the first that runs kernels: {mem['after_edit_2']:.0f} MiB "
                         f"({mem['growth_from_edit_2']:+.1%} to edit {PREVIEW_EDITS})")
            for edit, sizes in mem["by_process"].items():
                lines.append(f"    after edit {edit}: preview {sizes['preview']:.0f} MiB, kernels "
                             + ", ".join(f"{size:.0f}" for size in sizes["children"]) + " MiB")
        lines.append("  ratios: " + ", ".join(f"{k} = {v:.3f}" for k, v in ratios.items()))
        lines.append("  targets: " + ", ".join(f"{k}: {'met' if ok else 'NOT met'}" for k, ok in r["targets"].items()))
    if "fetch" in results:
        lines.append(f"fetch  cspbook fetch into a clean tree (the start of every scenario): {results['fetch']['seconds']:.2f} s wall, "
                     f"{results['fetch']['cpu_seconds']:.2f} s CPU")
    f = results["f"]
    lines.append(f"f  library only, all boroughs x all years: {f['median']['whole']:.3f} s wall, {f['median_cpu']['whole']:.3f} s CPU "
                 f"(target < {f['target_seconds']:g} s: {'met' if f['met'] else 'NOT met'})")
    lines.append(f"machine: {results['machine']['cores_logical']} cores, load average at start {results['load_average']['start'][0]:.1f}, "
                 f"at end {results['load_average']['end'][0]:.1f}; benchmark took {results['seconds'] / 60:.1f} min")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke check: 1 run each, the one-year book only")
    parser.add_argument("--runs", type=int, default=3, help="runs per scenario (median reported; default 3)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="workers for cspbook build (default: cores)")
    parser.add_argument("--books", default="one-year,three-year", help="which books: one-year,three-year")
    parser.add_argument("--skip-papermill", action="store_true", help="do not measure a with CSPBOOK_ENGINE=papermill")
    parser.add_argument("--skip-preview", action="store_true", help="do not measure p and p2 (cspbook preview in Chromium)")
    parser.add_argument("--mirror", help="folder with the MPS files (default: $CSPBOOK_MIRROR or ../shared/data)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch projects (their folder is printed)")
    args = parser.parse_args(argv)
    runs, books = (1, ["one-year"]) if args.quick else (args.runs, args.books.split(","))
    if not args.quick and runs < 3:
        parser.error("--runs must be at least 3 (or use --quick)")
    mirror = indicators_bench.mirror_dir(args.mirror)
    log = lambda msg: print(msg, flush=True)  # noqa: E731
    started = time.perf_counter()
    results = {"started": dt.datetime.now().isoformat(timespec="seconds"), "quick": args.quick, "runs": runs,
               "jobs": args.jobs, "mirror": str(mirror), "machine": machine(), "load_average": {"start": os.getloadavg()}}
    root = Path(tempfile.mkdtemp(prefix="cspbook-bench-"))
    try:
        bench = Bench(root, mirror, args.jobs, log)
        results["fetch"] = bench.fetched
        results["books"] = {}
        for label in books:
            results["books"][label] = measure_book(bench, label, BOOKS[label], runs, not args.skip_papermill, log,
                                                   preview_too=not args.skip_preview)
        log("  f  library only")
        results["f"] = indicators_bench.measure(max(5, runs), mirror)
    finally:
        if args.keep:
            log(f"scratch projects kept in {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    results["load_average"]["end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    out = HERE / "results" / f"build_speed-{dt.datetime.now().strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str))
    print()
    print(summary(results))
    print(f"written {out.relative_to(REPO)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
