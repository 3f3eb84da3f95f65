"""The inputs of one build, frozen: a published book is the book of one set of inputs.

At plan time :func:`take` reads every input once (``data/`` with its definitions, report
configurations, partner and published figures; the raw files the manifest lists and the
manifest; ``book/templates/``), and writes those bytes into a content-addressed folder
``.cspbook/inputs/<digest>/`` laid out as the project tree is. While the build plans and
runs (:func:`reading`), this process and every kernel read their inputs from that folder
only (:func:`cspbook.config.inputs`), so each notebook's cache key is made from exactly the
bytes it used: an edit, a fetch or a save made while the build runs cannot reach a cache
entry or a page of this build.

At the end (:func:`check`) every live input is compared with the snapshot, and
``_config.yml`` and ``book/_static/`` (which Jupyter Book reads from the tree) with their
hashes at plan time: a change stops the build with exit 2 naming the file, before anything
is published (the preview rebuilds with it). The cache entries of the build stay valid:
they are keyed on the snapshot's bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from cspbook import caches, config, fingerprint, integrity, words
from cspbook.data.manifests import MANIFEST_NAME, manifest_problem, read_manifest
from cspbook.errors import BuildError, CspbookError


class InputsChanged(BuildError):
    """An input of the build changed while it ran; nothing was published from it."""

    def __init__(self, names: list[str]):
        self.names = names
        more = f" (and {words.plural(len(names) - 1, 'other file')})" if len(names) > 1 else ""
        super().__init__(f"{config.home() / names[0]}{more} changed during the build; nothing was published "
                         "from it; run again")


@dataclass(frozen=True)
class Snapshot:
    path: Path  # .cspbook/inputs/<digest>
    manifest: dict  # the raw-data manifest as snapshotted
    files: dict[str, str]  # project-relative name -> sha256 of the bytes in the snapshot
    watched: dict[str, str] = field(default_factory=dict)  # read from the tree by Jupyter Book: name -> sha256


def _hidden(rel: Path) -> bool:
    return any(part.startswith(".") for part in rel.parts) or rel.name.endswith(("~", ".tmp", ".swp"))


def _definitions(home: Path) -> dict[str, bytes]:
    """Every file under ``data/`` but the raw-data cache, and every template: name -> bytes."""
    out = {}
    for base, pattern in ((home / "data", "*"), (home / "book" / "templates", "*.ipynb")):
        if not base.is_dir():
            continue
        for path in sorted(base.rglob(pattern)):
            rel = path.relative_to(home)
            if rel.parts[:2] == ("data", "raw") or _hidden(rel) or ".ipynb_checkpoints" in rel.parts:
                continue
            with contextlib.suppress(FileNotFoundError, IsADirectoryError):  # removed as we looked
                if path.is_file():
                    out[rel.as_posix()] = path.read_bytes()
    return out


def _raw(home: Path) -> tuple[dict, dict[str, bytes], dict[str, tuple[Path, str]]]:
    """The manifest, the manifests' bytes, and each raw file the manifests list with its
    sha256, which must be the manifest's (else the same message as
    :func:`cspbook.integrity.check_raw`). A raw file is hashed once per process while its
    size, time and inode stay the same (:func:`cspbook.integrity.actual_sha256`): the
    preview's rebuilds do not read the data files again."""
    cache = home / "data" / "raw"
    try:
        text = (cache / MANIFEST_NAME).read_bytes()
        manifest = json.loads(text)
    except (OSError, ValueError):
        manifest, text = read_manifest(cache), None  # raises the message for a missing or broken manifest
    if text is None or manifest_problem(manifest):
        read_manifest(cache)  # raises naming the problem
        raise BuildError(f"{cache / MANIFEST_NAME} changed while it was read; run again")
    out = {f"data/raw/{MANIFEST_NAME}": text}
    raw = {}
    for entry in manifest.get("files", []):
        path = cache / entry["name"]
        if integrity.actual_sha256(path) != entry["sha256"]:
            integrity.check_raw(manifest, cache, cache / MANIFEST_NAME)
            raise BuildError(f"{path} changed while it was read; run again")
        raw[f"data/raw/{entry['name']}"] = (path, entry["sha256"])
    opened, opened_raw = _open_raw(cache / "open")
    out.update(opened)
    raw.update(opened_raw)
    return manifest, out, raw


def _open_raw(folder: Path) -> tuple[dict[str, bytes], dict[str, tuple[Path, str]]]:
    """The open sources' manifest (bytes) and files (``data/raw/open/``), when any were
    fetched, each checked against its sha256 as the MPS files are."""
    if not (folder / MANIFEST_NAME).is_file():
        return {}, {}
    text = (folder / MANIFEST_NAME).read_bytes()
    manifest = read_manifest(folder)
    raw = {}
    for entry in manifest.get("files", []):
        path = folder / entry["name"]
        if integrity.actual_sha256(path) != entry["sha256"]:
            integrity.check_raw(manifest, folder, folder / MANIFEST_NAME)
            raise BuildError(f"{path} changed while it was read; run again")
        raw[f"data/raw/open/{entry['name']}"] = (path, entry["sha256"])
    return {f"data/raw/open/{MANIFEST_NAME}": text}, raw


def _watched(home: Path) -> dict[str, str]:
    out = {}
    paths = [home / "_config.yml"] + sorted((home / "book" / "_static").rglob("*"))
    for path in paths:
        if path.is_file():
            out[path.relative_to(home).as_posix()] = integrity.sha256_file(path)
    return out


