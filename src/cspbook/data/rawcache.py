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
    """Make sure the cache holds current data, the MPS files (:func:`ensure_mps`) and then the
    open sources (:func:`ensure_open`); the MPS files' manifest, with the open sources' under
    ``open`` when there are any."""
    notice = notice or logs.line
    mirror = mirror or config.mirror_from_env()
    from cspbook.data.opendata import fetch as open_fetch

    manifest = ensure_mps(mirror, offline, notice)
    online = mirror is None and not manifest["origin"].startswith("mirror:")
    if not offline and (mirror is not None or online or config.open_mirror(None) is not None):  # else the open cache stays as it was
        ensure_open(mirror, notice, online=online)
    opened = open_fetch.verified_manifest()
    return {**manifest, "open": opened} if opened and opened["files"] else manifest


def ensure_open(mirror: Path | None, notice, online: bool = False) -> None:
    """The open sources as the open mirror has them (``config.open_mirror``); with no open
    mirror and an MPS mirror, none; online, from their publishers (a source that cannot be
    fetched is a notice: the cached copy, if any, stays)."""
    from cspbook.data.opendata import fetch as open_fetch

    folder = config.open_mirror(mirror)
    if folder is None and online:
        try:
            for line in open_fetch.fetch(online=True).notices:
                notice(f"notice: open source {line}")
        except CspbookError as exc:
            notice(f"notice: could not fetch the open sources ({exc}); using the cached ones")
        return
    if not open_fetch.is_current(folder):
        open_fetch.fetch(folder)


def ensure_mps(mirror: Path | None = None, offline: bool = False, notice=None) -> dict:
    """Make sure the cache holds current MPS data; fetch when it is missing or out of date.

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
