"""cspbook.publish.lock: one build at a time per tree; the holder's pid in the message; a lock left
by a process that is gone is taken over (with a notice), even one killed with SIGKILL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest

from cspbook.errors import BuildError
from cspbook.publish import lock

HOLDER = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from cspbook.publish import lock
    with lock.held(Path(sys.argv[1])):
        print("held", flush=True)
        time.sleep(120)
""")


@pytest.fixture
def path(tmp_path):
    return tmp_path / ".cspbook" / "build.lock"


@pytest.fixture
def holder(path):
    """Another process holding the lock at ``path``; killed after the test."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline() == "held\n"
    yield proc
    proc.kill()
    proc.wait()


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_the_lock_holds_our_pid_and_goes_away_afterwards(path):
    with lock.held(path):
        assert path.read_text() == f"{os.getpid()}\n"
    assert not path.exists()


def test_the_lock_goes_away_when_the_build_fails(path):
    with pytest.raises(ValueError), lock.held(path):
        raise ValueError("a failing build")
    assert not path.exists()


def test_a_second_build_is_refused_naming_the_holder(path, holder):
    with pytest.raises(BuildError) as caught, lock.held(path):
        pytest.fail("the lock was taken twice")
    assert str(caught.value) == (
        f"another cspbook build (pid {holder.pid}) is running on this tree (lock {path}); "
        "wait for it to finish, or stop it, then run the build again"
    )
    assert path.read_text() == f"{holder.pid}\n", "the refused build must not touch the holder's lock"


def test_a_lock_left_by_a_killed_build_is_taken_over(path, holder):
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert path.read_text() == f"{holder.pid}\n", "SIGKILL leaves the file behind"
    notices = []
    with lock.held(path, notice=notices.append):
        assert path.read_text() == f"{os.getpid()}\n"
    assert notices == [f"notice: taking over the stale build lock {path}: pid {holder.pid} is no longer running"]
    assert not path.exists()


def test_a_stale_lock_with_a_dead_pid_is_taken_over(path):
    pid = dead_pid()
    path.parent.mkdir(parents=True)
    path.write_text(f"{pid}\n")
    notices = []
    with lock.held(path, notice=notices.append):
        assert path.read_text() == f"{os.getpid()}\n"
    assert notices == [f"notice: taking over the stale build lock {path}: pid {pid} is no longer running"]


@pytest.mark.parametrize("content", ["", "garbage", "12 34"])
def test_a_lock_file_without_a_pid_is_taken_over_quietly(path, content):
    path.parent.mkdir(parents=True)
    path.write_text(content)
    notices = []
    with lock.held(path, notice=notices.append):
        assert path.read_text() == f"{os.getpid()}\n"
    assert notices == []


def test_a_lock_that_cannot_be_created_is_a_clear_error(tmp_path):
    (tmp_path / "not-a-folder").write_text("")
    path = tmp_path / "not-a-folder" / ".cspbook" / "build.lock"
    with pytest.raises(BuildError) as caught, lock.held(path):
        pytest.fail("locked inside a file")
    assert str(caught.value) == (
        f"cannot create the build lock {path}: Not a directory; check the folder's permissions and free space"
    )


def test_the_lock_is_free_again_once_released(path, holder):
    holder.kill()
    holder.wait()
    for _ in range(2):
        with lock.held(path):
            pass
    assert not path.exists()
