"""Every path the project uses and every environment variable it reads, in one place.

The repository root holds ``data/`` (definitions, committed) and ``data/raw/`` (the cache
of fetched files, git-ignored). ``CSPBOOK_HOME`` points cspbook at another project tree
(tests use it to work on a scratch copy); ``CSPBOOK_MIRROR`` names a folder to fetch from
instead of the London Datastore.
"""

from __future__ import annotations

import os
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_HOME = PACKAGE_DIR.parent.parent

MIRROR_ENV = "CSPBOOK_MIRROR"
OPEN_MIRROR_ENV = "CSPBOOK_OPEN_MIRROR"  # a folder of the open sources (data/sources.yml), any depth
HOME_ENV = "CSPBOOK_HOME"
DATASTORE_ENV = "CSPBOOK_DATASTORE"
ENGINE_ENV = "CSPBOOK_ENGINE"  # warm (default) or papermill: how notebooks are executed
CHROMIUM_ENV = "CSPBOOK_CHROMIUM"  # the Chromium to print PDFs with (default: the first on PATH)
INPUTS_ENV = "CSPBOOK_INPUTS"  # set by a build in its kernels: the snapshot of the inputs they read
DATASTORE_URL = "https://data.london.gov.uk"
DATASET_ID = "recorded_crime_summary"


def home() -> Path:
    """The project tree: ``$CSPBOOK_HOME`` or the checkout this package lives in."""
    return Path(os.environ.get(HOME_ENV) or DEFAULT_HOME).resolve()


_INPUTS: list[Path] = []  # the snapshot this process reads its inputs from, while a build plans and runs


def inputs() -> Path | None:
    """The immutable snapshot of the inputs a build reads (``.cspbook/inputs/<digest>``:
    ``data/`` with the raw files, ``book/templates/``; see :mod:`cspbook.execute.snapshot`),
    while one is in use in this process or its kernel (``$CSPBOOK_INPUTS``); else None."""
    if _INPUTS:
        return _INPUTS[-1]
    value = os.environ.get(INPUTS_ENV)
    return Path(value) if value else None


def use_inputs(path: Path | None) -> None:
    """Read the inputs from the snapshot ``path`` in this process from now on (None: from
    the project tree again)."""
    _INPUTS.clear()
    if path is not None:
        _INPUTS.append(Path(path))


def definitions_dir() -> Path:
    """Committed definitions: indicators.yml, classification.yml, reports/, partner/, published/
    (the snapshot's copy while a build reads one: :func:`inputs`)."""
    return (inputs() or home()) / "data"


def live_definitions_dir() -> Path:
    """``data/`` of the project tree itself, whatever snapshot is in use."""
    return home() / "data"


def cache_dir() -> Path:
    """The git-ignored cache of fetched raw files and their manifest (the snapshot's copy
    while a build reads one)."""
    return definitions_dir() / "raw"


def live_cache_dir() -> Path:
    """``data/raw`` of the project tree itself: where `cspbook fetch` writes."""
    return home() / "data" / "raw"


def manifest_path() -> Path:
    return cache_dir() / "manifest.json"


def work_dir() -> Path:
    """Build state (git-ignored): executed-notebook cache, Jupyter Book's working tree,
    the dataset pickle, kernel logs, failed notebooks, the build lock."""
    return home() / ".cspbook"


def mirror_from_env() -> Path | None:
    value = os.environ.get(MIRROR_ENV)
    return Path(value) if value else None


_OPEN_MIRROR: list = []  # set by --open-mirror for this process


def use_open_mirror(folder: Path | None) -> None:
    """The open mirror given on the command line (``--open-mirror DIR``) for this process."""
    _OPEN_MIRROR[:] = [Path(folder)] if folder else []


def open_mirror(mirror: Path | None = None) -> Path | None:
    """The folder of the open sources: ``--open-mirror``, else ``$CSPBOOK_OPEN_MIRROR``, else
    ``<mirror>/open`` when the MPS mirror (given, or ``$CSPBOOK_MIRROR``) has that folder."""
    if _OPEN_MIRROR:
        return _OPEN_MIRROR[0]
    if os.environ.get(OPEN_MIRROR_ENV):
        return Path(os.environ[OPEN_MIRROR_ENV])
    base = mirror or mirror_from_env()
    if base is not None and (Path(base) / "open").is_dir():
        return Path(base) / "open"
    return None


def datastore_url() -> str:
    return os.environ.get(DATASTORE_ENV, DATASTORE_URL).rstrip("/")


def templates_dir() -> Path:
    """The parameterised notebooks, one per kind of page (the snapshot's copy while a build
    reads one)."""
    return (inputs() or home()) / "book" / "templates"


def live_templates_dir() -> Path:
    return home() / "book" / "templates"


def static_dir() -> Path:
    """The book's own stylesheet and images."""
    return home() / "book" / "_static"


def year_dir(label: str) -> Path:
    """The executed notebooks (and the CSV download) of one year of the book."""
    return home() / "book" / label


def toc_path() -> Path:
    return home() / "_toc.yml"


def book_config_path() -> Path:
    return home() / "_config.yml"


def html_dir() -> Path:
    """The published HTML book."""
    return home() / "_build" / "html"


def pdf_dir() -> Path:
    """The two PDFs of `cspbook pdf`."""
    return home() / "_build" / "pdf"


def preview_dir() -> Path:
    """Where `cspbook preview` builds and serves (never ``_build/html``)."""
    return work_dir() / "preview"


def engine_from_env() -> str | None:
    return os.environ.get(ENGINE_ENV)


def chromium_from_env() -> str | None:
    return os.environ.get(CHROMIUM_ENV)
