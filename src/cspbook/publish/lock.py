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

from cspbook.errors import BuildError


@contextmanager
def held(path: Path, notice=None):
    """Hold the lock at ``path`` for the duration of the block, or raise BuildError.

    ``notice`` (a callable taking one line) is told when a stale lock is taken over.
    """
    path = Path(path)
    fd, stale = _acquire(path)
    try:
        if stale and notice:
            state = "is no longer running" if not _alive(stale) else "no longer holds it"
            notice(f"notice: taking over the stale build lock {path}: pid {stale} {state}")
        yield
    finally:
        try:
            if _names(path, fd):
                path.unlink()  # still holding the flock, so nobody can be inside between these lines
        finally:
            os.close(fd)


def _acquire(path: Path) -> tuple[int, int | None]:
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
            holder = _pid_in(fd)
            os.close(fd)
            who = f"pid {holder}" if holder else "a process that is just starting"
            raise BuildError(
                f"another cspbook build ({who}) is running on this tree (lock {path}); "
                "wait for it to finish, or stop it, then run the build again"
            ) from None
        except BaseException:
            os.close(fd)
            raise
        if not _names(path, fd):  # the previous holder removed the file as we opened it: retry
            os.close(fd)
            continue
        previous = _pid_in(fd)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        return fd, previous if previous and previous != os.getpid() else None


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, someone else's
        return True
    return True


def _names(path: Path, fd: int) -> bool:
    """Whether ``path`` still names the file open as ``fd``."""
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except FileNotFoundError:
        return False


def _pid_in(fd: int) -> int | None:
    """The pid written in the lock file, or None when it is empty or not a number."""
    text = os.pread(fd, 32, 0).decode("ascii", errors="replace").strip()
    return int(text) if text.isdigit() else None
