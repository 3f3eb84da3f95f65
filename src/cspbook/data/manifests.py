"""The cache manifest (``data/raw/manifest.json``): what each fetched file is (source,
time, sha256, rows, boroughs, months, classification, series), and how it is read, built and
checked."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from pathlib import Path

from cspbook import config
from cspbook.data.ckan import Source
from cspbook.errors import FetchError
from cspbook.integrity import sha256_file

MANIFEST_NAME = "manifest.json"


STATS = ("rows", "boroughs", "first_month", "last_month", "classification", "series")


ENTRY_KEYS = ("name", "source", "fetched_at", "sha256", "bytes", *STATS)


MANIFEST_KEYS = ("dataset", "fetched_at", "origin", "files")


def read_manifest(cache: Path | None = None) -> dict:
    """The manifest of the cache, checked for shape; FetchError (run `cspbook fetch`) if missing or corrupt."""
    path = Path(cache) / MANIFEST_NAME if cache is not None else config.manifest_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FetchError(
            f"{path} does not exist: the raw data has not been fetched yet; run `cspbook fetch`"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FetchError(f"cannot read {path}: {exc}; run `cspbook fetch` to rewrite it") from exc
    try:
        manifest = json.loads(text)
    except ValueError as exc:
        raise FetchError(f"{path} is not valid JSON ({exc}); run `cspbook fetch` to rewrite it") from exc
    problem = manifest_problem(manifest)
    if problem:
        raise FetchError(f"{path}: {problem}; run `cspbook fetch` to rewrite it")
    return manifest


def same_bytes(cache: Path, entry: dict) -> bool:
    """Whether the cache already holds this entry's file with the same sha256."""
    final = cache / entry["name"]
    return final.is_file() and sha256_file(final) == entry["sha256"]


def cache_matches(cache: Path, entries: list[dict]) -> bool:
    """Whether every manifest file is in the cache with its recorded sha256."""
    return all(same_bytes(cache, entry) for entry in entries)


def sources_match(sources: list[Source], entries: list[dict]) -> bool:
    """Whether the sources are the manifest's files: same names, and same sha256 (mirror) or URL and last_modified."""
    recorded = {entry["name"]: entry for entry in entries}
    if sorted(recorded) != sorted(source.name for source in sources):
        return False
    return all(source_matches(source, recorded[source.name]) for source in sources)


def source_matches(source: Source, entry: dict) -> bool:
    """Whether one source is unchanged since the manifest entry was written."""
    if not source.is_url:
        return sha256_file(Path(source.location)) == entry["sha256"]
    return (
        source.last_modified is not None
        and entry.get("source") == source.location
        and entry.get("last_modified") == source.last_modified
    )


def build_manifest(origin: str, entries: list[dict], fetched_at: str) -> dict:
    """The manifest document: dataset, time, origin, and one entry per file sorted by name."""
    files = sorted(entries, key=lambda entry: entry["name"])
    return {"dataset": config.DATASET_ID, "fetched_at": fetched_at, "origin": origin, "files": files}


def manifest_bytes(manifest: dict) -> bytes:
    return (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def manifest_problem(manifest: object) -> str:
    """What is wrong with a manifest's shape, or '' when it is sound.

    >>> manifest_problem({"dataset": "d", "fetched_at": "t", "origin": "o", "files": [{"name": "a"}]})
    "file entry 1 lacks ['source', 'fetched_at', 'sha256', 'bytes', 'rows', 'boroughs', 'first_month', 'last_month', 'classification', 'series']"
    >>> manifest_problem([])
    'expected a JSON object, found list'
    """
    if not isinstance(manifest, dict):
        return f"expected a JSON object, found {type(manifest).__name__}"
    missing = [key for key in MANIFEST_KEYS if key not in manifest]
    if missing:
        return f"missing keys {missing}"
    if not isinstance(manifest["files"], list):
        return "'files' is not a list"
    for number, entry in enumerate(manifest["files"], start=1):
        lacking = [key for key in ENTRY_KEYS if not isinstance(entry, dict) or key not in entry]
        if lacking:
            return f"file entry {number} lacks {lacking}"
    return ""


def write_new(path: Path, data: bytes) -> Path:
    """Write bytes to a new file, flushed to disk; the path."""
    with open(path, "xb") as out:
        out.write(data)
        out.flush()
        os.fsync(out.fileno())
    return path


def utc_now() -> str:
    """The current time as ISO-8601 UTC to the second, e.g. '2026-11-25T17:50:08Z'."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
