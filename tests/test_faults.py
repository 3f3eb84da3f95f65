"""Faults lose nothing: a build stopped by SIGTERM or SIGINT (while notebooks execute, and
while Jupyter Book writes), two builds at once on one tree, a download cut off halfway.

Every build here is a real ``cspbook`` subprocess on the last good book's tree (see
``lastgood.py``). After a fault: the process exits promptly with 143 (SIGTERM) or 130
(SIGINT) and one line, no kernel or other child process is left running (checked by process
id, and by looking for any process that still works on the tree), the lock is released, the
data cache and the last good book are byte for byte unchanged, and the next build succeeds
and reuses the notebooks that were finished.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
from ckan_server import FakeCkan, Reply, truncated
from conftest import HISTORIC, RECENT, snapshot
from lastgood import cspbook, last_good, start  # noqa: F401 - last_good is a fixture

INTERRUPTED = "cspbook: interrupted; the last good book is unchanged"
PROMPT_SECONDS = 15
# SIGTERM as `kill PID` sends it, to the build alone; SIGINT as Ctrl-C in a terminal sends it,
# to the build's whole process group (its kernels and Jupyter Book get it too).
SIGNALS = [pytest.param(signal.SIGTERM, 143, id="SIGTERM"), pytest.param(signal.SIGINT, 130, id="SIGINT-Ctrl-C")]


def send(proc: subprocess.Popen, signum: int) -> None:
    if signum == signal.SIGINT:
        os.killpg(proc.pid, signum)
    else:
        proc.send_signal(signum)


class Watch:
    """Collects a running process's stderr lines in a thread, so a test can wait for one."""

    def __init__(self, proc: subprocess.Popen):
        self.proc = proc
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.proc.stderr:
            self.lines.append(line)

    def until(self, condition, what: str, timeout: float = 180) -> None:
        """Wait until ``condition()`` is true; fail (and stop the process) if it exits first."""
        deadline = time.monotonic() + timeout
        while not condition():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                self.proc.wait()
                self._reader.join(5)
                pytest.fail(f"the build {'ended' if self.proc.returncode is not None else 'timed out'} "
                            f"before {what}:\n{self.text()}")
            time.sleep(0.02)

    def line(self, prefix: str) -> bool:
        return any(line.startswith(prefix) for line in list(self.lines))

    def finish(self, timeout: float) -> float:
        """Wait for the process to exit; the seconds it took."""
        started = time.monotonic()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            pytest.fail(f"the build did not exit within {timeout} s of the signal:\n{self.text()}")
        self._reader.join(5)
        return time.monotonic() - started

    def text(self) -> str:
        return "".join(self.lines)


def descendants(pid: int) -> list[psutil.Process]:
    try:
        return psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return []


def command_lines(processes) -> list[str]:
    out = []
    for process in processes:
        try:
            out.append(" ".join(process.cmdline()))
        except psutil.Error:
            pass
    return out


def running(pids) -> list[int]:
    """The pids still running (a zombie waiting to be reaped counts as gone)."""
    alive = []
    for pid in pids:
        try:
            if psutil.Process(pid).status() != psutil.STATUS_ZOMBIE:
                alive.append(pid)
        except psutil.NoSuchProcess:
            pass
    return alive


def working_on(home: Path) -> list[str]:
    """Command lines of every process (but this one) whose CSPBOOK_HOME is ``home``: the
    build, its kernels, Jupyter Book, wherever they were reparented to."""
    found = []
    for process in psutil.process_iter():
        try:
            if process.pid != os.getpid() and process.environ().get("CSPBOOK_HOME") == str(home):
                found.append(" ".join(process.cmdline()))
        except psutil.Error:
            pass
    return found


def assert_stopped_cleanly(watch: Watch, code: int, children: list[psutil.Process], tree) -> None:
    seconds = watch.finish(PROMPT_SECONDS)
    stderr = watch.text()
    assert watch.proc.returncode == code, stderr
    assert stderr.endswith(INTERRUPTED + "\n"), stderr
    assert "Traceback" not in stderr and "Error" not in stderr, stderr
    assert seconds < PROMPT_SECONDS
    deadline = time.monotonic() + 5
    while running(p.pid for p in children) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert running(p.pid for p in children) == [], command_lines(children)
    assert working_on(tree.home) == []
    assert not (tree.home / ".cspbook" / "build.lock").exists()
    tree.assert_unchanged()


def assert_unchanged_if_up_to_date(result, tree) -> None:
    """The book is untouched by a build that found it up to date. (It is not when cspbook's
    own source changed since the tree was built: every notebook's key includes it.)"""
    if "is up to date; Jupyter Book not run" in result.stderr:
        tree.assert_unchanged()
    else:
        assert "executing" in result.stderr, result.stderr


def reused(stderr: str) -> int:
    """How many notebooks a build's log says it reused."""
    match = re.search(r"reusing (\d+)$|^all (\d+) notebooks are up to date", stderr, re.MULTILINE)
    assert match, stderr
    return int(match.group(1) or match.group(2))


