"""`cspbook fetch`: every MPS borough-level file into the cache, all or nothing.

The recipe (:func:`fetch`): resolve the sources -> stage each one (download or copy, check,
validate) -> write the new manifest -> move files and manifest in together. A failure at any
step leaves the cache as it was."""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from cspbook import config, signals
from cspbook.data.ckan import (
    CHUNK_BYTES,
    RETRY_FIX,
    Source,
    content_type,
    open_source,
    resolve_sources,
)
from cspbook.data.manifests import (
    MANIFEST_NAME,
    STATS,
    build_manifest,
    cache_matches,
    manifest_bytes,
    read_manifest,
    same_bytes,
    sources_match,
    utc_now,
    write_new,
)
from cspbook.errors import DataFileError, FetchError

STAGING_PREFIX = ".partial-"


@dataclass(frozen=True)
class Staged:
    """A fetched and validated file waiting in the staging folder, with its manifest entry."""

    path: Path
    entry: dict


@dataclass(frozen=True)
class FetchResult:
    """What :func:`fetch` did: the manifest entries, the names whose bytes changed, the origin."""

    files: list[dict]
    changed: list[str]
    origin: str
    removed: list[str] = field(default_factory=list)


def fetch(
    mirror: Path | None = None,
    *,
    datastore: str | None = None,
    cache: Path | None = None,
    timeout: float = 60,
) -> FetchResult:
    """Fetch every MPS borough-level crime CSV into the cache, all or nothing.

    ``mirror`` is a folder holding MPS borough-level crime CSVs (:func:`is_crime_file`); without it the
    files are found through the CKAN API of ``datastore`` (default ``$CSPBOOK_DATASTORE`` or
    the London Datastore). This function does not read ``$CSPBOOK_MIRROR``: the caller
    passes ``config.mirror_from_env()`` when it wants that. ``cache`` defaults to
    ``config.cache_dir()``; ``timeout`` (seconds) applies to each network operation.

    A cached file whose sha256 is unchanged is not rewritten (its mtime stays), but its
    manifest entry is refreshed. Cached CSV files the source no longer offers are removed,
    so the manifest describes exactly the cache.

    Raises FetchError when a source cannot be read or a download is incomplete or an HTML
    page, DataFileError when a file fails validation; the cache is then left untouched.
    """
    cache = Path(cache) if cache is not None else config.live_cache_dir()
    origin, sources = resolve_sources(mirror, datastore=datastore, timeout=timeout)
    cache.mkdir(parents=True, exist_ok=True)
    remove_orphans(cache)
    staging = Path(tempfile.mkdtemp(prefix=f"{STAGING_PREFIX}{os.getpid()}-", dir=cache))
    try:
        staged = [stage(source, staging, timeout) for source in sources]
        changed = [item.entry["name"] for item in staged if not same_bytes(cache, item.entry)]
        manifest = build_manifest(origin, [item.entry for item in staged], utc_now())
        manifest_file = write_new(staging / MANIFEST_NAME, manifest_bytes(manifest))
        removed = install_all(staged, changed, cache, manifest_file)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return FetchResult(manifest["files"], changed, origin, removed)


def remove_orphans(cache: Path) -> list[Path]:
    """Remove the staging folders (``.partial-<pid>-*``) in ``cache`` that no live process owns:
    left by a fetch that was killed (SIGKILL, power cut). The ones removed."""
    removed = []
    for folder in sorted(cache.glob(f"{STAGING_PREFIX}*")):
        owner = folder.name[len(STAGING_PREFIX):].split("-")[0]
        if owner.isdigit() and int(owner) != os.getpid() and signals.alive(int(owner)):
            continue
        shutil.rmtree(folder, ignore_errors=True)
        removed.append(folder)
    return removed


def cache_is_current(
    mirror: Path | None = None,
    cache: Path | None = None,
    *,
    datastore: str | None = None,
    timeout: float = 60,
) -> bool:
    """True when the cache already holds what the source offers now, so no fetch is needed.

    Always required: a readable manifest whose origin is this source, and cached files whose
    sha256 still match it. Then, for a mirror: the same file names, and the sha256 of every
    mirror file equals its manifest entry. For the Datastore (one ``package_show`` request,
    no download): the same names, and each resource's URL and ``last_modified`` equal the
    manifest's ``source`` and ``last_modified``. A resource without ``last_modified`` counts
    as changed, since only downloading it would tell; a refetch of unchanged bytes is cheap
    (files are not rewritten).

    A missing or corrupt manifest gives False; a missing mirror or an unreachable Datastore
    raises FetchError.
    """
    cache = Path(cache) if cache is not None else config.live_cache_dir()
    try:
        manifest = read_manifest(cache)
    except FetchError:
        return False
    origin, sources = resolve_sources(mirror, datastore=datastore, timeout=timeout)
    return (
        manifest["origin"] == origin
        and cache_matches(cache, manifest["files"])
        and sources_match(sources, manifest["files"])
    )


