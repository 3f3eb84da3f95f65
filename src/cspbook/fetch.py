"""Fetch the MPS borough-level crime files into the git-ignored cache (``data/raw``).

The recipe (:func:`fetch`): find the sources (a mirror folder, or the London Datastore's
CKAN API) → copy every file into a hidden staging folder inside the cache → check each one
(complete, not an HTML error page, valid for :func:`cspbook.load.read_wide`) → only then
move them all into place, drop cached files the source no longer offers, and write
``manifest.json`` last. A failure at any step (or Ctrl-C) removes the staging folder and
leaves the previous cache and manifest byte-for-byte as they were.

Only the final renames touch the cache. Each is atomic (``os.replace``) and SIGINT/SIGTERM
wait until all of them are done; only a process killed outright (SIGKILL, power loss) in the
middle of them leaves an old manifest beside a new file: every use of the cache checks the
files against the manifest (:func:`cspbook.integrity.check_raw`), :func:`cache_is_current`
answers False, and the next fetch repairs it.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import Request, urlopen

import cspbook
from cspbook import config
from cspbook.errors import DataFileError, FetchError

FILE_PREFIX = "MPS_Borough_Level_Crime"  # as the 2008-2018 files are named
# How the Datastore and a browser name the borough-level files: 'MPS_Borough_Level_Crime_Historic.csv',
# 'MPS Borough Level Crime (Historical).csv', '... (most recent 24 months) (1).csv'.
FILE_NAME = re.compile(r"mps[ _-]*borough[ _-]*level[ _-]*crime(?![a-z]).*", re.IGNORECASE)
MANIFEST_NAME = "manifest.json"
STAGING_PREFIX = ".partial-"
USER_AGENT = "cspbook/{version} (+https://data.london.gov.uk/dataset/" + config.DATASET_ID + ")"
CHUNK_BYTES = 64 * 1024
STATS = ("rows", "boroughs", "first_month", "last_month", "classification", "series")
ENTRY_KEYS = ("name", "source", "fetched_at", "sha256", "bytes", *STATS)
MANIFEST_KEYS = ("dataset", "fetched_at", "origin", "files")
MIRROR_FIX = (
    "give an existing folder with --mirror or CSPBOOK_MIRROR, "
    "or omit it to download from the London Datastore"
)
RETRY_FIX = "try again later, or download the files in a browser into a folder and fetch with --mirror"


@dataclass(frozen=True)
class Source:
    """One file to fetch: its name in the cache, where it comes from, and its version stamp."""

    name: str
    location: str  # an http(s) URL, or the absolute path of a mirror file
    last_modified: str | None = None  # the CKAN resource's last_modified; None for a mirror

    @property
    def is_url(self) -> bool:
        return self.location.startswith(("http://", "https://"))


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


# --- public API ----------------------------------------------------------------------------


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
    cache = Path(cache) if cache is not None else config.cache_dir()
    origin, sources = resolve_sources(mirror, datastore=datastore, timeout=timeout)
    cache.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=cache))
    try:
        staged = [stage(source, staging, timeout) for source in sources]
        changed = [item.entry["name"] for item in staged if not same_bytes(cache, item.entry)]
        manifest = build_manifest(origin, [item.entry for item in staged], utc_now())
        manifest_file = write_new(staging / MANIFEST_NAME, manifest_bytes(manifest))
        removed = install_all(staged, changed, cache, manifest_file)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return FetchResult(manifest["files"], changed, origin, removed)


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
    cache = Path(cache) if cache is not None else config.cache_dir()
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


# --- sources -------------------------------------------------------------------------------


def resolve_sources(
    mirror: Path | None, *, datastore: str | None, timeout: float
) -> tuple[str, list[Source]]:
    """The origin label and the files to fetch, from the mirror folder or the Datastore."""
    if mirror is not None:
        folder = Path(mirror)
        return f"mirror:{folder.resolve()}", mirror_sources(folder)
    base = (datastore or config.datastore_url()).rstrip("/")
    return base, datastore_sources(base, timeout)


def mirror_sources(folder: Path) -> list[Source]:
    """Every MPS borough-level crime CSV in a mirror folder (:func:`is_crime_file`), sorted by name."""
    if not folder.exists():
        raise FetchError(f"mirror folder '{folder}' does not exist; {MIRROR_FIX}")
    if not folder.is_dir():
        raise FetchError(f"mirror '{folder}' is a file, not a folder; {MIRROR_FIX}")
    try:
        found = sorted(path.name for path in folder.iterdir())
    except OSError as exc:
        raise FetchError(f"cannot list mirror folder '{folder}': {exc}; {MIRROR_FIX}") from exc
    names = [name for name in found if is_crime_file(name) and (folder / name).is_file()]
    if not names:
        raise FetchError(
            f"mirror folder '{folder}' holds no MPS borough-level crime CSV (a name like "
            f"'MPS Borough Level Crime (Historical).csv' or '{FILE_PREFIX}_Historic.csv'); found {shown(found)}; "
            f"copy the borough-level files of https://data.london.gov.uk/dataset/{config.DATASET_ID} "
            "there, or omit the mirror to download them"
        )
    sources = [Source(cache_name(name), str((folder / name).resolve())) for name in names]
    check_unique([source.name for source in sources], f"mirror folder '{folder}'", "rename one of them")
    return sources


def is_crime_file(name: str) -> bool:
    """Whether a file name looks like an MPS borough-level crime CSV, as the Datastore and a
    browser name them.

    >>> is_crime_file("MPS_Borough_Level_Crime_Historic.csv"), is_crime_file("MPS_x.csv")
    (True, False)
    >>> is_crime_file("MPS_Borough_Level_Crime_Historic.CSV"), is_crime_file("MPS_Borough_Level_Crime.xlsx")
    (True, False)
    >>> is_crime_file("MPS Borough Level Crime (most recent 24 months) (1).csv")
    True
    >>> is_crime_file("MPS Ward Level Crime (Historical).csv")
    False
    """
    return bool(FILE_NAME.match(name)) and name.lower().endswith(".csv")


def datastore_sources(base: str, timeout: float) -> list[Source]:
    """The crime CSV resources the CKAN ``package_show`` action lists for the dataset."""
    url = f"{base}/api/3/action/package_show?id={config.DATASET_ID}"
    package = ckan_result(url, get_json(url, timeout))
    resources = package.get("resources") if isinstance(package, dict) else None
    if not isinstance(resources, list):
        raise FetchError(
            f"{url}: the answer has no 'result.resources' list; check the Datastore address (CSPBOOK_DATASTORE)"
        )
    sources = select_resources(resources, url)
    if not sources:
        listed = [r.get("name") or r.get("url") for r in resources if isinstance(r, dict)]
        raise FetchError(
            f"{url}: dataset '{config.DATASET_ID}' lists no MPS borough-level crime CSV resource; "
            f"found {shown(listed)}; the Datastore may have renamed its files, fetch from a folder with --mirror"
        )
    return sources


def select_resources(resources: list, api_url: str) -> list[Source]:
    """The CKAN resources that are crime CSVs, as sources named safely for the cache.

    >>> select_resources([
    ...     {"name": "MPS_Borough_Level_Crime_Historic.csv", "format": "CSV", "url": "/d/1/a.csv",
    ...      "last_modified": "2019-01-10T09:00:00"},
    ...     {"name": "Ward level", "format": "csv", "url": "https://x/MPS_Ward_Level_Crime.csv"},
    ...     {"name": "notes", "format": "PDF", "url": "https://x/MPS_Borough_Level_Crime.pdf"},
    ... ], "https://x/api/3/action/package_show?id=d")  # doctest: +NORMALIZE_WHITESPACE
    [Source(name='MPS_Borough_Level_Crime_Historic.csv', location='https://x/d/1/a.csv',
            last_modified='2019-01-10T09:00:00')]
    """
    sources = [resource_source(r, api_url) for r in resources if is_crime_resource(r)]
    check_unique([source.name for source in sources], api_url)
    return sources


def is_crime_resource(resource: object) -> bool:
    """Whether a CKAN resource is a CSV (by format or URL) named like an MPS borough-level file
    (by its name or its URL's file name).

    >>> is_crime_resource({"name": "MPS Borough Level Crime (Historical)", "format": "csv",
    ...                    "url": "https://x/download/MPS%20Borough%20Level%20Crime%20%28Historical%29.csv"})
    True
    >>> is_crime_resource({"name": "MPS Ward Level Crime (Historical)", "format": "CSV", "url": "https://x/w.csv"})
    False
    """
    if not isinstance(resource, dict):
        return False
    url, name = str(resource.get("url") or ""), str(resource.get("name") or "")
    is_csv = str(resource.get("format") or "").strip().lower() == "csv" or url_basename(url).lower().endswith(".csv")
    return is_csv and (bool(FILE_NAME.match(name.strip())) or bool(FILE_NAME.match(url_basename(url))))


def resource_source(resource: dict, api_url: str) -> Source:
    """A crime resource as a source: absolute http(s) URL, safe cache name, last_modified."""
    url, name = str(resource.get("url") or ""), str(resource.get("name") or "")
    location = urljoin(api_url, url)
    if urlsplit(location).scheme not in ("http", "https"):
        raise FetchError(
            f"{api_url}: resource '{name}' has URL '{url}', not http(s); fetch from a folder with --mirror"
        )
    label = name if FILE_NAME.match(name.strip()) else url_basename(url)
    return Source(cache_name(label), location, resource.get("last_modified") or None)


def url_basename(url: str) -> str:
    """The last path segment of a URL, without query or fragment.

    >>> url_basename("https://x/download/a/MPS_Borough_Level_Crime%20v2.csv?raw=1#top")
    'MPS_Borough_Level_Crime v2.csv'
    """
    return PurePosixPath(unquote(urlsplit(url).path)).name


def cache_name(label: str) -> str:
    """A safe file name for the cache: a basename of letters, digits, spaces and ``._-()``,
    ending ``.csv`` (the names the Datastore and a browser give are kept as they are).

    >>> cache_name("MPS_Borough_Level_Crime_Historic.csv")
    'MPS_Borough_Level_Crime_Historic.csv'
    >>> cache_name("../../etc/MPS_Borough_Level_Crime (2019 edition).csv")
    'MPS_Borough_Level_Crime (2019 edition).csv'
    >>> cache_name("..\\\\MPS_Borough_Level_Crime_Historic")
    'MPS_Borough_Level_Crime_Historic.csv'
    >>> cache_name("MPS Borough:Level*Crime?.csv")
    'MPS Borough_Level_Crime.csv'
    """
    base = re.split(r"[/\\]", label)[-1]
    stem = base[:-4] if base.lower().endswith(".csv") else base
    safe = re.sub(r"[^A-Za-z0-9 .()-]+", "_", stem).strip("._ ")[:200]
    return f"{safe}.csv"


def check_unique(names: list[str], where: str, fix: str = "fetch from a folder with --mirror") -> None:
    """FetchError when two resources (or mirror files) would land on the same cache file."""
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise FetchError(f"{where}: several files would be saved as {twice}; {fix}")


def shown(names: list, limit: int = 10) -> str:
    """A short list of names for a message.

    >>> shown([]), shown(["a", "b"]), shown(list("abcd"), limit=2)
    ('nothing', "['a', 'b']", "['a', 'b', ...] (4 in all)")
    """
    if not names:
        return "nothing"
    if len(names) <= limit:
        return repr(list(names))
    return f"{repr(list(names[:limit]))[:-1]}, ...] ({len(names)} in all)"


# --- HTTP ----------------------------------------------------------------------------------


def open_url(url: str, timeout: float) -> http.client.HTTPResponse:
    """Open a URL with our User-Agent; every failure becomes a FetchError naming URL, status and fix."""
    agent = USER_AGENT.format(version=cspbook.__version__)
    request = Request(url, headers={"User-Agent": agent, "Accept": "text/csv, application/json, */*"})
    try:
        return urlopen(request, timeout=timeout)  # noqa: S310 - the scheme is checked by the callers
    except HTTPError as exc:
        raise FetchError(http_error_message(url, exc.code, exc.reason, error_body(exc))) from exc
    except URLError as exc:
        raise FetchError(
            f"cannot reach {url}: {exc.reason}; check the network and the Datastore address "
            "(CSPBOOK_DATASTORE), or fetch from a folder with --mirror or CSPBOOK_MIRROR"
        ) from exc
    except TimeoutError as exc:  # the answer's headers did not come in time
        raise FetchError(f"{url} did not answer within {timeout:g} s; {RETRY_FIX}") from exc
    except (OSError, http.client.HTTPException) as exc:  # resets, bad status lines
        raise FetchError(f"the connection to {url} failed ({exc!r}); {RETRY_FIX}") from exc


def error_body(exc: HTTPError) -> bytes:
    """The first bytes of an HTTP error's body (CKAN explains its errors there), or b''."""
    try:
        return exc.read(4096) or b""
    except (OSError, http.client.HTTPException):
        return b""


def http_error_message(url: str, status: int, reason: str, body: bytes = b"") -> str:
    """The message for an HTTP error status, with CKAN's own explanation when the body has one.

    >>> http_error_message("https://x/a.csv", 404, "Not Found")
    'https://x/a.csv answered HTTP 404 Not Found; check the Datastore address (CSPBOOK_DATASTORE) and the dataset id, or fetch from a folder with --mirror'
    >>> http_error_message("https://x/api", 503, "Service Unavailable", b'{"success": false, "error": {"message": "busy"}}')[:58]
    'https://x/api answered HTTP 503 Service Unavailable (busy)'
    """
    detail = ckan_error_text(body)
    text = f"{url} answered HTTP {status} {reason}" + (f" ({detail})" if detail else "")
    if status >= 500 or status == 429:
        return f"{text}; the Datastore is having trouble: {RETRY_FIX}"
    fix = "check the Datastore address (CSPBOOK_DATASTORE) and the dataset id, or fetch from a folder with --mirror"
    return f"{text}; {fix}"


def ckan_error_text(body: bytes) -> str:
    """CKAN's ``error`` explanation in a JSON body, or '' when there is none.

    >>> ckan_error_text(b'{"success": false, "error": {"__type": "Not Found Error", "message": "Not found"}}')
    'Not Found Error: Not found'
    >>> ckan_error_text(b"<html>")
    ''
    """
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return ""
    if not isinstance(error, dict):
        return str(error or "")
    parts = [str(error[key]) for key in ("__type", "message") if error.get(key)]
    return ": ".join(parts) or json.dumps(error)


def get_json(url: str, timeout: float) -> object:
    """The JSON document at a URL; FetchError when the answer is not JSON."""
    with open_url(url, timeout) as response:
        kind = content_type(response.headers)
        try:
            body = response.read()
        except (OSError, http.client.HTTPException) as exc:
            raise FetchError(f"the answer from {url} was cut off ({exc!r}); {RETRY_FIX}") from exc
    try:
        return json.loads(body)
    except ValueError:
        raise FetchError(
            f"{url} did not answer with JSON (Content-Type '{kind}', starts {body[:60]!r}); "
            "check the Datastore address (CSPBOOK_DATASTORE): it must serve the CKAN API"
        ) from None


def ckan_result(url: str, answer: object) -> object:
    """The ``result`` of a CKAN action answer; FetchError when CKAN reports ``success: false``."""
    if not isinstance(answer, dict) or "success" not in answer:
        raise FetchError(f"{url} did not answer like the CKAN API (no 'success' field); check the Datastore address")
    if answer["success"] is not True:
        detail = ckan_error_text(json.dumps(answer).encode()) or "no explanation given"
        raise FetchError(
            f"{url}: the Datastore API reported an error ({detail}); "
            f"check the dataset id '{config.DATASET_ID}' and the Datastore address (CSPBOOK_DATASTORE)"
        )
    return answer.get("result")


def content_type(headers: Mapping) -> str:
    """The media type of a Content-Type header, lower case, '' when absent.

    >>> content_type({"Content-Type": "Text/HTML; charset=utf-8"}), content_type({})
    ('text/html', '')
    """
    return str(headers.get("Content-Type") or "").split(";")[0].strip().lower()


# --- staging: copy, check, validate --------------------------------------------------------


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


@contextmanager
def open_source(source: Source, timeout: float) -> Iterator[tuple[BinaryIO, Mapping]]:
    """A binary stream of the source and its HTTP headers (empty for a mirror file)."""
    if source.is_url:
        with open_url(source.location, timeout) as response:
            yield response, response.headers
        return
    try:
        stream = open(source.location, "rb")  # noqa: SIM115 - closed by the with below
    except OSError as exc:
        raise FetchError(f"cannot read mirror file {source.location}: {exc}; {MIRROR_FIX}") from exc
    with stream:
        yield stream, {}


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
    """Read a staged file with :func:`cspbook.load.read_wide`; the manifest statistics.

    A DataFileError is raised again naming the source (URL or mirror file), not the
    staging copy the user never sees; other errors (e.g. a broken definitions file) pass.
    """
    from cspbook import load  # pandas and pandera: only when a file is checked

    try:
        wide = load.read_wide(path)
    except DataFileError as exc:
        raise DataFileError(source.location, exc.problem, line=exc.line, column=exc.column, fix=exc.fix) from exc
    facts = load.describe(path, wide)
    return {key: facts[key] for key in STATS}


# --- installing and the manifest -----------------------------------------------------------


def same_bytes(cache: Path, entry: dict) -> bool:
    """Whether the cache already holds this entry's file with the same sha256."""
    final = cache / entry["name"]
    return final.is_file() and sha256_file(final) == entry["sha256"]


def install_all(staged: list[Staged], changed: list[str], cache: Path, manifest_file: Path) -> list[str]:
    """Install the files and then the manifest with SIGINT and SIGTERM held back, so a
    signal never leaves new files beside the old manifest; the deleted names. A signal that
    came during the renames is delivered after them, and says that the cache was updated."""
    from cspbook import signals

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


def sha256_file(path: Path) -> str:
    """The sha256 hex digest of a file, read in chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def utc_now() -> str:
    """The current time as ISO-8601 UTC to the second, e.g. '2026-11-25T17:50:08Z'."""
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
