"""The warm-kernel engine (cspbook.execute.pool) and the engine choice in cspbook.execute.plan.

Isolation is asserted inside a notebook: notebook A changes everything it can, notebook B
asserts in its cells that none of it is visible, so a leak fails B's execution. B is also
run in a fresh papermill kernel (its assertions describe a fresh kernel) and in a warm
kernel whose reset is switched off (its assertions catch the leaks).

Tests that start kernels take seconds each and are marked ``slow`` (``make test-fast``
skips them); the engine-choice tests are instant.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import psutil
import pytest
from bookfixtures import build_in, make_project, mirror_dir
from papermill.exceptions import PapermillExecutionError

from cspbook.definitions import periods
from cspbook.errors import BuildError
from cspbook.execute import plan
from cspbook.execute import pool as warm_pool

YEAR = periods.parse_year("2011-12")
kernels = pytest.mark.slow  # starts real kernels


def notebook(path: Path, *cells: str, parameters: str = "marker = None") -> Path:
    """A notebook file: a `parameters` cell, then one code cell per source."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    first = nbformat.v4.new_code_cell(parameters)
    first.metadata["tags"] = ["parameters"]
    nb.cells = [first, *(nbformat.v4.new_code_cell(c) for c in cells)]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path


LEAKY = (
    """\
import logging, os, sys, warnings
import matplotlib as mpl, matplotlib.pyplot as plt, numpy as np, pandas as pd, seaborn as sns
from IPython import get_ipython
leaked_name = 42
pd.set_option("display.max_rows", 3)
mpl.rcParams["lines.linewidth"] = 7.0
sns.set_theme(style="dark", palette="bright")
fig = plt.figure()
plt.plot([1, 2])
os.makedirs("elsewhere", exist_ok=True)
os.chdir("elsewhere")
os.environ["CSPBOOK_HOME"] = "/nowhere"
os.environ["CSPBOOK_LEAK"] = "1"
warnings.simplefilter("error")
np.set_printoptions(precision=2)
sys.path.append("/leak")
logging.getLogger().addHandler(logging.NullHandler())
logging.getLogger().setLevel(logging.DEBUG)
get_ipython().display_formatter.formatters["text/plain"].for_type(complex, lambda o, p, c: p.text("leak"))
from pathlib import Path
from cspbook import definitions
from cspbook.compute import dataset
dataset._MEMO["leak"] = 1
Path("boroughs.yml").write_text("boroughs: [Somewhere]")
definitions.boroughs(Path("boroughs.yml").resolve())
import random
from cspbook.pages import narrative
narrative.number = lambda value, unit="offences": "leak"
narrative.LEAKED = 1
np.seterr(all="raise")
random.seed(0)
np.random.seed(0)""",
    "print(os.getpid())",
    "leaked_name",
)


CLEAN = (
    """\
import logging, os, sys, warnings
import matplotlib as mpl, matplotlib.pyplot as plt, numpy as np, pandas as pd
from IPython import get_ipython
from matplotlib.colors import to_rgb
from cspbook import definitions
from cspbook.compute import dataset
assert "leaked_name" not in globals() and "fig" not in globals(), "a name leaked"
assert 42 not in get_ipython().user_ns["Out"].values(), "an output leaked"
assert pd.get_option("display.max_rows") == 60, "a pandas option leaked"
assert mpl.rcParams["lines.linewidth"] == 1.5, "an rcParam leaked"
assert mpl.rcParams["axes.facecolor"] == "white", "the seaborn style leaked"
assert to_rgb("b") == (0.0, 0.0, 1.0), "seaborn's colour codes leaked"
assert plt.get_fignums() == [], "a figure leaked"
assert os.getcwd() == expected_cwd, f"the working directory leaked: {os.getcwd()}"
assert os.environ.get("CSPBOOK_HOME") == expected_home, "CSPBOOK_HOME leaked"
assert "CSPBOOK_LEAK" not in os.environ, "an environment variable leaked"
assert ("error", None, Warning, None, 0) not in warnings.filters, "a warnings filter leaked"
assert np.get_printoptions()["precision"] == 8, "a numpy print option leaked"
assert "/leak" not in sys.path, "sys.path leaked"
assert not [h for h in logging.getLogger().handlers if isinstance(h, logging.NullHandler)], "a log handler leaked"
assert logging.getLogger().level == logging.WARNING, "the log level leaked"
assert complex not in get_ipython().display_formatter.formatters["text/plain"].type_printers, "a formatter leaked"
assert "leak" not in dataset._MEMO, "the dataset memo leaked"
assert sys.modules["cspbook.definitions.boroughs"]._boroughs.cache_info().currsize == 0, "a definitions cache leaked"
import random
from cspbook.pages import narrative
assert narrative.number(1234) == "1,234", "an attribute set on a cspbook module leaked"
assert not hasattr(narrative, "LEAKED"), "a name added to a cspbook module leaked"
assert np.geterr() == {"divide": "warn", "over": "warn", "under": "ignore", "invalid": "warn"}, "numpy.seterr leaked"
assert random.random() != 0.8444218515250481, "the seed of random leaked"
assert np.random.rand() != 0.5488135039273248, "numpy's global random seed leaked"
""",
    "print(os.getpid())",
)


