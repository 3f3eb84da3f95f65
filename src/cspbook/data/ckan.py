"""Where the MPS files come from: a mirror folder, or the London Datastore's CKAN API
(``package_show``), and opening one over HTTP with errors that name the address, the status
and the fix."""

from __future__ import annotations

import http.client
import json
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO
from urllib.error import HTTPError, URLError
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import Request, urlopen

import cspbook
from cspbook import config
from cspbook.errors import FetchError

FILE_PREFIX = "MPS_Borough_Level_Crime"  # as the 2008-2018 files are named


# How the Datastore and a browser name the borough-level files: 'MPS_Borough_Level_Crime_Historic.csv',
# 'MPS Borough Level Crime (Historical).csv', '... (most recent 24 months) (1).csv'.
FILE_NAME = re.compile(r"mps[ _-]*borough[ _-]*level[ _-]*crime(?![a-z]).*", re.IGNORECASE)


USER_AGENT = "cspbook/{version} (+https://data.london.gov.uk/dataset/" + config.DATASET_ID + ")"


CHUNK_BYTES = 64 * 1024


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
