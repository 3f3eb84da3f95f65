"""The parent side of warm-kernel execution: a pool of long-lived kernels, each running the
book's notebooks one after another (what runs inside each kernel: :mod:`cspbook.execute.kernel`).

A cold kernel per notebook pays interpreter start, kernel start and the imports of pandas,
seaborn and cspbook (about 2 s of CPU) for every page. Here each of the N kernels pays that
once: started and pre-warmed (:data:`~cspbook.execute.kernel.PREWARM` imported) when the
pool opens, then reused.

:class:`Pool`: load the template -> write the parameters in (papermill's
``parameterize_notebook``: :func:`prepare`) -> take an idle kernel -> set its working folder and
environment -> execute the cells with nbclient -> raise papermill's ``PapermillExecutionError`` for a
failing cell, as ``papermill.execute_notebook`` does, so :mod:`cspbook.execute.plan` reports
both engines alike. Meanwhile the kernel is reset (:func:`cspbook.execute.kernel.reset`) and
only then handed back: the reset (IPython's, a garbage collection and the snapshot restored,
20-30 ms) runs while the build goes on, not before the next notebook. The kernels live on one
private asyncio loop thread;
:meth:`Pool.execute_notebook` is blocking and thread-safe, so the plan's worker threads call
it like papermill."""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import os
import signal
import threading
from pathlib import Path

from cspbook.errors import BuildError
from cspbook.execute.kernel import PREWARM

KERNEL_NAME = "python3"


WARM = "__import__('cspbook.execute.kernel').execute.kernel.warm({modules!r})"  # sent to a kernel once, when it starts


ENTER = "__import__('cspbook.execute.kernel').execute.kernel.enter({cwd!r}, {env!r})"  # sent before every notebook


RESET = "__import__('cspbook.execute.kernel').execute.kernel.reset({release!r})"  # sent after every notebook


STARTUP_TIMEOUT = 120.0  # seconds for a kernel to start and finish its imports on a loaded machine


SHUTDOWN_TIMEOUT = 10.0


class EngineError(BuildError):
    """Raised when a warm kernel cannot be started, pre-warmed or reset."""


_SNAPSHOT: dict | None = None


class _Kernel:
    """One kernel of the pool: its manager, client and pid."""

    def __init__(self, index: int, log_path: Path):
        self.index = index
        self.log_path = log_path
        self.km = None
        self.kc = None
        self.pid: int | None = None
        self.recycling: asyncio.Task | None = None  # its reset after a notebook
        self.language_info: dict | None = None

    async def start(self, env: dict, cwd: str, prewarm) -> None:
        from cspbook.execute import kernels

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


class _LoopThread:
    """A private asyncio loop on a daemon thread: coroutines submitted from any thread, and
    waited for so that an abort ends the wait instead of hanging it."""

    def __init__(self, name: str):
        self._stopped = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name=name, daemon=True)
        self._thread.start()

    def _submit(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self._loop)

    def _wait(self, future):
        """The result of a coroutine submitted to the loop; CancelledError (a BaseException,
        so the plan does not report it as a failed notebook) when the loop is stopped."""
        while True:
            try:
                return future.result(timeout=0.2)
            except concurrent.futures.TimeoutError:
                if self._stopped.is_set():  # the loop is gone: the coroutine will never finish
                    raise asyncio.CancelledError from None
            except concurrent.futures.CancelledError:
                raise asyncio.CancelledError from None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.close(now=True)
        return False

    def close(self, now: bool = True) -> None:  # pragma: no cover - each loop owner stops its own work
        self._stop_loop()

    def _stop_loop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._stopped.set()


