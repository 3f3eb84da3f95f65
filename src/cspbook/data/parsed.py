"""Parsed once: the frame a reader made of a data file's bytes, kept for any later process.

`cspbook fetch` reads every open file with its layout's reader to check it; the build that
follows reads them again into the dataset, and the ward figures read the ward files once more.
The frame depends only on the file's bytes (its sha256), how it is read (the reader and its
settings) and what the reader consults (``data/*.yml``, cspbook's source, Python and pandas):
with all of those in its key, it is kept as a sealed pickle in ``.cspbook/parsed/`` and reused
by the next process, and remade whenever any of them changes. A damaged or unreadable file is
parsed again (the seal is checked on every read)."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path
from typing import Callable

from cspbook import config, fingerprint, integrity

KEEP = 40  # files kept, the newest used: two versions of every open file's frame (about 80 MB each)
_MEMO: dict = {}


def folder() -> Path:
    return config.work_dir() / "parsed"


def key(sha256: str, *how: str) -> str:
    """The name of a frame: the file's bytes, how it is read, and what its reader consults."""
    import pandas as pd

    parts = [sha256, *how, sys.version, pd.__version__, fingerprint.library(),
             fingerprint.tree(config.definitions_dir(), "*", recursive=False)]
    return fingerprint.digest(*(p.encode() for p in parts))


def frame(name: str, parse: Callable):
    """The frame named ``name`` (:func:`key`): from this process, else from ``.cspbook/parsed``,
    else ``parse()`` (kept for both). The caller gets a copy: the kept frame is never changed."""
    if name not in _MEMO:
        if len(_MEMO) > 32:
            _MEMO.clear()
        _MEMO[name] = _load(name)
        if _MEMO[name] is None:
            _MEMO[name] = parse()  # a reader's error (DataFileError) propagates: nothing kept
            _save(name, _MEMO[name])
    return _MEMO[name].copy()


def _load(name: str):
    payload = integrity.read_kept(folder() / f"{name}.pickle")
    if payload is None:
        return None
    try:
        return pickle.loads(payload)
    except Exception:  # noqa: BLE001 - an unreadable file is parsed again
        return None


def _save(name: str, value) -> None:
    integrity.write_kept(folder() / f"{name}.pickle", pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL), KEEP)


def clear() -> None:
    """Forget the frames of this process (tests: as a new process would start). Nothing else
    needs to: a frame is named by everything it was made from."""
    _MEMO.clear()