def stage(source: Source, staging: Path, timeout: float) -> Staged:
    """Copy one source into the staging folder, check it, validate it; its manifest entry."""
    path = staging / source.name
    with open_source(source, timeout) as (stream, headers):
        digest, size = copy_stream(stream, path, source)
    check_download(source, headers, path, size)
    stats = validate(path, source)
    entry = {"name": source.name, "source": source.location, "fetched_at": utc_now(),
             "sha256": digest, "bytes": size, **stats, "last_modified": source.last_modified}
    return Staged(path, entry)


def copy_stream(stream: BinaryIO, path: Path, source: Source) -> tuple[str, int]:
    """Write a stream to a new file, flushed to disk; its sha256 and size."""
    digest, size = hashlib.sha256(), 0
    with open(path, "xb") as out:
        while True:
            try:
                chunk = stream.read(CHUNK_BYTES)
            except (OSError, http.client.HTTPException) as exc:
                raise FetchError(
                    f"download of {source.location} broke off after {size:,} bytes ({exc!r}); {RETRY_FIX}"
                ) from exc
            if not chunk:
                break
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
        out.flush()
        os.fsync(out.fileno())
    return digest.hexdigest(), size


def check_download(source: Source, headers: Mapping, path: Path, size: int) -> None:
    """FetchError when a copy is cut short, empty, or an HTML page instead of a CSV."""
    declared = headers.get("Content-Length")
    if declared and declared.strip().isdigit() and int(declared) != size:
        raise FetchError(
            f"download of {source.location} is truncated: received {size:,} of {int(declared):,} bytes "
            f"(the connection closed early); {RETRY_FIX}"
        )
    if size == 0:
        fix = RETRY_FIX if source.is_url else "replace it in the mirror folder with the complete CSV from the London Datastore"
        raise FetchError(f"{source.location} is empty; {fix}")
    with open(path, "rb") as file:
        head = file.read(4096)
    if is_html(content_type(headers), head):
        title = html_title(head)
        why = "the Datastore returned an error page" if source.is_url else "a saved web page, not the data file"
        raise FetchError(
            f"{source.location} is an HTML page, not a CSV: {why}"
            + (f" ('{title}')" if title else "")
            + f"; {RETRY_FIX if source.is_url else 'replace it with the CSV file from the Datastore'}"
        )


def is_html(kind: str, head: bytes) -> bool:
    r"""Whether a download is an HTML page: by Content-Type, a leading ``<``, or an ``<html`` tag.

    >>> is_html("text/csv", b"Borough,Major Category,Minor Category,201101")
    False
    >>> is_html("text/html", b"Borough"), is_html("", b"\xef\xbb\xbf \r\n<!DOCTYPE html>")
    (True, True)
    >>> is_html("application/octet-stream", b"Error\n<HTML><body>busy</body></HTML>")
    True
    """
    stripped = head.removeprefix(b"\xef\xbb\xbf").lstrip()
    return kind == "text/html" or stripped.startswith(b"<") or b"<html" in head.lower()


def html_title(head: bytes) -> str:
    """The ``<title>`` of an HTML page, shortened, or ''.

    >>> html_title(b"<html><head><title> 503   Service\\nUnavailable </title>")
    '503 Service Unavailable'
    """
    match = re.search(rb"<title[^>]*>(.*?)</title", head, re.IGNORECASE | re.DOTALL)
    if not match:
        return ""
    return " ".join(match.group(1).decode("utf-8", "replace").split())[:80]


def validate(path: Path, source: Source) -> dict:
    """Read a staged file with :func:`cspbook.data.load.read_wide`; the manifest statistics.

    A DataFileError is raised again naming the source (URL or mirror file), not the
    staging copy the user never sees; other errors (e.g. a broken definitions file) pass.
    """
    from cspbook.data import load  # pandas: only when a file is checked

    try:
        wide = load.read_wide(path)
    except DataFileError as exc:
        raise DataFileError(source.location, exc.problem, line=exc.line, column=exc.column, fix=exc.fix) from exc
    facts = load.describe(path, wide)
    return {key: facts[key] for key in STATS}


def install_all(staged: list[Staged], changed: list[str], cache: Path, manifest_file: Path) -> list[str]:
    """Install the files and then the manifest with SIGINT and SIGTERM held back, so a
    signal never leaves new files beside the old manifest; the deleted names. A signal that
    came during the renames is delivered after them, and says that the cache was updated."""
    try:
        with signals.deferred():
            removed = install(staged, changed, cache)
            os.replace(manifest_file, cache / MANIFEST_NAME)
    except KeyboardInterrupt as exc:  # delivered as the block ended: every rename was done
        exc.outcome = "the cache was updated (the signal came as the new files were being moved in)"
        raise
    return removed


def install(staged: list[Staged], changed: list[str], cache: Path) -> list[str]:
    """Move the changed files into the cache and delete CSVs no longer offered; the deleted names."""
    for item in staged:
        if item.entry["name"] in changed:
            os.replace(item.path, cache / item.entry["name"])
    keep = {item.entry["name"] for item in staged}
    stale = sorted(
        p.name for p in cache.iterdir() if p.is_file() and p.suffix.lower() == ".csv" and p.name not in keep
    )
    for name in stale:
        (cache / name).unlink(missing_ok=True)
    return stale
