"""Stopping cleanly on SIGINT (Ctrl-C) and SIGTERM (``kill``, a CI timeout, systemd).

Within :func:`handled` the first SIGINT or SIGTERM stops every child process at once
(notebook kernels, the Jupyter Book process) and raises :class:`Interrupted` in the main
thread, so the ``finally`` blocks of the build run: pending notebooks are cancelled, the
lock is released, the staging folder of a fetch is removed, and the half-built HTML is
never swapped in. Children started after that (a worker thread that was launching a kernel)
are killed as they appear, until the process exits. The command line turns
:class:`Interrupted` into exit code 128 + the signal number (130, 143).

:func:`deferred` holds both signals back for a few lines that must not be cut in two (the
renames that swap the new book in) and delivers them afterwards.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
import time
from contextlib import contextmanager

import psutil

SIGNALS = (signal.SIGINT, signal.SIGTERM)
GRACE_SECONDS = 2.0  # how long a child may take to exit after SIGTERM before it is killed


class Interrupted(KeyboardInterrupt):
    """Raised in the main thread when the process receives SIGINT or SIGTERM."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(signal.Signals(signum).name)

    @property
    def exit_code(self) -> int:
        """The shell's convention for a process stopped by a signal: 128 + its number."""
        return 128 + self.signum


def exit_code(exc: KeyboardInterrupt) -> int:
    """130 for a plain KeyboardInterrupt (SIGINT), 128 + the signal for :class:`Interrupted`.

    >>> exit_code(KeyboardInterrupt()), exit_code(Interrupted(signal.SIGTERM))
    (130, 143)
    """
    return exc.exit_code if isinstance(exc, Interrupted) else 128 + signal.SIGINT


_RECEIVED: list[int] = []  # the signal :func:`handled` received in its block, if any


def received() -> int | None:
    """The signal the last :func:`handled` block received (None when none came): an error that
    the signal itself caused (a kernel it stopped, reported by a waiting notebook before the
    Interrupted exception) is still a stop by that signal."""
    return _RECEIVED[0] if _RECEIVED else None


@contextmanager
def handled():
    """Turn SIGINT and SIGTERM into :class:`Interrupted` and stop every child process.

    Only the main thread can install signal handlers; elsewhere the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    hit = _RECEIVED
    hit.clear()

    def on_signal(signum, frame):
        if not hit:
            logging.disable(logging.CRITICAL)  # kernels dying now is expected: no "Kernel died" lines
        stop_children()
        if not hit:  # a second signal while we clean up only stops children again
            hit.append(signum)
            _start_reaper()
            raise Interrupted(signum)

    previous = {signum: signal.signal(signum, on_signal) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)


@contextmanager
def deferred():
    """Hold SIGINT and SIGTERM back for the block; deliver them, in order, once it is done."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = {signum: signal.signal(signum, lambda signum, frame: pending.append(signum)) for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        for signum in dict.fromkeys(pending):
            signal.raise_signal(signum)


def stop_children(grace: float = GRACE_SECONDS) -> list[int]:
    """Terminate every descendant of this process, kill those still alive after ``grace``
    seconds; the process ids that were running."""
    try:
        children = psutil.Process().children(recursive=True)
    except psutil.Error:
        return []
    for child in children:
        _send(child, "terminate")
    _, alive = psutil.wait_procs(children, timeout=grace)
    for child in alive:
        _send(child, "kill")
    psutil.wait_procs(alive, timeout=grace)
    return [child.pid for child in children]


def _send(process: psutil.Process, how: str) -> None:
    try:
        getattr(process, how)()
    except psutil.Error:  # already gone
        pass


def _start_reaper(interval: float = 0.1) -> None:
    """Kill, as they appear and until the process exits, children started after the signal."""

    def reap():
        while True:
            time.sleep(interval)
            try:
                children = psutil.Process().children(recursive=True)
            except psutil.Error:
                continue
            for child in children:
                _send(child, "kill")

    threading.Thread(target=reap, name="cspbook-reaper", daemon=True).start()


def alive(pid: int) -> bool:
    """Whether a process ``pid`` exists (someone else's counts: it is alive)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True
