"""A fake CKAN server on 127.0.0.1 for tests: the ``package_show`` action plus file downloads.

It never touches the internet. Each test says how every file is served::

    with FakeCkan() as ckan:            # or use the ``ckan`` pytest fixture
        ckan.add_file("MPS_Borough_Level_Crime_Historic.csv", body)
        ckan.add_file("MPS_Borough_Level_Crime_most_recent_24_months.csv", status=404)
        fetch(datastore=ckan.url)

Replies: a good file, an HTTP error status, an HTML page with status 200 (:func:`html_page`),
a truncated file (:func:`truncated`: Content-Length larger than the body, then the
connection closes) and a CKAN error answer (:meth:`FakeCkan.fail_package`).
"""

from __future__ import annotations

import json
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

DATASET_ID = "recorded_crime_summary"
PACKAGE_SHOW = "/api/3/action/package_show"
LAST_MODIFIED = "2019-01-10T09:00:00.000000"


@dataclass
class Reply:
    """How the server answers one path: status, headers and body.

    ``declared_length`` is the Content-Length sent (default: the body's length); when it
    is larger than the body, the server sends the body and closes the connection.
    ``delay`` makes the server wait that many seconds before it answers.
    """

    body: bytes = b""
    status: int = 200
    content_type: str = "text/csv; charset=utf-8"
    declared_length: int | None = None
    delay: float = 0  # seconds to wait before answering (to test timeouts)


def html_page(title: str = "Service Unavailable", status: int = 200) -> Reply:
    """An HTML error page, as a CDN or a maintenance page sends it, by default with status 200."""
    body = f"<!DOCTYPE html>\n<html><head><title>{title}</title></head><body><h1>{title}</h1></body></html>\n"
    return Reply(body.encode(), status=status, content_type="text/html; charset=utf-8")


def truncated(body: bytes, keep: float = 0.5) -> Reply:
    """A download cut halfway: Content-Length announces all of ``body``, only ``keep`` of it comes."""
    return Reply(body[: int(len(body) * keep)], declared_length=len(body))


@dataclass
class FakeCkan:
    """A loopback CKAN: ``url`` is its base; ``requests`` records (path, User-Agent) in order."""

    dataset_id: str = DATASET_ID
    resources: list[dict] = field(default_factory=list)
    replies: dict[str, Reply] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    package_reply: Reply | None = None  # when set, package_show answers this instead
    others: dict[str, list] = field(default_factory=dict)  # more datasets: id -> resources

    def __post_init__(self):
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.ckan = self
        serve = lambda: self._server.serve_forever(poll_interval=0.02)  # noqa: E731 - quick shutdown
        self._thread = threading.Thread(target=serve, name="fake-ckan", daemon=True)

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def api_url(self) -> str:
        return f"{self.url}{PACKAGE_SHOW}?id={self.dataset_id}"

    def add_file(
        self,
        name: str,
        body: bytes | Reply = b"",
        *,
        status: int = 200,
        resource: dict | None = None,
    ) -> str:
        """Serve ``body`` (bytes or a :class:`Reply`) at ``/download/<name>`` and list it as a
        resource named ``name``; ``resource`` overrides fields of the listing. Returns the URL."""
        path = f"/download/{name}"
        self.replies[path] = body if isinstance(body, Reply) else Reply(body, status=status)
        listing = {"name": name, "format": "CSV", "url": self.url + path, "last_modified": LAST_MODIFIED}
        self.resources.append({**listing, **(resource or {})})
        return self.url + path

    def set_file(self, name: str, body: bytes | Reply, *, last_modified: str | None = LAST_MODIFIED) -> None:
        """Change what an existing resource serves, and its ``last_modified``."""
        self.replies[f"/download/{name}"] = body if isinstance(body, Reply) else Reply(body)
        for resource in self.resources:
            if resource["name"] == name:
                resource["last_modified"] = last_modified

    def fail_package(self, message: str = "Not found", kind: str = "Not Found Error", status: int = 404) -> None:
        """Answer package_show with CKAN's ``success: false`` JSON and the given status."""
        error = {"help": "", "success": False, "error": {"__type": kind, "message": message}}
        self.package_reply = Reply(json.dumps(error).encode(), status=status, content_type="application/json")

    def package_answer(self, query: str) -> Reply:
        """What package_show answers for a query string."""
        if self.package_reply is not None:
            return self.package_reply
        other = parse_qs(query).get("id", [""])[0]
        if other in self.others:
            result = {"name": other, "resources": self.others[other]}
            return Reply(json.dumps({"help": "", "success": True, "result": result}).encode(), content_type="application/json")
        if parse_qs(query).get("id") != [self.dataset_id]:
            error = {"success": False, "error": {"__type": "Not Found Error", "message": "Not found"}}
            return Reply(json.dumps(error).encode(), status=404, content_type="application/json")
        result = {"name": self.dataset_id, "resources": self.resources}
        body = json.dumps({"help": "", "success": True, "result": result}).encode()
        return Reply(body, content_type="application/json")

    def answer(self, target: str) -> Reply:
        parts = urlsplit(target)
        if parts.path == PACKAGE_SHOW:
            return self.package_answer(parts.query)
        return (self.replies.get(target) or self.replies.get(parts.path)
                or Reply(b"Not Found\n", status=404, content_type="text/plain"))

    def add_dataset_file(self, dataset: str, name: str, body: bytes) -> str:
        """Serve ``body`` as resource ``name`` of another dataset (``package_show?id=dataset``)."""
        path = f"/download/{dataset}/{name}"
        self.replies[path] = Reply(body)
        self.others.setdefault(dataset, []).append(
            {"name": name, "format": "CSV", "url": self.url + path, "last_modified": LAST_MODIFIED})
        return self.url + path

    def serve(self, target: str, body: bytes) -> None:
        """Serve ``body`` at a path with its query (a publisher's address moved to this server)."""
        self.replies[target] = Reply(body)

    def __enter__(self) -> FakeCkan:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - the name http.server calls
        ckan: FakeCkan = self.server.ckan
        ckan.requests.append((self.path, self.headers.get("User-Agent", "")))
        reply = ckan.answer(self.path)
        time.sleep(reply.delay)
        length = reply.declared_length if reply.declared_length is not None else len(reply.body)
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(length))
        self.end_headers()
        self.wfile.write(reply.body)
        if length > len(reply.body):
            self.wfile.flush()
            self.close_connection = True  # cut: the client sees the connection close early

    def log_message(self, format, *args) -> None:  # noqa: A002 - keep test output quiet
        pass


def closed_port_url() -> str:
    """The base URL of a loopback port nobody listens on (connection refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture
def ckan():
    """A running :class:`FakeCkan`, stopped after the test."""
    with FakeCkan() as server:
        yield server
