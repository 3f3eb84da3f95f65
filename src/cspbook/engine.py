"""Warm-kernel execution: a pool of long-lived kernels, each running the book's notebooks
one after another, with the process state reset between notebooks.

A cold kernel per notebook pays interpreter start, kernel start and the imports of pandas,
seaborn and cspbook (about 2 s of CPU) for every page. Here each of the N kernels pays that
once: started and pre-warmed (:data:`PREWARM` imported) when the pool opens, then reused.

Parent side (this process), :class:`Pool`:
  load the template -> write the parameters in (papermill's ``parameterize_notebook``) ->
  take an idle kernel -> reset it -> execute the cells with nbclient -> hand the kernel back
  -> raise papermill's ``PapermillExecutionError`` for a failing cell, as
  ``papermill.execute_notebook`` does, so :mod:`cspbook.run` reports both engines alike.
  The kernels live on one private asyncio loop thread; :meth:`Pool.execute_notebook` is
  blocking and thread-safe, so run.py's worker threads call it like papermill.

Kernel side (inside each kernel), :func:`warm` and :func:`reset`:
  ``warm`` imports :data:`PREWARM`, snapshots the state a fresh notebook would see and
  freezes the imported objects out of the garbage collector's full collections;
  ``reset`` runs before every notebook and restores it: the user namespace, ``In``/``Out``
  and the execution count (IPython's ``reset``), matplotlib (open figures, rcParams, the
  backend, the one-letter colour codes that ``seaborn.set_theme`` rewrites), pandas and
  numpy options, warnings filters, ``os.environ`` (a notebook sets ``CSPBOOK_HOME``), the
  working directory, ``sys.path``, the logging root, IPython display formatters and event
  callbacks, the random generators' seeds and cspbook's in-process caches (the dataset memo,
  the definitions' lru caches), so no notebook depends on the one that ran before it.
  Imported modules stay loaded: that is the point. Not reset: attributes a notebook
  monkeypatches onto a module or class, threads it starts, files it leaves open.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import functools
import gc
import importlib
import os
import signal
import sys
import threading
from pathlib import Path

from cspbook.errors import BuildError

# What the templates import, in the order they import it: cspbook.page and views first, so
# cspbook.plots selects matplotlib's Agg backend before pyplot is imported, as in a fresh
# kernel (pyplot imported first would apply the inline backend's rcParams).
PREWARM = (
    "cspbook.page", "cspbook.views", "cspbook.plots", "cspbook.table", "cspbook.store", "cspbook.indicators",
    "myst_nb", "IPython.display", "pygments.lexers.python", "pygments.formatters.html",
    "numpy", "pandas", "matplotlib.pyplot", "seaborn",
)
KERNEL_NAME = "python3"
WARM = "__import__('cspbook.engine').engine.warm({modules!r})"  # sent to a kernel once, when it starts
RESET = "__import__('cspbook.engine').engine.reset({cwd!r})"  # sent before every notebook
STARTUP_TIMEOUT = 120.0  # seconds for a kernel to start and finish its imports on a loaded machine
SHUTDOWN_TIMEOUT = 10.0


class EngineError(BuildError):
    """Raised when a warm kernel cannot be started, pre-warmed or reset."""


# --------------------------------------------------------------------------------------
# Kernel side: these run inside the warm kernels.

_SNAPSHOT: dict | None = None


def warm(modules=PREWARM) -> list[str]:
    """Import ``modules`` and snapshot the state every notebook starts from.

    An import that fails is skipped (returned), not raised: the notebook that needs the
    module will fail on it in its own cell, which is where the error belongs.
    """
    global _SNAPSHOT
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - see the docstring
            failed.append(name)
    _draw_once()
    _SNAPSHOT = _capture()
    # Move everything imported so far out of the garbage collector's sight: IPython's reset
    # runs a full collection (0.1-0.3 s with pandas loaded), which then scans only what
    # the notebooks created.
    gc.collect()
    gc.freeze()
    return failed


def reset(cwd: str) -> None:
    """Put the kernel back in the state :func:`warm` recorded, then ``chdir`` to ``cwd``."""
    if _SNAPSHOT is None:
        raise RuntimeError("cspbook.engine.reset called before warm")
    shell = _shell()
    if shell is not None:
        shell.reset(new_session=True)  # namespace, In/Out, execution count back to 1
    _restore(_SNAPSHOT)
    os.chdir(cwd)
    _release_memory()


def _draw_once() -> None:
    """Render one small chart as the notebooks do, so that a kernel loads its fonts and the
    renderer while it warms up, not in its first notebook (about 35 MiB and a few tenths of
    a second, which `cspbook preview` otherwise sees as growth after its first edits)."""
    if "matplotlib.pyplot" not in sys.modules:
        return
    import io

    import matplotlib.pyplot as plt

    try:
        fig, ax = plt.subplots(figsize=(2, 1))
        ax.plot([0, 1], [0, 1], label="warm")
        ax.set_title("warm")
        ax.legend()
        fig.savefig(io.BytesIO(), format="png")
        plt.close(fig)
    except Exception:  # noqa: BLE001 - only a warm-up: the notebooks report real errors
        pass


def _release_memory() -> None:
    """Hand the heap freed by the previous notebook back to the system (glibc), so a kernel
    kept for many notebooks (the preview's) does not keep each one's peak."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _capture() -> dict:
    import logging
    import warnings

    state = {
        "environ": dict(os.environ),
        "sys.path": list(sys.path),
        "warnings": list(warnings.filters),
        "logging": (logging.root.level, list(logging.root.handlers)),
    }
    if "numpy" in sys.modules:
        import numpy as np

        state["numpy"] = (np.get_printoptions(), np.geterr())
    if "pandas" in sys.modules:
        state["pandas"] = _pandas_options()
    if "matplotlib" in sys.modules:
        import matplotlib as mpl

        state["matplotlib"] = (
            {key: mpl.rcParams._get(key) for key in dict.keys(mpl.rcParams)},
            mpl.rcParams._get("backend"),
            {code: mpl.colors._colors_full_map[code] for code in "bgrcmykw"},
        )
    shell = _shell()
    if shell is not None:
        formatters = shell.display_formatter.formatters.values()
        state["formatters"] = [(f, dict(f.type_printers), dict(f.deferred_printers)) for f in formatters]
        state["events"] = {name: list(cbs) for name, cbs in shell.events.callbacks.items()}
    return state


def _restore(state: dict) -> None:
    import logging
    import random
    import warnings

    if "matplotlib" in sys.modules and "matplotlib" in state:
        import matplotlib as mpl

        params, backend, colours = state["matplotlib"]
        if "matplotlib.pyplot" in sys.modules:
            import matplotlib.pyplot as plt

            plt.close("all")
            if mpl.rcParams._get("backend") != backend:
                plt.switch_backend(backend)
        mpl.rcParams._update_raw(params)
        for code, value in colours.items():
            mpl.colors._colors_full_map[code] = value  # its __setitem__ also clears the colour cache
    if "pandas" in state:
        _set_pandas_options(state["pandas"])
    if "numpy" in state:
        import numpy as np

        printoptions, errors = state["numpy"]
        np.set_printoptions(**printoptions)
        np.seterr(**errors)
        np.random.seed(None)  # a fresh kernel's legacy global generator is seeded from the OS
    random.seed(None)
    warnings.filters[:] = state["warnings"]
    if hasattr(warnings, "_filters_mutated"):  # CPython caches the filters; tell it they changed
        warnings._filters_mutated()
    level, handlers = state["logging"]
    logging.root.setLevel(level)
    logging.root.handlers[:] = handlers
    os.environ.clear()
    os.environ.update(state["environ"])
    sys.path[:] = state["sys.path"]
    shell = _shell()
    if shell is not None and "formatters" in state:
        for formatter, types, deferred in state["formatters"]:
            formatter.type_printers.clear()
            formatter.type_printers.update(types)
            formatter.deferred_printers.clear()
            formatter.deferred_printers.update(deferred)
        for name, callbacks in state["events"].items():
            shell.events.callbacks[name][:] = callbacks
    _clear_cspbook_caches()


def _pandas_options() -> dict:
    import warnings

    import pandas as pd
    from pandas._config import config as pd_config

    deprecated = set(getattr(pd_config, "_deprecated_options", ()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {key: pd.get_option(key) for key in pd_config._registered_options if key not in deprecated}


def _set_pandas_options(saved: dict) -> None:
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, value in saved.items():
            if pd.get_option(key) != value:
                pd.set_option(key, value)


def _clear_cspbook_caches() -> None:
    """Forget cspbook's in-process caches: the dataset memo and every lru_cache."""
    for name, module in list(sys.modules.items()):
        if not (name == "cspbook" or name.startswith("cspbook.")) or module is None:
            continue
        for value in list(vars(module).values()):
            if isinstance(value, functools._lru_cache_wrapper):
                value.cache_clear()
    store = sys.modules.get("cspbook.store")
    if store is not None and isinstance(getattr(store, "_MEMO", None), dict):
        store._MEMO.clear()


# --------------------------------------------------------------------------------------
# Parent side: the pool of kernels.


class _Kernel:
    """One kernel of the pool: its manager, client and pid."""

    def __init__(self, index: int, log_path: Path):
        self.index = index
        self.log_path = log_path
        self.km = None
        self.kc = None
        self.pid: int | None = None
        self.language_info: dict | None = None

    async def start(self, env: dict, cwd: str, prewarm) -> None:
        from cspbook import kernels

        self.km = kernels.LoggedKernelManager(kernel_name=KERNEL_NAME, config=kernels.config(self.log_path))
        await self.km.start_kernel(extra_arguments=["--HistoryManager.hist_file=:memory:"], env=env, cwd=cwd)
        self.pid = getattr(self.km.provisioner, "pid", None)
        self.kc = self.km.client()
        self.kc.start_channels()
        await self.kc.wait_for_ready(timeout=STARTUP_TIMEOUT)
        self.kc.allow_stdin = False
        reply = await self.kc.kernel_info(reply=True, timeout=STARTUP_TIMEOUT)
        self.language_info = reply["content"].get("language_info")
        await self.call(WARM.format(modules=tuple(prewarm)), "pre-warm")

    async def call(self, code: str, what: str, timeout: float = STARTUP_TIMEOUT) -> None:
        """Run ``code`` silently (no history, no execution count); raise if it fails."""
        reply = await self.kc.execute_interactive(
            code, silent=True, store_history=False, timeout=timeout, output_hook=lambda msg: None
        )
        content = reply["content"]
        if content["status"] != "ok":
            raise EngineError(
                f"warm kernel {self.index} (pid {self.pid}): {what} failed: "
                f"{content.get('ename')}: {content.get('evalue')}; its log is {self.log_path}"
            )

    async def stop(self, now: bool) -> None:
        try:
            if self.km is not None and self.km.has_kernel:
                await asyncio.wait_for(self.km.shutdown_kernel(now=now), SHUTDOWN_TIMEOUT)
        except Exception:  # noqa: BLE001 - already dead, or slow: kill by pid below
            pass
        finally:
            if self.kc is not None:
                self.kc.stop_channels()
            # the pid is known even when a start-up was cut short before start() recorded it
            _kill([self.pid or getattr(getattr(self.km, "provisioner", None), "pid", None)])


def _kill(pids) -> None:
    for pid in pids:
        if pid:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


class Pool:
    """``size`` warm kernels; :meth:`execute_notebook` runs one notebook on an idle one.

    Kernels start in the background when the pool is created. :meth:`close` (or leaving the
    ``with`` block, normally or on KeyboardInterrupt / cspbook.signals.Interrupted) kills
    them at once: they hold nothing worth a graceful shutdown, which took 3.5 s. A kernel
    that dies or cannot be reset is replaced; one whose notebook failed in a cell is reused.
    """

    def __init__(self, size: int, log_dir: Path, env: dict | None = None, cwd: Path | None = None,
                 prewarm=PREWARM):
        self.size = max(1, size)
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, **(env or {}))
        self.cwd = str(cwd or os.getcwd())
        self.prewarm = tuple(prewarm)
        self._kernels: list[_Kernel] = []
        self._started = 0
        self._closing = False
        self._stopped = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="cspbook-warm-kernels", daemon=True)
        self._thread.start()
        self._idle: asyncio.Queue = self._submit(self._make_queue()).result()
        atexit.register(self._kill_all)
        for _ in range(self.size):
            self._loop.call_soon_threadsafe(self._spawn)

    # -- public, called from any thread ------------------------------------------------

    def execute_notebook(self, input_path, output_path, parameters: dict, cwd=None, progress_bar=False):
        """Execute ``input_path`` with ``parameters`` written in; write it to ``output_path``.

        Same contract as ``papermill.execute_notebook``: returns the executed notebook,
        raises ``PapermillExecutionError`` (cell index, execution count, source, ename,
        evalue) for a failing cell after writing the notebook with papermill's error marker.
        """
        from papermill.execute import raise_for_execution_errors
        from papermill.iorw import write_ipynb

        if self._closing:
            raise EngineError("the warm-kernel pool is closed")
        nb = _prepare(str(input_path), str(output_path), parameters)
        bar = _bar(progress_bar, nb)
        try:
            nb = self._wait(self._submit(self._execute(nb, str(cwd or self.cwd), bar)))
        except asyncio.CancelledError:  # the pool was aborted: nothing worth keeping
            raise
        except BaseException:
            write_ipynb(nb, str(output_path))  # what ran so far, for the failed/ copy
            raise
        finally:
            if bar is not None:
                bar.close()
        write_ipynb(nb, str(output_path))
        raise_for_execution_errors(nb, str(output_path))
        return nb

    def pids(self) -> list[int]:
        """The process ids of the pool's kernels, dead or alive."""
        return [k.pid for k in list(self._kernels) if k.pid]

    def close(self, now: bool = True) -> None:
        """Stop every kernel (``now``: kill it; else ask it to shut down) and the loop thread."""
        if self._closing:
            return
        self._closing = True
        try:
            self._submit(self._stop_all(now)).result(timeout=2 * SHUTDOWN_TIMEOUT + 5)
        except BaseException:  # noqa: BLE001 - whatever happened, kill by pid below
            pass
        finally:
            self._kill_all()
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=5)
            self._stopped.set()
            atexit.unregister(self._kill_all)

    def abort(self) -> None:
        """Kill every kernel now (the build is failing or interrupted); notebooks still
        running end with ``asyncio.CancelledError``, which run.py does not report."""
        self.close(now=True)

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.close(now=True)
        return False

    def _wait(self, future):
        """The result of a coroutine submitted to the loop; CancelledError (a BaseException,
        so run.py does not report it as a failed notebook) when the pool is aborted."""
        while True:
            try:
                return future.result(timeout=0.2)
            except concurrent.futures.TimeoutError:
                if self._stopped.is_set():  # the loop is gone: the coroutine will never finish
                    raise asyncio.CancelledError from None
            except concurrent.futures.CancelledError:
                raise asyncio.CancelledError from None

    # -- on the loop thread ------------------------------------------------------------

    def _submit(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    async def _make_queue(self) -> asyncio.Queue:
        return asyncio.Queue()

    def _spawn(self) -> None:
        """Start one more kernel in the background; it joins the idle queue when warm."""
        if self._closing:
            return
        kernel = _Kernel(self._started, self.log_dir / f"warm-{self._started}.kernel.log")
        self._started += 1
        self._kernels.append(kernel)

        async def start():
            try:
                await kernel.start(self.env, self.cwd, self.prewarm)
            except BaseException as exc:  # noqa: BLE001 - handed to the notebook that waits for it
                await kernel.stop(now=True)
                if isinstance(exc, asyncio.CancelledError):
                    raise
                error = exc if isinstance(exc, EngineError) else EngineError(
                    f"warm kernel {kernel.index} could not start: {type(exc).__name__}: {exc}; its log is {kernel.log_path}")
                self._idle.put_nowait(error)
                return
            self._idle.put_nowait(kernel)

        self._loop.create_task(start())

    async def _execute(self, nb, cwd: str, bar):
        from nbclient import NotebookClient
        from nbclient.exceptions import CellExecutionError

        kernel = await self._idle.get()
        if isinstance(kernel, BaseException):
            self._spawn()  # let the next notebook try a new kernel
            raise kernel
        reusable = False
        try:
            await kernel.call(RESET.format(cwd=cwd), "reset before a notebook")
            client = NotebookClient(nb, km=kernel.km, kernel_name=KERNEL_NAME, timeout=None,
                                    startup_timeout=STARTUP_TIMEOUT, allow_errors=False)
            client.kc = kernel.kc
            client.reset_execution_trackers()
            if kernel.language_info:
                nb.metadata["language_info"] = kernel.language_info
            try:
                for index, cell in enumerate(nb.cells):
                    await client.async_execute_cell(cell, index, execution_count=client.code_cells_executed + 1)
                    if bar is not None:
                        bar.update()
            except CellExecutionError:
                pass  # the error output is in the cell; papermill's check raises it in the caller
            client.set_widgets_metadata()
            reusable = True
        finally:
            if reusable and not self._closing:
                self._idle.put_nowait(kernel)
            else:  # dead, timed out, cancelled or failed to reset: replace it
                await kernel.stop(now=True)
                self._spawn()
        return nb

    async def _stop_all(self, now: bool) -> None:
        tasks = [t for t in asyncio.all_tasks(self._loop) if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*(k.stop(now) for k in self._kernels), return_exceptions=True)
        if tasks:  # let the cancelled notebooks and start-ups unwind, so no caller waits forever
            await asyncio.wait(tasks, timeout=SHUTDOWN_TIMEOUT)

    def _kill_all(self) -> None:
        _kill(self.pids())


def _prepare(input_path: str, output_path: str, parameters: dict):
    """Load and parameterize the template as ``papermill.execute_notebook`` does."""
    from papermill.execute import prepare_notebook_metadata, remove_error_markers
    from papermill.iorw import load_notebook_node
    from papermill.parameterize import parameterize_notebook

    nb = load_notebook_node(input_path)
    if parameters:
        nb = parameterize_notebook(nb, parameters, kernel_name=KERNEL_NAME, language="python")
    nb = prepare_notebook_metadata(nb, input_path, output_path)
    return remove_error_markers(nb)


def _bar(progress_bar, nb):
    if not progress_bar:
        return None
    from tqdm.auto import tqdm

    options = progress_bar if isinstance(progress_bar, dict) else {}
    return tqdm(total=len(nb.cells), unit="cell", **options)