def take() -> Snapshot:
    """Read every input once and freeze it in ``.cspbook/inputs/<digest>`` (written only when
    it is not there whole already); the older snapshots are removed. Call it holding the
    build lock. The digest is made from each input's name and sha256."""
    home = config.home()
    manifest, contents, raw = _raw(home)
    contents.update(_definitions(home))
    files = {name: hashlib.sha256(data).hexdigest() for name, data in contents.items()}
    files.update({name: sha for name, (_path, sha) in raw.items()})
    names = sorted(files)
    digest = fingerprint.digest(*(f"{name}\0{files[name]}".encode() for name in names))
    root = config.work_dir() / "inputs"
    folder = root / digest[:32]
    if _listing(folder) != files if folder.is_dir() else True:
        shutil.rmtree(folder, ignore_errors=True)
        fresh = root / f".new-{os.getpid()}"
        shutil.rmtree(fresh, ignore_errors=True)
        for name in names:
            target = fresh / name
            target.parent.mkdir(parents=True, exist_ok=True)
            if name in raw:
                _link_blob(root, *raw[name], target, fresh)
            else:
                target.write_bytes(contents[name])
        os.replace(fresh, folder)
        for name in names:  # written from bytes whose sha256 is known: the next take reads none of them
            integrity.remember_sha256(folder / name, files[name])
    for old in root.iterdir():
        if old != folder and old.name != BLOBS:
            shutil.rmtree(old, ignore_errors=True)
    kept = {sha for _path, sha in raw.values()}
    for blob in (root / BLOBS).iterdir() if (root / BLOBS).is_dir() else []:
        if blob.name not in kept:
            blob.unlink(missing_ok=True)
    return Snapshot(folder, manifest, files, _watched(home))


BLOBS = "blobs"  # .cspbook/inputs/blobs/<sha256>: one private copy of each data file, linked into the snapshots


def _link_blob(root: Path, source: Path, sha: str, target: Path, fresh: Path) -> None:
    """Put the data file ``source`` (sha256 ``sha``) at ``target`` as a hard link to the
    private copy ``blobs/<sha>`` (copied and checked once): every snapshot of an unchanged
    data file is the same file, so neither this process nor a kernel reads it again to hash
    it, and a snapshot costs no copy. Never a link to ``source`` itself: an edit of the data
    cache must not reach a snapshot."""
    blob = root / BLOBS / sha
    if integrity.actual_sha256(blob) != sha:
        blob.parent.mkdir(parents=True, exist_ok=True)
        tmp = blob.with_name(f".{sha}.{os.getpid()}.tmp")
        shutil.copyfile(source, tmp)
        if integrity.actual_sha256(tmp) != sha:  # changed as it was copied
            tmp.unlink(missing_ok=True)
            shutil.rmtree(fresh, ignore_errors=True)
            raise BuildError(f"{source} changed while it was read; run again")
        os.replace(tmp, blob)
    try:
        os.link(blob, target)
    except OSError:  # a file system without hard links: a copy
        shutil.copyfile(blob, target)


def _listing(folder: Path) -> dict[str, str]:
    """:func:`cspbook.integrity.listing` of a snapshot, each file hashed once per process
    while its size, time and inode stay the same."""
    return {p.relative_to(folder).as_posix(): integrity.actual_sha256(p)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def changed(snap: Snapshot) -> list[str]:
    """The inputs (project-relative names) that are not now what ``snap`` froze: edited,
    added or removed; empty when none."""
    home = config.home()
    now = {name: hashlib.sha256(data).hexdigest() for name, data in _definitions(home).items()}
    for name in [n for n in snap.files if n.startswith("data/raw/")]:
        now[name] = integrity.actual_sha256(home / name) if (home / name).is_file() else None
    out = [name for name in sorted(set(now) | set(snap.files)) if now.get(name) != snap.files.get(name)]
    live = _watched(home)
    out += [name for name in sorted(set(live) | set(snap.watched)) if live.get(name) != snap.watched.get(name)]
    return out


def check(snap: Snapshot) -> None:
    """InputsChanged (exit 2) naming the first input that changed since :func:`take`."""
    names = changed(snap)
    if names:
        raise InputsChanged(names)


@contextlib.contextmanager
def reading(snap: Snapshot, keep_dataset: bool = False):
    """Read every input from ``snap`` in this process (and tell the kernels to) for the
    duration of the block. The definitions cached in this process are forgotten on entering
    and leaving it, and the dataset on entering unless ``keep_dataset`` (its memo is keyed by
    the data files' sha256; the preview keeps it while no definition changed)."""
    caches.clear(keep_dataset)
    config.use_inputs(snap.path)
    try:
        yield snap
    except CspbookError as exc:  # name the files as the analyst knows them, not their snapshot
        old, new = str(snap.path), str(config.home())
        exc.args = tuple(a.replace(old, new) if isinstance(a, str) else a for a in exc.args)
        if isinstance(getattr(exc, "path", None), str):
            exc.path = exc.path.replace(old, new)
        raise
    finally:
        config.use_inputs(None)
        caches.clear(keep_dataset=True)  # the definitions read from the snapshot; the dataset is the files' own


def kernel_env() -> dict:
    """What a kernel's environment needs to read the snapshot in use (empty when none)."""
    path = config.inputs()
    return {config.INPUTS_ENV: str(path)} if path else {}
