"""The raw-data cache as the rest of cspbook sees it: made current when asked
(:func:`ensure`: fetched from the mirror or the Datastore when missing or out of date) and
read only after every file has been checked against the manifest
(:func:`verified_manifest`)."""

from __future__ import annotations

from pathlib import Path

from cspbook import config, integrity, logs
from cspbook.data.manifests import read_manifest
from cspbook.errors import CspbookError


def ensure(mirror: Path | None = None, offline: bool = False, notice=None) -> dict:
    """Make sure the cache holds current data; fetch when it is missing or out of date.

    With ``offline`` the cache is used as it is. An unreachable Datastore with a usable
    cache is a one-line notice, not a failure.
    """
    from cspbook.data import (
        fetch,  # imported late: fetch pulls in urllib and is not needed offline
    )

    notice = notice or logs.line
    mirror = mirror or config.mirror_from_env()
    have_cache = config.manifest_path().exists()
    if offline:
        return verified_manifest(why="with --offline nothing is fetched")
    try:
        if have_cache and fetch.cache_is_current(mirror=mirror):
            return verified_manifest()
        fetch.fetch(mirror=mirror)
    except CspbookError as exc:
        if have_cache and mirror is None:
            notice(f"notice: could not check the London Datastore for new data ({exc}); using the cached data")
            return verified_manifest(why="the London Datastore could not be reached to fetch it again")
        raise
    return verified_manifest()


def verified_manifest(cache: Path | None = None, why: str = "") -> dict:
    """The cache manifest, once every file it lists has been checked against its sha256
    (DataFileError, exit 2, naming the file, both hashes and the fix, when one differs)."""
    cache = cache or config.cache_dir()
    manifest = read_manifest(cache)
    integrity.check_raw(manifest, cache, cache / "manifest.json", why)
    return manifest
