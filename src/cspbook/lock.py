"""One build at a time per project tree: a lock file holding the builder's pid.

A lock left by a process that no longer exists is stale and is taken over.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

from cspbook.errors import BuildError


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextmanager
def held(path: Path):
    """Hold the lock at ``path`` for the duration of the block, or raise BuildError."""
    path.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                holder = int(path.read_text().strip() or "0")
            except (OSError, ValueError):
                holder = 0
            if holder and _alive(holder) and holder != os.getpid():
                raise BuildError(
                    f"another cspbook build (pid {holder}) is running on this tree (lock {path}); "
                    "wait for it to finish, or stop it"
                ) from None
            path.unlink(missing_ok=True)  # stale: its process is gone
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        break
    else:  # pragma: no cover - two takeovers raced
        raise BuildError(f"could not take the build lock {path}; try again")
    try:
        yield
    finally:
        try:
            if path.read_text().strip() == str(os.getpid()):
                path.unlink()
        except OSError:
            pass