# --- signals -------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_a_signal_while_notebooks_execute(last_good, signum, code):
    cache = last_good.home / ".cspbook" / "cache"
    notebooks = sorted(cache.glob("*.ipynb"))
    for path in notebooks[:4]:  # four to execute on two workers: some finish, some are cut off
        path.unlink()
    watch = Watch(start(last_good.home))
    watch.until(lambda: watch.line("  done"), "a notebook finished")
    children = descendants(watch.proc.pid)
    assert any("ipykernel" in line for line in command_lines(children)), command_lines(children)
    send(watch.proc, signum)
    assert_stopped_cleanly(watch, code, children, last_good)
    finished = watch.text().count("  done ")
    assert finished >= 1

    again = cspbook(last_good.home)
    assert again.returncode == 0, again.stderr
    assert reused(again.stderr) >= len(notebooks) - 4 + finished, again.stderr
    last_good.assert_unchanged()  # the same notebooks again: the book is up to date, not rebuilt


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "code"), SIGNALS)
def test_a_signal_while_jupyter_book_writes(last_good, signum, code):
    with open(last_good.home / "_config.yml", "a", encoding="utf-8") as config:
        config.write("\n# changed by a test, so that Jupyter Book runs\n")
    shutil.rmtree(last_good.home / ".cspbook" / "jb")  # a full Sphinx build: it takes a few seconds
    writing = last_good.home / ".cspbook" / "jb" / "_build"
    watch = Watch(start(last_good.home))
    watch.until(lambda: writing.exists() and watch.line("building the HTML book"), "Jupyter Book (in the process) started writing")
    children = descendants(watch.proc.pid)
    send(watch.proc, signum)
    assert_stopped_cleanly(watch, code, children, last_good)
    assert not list((last_good.home / "_build").glob(".html-*")), "a half-swapped copy was left"

    again = cspbook(last_good.home)
    assert again.returncode == 0, again.stderr
    assert re.search(r"^all (\d+) notebooks are up to date; nothing executed$", again.stderr, re.MULTILINE), again.stderr
    assert "building the HTML book" in again.stderr
    assert snapshot(last_good.home / "_build" / "html") == snapshot(writing / "html")


# --- two builds at once --------------------------------------------------------------------------


@pytest.mark.slow
def test_a_second_build_on_the_same_tree_is_refused(last_good):
    with open(last_good.home / "_config.yml", "a", encoding="utf-8") as config:
        config.write("\n# changed by a test, so that the first build writes a new book\n")
    for path in sorted((last_good.home / ".cspbook" / "cache").glob("*.ipynb"))[:2]:
        path.unlink()  # the first build has notebooks to execute: it holds the lock for a while
    lock = last_good.home / ".cspbook" / "build.lock"
    first = Watch(start(last_good.home))
    first.until(lambda: lock.exists() and lock.read_text().strip() == str(first.proc.pid), "it took the lock")

    second = cspbook(last_good.home, timeout=60)

    assert second.returncode == 2, second.stderr
    assert second.stderr == (
        f"cspbook: error: another cspbook build (pid {first.proc.pid}) is running on this tree (lock {lock}); "
        "wait for it to finish, or stop it, then run the build again\n"
    )
    first.finish(300)
    assert first.proc.returncode == 0, first.text()
    assert not lock.exists()
    html = last_good.home / "_build"
    assert sorted(p.name for p in html.iterdir()) == ["html"], "a copy of the second build was left"
    # the book is exactly the first build's output, not a mix of two builds
    assert snapshot(html / "html") == snapshot(last_good.home / ".cspbook" / "jb" / "_build" / "html")
    assert snapshot(last_good.home / "data" / "raw") == last_good.raw


@pytest.mark.slow
def test_a_stale_lock_from_a_dead_build_is_taken_over(last_good):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    lock = last_good.home / ".cspbook" / "build.lock"
    lock.write_text(f"{gone.pid}\n")

    result = cspbook(last_good.home)

    assert result.returncode == 0, result.stderr
    assert f"notice: taking over the stale build lock {lock}: pid {gone.pid} is no longer running\n" in result.stderr
    assert not lock.exists()
    assert_unchanged_if_up_to_date(result, last_good)


# --- a download cut off halfway ------------------------------------------------------------------


@pytest.fixture
def cut_datastore(mirror):
    """A loopback CKAN whose second file is cut off halfway; (server, url of that file, bytes)."""
    with FakeCkan() as ckan:
        ckan.add_file(HISTORIC, (mirror / HISTORIC).read_bytes())
        body = (mirror / RECENT).read_bytes()
        url = ckan.add_file(RECENT, truncated(body))
        yield ckan, url, body


def cut_message(url: str, body: bytes) -> str:
    return (f"download of {url} is truncated: received {len(body) // 2:,} of {len(body):,} bytes "
            "(the connection closed early); try again later, or download the files in a browser into a folder "
            "and fetch with --mirror")


