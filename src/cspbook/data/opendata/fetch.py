"""The open sources into the cache (``data/raw/open/``), all or nothing, with a manifest of
the same shape as the MPS files' (name, source, sha256, bytes, rows, first and last period,
layout as ``classification``, source id as ``series``) and the same checks before use.

Offline the files come from an open mirror folder, at any depth, each file going to the
source whose name patterns match it (``data/sources.yml``); online from the Datastore's CKAN
API (``ckan:``) or the publisher's address (``urls:``). Two files of one name in different
folders (two refreshes) are both kept, under their folder's path."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlsplit, urlunsplit

from cspbook import config, integrity
from cspbook.data.ckan import Source, check_unique, ckan_result, get_json, open_source, url_basename
from cspbook.data.fetch import check_download, copy_stream
from cspbook.data.manifests import MANIFEST_NAME, build_manifest, manifest_bytes, read_manifest, utc_now, write_new
from cspbook.definitions.sources import Registry, registry
from cspbook.errors import DataFileError, FetchError

NONE = "none"  # the origin of an empty open cache: no open mirror was given


@dataclass(frozen=True)
class OpenFile:
    source_id: str
    source: Source  # name: '<source id>/<path>'


@dataclass(frozen=True)
class OpenFetch:
    files: list
    origin: str
    notices: list = field(default_factory=list)


def cache_dir(cache: Path | None = None) -> Path:
    """The open files' cache: ``<raw cache>/open``."""
    return (Path(cache) if cache is not None else config.cache_dir()) / "open"


