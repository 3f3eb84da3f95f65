"""Content fingerprints for cache keys: the notebook cache (:mod:`cspbook.execute.plan`) and the
dataset pickle (:mod:`cspbook.compute.dataset`) both key on the bytes of files, never on mtimes."""

from __future__ import annotations

import hashlib
from pathlib import Path


def digest(*chunks: bytes) -> str:
    """sha256 of length-prefixed chunks (so ``a`` + ``bc`` differs from ``ab`` + ``c``)."""
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(len(chunk).to_bytes(8, "big"))
        h.update(chunk)
    return h.hexdigest()


def tree(folder: Path, pattern: str, recursive: bool = True, skip: tuple[str, ...] = ()) -> str:
    """Fingerprint of every file under ``folder`` matching ``pattern``: relative names and
    bytes. A file below a folder named in ``skip`` (e.g. the raw-data cache) is left out."""
    found = folder.rglob(pattern) if recursive else folder.glob(pattern)
    files = sorted(p for p in found if p.is_file() and not set(skip) & set(p.relative_to(folder).parts))
    return digest(*[str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() for p in files])
