"""The context of a page computed once per build, not once per page (issue 21).

Every page of a book starts with :func:`cspbook.pages.context.context` for the same borough
and year: the dataset, the indicator table with its open figures and rates, the boroughs side
by side, the outlines and the ward table; about 0.4 s of CPU each, for every page. `cspbook
build` computes it once in its own process (:func:`prepare`, while the kernels warm up) and
seals it under ``.cspbook/context/<key>.pickle``; each notebook unpickles its own copy
(:func:`load`), so no page shares an object with another and what a page computes from it
is what it computed before.

The key is everything the context is computed from: the build's snapshot of the inputs (its
folder is named by the digest of every input's bytes: data, definitions, templates), the
page's parameters (borough, year, home), the library's source and the Python, pandas and
numpy versions. Outside a build (no snapshot in use) nothing is cached. An entry that is
damaged or unreadable is computed again, as the other caches are.
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from cspbook import config, fingerprint, integrity


def key(borough: str, year: str, home: str | None) -> str | None:
    """The cache key of the context of ``borough``, ``year``, ``home``; None outside a build."""
    inputs = config.inputs()
    if inputs is None:
        return None
    import numpy as np
    import pandas as pd

    parts = [inputs.name, str(borough), str(year), str(home), sys.version, pd.__version__, np.__version__,
             fingerprint.tree(config.PACKAGE_DIR, "*.py")]
    return fingerprint.digest(*(part.encode() for part in parts))


def path(name: str) -> Path:
    return config.work_dir() / "context" / f"{name}.pickle"


def load(borough: str, year: str, home: str | None):
    """The context a build prepared for these parameters (a fresh copy), or None."""
    name = key(borough, year, home)
    if name is None:
        return None
    payload, _problem = integrity.read_sealed(path(name))
    if payload is None:
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - an unreadable entry: the page computes its context itself
        return None


def prepare(parameters: list[dict]) -> list[Path]:
    """Compute and seal the context of each distinct page parameters (``borough``, ``year``,
    ``home``) of a build, reading the snapshot in use; remove the entries of earlier builds.
    The files written (none outside a build)."""
    from cspbook.pages import context

    written = []
    for borough, year, home in dict.fromkeys((p["borough"], p["year"], p.get("home")) for p in parameters):
        name = key(borough, year, home)
        if name is None:
            continue
        target = path(name)
        if integrity.read_sealed(target)[0] is None:
            ctx = context.compute(borough, year, home)
            try:
                integrity.write_sealed(target, pickle.dumps(ctx, protocol=pickle.HIGHEST_PROTOCOL))
            except OSError:  # a folder that cannot be written only costs the speed-up
                continue
        written.append(target)
    if written:
        for old in written[0].parent.glob("*"):
            if old not in written:
                old.unlink(missing_ok=True)
    return written
