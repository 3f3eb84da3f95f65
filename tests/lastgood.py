"""The "last good book" for tests of bad input and faults: a scratch project tree with a
fetched cache and a built book, built once per test session (per xdist worker), and put
back, byte for byte, before each test that asks for it.

The tree is restored at the path it was built at, because a notebook's cache key includes
the project path: a test that changes one template re-executes that notebook only, and an
unchanged tree is "up to date" (no notebook executed, Jupyter Book not run).

Every ``cspbook`` here is a real subprocess (``.venv/bin/cspbook``), as a user runs it.
Use in a test module with ``from lastgood import last_good  # noqa: F401``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from bookfixtures import BOROUGH, YEAR, make_project, mirror_dir
from conftest import CLOSED_PORT, snapshot

from cspbook import config

CSPBOOK = Path(sys.executable).with_name("cspbook")
BUILD = ("build", "--borough", BOROUGH, "--year", YEAR, "--jobs", "2")
UNSET = object()


def command_env(home: Path, mirror=UNSET, **extra) -> dict:
    """The environment of a ``cspbook`` subprocess: ``home`` as CSPBOOK_HOME, the mirror
    (default: the real one; None: no mirror), no reachable Datastore unless ``extra`` says so."""
    env = {k: v for k, v in os.environ.items() if k not in (config.MIRROR_ENV, "PYTEST_CURRENT_TEST")}
    env[config.HOME_ENV] = str(home)
    env[config.DATASTORE_ENV] = CLOSED_PORT
    mirror = mirror_dir() if mirror is UNSET else mirror
    if mirror is not None:
        env[config.MIRROR_ENV] = str(mirror)
    env.update({k: str(v) for k, v in extra.items()})
    return env


def cspbook(home: Path, *args, mirror=UNSET, timeout: float = 300, **extra) -> subprocess.CompletedProcess:
    """Run ``cspbook ARGS`` (default: the build of the last good book) and wait for it."""
    argv = [str(CSPBOOK), *(map(str, args) if args else BUILD)]
    return subprocess.run(argv, env=command_env(home, mirror, **extra), capture_output=True, text=True, timeout=timeout)


def start(home: Path, *args, mirror=UNSET, **extra) -> subprocess.Popen:
    """Start ``cspbook ARGS`` (default: the build) in the background, in a process group of
    its own (as a shell runs a command: Ctrl-C goes to the whole group); stderr is a text pipe."""
    argv = [str(CSPBOOK), *(map(str, args) if args else BUILD)]
    return subprocess.Popen(argv, env=command_env(home, mirror, **extra), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True, process_group=0)


@dataclass
class LastGood:
    """The tree (``home``) and what it held right after the good build."""

    home: Path
    saved: Path  # a copy of the tree as built, to restore from
    raw: dict  # snapshot of data/raw (the cached files and manifest.json)
    html: dict  # snapshot of _build/html (the book)

    def assert_unchanged(self) -> None:
        """The data cache and the book are byte for byte as the good build left them."""
        assert snapshot(self.home / "data" / "raw") == self.raw, "the data cache changed"
        assert snapshot(self.home / "_build" / "html") == self.html, "the last good book changed"


_BUILT: list[LastGood] = []  # the tree of this session (worker), built by the first test that asks


def _build_once(tmp_path_factory) -> LastGood:
    if not mirror_dir().exists():
        pytest.fail(f"no data mirror at {mirror_dir()}; set CSPBOOK_TEST_MIRROR to the folder holding the MPS files")
    home = make_project(tmp_path_factory.mktemp("lastgood") / "project")
    result = cspbook(home, timeout=600)
    assert result.returncode == 0, result.stderr
    saved = home.with_name("as-built")
    shutil.copytree(home, saved, symlinks=True)
    return LastGood(home, saved, snapshot(home / "data" / "raw"), snapshot(home / "_build" / "html"))


@pytest.fixture
def last_good(tmp_path_factory) -> LastGood:
    """The project tree with its cache and last good book, exactly as built."""
    if not _BUILT:
        _BUILT.append(_build_once(tmp_path_factory))
    tree = _BUILT[0]
    shutil.rmtree(tree.home)
    shutil.copytree(tree.saved, tree.home, symlinks=True)
    return tree
