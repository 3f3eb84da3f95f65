"""The context of a page computed once per build, not once per page (issues 20, 21).

Every page of a book starts with :func:`cspbook.pages.context.context` for the same borough
and year: the dataset, the indicator table with its open figures and rates, the boroughs side
by side, the outlines and the ward table; about 0.4 s of CPU each, for every page. `cspbook
build` computes it once in its own process (:func:`prepare`, while the kernels warm up) and
seals it under ``.cspbook/context/<key>.pickle``; each notebook unpickles its own copy
(:func:`load`), so no page shares an object with another and what a page computes from it
is what it computed before.

One file holds the contexts of every borough of one year (the London edition's 32): what they
hold alike (the dataset, the ward table, the outlines, the boroughs side by side) is the same
object in each, so the pickle stores it once (about 66 MB for 2024-25 with the open sources,
and 0.1 MB more per borough) and a page unpickles it in a few hundredths of a second.

The key is everything the contexts are computed from: the build's snapshot of the inputs (its
folder is named by the digest of every input's bytes: data, definitions, templates), the
year and home of the pages, the library's source and the Python, pandas and numpy versions.
Outside a build (no snapshot in use) nothing is cached. An entry that is damaged or
unreadable is computed again, as the other caches are.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from cspbook import config, fingerprint, integrity


def key(year: str, home: str | None) -> str | None:
    """The cache key of the contexts of ``year`` and ``home`` (every borough); None outside a build."""
    inputs = config.inputs()
    if inputs is None:
        return None
    import numpy as np
    import pandas as pd

    parts = [inputs.name, str(year), str(home), sys.version, pd.__version__, np.__version__,
             fingerprint.tree(config.PACKAGE_DIR, "*.py")]
    return fingerprint.digest(*(part.encode() for part in parts))


def path(name: str) -> Path:
    return config.work_dir() / "context" / f"{name}.pickle"


def load(borough: str, year: str, home: str | None):
    """The context a build prepared for these parameters (a fresh copy), or None."""
    name = key(year, home)
    if name is None:
        return None
    payload, _problem = integrity.read_sealed(path(name))
    if payload is None:
        return None
    try:
        return pickle.loads(payload).get(str(borough))
    except Exception:  # noqa: BLE001 - an unreadable entry: the page computes its context itself
        return None


def prepare(parameters: list[dict], shared: dict | None = None) -> list[Path]:
    """Compute and seal the contexts of the distinct page parameters (``borough``, ``year``,
    ``home``) of a build, reading the snapshot in use, one file per year and home; remove the
    entries of earlier builds. The files written (none outside a build). ``shared``: what the
    contexts hold alike, kept by the caller while the dataset stays the same (the preview's
    rebuilds after an edit of a template or a partner figure; see :func:`context.compute`)."""
    from cspbook.pages import context

    groups: dict[tuple, list[str]] = {}
    for p in parameters:
        boroughs = groups.setdefault((p["year"], p.get("home")), [])
        if p["borough"] not in boroughs:
            boroughs.append(p["borough"])
    written = []
    for (year, home), boroughs in groups.items():
        name = key(year, home)
        if name is None:
            continue
        target = path(name)
        payload = integrity.read_sealed(target)[0]
        if payload is None or not _holds(payload, boroughs):
            alike = {} if shared is None else shared
            contexts = {str(b): context.compute(b, year, home, alike) for b in boroughs}
            try:
                integrity.write_sealed(target, pickle.dumps(contexts, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:  # a folder that cannot be written only costs the speed-up
                continue
        written.append(target)
    if written:
        for old in written[0].parent.glob("*"):
            if old not in written:
                old.unlink(missing_ok=True)
    return written


def _holds(payload: bytes, boroughs: list[str]) -> bool:
    """Whether a sealed entry holds exactly the contexts of ``boroughs``."""
    try:
        return list(pickle.loads(payload)) == [str(b) for b in boroughs]
    except Exception:  # noqa: BLE001 - unreadable: prepared again
        return False