@pytest.mark.slow
def test_a_build_whose_download_is_cut_off_keeps_the_cache_and_goes_on(last_good, cut_datastore):
    ckan, url, body = cut_datastore
    result = cspbook(last_good.home, mirror=None, CSPBOOK_DATASTORE=ckan.url)
    assert result.returncode == 0, result.stderr
    assert (f"notice: could not check the London Datastore for new data ({cut_message(url, body)}); "
            "using the cached data\n") in result.stderr
    assert any(path.endswith(RECENT) for path, _ in ckan.requests), "the file was not downloaded at all"
    assert snapshot(last_good.home / "data" / "raw") == last_good.raw
    assert_unchanged_if_up_to_date(result, last_good)


@pytest.mark.slow
def test_a_fetch_cut_off_halfway_keeps_the_cache(last_good, cut_datastore):
    ckan, url, body = cut_datastore
    result = cspbook(last_good.home, "fetch", mirror=None, CSPBOOK_DATASTORE=ckan.url)
    assert result.returncode == 2, result.stderr
    assert result.stderr == f"cspbook: error: {cut_message(url, body)}\n"
    last_good.assert_unchanged()


@pytest.mark.slow
def test_sigterm_during_a_download_keeps_the_cache(last_good, mirror):
    with FakeCkan() as ckan:
        ckan.add_file(HISTORIC, Reply((mirror / HISTORIC).read_bytes(), delay=30))
        ckan.add_file(RECENT, (mirror / RECENT).read_bytes())
        watch = Watch(start(last_good.home, "fetch", mirror=None, CSPBOOK_DATASTORE=ckan.url))
        watch.until(lambda: any(path.endswith(HISTORIC) for path, _ in ckan.requests), "the download started")
        watch.proc.send_signal(signal.SIGTERM)
        watch.finish(PROMPT_SECONDS)
    assert watch.proc.returncode == 143
    assert watch.text() == "cspbook: interrupted; the cache is unchanged\n"
    last_good.assert_unchanged()


# --- the pieces, without a book ------------------------------------------------------------------


def test_a_swap_that_fails_halfway_puts_the_last_good_book_back(tmp_path, monkeypatch):
    from cspbook.errors import BuildError
    from cspbook.publish import book

    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    html = tmp_path / "_build" / "html"
    html.mkdir(parents=True)
    (html / "index.html").write_text("the last good book")
    built = tmp_path / "new"
    built.mkdir()
    (built / "index.html").write_text("a new book")
    real, calls = os.replace, []

    def replace_failing_the_second_time(src, dst):
        calls.append(Path(dst).name)
        if len(calls) == 2:  # the old book has been moved aside; installing the new one fails
            raise OSError(28, "No space left on device", str(dst))
        real(src, dst)

    monkeypatch.setattr(os, "replace", replace_failing_the_second_time)
    with pytest.raises(BuildError) as caught:
        book.swap_in(built)
    assert calls[:2] == [f".html-old-{os.getpid()}", "html"]
    assert (html / "index.html").read_text() == "the last good book"
    assert sorted(p.name for p in html.parent.iterdir()) == ["html"]
    assert str(caught.value) == (
        f"cannot write the book to {html}: No space left on device in {html.parent}; "
        "check the folder's permissions and free space (the last good book is unchanged)"
    )


SIGNAL_SCRIPT = """
import os, signal, subprocess, sys, time
from cspbook import signals

child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
print(child.pid, flush=True)
events = []
try:
    with signals.handled():
        with signals.deferred():  # like the renames that swap the new book in
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.2)
            events.append("the block finished")
        events.append("after the block")
except signals.Interrupted as exc:
    events.append(f"interrupted by {exc} with exit code {exc.exit_code}")
print(events, child.poll() is not None, flush=True)
"""


def test_a_signal_waits_for_a_deferred_block_then_stops_children_and_interrupts():
    proc = subprocess.run([sys.executable, "-c", SIGNAL_SCRIPT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    child, report = proc.stdout.splitlines()
    assert report == "['the block finished', 'interrupted by SIGTERM with exit code 143'] True"
    assert running([int(child)]) == []


STOPPED_BY_ITS_SIGNAL = """
import os, signal, sys, time
from cspbook import cli
from cspbook.errors import BuildError

def stopped(args):
    try:
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(30)
    except KeyboardInterrupt:  # what a notebook waiting on a kernel the stop killed reports first
        raise BuildError("warm kernel 0 could not start: RuntimeError: Kernel died before replying to kernel_info")

cli.cmd_reconcile = stopped
sys.exit(cli.main(["reconcile", "--borough", "Barnet", "--year", "2011-12"]))
"""


def test_an_error_the_stop_itself_caused_is_still_a_stop_by_the_signal(tmp_path):
    """SIGTERM kills the kernels at once; a notebook waiting for one may report the dead kernel
    before the Interrupted exception unwinds: the command still exits 143, saying interrupted."""
    proc = subprocess.run([sys.executable, "-c", STOPPED_BY_ITS_SIGNAL], capture_output=True, text=True, timeout=60,
                          env=dict(os.environ, CSPBOOK_HOME=str(tmp_path)))
    assert proc.returncode == 143, proc.stderr
    assert proc.stderr.startswith("cspbook: interrupted") and "could not start" not in proc.stderr
