"""What `cspbook preview` watches (templates, ``data/``, ``_config.yml``, the raw-data
cache), with watchfiles, and how a burst of saves becomes one rebuild (debounced)."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from pathlib import Path

QUIET_MS = 50  # a burst of saves ends when nothing changed for this long (an editor's save: a few ms)


MAX_BURST_MS = 2000  # ...or after this long, whatever happens; and the longest wait for an empty file to be written


def watched(home: Path) -> tuple[list[Path], list[Path]]:
    """(folders watched recursively, folders watched for their own files only)."""
    deep = [home / "book" / "templates", home / "book" / "_static", home / "data"]
    return [p for p in deep if p.is_dir()], [home]


def relevant(home: Path, path: str) -> str | None:
    """``path`` relative to ``home`` when a change there matters to the book, else None.

    >>> relevant(Path("/p"), "/p/_config.yml"), relevant(Path("/p"), "/p/_toc.yml")
    ('_config.yml', None)
    >>> relevant(Path("/p"), "/p/data/raw/.staging-1/x.csv"), relevant(Path("/p"), "/p/book/templates/asb.ipynb")
    (None, 'book/templates/asb.ipynb')
    """
    try:
        rel = Path(path).relative_to(home).as_posix()
    except ValueError:
        return None
    if rel == "_config.yml":
        return rel
    if not rel.startswith(("book/templates/", "book/_static/", "data/")):
        return None
    parts = rel.split("/")
    if any(part.startswith(".") for part in parts) or parts[-1].endswith(("~", ".tmp", ".swp", ".swx")):
        return None  # hidden files, a fetch's staging folder, editors' backups
    if ".ipynb_checkpoints" in parts:
        return None
    return rel


class Watcher:
    """Two ``watchfiles`` watchers in threads (recursive for the folders, shallow for the
    project root); the relevant changed paths go to :attr:`changes`."""

    def __init__(self, home: Path):
        self.home = home
        self.changes: queue.Queue = queue.Queue()
        self.stop = threading.Event()
        self.ready = threading.Barrier(3)
        deep, shallow = watched(home)
        self.threads = [threading.Thread(target=self._watch, args=(deep, True), name="cspbook-watch", daemon=True),
                        threading.Thread(target=self._watch, args=(shallow, False), name="cspbook-watch-root", daemon=True)]

    def start(self) -> None:
        for thread in self.threads:
            thread.start()
        self.ready.wait(timeout=30)

    def _watch(self, paths: list[Path], recursive: bool) -> None:
        import watchfiles

        filter_ = watchfiles.DefaultFilter()
        started = False
        try:
            for batch in watchfiles.watch(*paths, watch_filter=filter_, debounce=MAX_BURST_MS, step=QUIET_MS,
                                          stop_event=self.stop, rust_timeout=200, yield_on_timeout=True,
                                          recursive=recursive, raise_interrupt=False):
                if not started:
                    started = True
                    self._ready()
                found = sorted(filter(None, (relevant(self.home, path) for _, path in batch)))
                if found:
                    self.changes.put(found)
        finally:
            if not started:
                self._ready()

    def _ready(self) -> None:
        with contextlib.suppress(threading.BrokenBarrierError):
            self.ready.wait(timeout=30)

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=5)

    def next_batch(self, timeout: float) -> list[str] | None:
        """The paths changed since the last call (all batches waiting merged), or None
        after ``timeout`` seconds without a change. While one of them is an empty file, the
        changes that follow are waited for (up to :data:`MAX_BURST_MS`): a save under way, by
        a program that empties the file and then writes it (``nbformat.write`` validates the
        notebook in between), is not read half done."""
        try:
            paths = set(self.changes.get(timeout=timeout))
        except queue.Empty:
            return None
        deadline = time.monotonic() + MAX_BURST_MS / 1000
        while True:
            try:
                paths.update(self.changes.get_nowait())
                continue
            except queue.Empty:
                pass
            left = deadline - time.monotonic()
            if left <= 0 or not any(_empty(self.home / path) for path in paths):
                return sorted(paths)
            with contextlib.suppress(queue.Empty):
                paths.update(self.changes.get(timeout=left))


def settle(home: Path) -> None:
    """Wait while a file the preview watches is empty (a save under way, see
    :meth:`Watcher.next_batch`), up to :data:`MAX_BURST_MS`: a rebuild that failed asks first,
    so that the file it read half written is compared once it is written."""
    deep, shallow = watched(home)
    files = [p for folder in deep for p in folder.rglob("*") if relevant(home, str(p))]
    files += [p for folder in shallow for p in folder.glob("*") if relevant(home, str(p))]
    deadline = time.monotonic() + MAX_BURST_MS / 1000
    while time.monotonic() < deadline and any(_empty(p) for p in files if p.is_file()):
        time.sleep(0.02)


def _empty(path: Path) -> bool:
    try:
        return path.stat().st_size == 0
    except OSError:  # deleted: a change like any other
        return False
