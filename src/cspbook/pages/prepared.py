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
object in each, so it is stored once (about 66 MB for 2024-25 with the open sources, and 0.1
MB more per borough) and a page unpickles it in a few hundredths of a second. It is stored in
a file of its own, ``shared-<sha256>.pickle``, named by its bytes, which the contexts' file
names (:data:`SHARED`): a rebuild after an edit that leaves the data as they were (a partner
figure, a report's text) writes only the small file of the contexts again, not the shared
30-60 MB (the preview keeps the name while the objects are the same: :func:`prepare`'s ``shared``).

The key is everything the contexts are computed from: the build's snapshot of the inputs (its
folder is named by the digest of every input's bytes: data, definitions, templates), the
year and home of the pages, the library's source and the Python, pandas and numpy versions.
Outside a build (no snapshot in use) nothing is cached. An entry that is damaged or
unreadable is computed again, as the other caches are.
"""

from __future__ import annotations

import io
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
             fingerprint.library()]
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
        return _unsealed(payload).get(str(borough))
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
        held = _holds(payload, boroughs) if payload is not None else None
        if held is None:
            alike = {} if shared is None else shared
            contexts = {str(b): context.compute(b, year, home, alike) for b in boroughs}
            try:
                held = _seal(target, contexts, alike)
            except OSError:  # a folder that cannot be written only costs the speed-up
                continue
        written += [target, held]
    if written:
        for old in written[0].parent.glob("*"):
            if old not in written:
                old.unlink(missing_ok=True)
    return written[::2]


SHARED = ("data", "london", "boundaries", "wards")  # a context's fields computed from the data alone


def _seal(target: Path, contexts: dict, alike: dict) -> Path:
    """Write ``contexts`` to ``target``, what they hold alike (:data:`SHARED`) to a file of its
    own named by its bytes (unless ``alike`` says these very objects are written already); the
    shared file."""
    heavy = list({id(obj): obj for ctx in contexts.values() for obj in (getattr(ctx, f) for f in SHARED)}.values())
    kept = alike.get(_SEALED)
    if kept is not None and len(kept[0]) == len(heavy) and all(a is b for a, b in zip(kept[0], heavy)) \
            and integrity.file_key(kept[1]) == kept[2]:  # the file as this process wrote it (not read again: 20-60 MB)
        shared_file = kept[1]
    else:
        data = pickle.dumps(heavy, protocol=pickle.HIGHEST_PROTOCOL)
        shared_file = target.with_name(f"shared-{fingerprint.digest(data)}.pickle")
        integrity.write_sealed(shared_file, data)
        alike[_SEALED] = (heavy, shared_file, integrity.file_key(shared_file))
    index = {id(obj): i for i, obj in enumerate(heavy)}
    inner = io.BytesIO()
    pickler = pickle.Pickler(inner, protocol=pickle.HIGHEST_PROTOCOL)
    pickler.persistent_id = lambda obj: ("shared", index[id(obj)]) if id(obj) in index else None
    pickler.dump(contexts)
    integrity.write_sealed(target, pickle.dumps((shared_file.name, list(contexts), inner.getvalue()),
                                                 protocol=pickle.HIGHEST_PROTOCOL))
    return shared_file


_SEALED = ("prepared", "sealed")  # the key, in ``alike``, of the shared objects last written and their file


def _unsealed(payload) -> dict:
    """The contexts of a sealed entry, each load a fresh copy of every object (the shared ones
    too, unpickled from their own file)."""
    shared_name, _boroughs, inner = pickle.loads(payload)
    heavy = pickle.loads(_shared_bytes(shared_name))
    unpickler = pickle.Unpickler(io.BytesIO(inner))
    unpickler.persistent_load = lambda pid: heavy[pid[1]]
    return unpickler.load()


_READ: dict = {}  # the shared part read last in this process: its file's name -> its bytes, as verified


def _shared_bytes(name: str):
    """The bytes of the shared part ``name``, verified. Its name is the digest of its bytes, so
    a process that read it once (a warm kernel, page after page) keeps them rather than read
    and hash 20-60 MB again for every page; each page still unpickles its own copy."""
    found = _READ.get(name)
    if found is None:
        found, problem = integrity.read_sealed(config.work_dir() / "context" / name)
        if found is None:
            raise ValueError(f"the shared part {name} is missing or damaged: {problem}")
        _READ.clear()
        _READ[name] = found
    return found


def _holds(payload, boroughs: list[str]) -> Path | None:
    """The shared file of a sealed entry that holds exactly the contexts of ``boroughs``, when
    it is whole; else None."""
    try:
        shared_name, held, _inner = pickle.loads(payload)
    except Exception:  # noqa: BLE001 - unreadable: prepared again
        return None
    shared_file = config.work_dir() / "context" / shared_name
    if held != [str(b) for b in boroughs] or integrity.read_sealed(shared_file)[0] is None:
        return None
    return shared_file