def mirror_files(folder: Path, reg: Registry) -> list[OpenFile]:
    """Every file under ``folder`` (any depth) that a source of the registry expects."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FetchError(f"open mirror folder '{folder}' does not exist or is not a folder; give an existing folder "
                         "with --open-mirror or CSPBOOK_OPEN_MIRROR")
    found = []
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        source = reg.source_of(path.name)
        if source is not None:
            name = f"{source.id}/{path.relative_to(folder).as_posix()}"
            found.append(OpenFile(source.id, Source(name, str(path.resolve()))))
    return found


def online_files(reg: Registry, datastore: str, timeout: float, publisher: str | None = None) -> tuple[list, list]:
    """The files each source offers online, and a notice for each source that could not be
    listed or has no online address. ``publisher`` (tests) replaces the scheme and host of
    every publisher address."""
    found, notices = [], []
    for source in reg.sources.values():
        try:
            if "ckan" in source.online:
                url = f"{datastore}/api/3/action/package_show?id={source.online['ckan']}"
                package = ckan_result(url, get_json(url, timeout))
                resources = package.get("resources", []) if isinstance(package, dict) else []
                for res in resources:
                    name = url_basename(str(res.get("url", ""))) if isinstance(res, dict) else ""
                    if name and source.matches(name):
                        location = str(res["url"]) if "://" in str(res["url"]) else f"{datastore}{res['url']}"
                        found.append(OpenFile(source.id, Source(f"{source.id}/{name}", location, res.get("last_modified"))))
            elif "urls" in source.online:
                for url in source.online["urls"]:
                    found.append(OpenFile(source.id, Source(f"{source.id}/{_name(url)}", _moved(url, publisher))))
            else:
                notices.append(f"{source.id}: no online address ({source.online[NONE]})")
        except FetchError as exc:
            notices.append(f"{source.id}: {exc}")
    return found, notices


def _name(url: str) -> str:
    """A file's name in an address (the ``uri`` of an ONS ``file?uri=...`` link included).

    >>> _name("https://www.ons.gov.uk/file?uri=/a/b/mye22final.xlsx")
    'mye22final.xlsx'
    """
    uri = parse_qs(urlsplit(url).query).get("uri")
    return url_basename(uri[0]) if uri else url_basename(url)


def _moved(url: str, base: str | None) -> str:
    if not base:
        return url
    parts, new = urlsplit(url), urlsplit(base)
    return urlunsplit((new.scheme, new.netloc, parts.path, parts.query, ""))


def fetch(open_mirror: Path | None = None, *, online: bool = False, datastore: str | None = None,
          cache: Path | None = None, timeout: float = 60, publisher: str | None = None) -> OpenFetch:
    """Fetch the open sources into the cache, all or nothing: from ``open_mirror``; online
    when ``online``; with neither, the open cache is emptied (the book then has no open
    figures). Every file is read by its layout's reader before anything is installed: a bad
    file stops the fetch (DataFileError naming the file, row and column), the cache as it was."""
    reg = registry()
    target = cache_dir(cache)
    notices = []
    if not online and is_current(open_mirror, cache):  # nothing to do: the manifest stays as it is
        manifest = read_manifest(target)
        return OpenFetch(manifest["files"], manifest["origin"])
    if open_mirror is not None:
        origin, files = f"mirror:{Path(open_mirror).resolve()}", mirror_files(Path(open_mirror), reg)
    elif online:
        origin = (datastore or config.datastore_url()).rstrip("/")
        files, notices = online_files(reg, origin, timeout, publisher)
    else:
        origin, files = NONE, []
    check_unique([f.source.name for f in files], origin)
    kept = _kept_online(files, cache) if online else []
    if online and not files and kept:  # nothing could be fetched: the cache stays as it was
        return OpenFetch(kept, read_manifest(target)["origin"], notices)
    target.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".partial-", dir=target))
    try:
        entries = [_stage(item, staging, timeout, reg) for item in files]
        for entry in kept:  # a source that could not be fetched keeps its cached copy
            (staging / entry["name"]).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(target / entry["name"], staging / entry["name"])
            entries.append(entry)
        manifest = build_manifest(origin, entries, utc_now())
        manifest["dataset"] = "open"
        manifest_file = write_new(staging / MANIFEST_NAME, manifest_bytes(manifest))
        _install(entries, staging, target, manifest_file)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return OpenFetch(manifest["files"], origin, notices)


def _stage(item: OpenFile, staging: Path, timeout: float, reg: Registry) -> dict:
    from cspbook.data.opendata import readers  # pandas: only when a file is checked

    path = staging / item.source.name
    path.parent.mkdir(parents=True, exist_ok=True)
    with open_source(item.source, timeout) as (stream, headers):
        digest, size = copy_stream(stream, path, item.source)
    check_download(item.source, headers, path, size)
    source = reg.sources[item.source_id]
    try:
        frame = readers.read(path, source, reg, sha256=digest)
    except DataFileError as exc:
        raise DataFileError(item.source.location, exc.problem, line=exc.line, column=exc.column, fix=exc.fix) from exc
    periods = sorted(frame["period"].unique())
    return {"name": item.source.name, "source": item.source.location, "fetched_at": utc_now(), "sha256": digest,
            "bytes": size, "rows": int(len(frame)), "boroughs": int(frame["area"].nunique()),
            "first_month": periods[0] if periods else "", "last_month": periods[-1] if periods else "",
            "classification": source.layout, "series": source.id, "refresh": max(frame["refresh"], default=""),
            "last_modified": item.source.last_modified}


def _kept_online(files: list, cache: Path | None) -> list:
    """The cached entries (checked against their sha256) of the sources an online fetch did
    not get: they stay in the cache rather than vanish with a publisher that did not answer."""
    old = verified_manifest(cache)
    fetched = {f.source_id for f in files}
    return [e for e in (old or {}).get("files", []) if e.get("series") not in fetched]


def _install(entries: list, staging: Path, target: Path, manifest_file: Path) -> None:
    """Move the staged files and then the manifest in (signals held back); delete the rest."""
    import os

    from cspbook import signals

    keep = {e["name"] for e in entries}
    with signals.deferred():
        for entry in entries:
            final = target / entry["name"]
            final.parent.mkdir(parents=True, exist_ok=True)
            os.replace(staging / entry["name"], final)
        os.replace(manifest_file, target / MANIFEST_NAME)
    for path in sorted(target.rglob("*"), reverse=True):
        name = path.relative_to(target).as_posix()
        if path.is_file() and name != MANIFEST_NAME and name not in keep and not name.startswith(".partial-"):
            path.unlink(missing_ok=True)


def is_current(open_mirror: Path | None, cache: Path | None = None) -> bool:
    """Whether the open cache already holds exactly the mirror's files (by sha256), or is
    the empty cache of no mirror."""
    try:
        manifest = read_manifest(cache_dir(cache))
    except FetchError:
        return False
    if open_mirror is None:
        return manifest["origin"] == NONE
    if manifest["origin"] != f"mirror:{Path(open_mirror).resolve()}" or integrity.raw_mismatches(manifest, cache_dir(cache)):
        return False
    recorded = {e["name"]: e["sha256"] for e in manifest["files"]}
    files = mirror_files(Path(open_mirror), registry())
    return sorted(recorded) == sorted(f.source.name for f in files) and all(
        integrity.actual_sha256(Path(f.source.location)) == recorded[f.source.name] for f in files)


def verified_manifest(cache: Path | None = None) -> dict | None:
    """The open manifest once every file it lists matches its sha256 (DataFileError naming
    the file otherwise); None when no open sources were ever fetched."""
    folder = cache_dir(cache)
    if not (folder / MANIFEST_NAME).exists():
        return None
    manifest = read_manifest(folder)
    integrity.check_raw(manifest, folder, folder / MANIFEST_NAME)
    return manifest
