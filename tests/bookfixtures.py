"""Fixtures for tests that need a built book: a scratch project tree (a copy of the
repository's book templates, configuration and definitions, with its own cache) and the
book of Barking and Dagenham 2011-12 built in it once per test session.

``tests/conftest.py`` makes ``built_book`` and ``scratch_project`` available to every test module.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BOROUGH = "Barking and Dagenham"
YEAR = "2011-12"
# CSPBOOK_TEST_BOOK=2025-26 makes the session's book that year (to date) from the November 2025
# edition, e.g. to run the browser suite on it: CSPBOOK_TEST_BOOK=2025-26 pytest -m browser
BOOK_ENV = "CSPBOOK_TEST_BOOK"


def mirror_dir() -> Path:
    return Path(os.environ.get("CSPBOOK_TEST_MIRROR") or REPO.parent / "shared" / "data").resolve()


def make_project(target: Path) -> Path:
    """Copy what a book build reads into ``target``: _config.yml, book/templates,
    book/_static and data/ definitions (not the cache)."""
    target.mkdir(parents=True, exist_ok=True)
    shutil.copy2(REPO / "_config.yml", target / "_config.yml")
    shutil.copytree(REPO / "book" / "templates", target / "book" / "templates")
    shutil.copytree(REPO / "book" / "_static", target / "book" / "_static")
    data = target / "data"
    data.mkdir()
    for item in (REPO / "data").iterdir():
        if item.name == "raw":
            continue
        if item.is_dir():
            shutil.copytree(item, data / item.name)
        else:
            shutil.copy2(item, data / item.name)
    return target


@dataclass
class BuiltBook:
    home: Path
    html: Path
    borough: str
    year: str


def _env(home: Path, mirror: Path | None = None, open_mirror: Path | None = None) -> dict:
    env = {"CSPBOOK_HOME": str(home), "CSPBOOK_MIRROR": str(mirror or mirror_dir())}
    return env | ({"CSPBOOK_OPEN_MIRROR": str(open_mirror)} if open_mirror else {})


def build_in(home: Path, borough: str = BOROUGH, year: str = YEAR, jobs: int = 2, mirror: Path | None = None,
             open_mirror: Path | None = None, **kwargs):
    """Run ``cspbook build`` in-process against ``home`` (data from ``mirror``, default the
    2008-2018 files, and the open sources from ``open_mirror`` when given); return the BuildResult."""
    from cspbook import caches
    from cspbook.publish import build

    old = {k: os.environ.get(k) for k in ("CSPBOOK_HOME", "CSPBOOK_MIRROR", "CSPBOOK_OPEN_MIRROR")}
    os.environ.update(_env(home, mirror, open_mirror))
    caches.clear()
    try:
        kwargs.setdefault("log", lambda msg: None)
        return build.build(borough, year, jobs=jobs, progress=False, **kwargs)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@pytest.fixture(scope="session")
def built_book(tmp_path_factory) -> BuiltBook:
    """The Barking and Dagenham 2011-12 book, built once per session in a scratch tree."""
    if not mirror_dir().exists():
        pytest.fail(f"no data mirror at {mirror_dir()}; set CSPBOOK_TEST_MIRROR to the folder holding the MPS files")
    home = make_project(tmp_path_factory.mktemp("book") / "project")
    year = os.environ.get(BOOK_ENV) or YEAR
    if year == YEAR:
        build_in(home, year=year)
    else:  # this year's book as an analyst builds it: the November 2025 edition and the open sources
        build_in(home, year=year, mirror=mirror_dir() / "edition-2025-11", open_mirror=mirror_dir() / "open")
    return BuiltBook(home, home / "_build" / "html", BOROUGH, year)


@pytest.fixture
def scratch_project(tmp_path) -> Path:
    """A fresh scratch project tree (nothing fetched, nothing built)."""
    return make_project(tmp_path / "project")
