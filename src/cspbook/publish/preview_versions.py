"""Addresses that name their version, for the pages the preview serves.

A reloaded page asks again for each file its head names without a version: the theme loads
Sphinx's ``searchtools.js``, ``language_data.js`` and ``searchindex.js`` synchronously in every
page's head, so the page's parsing waits for three ``304 Not Modified`` answers on each reload;
``basic.css`` and the favicon too. The preview serves each build from a folder that is never
written again (:func:`cspbook.publish.preview_serve.copy_site`), so the checksum of such a file
in that folder is its version: :func:`pin` adds it to the address (``?v=``, as Sphinx does for
the files it names), and the server lets the browser keep a file asked for by version without
asking again. A file that changes (the search index after the rest of the book is rebuilt)
gets a new address. Only what is served changes, never the book's files.
"""

from __future__ import annotations

import hashlib
import posixpath
import re
from pathlib import Path

# a script's src or a link's href in the page's head: relative, with no query or fragment
_REFERENCE = re.compile(rb'(<(?:script|link)\b[^>]*?\s(?:src|href)=")([^"?#:]+)(")')


def pin(html: bytes, page: str, site: Path, digests: dict[str, str]) -> bytes:
    """``html`` (the page ``page``, relative to ``site``) with ``?v=<checksum>`` added to each
    address in its head that names a file of ``site`` without a version (pages excepted: an
    address of a page is a link to follow, not a file to keep). ``digests``: the checksums
    already made for this ``site`` (filled as it goes; a site's files never change).

    >>> import tempfile; site = Path(tempfile.mkdtemp()); (site / "_static").mkdir()
    >>> _ = (site / "_static" / "a.js").write_bytes(b"x")
    >>> pin(b'<head><script src="../_static/a.js"></script><link rel="next" href="b.html"/>'
    ...     b'<script src="../_static/gone.js"></script></head><body><script src="../_static/a.js">',
    ...     "book/p.html", site, {})
    b'<head><script src="../_static/a.js?v=2d711642b726"></script><link rel="next" href="b.html"/><script src="../_static/gone.js"></script></head><body><script src="../_static/a.js">'
    """
    end = html.find(b"</head>")
    if end < 0:
        return html
    folder = posixpath.dirname(page)

    def versioned(match: re.Match) -> bytes:
        address = match.group(2).decode("utf-8", "replace")
        if address.endswith((".html", ".htm")) or address.startswith(("/", "//")):
            return match.group(0)
        digest = _digest(posixpath.normpath(posixpath.join(folder, address)), site, digests)
        return match.group(0) if not digest else match.group(1) + match.group(2) + b"?v=" + digest.encode() + match.group(3)

    return _REFERENCE.sub(versioned, html[:end]) + html[end:]


def _digest(rel: str, site: Path, digests: dict[str, str]) -> str:
    """The checksum naming ``rel`` in ``site`` ('' when it is outside the site or no file)."""
    if rel not in digests:
        path = site / rel
        inside = not rel.startswith("..") and not posixpath.isabs(rel)
        digests[rel] = hashlib.sha256(path.read_bytes()).hexdigest()[:12] if inside and path.is_file() else ""
    return digests[rel]
