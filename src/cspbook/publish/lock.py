"""One build at a time per project tree: ``.cspbook/build.lock``, holding the builder's pid.

The lock is an advisory ``flock`` on that file, so the operating system releases it the
moment its holder exits, however it exits (even ``kill -9``): a lock file left by a process
that is gone is stale and simply taken over, and two builds can never both believe they took
it over. The pid in the file is there for the message the second build gives.
"""

from __future__ import annotations

import fcntl
import os
from contextlib import contextmanager
from pathlib import Path

from cspbook import signals
from cspbook.errors import BuildError


KINDS = {"build": "cspbook build", "preview": "cspbook preview", "fetch": "cspbook fetch",
         "pdf": "cspbook pdf"}


class LockHeld(BuildError):
    """The lock is held by another live process (its pid and what it is, in the message)."""


@contextmanager
def held(path: Path, notice=None, kind: str = "build"):
    """Hold the lock at ``path`` for the duration of the block, or raise LockHeld.

    ``notice`` (a callable taking one line) is told when a stale lock is taken over.
    ``kind`` says what holds it (``build``, ``preview``, ``fetch``), for the message another
    process gives.
    """
    path = Path(path)
    fd, stale = _acquire(path, kind)
    try:
        if stale and notice:
            state = "is no longer running" if not signals.alive(stale) else "no longer holds it"
            notice(f"notice: taking over the stale build lock {path}: pid {stale} {state}")
        yield
    finally:
        try:
            if _names(path, fd):
                path.unlink()  # still holding the flock, so nobody can be inside between these lines
        finally:
            os.close(fd)


def holder(path: Path) -> int | None:
    """The pid of the live process holding the lock at ``path``, or None when it is free
    (it is never taken to find out: a build starting now is not disturbed)."""
    try:
        text = Path(path).read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    pid = _parse(text)[0]
    return pid if pid and pid != os.getpid() and signals.alive(pid) else None


def _parse(text: str) -> tuple[int | None, str]:
    """(pid, kind) from the lock file's text ``"PID KIND"``.

    >>> _parse("123 preview\\n"), _parse("42\\n"), _parse(""), _parse("12 34")
    ((123, 'preview'), (42, 'build'), (None, 'build'), (None, 'build'))
    """
    words = text.split()
    if not words or not words[0].isdigit() or len(words) > 2 or (len(words) == 2 and words[1] not in KINDS):
        return None, "build"
    return int(words[0]), words[1] if len(words) == 2 else "build"


def _acquire(path: Path, kind: str = "build") -> tuple[int, int | None]:
    """The open, locked file descriptor of ``path`` and the pid of a stale holder (or None)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise BuildError(f"cannot create the build lock {path}: {exc.strerror}; check the folder's permissions and free space") from None
    while True:
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise BuildError(f"cannot create the build lock {path}: {exc.strerror}; check the folder's permissions and free space") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid, other = _parse(os.pread(fd, 64, 0).decode("ascii", errors="replace"))
            os.close(fd)
            who = f"pid {pid}" if pid else "a process that is just starting"
            raise LockHeld(
                f"another {KINDS[other]} ({who}) is running on this tree (lock {path}); "
                f"wait for it to finish, or stop it, then run the {kind} again"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        if not _names(path, fd):  # the previous holder removed the file as we opened it: retry
            os.close(fd)
            continue
        previous = _pid_in(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, (f"{os.getpid()}\n" if kind == "build" else f"{os.getpid()} {kind}\n").encode(), 0)
        return fd, previous if previous and previous != os.getpid() else None


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _pid_in(fd: int) -> int | None:
    """The pid written in the lock file, or None when it is empty or not a number."""
    return _parse(os.pread(fd, 64, 0).decode("ascii", errors="replace"))[0]