class Pool(_LoopThread):
    """``size`` warm kernels, started in the background; :meth:`execute_notebook` runs one
    notebook on an idle one. :meth:`close` (or leaving the ``with`` block) kills them at once.
    A kernel that dies or cannot be reset is replaced; one whose notebook failed is reused."""

    def __init__(self, size: int, log_dir: Path, env: dict | None = None, cwd: Path | None = None,
                 prewarm=PREWARM, release_memory: bool = True):
        self.size = max(1, size)
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ, **(env or {}))
        self.cwd = str(cwd or os.getcwd())
        self.prewarm = tuple(prewarm)
        self.release_memory = release_memory  # after each notebook (see cspbook.execute.kernel.reset)
        self._kernels: list[_Kernel] = []
        self._started = 0
        self._closing = False
        super().__init__("cspbook-warm-kernels")
        self._idle: asyncio.Queue = self._submit(self._make_queue()).result()
        atexit.register(self._kill_all)
        for _ in range(self.size):
            self._loop.call_soon_threadsafe(self._spawn)

    # -- public, called from any thread ------------------------------------------------

    def execute_notebook(self, input_path, output_path, parameters: dict, cwd=None, progress_bar=False, env=None):
        """Execute ``input_path`` with ``parameters`` written in; write it to ``output_path``.

        Same contract as ``papermill.execute_notebook``: returns the executed notebook,
        raises ``PapermillExecutionError`` (cell index, execution count, source, ename,
        evalue) for a failing cell after writing the notebook with papermill's error marker.
        ``env``: variables set in the kernel for this notebook only.
        """
        from papermill.execute import raise_for_execution_errors
        from papermill.iorw import write_ipynb

        if self._closing:
            raise EngineError("the warm-kernel pool is closed")
        nb = prepare(str(input_path), str(output_path), parameters)
        bar = _bar(progress_bar, nb)
        try:
            nb = self._wait(self._submit(self._execute(nb, str(cwd or self.cwd), bar, dict(env or {}))))
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
            self._stop_loop()
            atexit.unregister(self._kill_all)

    def abort(self) -> None:
        """Kill every kernel now (the build is failing or interrupted); notebooks still
        running end with ``asyncio.CancelledError``, which run.py does not report."""
        self.close(now=True)

    # -- on the loop thread ------------------------------------------------------------

    async def _make_queue(self) -> asyncio.Queue:
        return asyncio.Queue()

    def _spawn(self) -> None:
        """Start one more kernel in the background; it joins the idle queue when warm."""
        if self._closing:
            return
        kernel = _Kernel(self._started, self.log_dir / f"warm-{self._started}.kernel.log")
        self._started += 1
        self._kernels.append(kernel)

        self._loop.create_task(_start_into(self._idle, kernel, self.env, self.cwd, self.prewarm))

    async def _execute(self, nb, cwd: str, bar, env: dict):
        kernel = await self._idle.get()
        if isinstance(kernel, BaseException):
            self._spawn()  # let the next notebook try a new kernel
            raise kernel
        reusable = False
        try:
            await kernel.call(ENTER.format(cwd=cwd, env=env), "set up before a notebook")
            await _run_cells(kernel, nb, bar)
            reusable = True
        finally:
            if reusable and not self._closing:
                kernel.recycling = self._loop.create_task(_recycle(self, kernel))  # a reference kept while it runs
            else:  # dead, timed out or cancelled: replace it
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


async def _recycle(pool: Pool, kernel: _Kernel) -> None:
    """Reset ``kernel`` after its notebook, then hand it back to ``pool`` (a kernel that
    cannot be reset is replaced)."""
    try:
        await kernel.call(RESET.format(release=pool.release_memory), "reset after a notebook")
    except asyncio.CancelledError:  # the pool is closing
        await kernel.stop(now=True)
        raise
    except Exception:  # noqa: BLE001 - dead, timed out, or its reset failed
        await kernel.stop(now=True)
        pool._spawn()
        return
    if pool._closing:
        await kernel.stop(now=True)
    else:
        pool._idle.put_nowait(kernel)


async def _start_into(idle: asyncio.Queue, kernel: _Kernel, env: dict, cwd: str, prewarm) -> None:
    """Start and pre-warm ``kernel``, then put it in the ``idle`` queue; a kernel that cannot
    start puts its error there instead, for the notebook that waits for it."""
    try:
        await kernel.start(env, cwd, prewarm)
    except BaseException as exc:  # noqa: BLE001 - handed to the notebook that waits for it
        await kernel.stop(now=True)
        if isinstance(exc, asyncio.CancelledError):
            raise
        error = exc if isinstance(exc, EngineError) else EngineError(
            f"warm kernel {kernel.index} could not start: {type(exc).__name__}: {exc}; its log is {kernel.log_path}")
        idle.put_nowait(error)
        return
    idle.put_nowait(kernel)


async def _run_cells(kernel: _Kernel, nb, bar) -> None:
    """Execute every cell of ``nb`` on ``kernel`` with nbclient; a failing cell keeps its
    error output (papermill's check raises it in the caller)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

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
        pass
    client.set_widgets_metadata()


def prepare(input_path: str, output_path: str, parameters: dict):
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
