"""Content fingerprints for cache keys: the notebook cache (:mod:`cspbook.execute.plan`) and the
dataset pickle (:mod:`cspbook.compute.dataset`) both key on the bytes of files, never on mtimes
(:func:`library` reads the library's files again only when one's stat changed; its
fingerprint is of their bytes all the same)."""

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


_LIBRARY: dict = {}  # the stat of each of the library's files, and the fingerprint of their bytes


def library() -> str:
    """``tree(config.PACKAGE_DIR, "*.py")``: the fingerprint of cspbook's own source, which every
    cache key of computed results holds. Read and hashed again only when a file of it was
    added, removed or changed (its inode, size or modification time), as
    :func:`cspbook.integrity.actual_sha256` does for data files: a rebuild and each notebook
    ask for it, and reading the hundred files each time cost about 15 ms."""
    from cspbook import config

    folder = config.PACKAGE_DIR
    files = sorted(p for p in folder.rglob("*.py") if p.is_file())
    stats = tuple((p.as_posix(), st.st_ino, st.st_size, st.st_mtime_ns) for p, st in ((p, p.stat()) for p in files))
    if _LIBRARY.get("stats") != stats:
        _LIBRARY.clear()
        _LIBRARY.update(stats=stats, digest=tree(folder, "*.py"))
    return _LIBRARY["digest"]