def printed_pid(nb) -> int:
    return int(next(o["text"] for c in nb.cells if c.source == "print(os.getpid())" for o in c.outputs).strip())


@pytest.fixture
def pool(tmp_path, monkeypatch):
    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    with warm_pool.Pool(1, tmp_path / "logs", env=plan.KERNEL_ENV, cwd=tmp_path) as warm:
        yield warm


def clean_parameters(tmp_path: Path) -> dict:
    return {"expected_cwd": str(tmp_path), "expected_home": str(tmp_path)}


@kernels
def test_nothing_leaks_from_one_notebook_into_the_next(pool, tmp_path):
    leaky = notebook(tmp_path / "a.ipynb", *LEAKY)
    clean = notebook(tmp_path / "b.ipynb", *CLEAN, parameters="expected_cwd = expected_home = None")
    a = pool.execute_notebook(leaky, tmp_path / "a.out.ipynb", {}, cwd=tmp_path)
    b = pool.execute_notebook(clean, tmp_path / "b.out.ipynb", clean_parameters(tmp_path), cwd=tmp_path)
    assert printed_pid(a) == printed_pid(b) == pool.pids()[0]  # the same kernel ran both
    assert [c.execution_count for c in b.cells] == [1, 2, 3, 4]  # counted from 1 again


@kernels
def test_the_clean_notebook_passes_in_a_fresh_kernel(tmp_path, monkeypatch):
    """B's assertions describe a fresh kernel (papermill starts one per notebook)."""
    import papermill

    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    clean = notebook(tmp_path / "b.ipynb", *CLEAN, parameters="expected_cwd = expected_home = None")
    papermill.execute_notebook(str(clean), str(tmp_path / "b.out.ipynb"), parameters=clean_parameters(tmp_path),
                               cwd=str(tmp_path), progress_bar=False, kernel_name="python3")


@kernels
def test_the_clean_notebook_catches_leaks_when_reset_is_off(tmp_path, monkeypatch):
    """Without the reset, B fails: its assertions do detect leaks."""
    monkeypatch.setattr(warm_pool, "RESET", "None")
    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    leaky = notebook(tmp_path / "a.ipynb", *LEAKY)
    clean = notebook(tmp_path / "b.ipynb", *CLEAN, parameters="expected_cwd = expected_home = None")
    with warm_pool.Pool(1, tmp_path / "logs", env=plan.KERNEL_ENV, cwd=tmp_path) as pool:
        pool.execute_notebook(leaky, tmp_path / "a.out.ipynb", {}, cwd=tmp_path)
        with pytest.raises(PapermillExecutionError, match="leaked"):
            pool.execute_notebook(clean, tmp_path / "b.out.ipynb", clean_parameters(tmp_path), cwd=tmp_path)


@kernels
def test_a_kernel_is_reset_after_its_notebook_and_one_that_cannot_be_reset_is_replaced(pool, tmp_path):
    """The reset runs after a notebook (off the next one's path); a notebook that breaks it
    costs its kernel, not the next notebook."""
    first = notebook(tmp_path / "first.ipynb", "x = 1", "print(os.getpid())", parameters="import os")
    pid = printed_pid(pool.execute_notebook(first, tmp_path / "first.out.ipynb", {}, cwd=tmp_path))
    breaks = notebook(tmp_path / "breaks.ipynb", "assert 'x' not in globals()", "print(os.getpid())",
                      "import cspbook.execute.kernel as k; k._SNAPSHOT = None", parameters="import os")
    assert printed_pid(pool.execute_notebook(breaks, tmp_path / "breaks.out.ipynb", {}, cwd=tmp_path)) == pid
    after = notebook(tmp_path / "after.ipynb", "print(os.getpid())", parameters="import os")
    out = pool.execute_notebook(after, tmp_path / "after.out.ipynb", {}, cwd=tmp_path)
    assert printed_pid(out) != pid and len(pool.pids()) == 2  # its reset failed: replaced


