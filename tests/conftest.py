"""Shared fixtures: the real data mirror, scratch project trees, tiny hand-made crime files.

Every test that reads or writes project files works in a scratch tree under ``tmp_path``
(``CSPBOOK_HOME``), never in the repository's ``data/raw``. No test reaches the internet:
``CSPBOOK_MIRROR`` is removed from the environment and ``CSPBOOK_DATASTORE`` points at a
closed loopback port, so a command that forgot ``--offline``/``--mirror`` fails instead. A
test that asks for no project tree gets ``CSPBOOK_HOME`` pointing at a folder that does not
exist, so it cannot read or write the repository's own ``data/`` by accident.

Caches. ``cspbook.definitions`` keeps lru_caches keyed by the absolute path of each YAML
file (``cspbook.definitions.reports._composed`` by path and mtime), and ``cspbook.compute.dataset._MEMO`` is keyed
by the cache folder and the sha256 of its files, so a test in a new tree can never see
another tree's definitions or data. They are cleared
anyway whenever a fixture switches ``CSPBOOK_HOME`` to a different tree (to keep memory flat
and to make each test independent of the order tests run in), and :func:`clear_caches` is
there for a test that edits a definition file in place after it has been read. The
session-wide read-only tree behind ``real_data`` is not cleared between its tests, so the
real dataset is built once per worker.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import shutil
from pathlib import Path

import pytest

# The built book is a session fixture shared by every test module (defined here, not
# imported into each module, so that it is built once per worker, not once per module).
from bookfixtures import built_book, scratch_project  # noqa: E402,F401
# One Chromium and one book server per session for every test module (a module that imported the
# fixtures itself would start a second playwright inside the first one's event loop).
from browser import book_server, chromium  # noqa: E402,F401
from hypothesis import settings

from cspbook import caches, cli, config
from cspbook.compute import dataset

REPO = Path(__file__).resolve().parents[1]
DEFAULT_MIRROR = Path(__file__).resolve().parents[2] / "shared" / "data"
MIRROR_ENV = "CSPBOOK_TEST_MIRROR"
HISTORIC = "MPS_Borough_Level_Crime_Historic.csv"
RECENT = "MPS_Borough_Level_Crime_most_recent_24_months.csv"
CLOSED_PORT = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")
NOWHERE = "/nonexistent/cspbook-test-home"  # CSPBOOK_HOME of a test that asked for no project

_current_home: list[str | None] = [None]
_SHARED_SNAPSHOT: dict[str, dict] = {}  # the session tree's data/ when fetched, to prove tests left it alone


# --- helpers -----------------------------------------------------------------------------


REQUIRE_ALL_ENV = "CSPBOOK_REQUIRE_ALL"  # set in CI (.ci/run): a test that cannot run here fails, never skips


# Hypothesis: CI runs are repeatable (the same examples every run: `derandomize`); elsewhere
# each run explores new ones. HYPOTHESIS_PROFILE=ci gives CI's examples anywhere.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get(REQUIRE_ALL_ENV) else "default"))


def skip_or_fail(reason: str) -> None:
    """Skip with ``reason``; fail instead under ``$CSPBOOK_REQUIRE_ALL`` (CI), where a skip
    would hide a test that should have run."""
    if os.environ.get(REQUIRE_ALL_ENV):
        pytest.fail(f"{reason} ({REQUIRE_ALL_ENV} is set: this test must run here)")
    pytest.skip(reason)


def clear_caches() -> None:
    """Forget every definition read from YAML and the in-process dataset memo."""
    caches.clear()


def use_home(monkeypatch: pytest.MonkeyPatch, home: Path) -> Path:
    """Point cspbook at ``home``; clear the caches when that is a different tree."""
    home = Path(home).resolve()
    if _current_home[0] != str(home):
        clear_caches()
        _current_home[0] = str(home)
    monkeypatch.setenv(config.HOME_ENV, str(home))
    return home


def make_project(root: Path) -> Path:
    """A scratch project tree: copies of data/*.yml, reports/, partner/, published/."""
    data = root / "data"
    data.mkdir(parents=True)
    for yml in (REPO / "data").glob("*.yml"):
        shutil.copy(yml, data / yml.name)
    for folder in ("reports", "partner", "published"):
        shutil.copytree(REPO / "data" / folder, data / folder)
    return root


def snapshot(folder: Path) -> dict:
    """Every file under ``folder`` with the sha256 of its bytes (folders map to None)."""
    folder = Path(folder)
    if not folder.exists():
        return {}
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


def months(first: str, count: int) -> list[str]:
    """``count`` consecutive YYYYMM month headers from ``first``.

    >>> months("201011", 4)
    ['201011', '201012', '201101', '201102']
    """
    year, month = int(first[:4]), int(first[4:])
    out = []
    for _ in range(count):
        out.append(f"{year}{month:02d}")
        month += 1
        if month == 13:
            year, month = year + 1, 1
    return out


LAYOUTS = {  # the key columns of each published layout, in the file's order (b: borough, ma: major, mi: minor)
    "mps": (("Borough", "b"), ("Major Category", "ma"), ("Minor Category", "mi")),
    "lookup": (("LookUp_BoroughName", "b"), ("MajorText", "ma"), ("MinorText", "mi")),
    "edition-2024": (("MajorText", "ma"), ("MinorText", "mi"), ("LookUp_BoroughName", "b")),
    "edition-2025": (("MajorText", "ma"), ("MinorText", "mi"), ("BoroughName", "b")),
}


def crime_csv(rows, month_headers, *, layout: str = "mps", newline: str = "\r\n", bom: bool = False) -> bytes:
    """A wide crime file like the MPS publishes: ``rows`` are (borough, major, minor, counts);
    names holding a comma are quoted, as the MPS does."""
    keys = LAYOUTS[layout]
    lines = [",".join([*(name for name, _ in keys), *month_headers])]
    for borough, major, minor, counts in rows:
        assert len(counts) == len(month_headers), (borough, minor)
        value = {"b": borough, "ma": major, "mi": minor}
        cells = [f'"{value[k]}"' if "," in value[k] else value[k] for _, k in keys]
        lines.append(",".join([*cells, *map(str, counts)]))
    text = newline.join(lines) + newline
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")


def run_cli(capsys, *argv) -> tuple[int, str, str]:
    """Run ``cspbook ARGV`` in-process; its exit code, stdout and stderr."""
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(monkeypatch):
    """No mirror, proxy or reachable Datastore from the environment; no project by default."""
    for name in (config.MIRROR_ENV, *PROXY_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(config.DATASTORE_ENV, CLOSED_PORT)
    monkeypatch.setenv(config.HOME_ENV, NOWHERE)


@pytest.fixture(scope="session")
def mirror() -> Path:
    """The real, read-only data mirror (``$CSPBOOK_TEST_MIRROR`` or ../shared/data)."""
    path = Path(os.environ.get(MIRROR_ENV) or DEFAULT_MIRROR).resolve()
    missing = [name for name in (HISTORIC, RECENT) if not (path / name).is_file()]
    if missing:
        pytest.fail(f"the data mirror {path} lacks {missing}; set {MIRROR_ENV} to the folder holding them")
    return path


@pytest.fixture(scope="session")
def open_dir(mirror) -> Path:
    """The open sources of the mirror (``<mirror>/open``: see its README.md)."""
    folder = mirror / "open"
    if not folder.is_dir():
        pytest.fail(f"the data mirror {mirror} lacks open/")
    return folder


@pytest.fixture
def project(tmp_path, monkeypatch) -> Path:
    """A scratch project tree with the repository's definitions; CSPBOOK_HOME points at it."""
    return use_home(monkeypatch, make_project(tmp_path / "project"))


@pytest.fixture(scope="session")
def _fetched_tree(tmp_path_factory, mirror) -> Path:
    """A project tree after `cspbook fetch --mirror MIRROR`, made once per test session (worker)."""
    root = make_project(tmp_path_factory.mktemp("fetched") / "project")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.HOME_ENV, str(root))
        mp.delenv(config.MIRROR_ENV, raising=False)
        mp.setenv(config.DATASTORE_ENV, CLOSED_PORT)
        out = io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
            code = cli.main(["fetch", "--mirror", str(mirror)])
        assert code == 0, out.getvalue()
    assert sorted(n for n in snapshot(root / "data" / "raw") if not n.startswith("open")) == [HISTORIC, RECENT, "manifest.json"]
    _SHARED_SNAPSHOT[str(root.resolve())] = snapshot(root / "data")
    return root.resolve()


EDITIONS = ("edition-2024-01", "edition-2025-11")  # the later editions, in folders of the mirror


def all_editions_folder(mirror: Path, folder: Path) -> Path:
    """One folder holding every edition, as an analyst's downloads folder would: the 2008-2018
    files, then each later edition's files as a browser names a second download (' (1)')."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in (HISTORIC, RECENT):
        (folder / name).symlink_to(mirror / name)
    for number, edition in enumerate(EDITIONS):
        for path in sorted((mirror / edition).glob("*.csv")):
            suffix = f" ({number})" if number else ""
            (folder / f"{path.stem}{suffix}.csv").symlink_to(path)
    return folder


@pytest.fixture(scope="session")
def edition_tree(tmp_path_factory, mirror):
    """``edition_tree(name)``: a project tree fetched (once per session) from one edition's
    folder of the mirror, or from all editions together (``name='all'``)."""
    trees: dict[str, Path] = {}

    def tree(name: str) -> Path:
        if name not in trees:
            base = tmp_path_factory.mktemp(f"fetched-{name}")
            source = all_editions_folder(mirror, base / "downloads") if name == "all" else mirror / name
            if not source.is_dir():
                pytest.fail(f"the data mirror {mirror} lacks the folder {name}; set {MIRROR_ENV} to the shared data")
            root = make_project(base / "project")
            with pytest.MonkeyPatch.context() as mp:
                mp.setenv(config.HOME_ENV, str(root))
                mp.setenv(config.DATASTORE_ENV, CLOSED_PORT)
                out = io.StringIO()
                with contextlib.redirect_stdout(out), contextlib.redirect_stderr(out):
                    code = cli.main(["fetch", "--mirror", str(source)])
                assert code == 0, out.getvalue()
            clear_caches()
            trees[name] = root.resolve()
        return trees[name]

    return tree


@pytest.fixture
def fetched(_fetched_tree, tmp_path, monkeypatch) -> Path:
    """A scratch project tree whose cache holds the real files, fetched from the mirror."""
    tree = tmp_path / "project"
    shutil.copytree(_fetched_tree, tree)
    return use_home(monkeypatch, tree)


@pytest.fixture
def real_home(_fetched_tree, monkeypatch) -> Path:
    """The session's fetched tree itself, shared by tests that only read it (faster than a copy)."""
    home = use_home(monkeypatch, _fetched_tree)
    yield home
    assert snapshot(home / "data") == _SHARED_SNAPSHOT[str(home)], (
        "a test changed the shared real-data tree; use the `fetched` fixture to get a private copy"
    )


@pytest.fixture
def real_data(real_home):
    """The real dataset (both mirror files), built once per worker."""
    return dataset.dataset()
