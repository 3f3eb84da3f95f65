"""Execute the book's notebooks with papermill: plan the jobs, key each on its inputs,
reuse what is cached, run the rest in parallel, and surface a failing cell clearly.

A job's key is the sha256 of everything that can change its output: the template, the
parameters, the title, the data files (sha256 from the manifest), the definitions under
``data/`` and the library's own source. An executed notebook is stored under
``.cspbook/cache/<key>.ipynb``; a second build with nothing changed executes nothing.

Each job has a second key, ``code_key``: the same inputs but the template's markdown cells.
An edit of prose only (the markdown cells of a template) changes ``key`` and not
``code_key``; the notebook is then made from the one executed before under the same
``code_key`` (its outputs, with the new markdown cells: :mod:`cspbook.execute.prose`),
without a kernel, byte for byte what executing it would give.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path

from cspbook import config, fingerprint, logs, words
from cspbook.definitions import periods, reports
from cspbook.errors import BuildError
from cspbook.execute import page_inputs, prose, snapshot, template_check
from cspbook.execute.finalise import finalise, template_cell

PRIORITY_TEMPLATE = "priority"  # one template serves every priority of the report configuration
KERNEL_ENV = {"PYDEVD_DISABLE_FILE_VALIDATION": "1", "JUPYTER_PLATFORM_DIRS": "1", "PYTHONWARNINGS": "ignore"}


@dataclass(frozen=True)
class Job:
    name: str  # template stem, e.g. violent_crime
    year: int
    title: str
    template: Path
    output: Path
    parameters: dict
    key: str
    code_key: str = ""  # the key without the template's markdown cells ("": never made from prose alone)

    @property
    def label(self) -> str:
        return f"{periods.label(self.year)}/{self.name}"

    @property
    def source(self) -> Path:
        """The template in the project tree (``template`` may be the build's snapshot of it,
        ``.cspbook/inputs/<digest>/book/templates/...``)."""
        try:
            rel = self.template.relative_to(config.work_dir() / "inputs")
        except ValueError:
            return self.template
        return config.home().joinpath(*rel.parts[1:])


def work_dir() -> Path:
    return config.work_dir()


def inputs_digest(manifest: dict) -> bytes:
    """What every notebook depends on besides its template: data, definitions (but the
    partner figures: see :mod:`cspbook.page_inputs`), library."""
    opened = [f["sha256"] for f in (manifest.get("open") or {}).get("files", [])]  # the open sources, when any
    data = json.dumps([f["sha256"] for f in manifest.get("files", [])] + opened).encode()
    defs = fingerprint.tree(config.definitions_dir(), "*.*", skip=("raw", "partner"))
    return fingerprint.digest(data, defs.encode(), fingerprint.library().encode(), page_inputs.open_digest().encode()).encode()


def last_month(manifest: dict) -> str | None:
    """The latest month of the files in the manifest (YYYY-MM), without reading them."""
    return max((f["last_month"] for f in manifest.get("files", []) if f.get("last_month")), default=None)


def plan(borough: str, years: list[int], pages: dict[int, list[tuple[str, str, bool]]], manifest: dict,
         folder: Path | None = None, spans: dict | None = None) -> list[Job]:
    """One job per page per year, in the order of ``pages[year]`` ((name, title, is a
    priority chapter), from the report configuration: :attr:`cspbook.definitions.reports.Report.pages`);
    a priority chapter comes from the one priority template, any other page from its own.
    ``folder``: where the executed notebooks go (default each year's folder, ``book/<year>``;
    the London edition gives each borough its own). ``spans``: the period of each year
    (:class:`cspbook.definitions.periods.Period`, a year to date or whole; default whole),
    passed to the notebooks as their ``year``."""
    common = inputs_digest(manifest)
    jobs, checked = [], set()
    for year in years:
        report = reports.load(borough, year)  # once a year, not once a page (the partner figures each page shows)
        for name, title, priority in pages[year]:
            template = config.templates_dir() / f"{PRIORITY_TEMPLATE if priority else name}.ipynb"
            if not template.exists():
                raise BuildError(f"template {template} is missing; the book needs one notebook per page in book/templates/")
            if template not in checked:  # before anything runs: an unclosed fence stops the build
                template_check.check(template, config.live_templates_dir() / template.name)
                checked.add(template)
            period = (spans or {}).get(year) or periods.Period(year)
            params = {"borough": borough, "year": period.text, "home": str(config.home())}
            if priority:
                params["priority"] = name
            key, code_key = keys(template.read_bytes(), json.dumps(params, sort_keys=True).encode(), title.encode(), common,
                                 page_inputs.partner_digest(name, borough, year, report))
            output = (folder or config.year_dir(periods.label(year))) / f"{name}.ipynb"
            jobs.append(Job(name, year, title, template, output, params, key, code_key))
    return jobs


def keys(template: bytes, *inputs: bytes) -> tuple[str, str]:
    """A job's ``key`` (its template's bytes and ``inputs``) and ``code_key`` (the same
    without the template's markdown cells: :func:`cspbook.execute.prose.code_part`)."""
    return fingerprint.digest(template, *inputs), fingerprint.digest(b"code\0" + prose.code_part(template), *inputs)


def check_parameters(job: Job) -> None:
    """Reject a parameter the template does not declare (papermill would only warn)."""
    import papermill

    declared = set(papermill.inspect_notebook(str(job.template)))
    unknown = sorted(set(job.parameters) - declared)
    if unknown:
        raise BuildError(
            f"{job.source}: {words.form(len(unknown), 'unknown parameter')} {unknown}; the template's `parameters` cell declares {sorted(declared)}. "
            "Add them to the parameters cell or stop passing them"
        )


def cached(job: Job) -> Path:
    return work_dir() / "cache" / f"{job.key}.ipynb"


def cache_problem(job: Job) -> str | None:
    """None when the job's notebook is not cached, '' when the cached one is sound, else
    what is wrong with it (see :func:`cspbook.integrity.entry_problem`)."""
    from cspbook import integrity

    return integrity.entry_problem(cached(job), job.template)


def needs_kernel(job: Job) -> bool:
    """Whether :func:`execute` runs ``job`` on a kernel: not cached, nor made from its prose."""
    return cache_problem(job) != "" and executed_before(job) is None


def all_cached(jobs: list[Job]) -> bool:
    """Every job's executed notebook is in the cache and sound (nothing would run)."""
    return all(cache_problem(job) == "" for job in jobs)


def execute(jobs: list[Job], workers: int, log=None, progress: bool | None = None, pool=None) -> dict[str, list[Job]]:
    """Run every job whose output is not cached; install all outputs into the book tree.

    A job whose template changed in its markdown cells only is not run: its notebook is made
    from the one executed before with the same code (:func:`reuse_prose`); one that cannot
    be (its earlier notebook is gone, damaged, or its new text is not sound) is run.

    Returns ``{"ran": [...], "reused": [...], "prose": [...]}`` (``prose``: made from their
    earlier outputs, no kernel). On the first failure the remaining jobs
    are cancelled and a BuildError names the notebook, the cell and the error. ``pool``: a
    warm-kernel :class:`cspbook.engine.Pool` owned by the caller, kept open afterwards
    (``cspbook preview`` keeps its kernels warm between rebuilds); by default a pool is
    opened for this call and closed at its end.
    """
    log = log or logs.line
    progress = sys.stderr.isatty() if progress is None else progress
    from cspbook import integrity

    todo, reused = [], []
    for job in jobs:
        problem = cache_problem(job)
        if problem:
            log(f"discarding the damaged cache entry {cached(job)} ({job.label}): {problem}; executing it again")
            integrity.discard(cached(job))
        (reused if problem == "" else todo).append(job)
    (work_dir() / "cache").mkdir(parents=True, exist_ok=True)
    for job in reused:
        if job.code_key and not code_index(job).exists():
            remember(job)
    prosed = [job for job in todo if reuse_prose(job, log)]
    todo = [job for job in todo if job not in prosed]
    for job in todo:
        check_parameters(job)
    if prosed:
        log(f"{words.plural(len(prosed), 'notebook')}: prose only, reused outputs ({', '.join(job.label for job in prosed)})")
    if todo:
        log(f"executing {words.plural(len(todo), 'notebook')} with {words.plural(min(workers, len(todo)), 'worker')}; "
            f"reusing {len(reused)}")
        if reused:
            log("  reused " + ", ".join(job.label for job in reused))
        _run_all(todo, workers, log, progress, pool)
    elif not prosed:
        log(f"all {words.plural(len(jobs), 'notebook')} are up to date; nothing executed" if len(jobs) != 1
            else "the notebook is up to date; nothing executed")
    for job in jobs:
        _install(cached(job), job.output)
    return {"ran": todo, "reused": reused, "prose": prosed}


# -- prose-only edits: outputs reused (see cspbook.execute.prose) ---------------------------------


def code_index(job: Job) -> Path:
    """Where the key of the latest notebook executed from ``job``'s code is recorded."""
    return work_dir() / "cache" / "code" / job.code_key


def remember(job: Job) -> None:
    """Record ``job``'s cached notebook as the latest one of its code (atomically)."""
    if not job.code_key:
        return
    target = code_index(job)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    tmp.write_text(job.key + "\n", encoding="ascii")
    os.replace(tmp, target)


def executed_before(job: Job) -> Path | None:
    """The cached notebook executed from the same code as ``job`` (its ``code_key``) under
    another key, when one is recorded and its bytes are those recorded when it was written."""
    from cspbook import integrity

    if not job.code_key:
        return None
    try:
        key = code_index(job).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None
    if not re.fullmatch(r"[0-9a-f]{64}", key) or key == job.key:
        return None
    path = work_dir() / "cache" / f"{key}.ipynb"
    return path if integrity.recorded_problem(path) == "" else None


def reuse_prose(job: Job, log) -> bool:
    """Make ``job``'s notebook without a kernel when only its template's prose changed: the
    template prepared as for a run, the code cells (outputs and all) of the notebook
    executed before from the same code, finalised and checked as an executed notebook is,
    then cached. False when there is no such notebook or the result is not sound (the job
    then runs, and a run reports any problem as it always does)."""
    source = executed_before(job)
    if source is None:
        return False
    import nbformat
    from papermill.iorw import write_ipynb

    from cspbook.execute import pool as warm_pool

    scratch = work_dir() / "running"
    scratch.mkdir(parents=True, exist_ok=True)
    out = scratch / f"{job.key}.ipynb"
    try:
        prepared = warm_pool.prepare(str(job.template), str(out), job.parameters)
        nb = prose.merge(prepared, nbformat.reads(source.read_text(encoding="utf-8"), as_version=4))
        nb.metadata.setdefault("papermill", {})["output_path"] = str(out)  # as the run would record it
        write_ipynb(nb, str(out))
        finalise(out, job)
        problem = _result_problem(out, job)
    except Exception as exc:  # noqa: BLE001 - whatever it is, running the notebook reports it properly
        problem = f"{type(exc).__name__}: {exc}"
    if problem:
        out.unlink(missing_ok=True)
        log(f"  {job.label}: prose only, but the outputs of its earlier run cannot be reused ({problem}); executing it")
        return False
    _store(out, job)
    return True


ENGINE_ENV = config.ENGINE_ENV
ENGINES = ("warm", "papermill")


def engine_name() -> str:
    """The notebook engine, from ``$CSPBOOK_ENGINE``: ``warm`` (the default; a pool of
    kernels kept warm across notebooks, see :mod:`cspbook.execute.pool`) or ``papermill`` (a fresh
    kernel per notebook)."""
    name = (config.engine_from_env() or ENGINES[0]).strip().lower()
    if name not in ENGINES:
        raise BuildError(f"{ENGINE_ENV}={name!r} is not a notebook engine; use one of: {', '.join(ENGINES)}")
    return name


def _run_all(todo: list[Job], workers: int, log, progress: bool, pool=None) -> None:
    workers = max(1, min(workers, len(todo)))
    owned = pool is None
    if owned and engine_name() == "warm":
        from cspbook.execute import pool as warm_pool

        pool = warm_pool.Pool(workers, work_dir() / "running", env=KERNEL_ENV, cwd=config.home())
    try:
        with ThreadPoolExecutor(max_workers=workers) as executor:
            futures = {executor.submit(_run_one, job, i if progress else None, log, pool): job for i, job in enumerate(todo)}
            try:
                for future in as_completed(futures):
                    future.result()
            except BaseException as exc:
                for future in futures:
                    future.cancel()
                if pool is not None and (owned or not isinstance(exc, Exception)):
                    pool.abort()  # kill the kernels now: notebooks still running stop, their workers return
                raise
    finally:
        if owned and pool is not None:
            pool.close()


def _run_one(job: Job, position: int | None, log, pool=None) -> None:
    import papermill
    from papermill.exceptions import PapermillExecutionError

    from cspbook.execute import kernels

    scratch = work_dir() / "running"
    scratch.mkdir(parents=True, exist_ok=True)
    out = scratch / f"{job.key}.ipynb"
    bar = {"desc": job.label, "position": position, "leave": True} if position is not None else False
    started = time.monotonic()
    if position is None:
        log(f"  run    {job.label}")
    cwd = str(job.output.parent if job.output.parent.exists() else config.home())
    try:
        if pool is not None:  # the warm engine: same contract as papermill.execute_notebook
            pool.execute_notebook(job.template, out, job.parameters, cwd=cwd, progress_bar=bar, env=snapshot.kernel_env())
        else:
            # no `cwd=`: papermill would chdir the whole process from this worker thread;
            # the notebooks do not depend on the folder they run in (they get `home`)
            papermill.execute_notebook(
                str(job.template), str(out), parameters=job.parameters, kernel_name="python3",
                progress_bar=bar, request_save_on_cell_execute=False,
                config=kernels.config(scratch / f"{periods.label(job.year)}-{job.name}.kernel.log",
                                      {**KERNEL_ENV, **snapshot.kernel_env()}),
                kernel_manager_class=kernels.LoggedKernelManager,
            )
    except PapermillExecutionError as exc:
        kept = _keep_failed(out, job)
        number = template_cell(job.template, exc.source, exc.cell_index + 1)
        source = "    " + exc.source.replace("\n", "\n    ")
        raise BuildError(
            f"notebook {job.label} ({job.source}) failed in cell {number}:\n{source}\n"
            f"{exc.ename}: {exc.evalue}\nthe executed notebook is kept at {kept}; correct the cell in the template"
        ) from None
    except Exception as exc:  # a template that is not valid JSON, a kernel that dies...
        if isinstance(exc, BuildError):
            raise
        kept = _keep_failed(out, job)
        raise BuildError(f"notebook {job.label} ({job.source}) could not run: {type(exc).__name__}: {exc}; see {kept}") from None
    finalise(out, job)
    _check_executed(out, job)
    _store(out, job)
    if position is None:
        log(f"  done   {job.label} in {time.monotonic() - started:.1f}s")


def _store(out: Path, job: Job) -> None:
    """Move a sound executed notebook into the cache, with its checksum, as the latest of its code."""
    from cspbook import integrity

    integrity.discard(cached(job))  # no checksum may vouch for the old bytes while they are replaced
    os.replace(out, cached(job))
    integrity.record(cached(job))
    remember(job)


def _result_problem(out: Path, job: Job) -> str:
    """What is wrong with an executed notebook (see :func:`cspbook.integrity.notebook_problem`,
    and nbformat's schema); '' when it is sound."""
    import nbformat

    from cspbook import integrity

    problem = integrity.notebook_problem(out.read_bytes(), job.template)
    if not problem:
        try:
            nbformat.validate(nbformat.read(out, as_version=4))
        except Exception as exc:  # noqa: BLE001 - nbformat's ValidationError and read errors alike
            problem = f"it is not a valid nbformat 4 notebook ({type(exc).__name__}: {str(exc).splitlines()[0]})"
    return problem


def _check_executed(out: Path, job: Job) -> None:
    """BuildError when an executed notebook is not sound (:func:`_result_problem`): it is
    never cached or published."""
    problem = _result_problem(out, job)
    if problem:
        kept = _keep_failed(out, job)
        raise BuildError(f"notebook {job.label} ({job.source}) ran but its result is not sound: {problem}; see {kept}")


def _keep_failed(out: Path, job: Job) -> Path:
    failed = work_dir() / "failed"
    failed.mkdir(parents=True, exist_ok=True)
    target = failed / f"{periods.label(job.year)}-{job.name}.ipynb"
    if out.exists():
        os.replace(out, target)
    return target


def _install(source: Path, target: Path) -> None:
    """Copy a cached notebook into the book tree unless it is already there, unchanged."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and target.read_bytes() == source.read_bytes():
        return
    tmp = target.with_suffix(".ipynb.tmp")
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)