@kernels
def test_a_failing_cell_leaves_the_kernel_usable(pool, tmp_path):
    bad = notebook(tmp_path / "bad.ipynb", "x = 1", "1 / 0")
    good = notebook(tmp_path / "good.ipynb", "print(os.getpid())", parameters="import os")
    with pytest.raises(PapermillExecutionError) as failed:
        pool.execute_notebook(bad, tmp_path / "bad.out.ipynb", {}, cwd=tmp_path)
    assert (failed.value.ename, failed.value.evalue, failed.value.exec_count) == ("ZeroDivisionError", "division by zero", 3)
    out = pool.execute_notebook(good, tmp_path / "good.out.ipynb", {}, cwd=tmp_path)
    assert printed_pid(out) == pool.pids()[0] and len(pool.pids()) == 1  # reused, not replaced


@kernels
def test_a_dead_kernel_is_replaced(pool, tmp_path):
    dying = notebook(tmp_path / "dying.ipynb", "import os, signal; os.kill(os.getpid(), signal.SIGKILL)")
    good = notebook(tmp_path / "good.ipynb", "print(os.getpid())", parameters="import os")
    with pytest.raises(Exception, match="(?i)dead|died"):
        pool.execute_notebook(dying, tmp_path / "dying.out.ipynb", {}, cwd=tmp_path)
    out = pool.execute_notebook(good, tmp_path / "good.out.ipynb", {}, cwd=tmp_path)
    assert printed_pid(out) == pool.pids()[-1] != pool.pids()[0]


# -- through cspbook.execute.plan: both engines ------------------------------------------------


def job(home: Path, name: str, template: Path, **parameters) -> plan.Job:
    output = home / "book" / periods.label(YEAR) / f"{name}.ipynb"
    return plan.Job(name, YEAR, name.title(), template, output, parameters, key=f"{name}-{os.urandom(8).hex()}")


@kernels
@pytest.mark.parametrize("name", ["warm", "papermill"])
def test_engine_is_chosen_by_environment(tmp_path, monkeypatch, name):
    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    monkeypatch.setenv(plan.ENGINE_ENV, name)
    template = notebook(tmp_path / "t.ipynb", "import os", "print(os.getpid())")
    jobs = [job(tmp_path, f"page{i}", template, marker=i) for i in range(3)]
    outcome = plan.execute(jobs, 1, log=lambda msg: None, progress=False)
    assert len(outcome["ran"]) == 3
    pids = {printed_pid(nbformat.read(j.output, as_version=4)) for j in jobs}
    assert len(pids) == (1 if name == "warm" else 3)  # one warm kernel for all, or one kernel each


def test_default_engine_is_warm_and_an_unknown_one_is_refused(monkeypatch):
    monkeypatch.delenv(plan.ENGINE_ENV, raising=False)
    assert plan.engine_name() == "warm"
    monkeypatch.setenv(plan.ENGINE_ENV, "fast")
    with pytest.raises(BuildError, match="CSPBOOK_ENGINE='fast' is not a notebook engine; use one of: warm, papermill"):
        plan.engine_name()


def failure_message(tmp_path: Path, monkeypatch, name: str) -> str:
    home = tmp_path / name
    monkeypatch.setenv("CSPBOOK_HOME", str(home))
    monkeypatch.setenv(plan.ENGINE_ENV, name)
    template = notebook(tmp_path / "templates" / "bad.ipynb", "x = 1", "y = x + 1\nraise ValueError(f'no good: {y}')")
    with pytest.raises(BuildError) as failed:
        plan.execute([job(home, "bad", template, marker=1)], 1, log=lambda msg: None, progress=False)
    return str(failed.value).replace(str(home), "HOME")


@kernels
def test_a_failing_cell_reads_the_same_in_both_engines(tmp_path, monkeypatch):
    warm = failure_message(tmp_path, monkeypatch, "warm")
    cold = failure_message(tmp_path, monkeypatch, "papermill")
    assert warm == cold
    assert re.match(rf"notebook 2011-12/bad \({re.escape(str(tmp_path / 'templates' / 'bad.ipynb'))}\) failed in cell \d+", warm)
    assert "    y = x + 1\n    raise ValueError(f'no good: {y}')\nValueError: no good: 2\n" in warm
    assert "the executed notebook is kept at HOME/.cspbook/failed/2011-12-bad.ipynb" in warm


# -- interrupted builds leave no kernel behind ----------------------------------------

INTERRUPTED = """
import json, os, signal, sys
# Ctrl-C raises KeyboardInterrupt even when the suite runs in a background job (a shell starts
# those with SIGINT ignored, and a Python started so keeps ignoring it)
signal.signal(signal.SIGINT, signal.default_int_handler)
from pathlib import Path
import nbformat, psutil
from cspbook.definitions import periods
from cspbook.execute import plan
home = Path(sys.argv[1])
nb = nbformat.v4.new_notebook()
nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
nb.cells = [nbformat.v4.new_code_cell("marker = None"), nbformat.v4.new_code_cell("import time; time.sleep(120)")]
nb.cells[0].metadata["tags"] = ["parameters"]
nbformat.write(nb, home / "slow.ipynb")
jobs = [plan.Job(f"slow{i}", 2011, "Slow", home / "slow.ipynb", home / "book" / f"slow{i}.ipynb", {"marker": i}, f"k{i}")
        for i in range(3)]
try:
    plan.execute(jobs, 2, log=lambda msg: None, progress=False)
except KeyboardInterrupt:
    alive = [p.pid for p in psutil.Process().children(recursive=True) if p.status() != psutil.STATUS_ZOMBIE]
    print(json.dumps({"alive_after_interrupt": alive}), flush=True)
"""


def kernels_of(process: psutil.Process) -> list[psutil.Process]:
    try:
        return [p for p in process.children(recursive=True) if "ipykernel_launcher" in " ".join(p.cmdline())]
    except psutil.Error:
        return []


def wait_for_kernels(process: psutil.Process, count: int, timeout: float = 90) -> list[int]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not process.is_running() or process.status() == psutil.STATUS_ZOMBIE:
            raise AssertionError("the process ended before its kernels started")
        found = kernels_of(process)
        if len(found) >= count:
            return [p.pid for p in found]
        time.sleep(0.1)
    raise AssertionError(f"{count} kernel(s) did not start within {timeout}s")


def gone(pids: list[int], timeout: float = 10) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not [p for p in pids if psutil.pid_exists(p) and psutil.Process(p).status() != psutil.STATUS_ZOMBIE]:
            return True
        time.sleep(0.1)
    return False


@kernels
def test_keyboard_interrupt_stops_every_kernel(tmp_path):
    """In-process (no cspbook.signals handler): the warm pool kills its own kernels."""
    env = dict(os.environ, CSPBOOK_HOME=str(tmp_path), **{plan.ENGINE_ENV: "warm"})
    proc = subprocess.Popen([sys.executable, "-c", INTERRUPTED, str(tmp_path)], env=env, stdout=subprocess.PIPE, text=True)
    try:
        pids = wait_for_kernels(psutil.Process(proc.pid), 2)
        time.sleep(2)  # let them get into the sleeping cell
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert json.loads(out) == {"alive_after_interrupt": []}  # killed before KeyboardInterrupt left plan.execute
    assert gone(pids)


@pytest.mark.slow
@pytest.mark.parametrize("engine_name", ["warm", "papermill"])
def test_sigterm_during_a_build_leaves_no_kernel(tmp_path, engine_name):
    if not mirror_dir().exists():
        pytest.fail(f"no data mirror at {mirror_dir()}; set CSPBOOK_TEST_MIRROR to the folder holding the MPS files")
    home = make_project(tmp_path / "project")
    env = dict(os.environ, CSPBOOK_HOME=str(home), CSPBOOK_MIRROR=str(mirror_dir()), **{plan.ENGINE_ENV: engine_name})
    cli = Path(sys.executable).with_name("cspbook")
    proc = subprocess.Popen([str(cli), "build", "--borough", "Barking and Dagenham", "--year", "2011-12", "--jobs", "2"],
                            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        pids = wait_for_kernels(psutil.Process(proc.pid), 2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert proc.returncode in (143, -signal.SIGTERM), err
    assert gone(pids)


# -- the same book from both engines --------------------------------------------------


def outputs(path: Path, home: Path) -> str:
    """The cells' sources and outputs, without what differs from project to project anyway:
    addresses in reprs (``<cspbook.pages.context.HTML at 0x7f...>``), the project folder, the time
    the data were fetched."""
    nb = nbformat.read(path, as_version=4)
    cells = [(c.source, [{k: v for k, v in o.items() if k != "execution_count"} for o in c.get("outputs", [])])
             for c in nb.cells]
    text = re.sub(r" at 0x[0-9a-f]+", " at 0x...", json.dumps(cells)).replace(str(home), "HOME")
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "FETCHED", text)


@pytest.mark.slow
def test_both_engines_write_the_same_notebooks(tmp_path, monkeypatch):
    if not mirror_dir().exists():
        pytest.fail(f"no data mirror at {mirror_dir()}; set CSPBOOK_TEST_MIRROR to the folder holding the MPS files")
    homes = {}
    for name in ("warm", "papermill"):
        monkeypatch.setenv(plan.ENGINE_ENV, name)
        homes[name] = make_project(tmp_path / name)
        result = build_in(homes[name])
        assert result.ran and not result.reused
    pages = sorted(p.relative_to(homes["warm"]) for p in (homes["warm"] / "book").glob("[0-9]*/*.ipynb"))
    assert pages
    for page in pages:
        assert outputs(homes["warm"] / page, homes["warm"]) == outputs(homes["papermill"] / page, homes["papermill"]), page
