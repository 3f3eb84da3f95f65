"""Verifying what the build reuses, by content, before it is reused.

A cache entry is only ever a shortcut: when its bytes are not what cspbook wrote (cut short
by a full disk, edited, damaged), it is discarded and computed again, with one log line
naming it, so a wrong or broken entry is never published.

- Executed notebooks (``.cspbook/cache/<key>.ipynb``): the sha256 recorded beside each
  when it was written (``<key>.ipynb.sha256``) must match its bytes, and the notebook must
  be sound (:func:`notebook_problem`): nbformat 4, every cell of its template present and
  in order, every code cell executed, no error output, every ``glue`` name the template's
  text refers to present.
- Sealed files (the dataset pickle): a header with the sha256 of the payload
  (:func:`write_sealed`, :func:`read_sealed`).
- Raw data files: their sha256 against the manifest, whenever they are used
  (:func:`raw_mismatches`, :func:`check_raw`).
- A folder of HTML: every file and its sha256 (:func:`listing`), recorded in the build
  stamp and compared before the book is declared up to date.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from pathlib import Path

from cspbook import words
from cspbook.errors import DataFileError

CHUNK = 1 << 16
OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error"}
# {glue}`name`, {glue:text}`name:...`, and the directives ```{glue:figure} name
GLUE_ROLE = re.compile(r"\{glue(?::[a-z]+)?\}`([^`:]+)")
GLUE_DIRECTIVE = re.compile(r"^[`:]{3,}\{glue(?::[a-z]+)?\}[ \t]+(\S+)", re.MULTILINE)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            h.update(chunk)
    return h.hexdigest()


# --- executed notebooks ------------------------------------------------------------------------


def checksum_path(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def record(path: Path) -> None:
    """Record the sha256 of a verified cache entry beside it (atomically)."""
    target = checksum_path(path)
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    tmp.write_text(sha256_file(path) + "\n", encoding="ascii")
    os.replace(tmp, target)


def discard(path: Path) -> None:
    """Remove a cache entry and its recorded checksum."""
    path.unlink(missing_ok=True)
    checksum_path(path).unlink(missing_ok=True)


def entry_problem(path: Path, template: Path) -> str | None:
    """None when there is no entry at ``path``; '' when it is sound; else what is wrong."""
    data, problem = _recorded(path)
    return problem if data is None else notebook_problem(data, template)


def recorded_problem(path: Path) -> str | None:
    """None when there is no entry at ``path``; '' when its bytes are those recorded when it
    was written; else what is wrong (its template aside: see :func:`entry_problem`)."""
    return _recorded(path)[1]


def _recorded(path: Path) -> tuple[bytes | None, str | None]:
    """(the entry's bytes, '') when they match its checksum record; (None, what is wrong),
    or (None, None) when there is no entry."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, None
    except OSError as exc:
        return None, f"it cannot be read ({exc.strerror or exc})"
    try:
        recorded = checksum_path(path).read_text(encoding="ascii").strip()
    except (OSError, UnicodeDecodeError):
        return None, f"its checksum record {checksum_path(path).name} is missing or unreadable"
    actual = hashlib.sha256(data).hexdigest()
    if actual != recorded:
        return None, f"its sha256 is {actual[:12]}..., not the {recorded[:12]}... recorded when it was written"
    return data, ""


def notebook_problem(data: bytes, template: Path) -> str:
    """What is wrong with an executed notebook (its bytes) of ``template``; '' when sound."""
    try:
        nb = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        return f"it is not valid JSON ({exc})"
    problem = _shape_problem(nb)
    if problem:
        return f"it is not a valid nbformat 4 notebook ({problem})"
    try:
        expected = json.loads(template.read_bytes())["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return f"its template {template} cannot be read ({exc})"
    cells = [c for c in nb["cells"] if "injected-parameters" not in c["metadata"].get("tags", [])]
    if len(cells) != len(expected):
        return f"it has {len(cells)} of the template's {len(expected)} cells"
    for number, (cell, want) in enumerate(zip(cells, expected), start=1):
        if cell["cell_type"] != want.get("cell_type"):
            return f"cell {number} is {cell['cell_type']}, the template's is {want.get('cell_type')}"
        title = number == 1 and cell["cell_type"] == "markdown" and _text(want.get("source")).lstrip().startswith("# ")
        if not title and _text(cell["source"]) != _text(want.get("source")):
            return f"cell {number} differs from the template's"
    for number, cell in enumerate(nb["cells"], start=1):
        if cell["cell_type"] != "code":
            continue
        if not isinstance(cell.get("execution_count"), int):
            return f"code cell {number} was not executed"
        errors = [o for o in cell["outputs"] if o["output_type"] == "error"]
        if errors:
            return f"code cell {number} has an error output ({errors[0].get('ename')})"
    glued = {o.get("metadata", {}).get("scrapbook", {}).get("name") for c in nb["cells"] if c["cell_type"] == "code"
             for o in c["outputs"] if isinstance(o.get("metadata"), dict)}
    wanted = glue_names(expected)
    missing = sorted(wanted - glued)
    if missing:
        return f"the {words.form(len(missing), 'glued value')} {missing} that its text shows {words.form(len(missing), 'is', 'are')} missing"
    return ""


def glue_names(cells: list) -> set[str]:
    """The glue names the markdown cells of a notebook refer to.

    >>> sorted(glue_names([{"cell_type": "markdown", "source": ["In {glue:text}`year` we saw {glue}`n`.\\n",
    ...                     "```{glue:figure} chart\\n```"]}]))
    ['chart', 'n', 'year']
    """
    text = "\n".join(_text(c.get("source")) for c in cells if c.get("cell_type") == "markdown")
    return {*GLUE_ROLE.findall(text), *GLUE_DIRECTIVE.findall(text)}


def _text(source) -> str:
    return "".join(source) if isinstance(source, list) else str(source or "")


def _shape_problem(nb) -> str:
    """The structure nbformat 4 requires (what matters here), checked without nbformat's
    import and schema validation, which would cost the no-change build most of its time.

    >>> _shape_problem({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": [{"cell_type": "code"}]})
    'cell 1 lacks source or metadata'
    """
    if not isinstance(nb, dict) or nb.get("nbformat") != 4:
        return "no 'nbformat': 4"
    if not isinstance(nb.get("metadata"), dict) or not isinstance(nb.get("cells"), list):
        return "no metadata or cells"
    for number, cell in enumerate(nb["cells"], start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            return f"cell {number} has no valid cell_type"
        if not isinstance(cell.get("source"), (str, list)) or not isinstance(cell.get("metadata"), dict):
            return f"cell {number} lacks source or metadata"
        if cell["cell_type"] == "code":
            outputs = cell.get("outputs")
            if not isinstance(outputs, list) or "execution_count" not in cell:
                return f"code cell {number} lacks outputs or execution_count"
            if any(not isinstance(o, dict) or o.get("output_type") not in OUTPUT_TYPES for o in outputs):
                return f"code cell {number} has an output of no valid output_type"
    return ""


# --- sealed files -------------------------------------------------------------------------------

SEAL = b"cspbook-sealed-sha256:"


def write_sealed(path: Path, payload: bytes) -> None:
    """Write ``payload`` behind a header with its sha256, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(SEAL + hashlib.sha256(payload).hexdigest().encode() + b"\n")
        fh.write(payload)
    os.replace(tmp, path)


def read_sealed(path: Path) -> tuple[memoryview | None, str]:
    """(payload, '') when the file is whole (a read-only view of its bytes: ``pickle.loads``
    takes it as it is); (None, what is wrong) otherwise; (None, '')
    when there is no file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None, ""
    except OSError as exc:
        return None, f"it cannot be read ({exc.strerror or exc})"
    end = data.find(b"\n")
    end = len(data) if end < 0 else end
    head = data[:end]
    if not head.startswith(SEAL):
        return None, "it has no checksum header (written by an older cspbook, or damaged)"
    payload = memoryview(data)[end + 1:]  # not a copy: these files are tens of MB, read by every page
    if hashlib.sha256(payload).hexdigest().encode() != head[len(SEAL):]:
        return None, "its sha256 does not match its header (cut short or damaged)"
    return payload, ""


def read_kept(path: Path) -> memoryview | None:
    """A result kept between processes (a sealed file in ``.cspbook``, named by everything it
    was made from): its payload when whole (None when missing or damaged); a read marks it as
    used (see :func:`write_kept`)."""
    payload, _problem = read_sealed(path)
    if payload is not None:
        try:
            os.utime(path)
        except OSError:
            pass
    return payload


def write_kept(path: Path, payload: bytes, keep: int) -> None:
    """Keep a result (sealed) and leave the ``keep`` newest used files of its folder; best
    effort: a read-only work folder costs the next process the work, not the build."""
    try:
        write_sealed(path, payload)
        found = sorted(path.parent.glob(f"*{path.suffix}"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for old in found[keep:]:
            old.unlink(missing_ok=True)
    except OSError:
        pass


# --- raw data files ------------------------------------------------------------------------------

_VERIFIED: dict = {}


def actual_sha256(path: Path) -> str | None:
    """The sha256 of the file's bytes now (None when it is missing); remembered in this
    process for an unchanged stat (device, inode, size, mtime), so a build pays once, and a
    file reached by another hard link (a build's snapshot of an unchanged data file) is not
    read again."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return None
    key = _stat_key(st)
    if key not in _VERIFIED:
        if len(_VERIFIED) > 4096:  # a snapshot's files, the raw files, twice over
            _VERIFIED.clear()
        _VERIFIED[key] = sha256_file(path)
    return _VERIFIED[key]


def remember_sha256(path: Path, sha256: str) -> None:
    """Tell :func:`actual_sha256` the sha256 of a file this process has just written (its
    bytes known), so that it is not read back to be hashed while it stays as written."""
    _VERIFIED[_stat_key(path.stat())] = sha256


def file_key(path: Path) -> tuple | None:
    """:func:`_stat_key` of the file now (None when it is missing): equal while nobody writes it."""
    try:
        return _stat_key(path.stat())
    except OSError:
        return None


def _stat_key(st) -> tuple:
    """What identifies a file's bytes while nobody writes to it: an edit changes its size or
    modification time, a replacement its inode."""
    return (st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def raw_mismatches(manifest: dict, cache: Path) -> list[tuple[Path, str, str | None]]:
    """(file, sha256 in the manifest, sha256 of the file now or None if missing) for every
    manifest file whose bytes are not the ones recorded."""
    out = []
    for entry in manifest.get("files", []):
        path = Path(cache) / entry["name"]
        actual = actual_sha256(path)
        if actual != entry["sha256"]:
            out.append((path, entry["sha256"], actual))
    return out


def check_raw(manifest: dict, cache: Path, manifest_path: Path, why: str = "") -> None:
    """DataFileError (exit 2) naming the first raw file that is not what the manifest
    records, both sha256 and the fix; nothing when every file matches."""
    bad = raw_mismatches(manifest, cache)
    if not bad:
        return
    path, expected, actual = bad[0]
    more = f" ({words.plural(len(bad) - 1, 'other file')} too)" if len(bad) > 1 else ""
    if actual is None:
        problem = f"the file is missing, but {manifest_path} lists it (sha256 {expected})"
    else:
        problem = (f"its sha256 is {actual}, but {manifest_path} records sha256 {expected}: the file is not the one "
                   "fetched with that manifest (changed since, or a fetch was cut short)")
    raise DataFileError(
        path,
        problem + more + (f"; {why}" if why else ""),
        fix="run `cspbook fetch` (with the network, or --mirror DIR) to fetch it again, or put back the file as fetched; "
            "the figures are not computed from a file that differs from its manifest",
    )


# --- a folder of HTML ----------------------------------------------------------------------------


def listing(folder: Path, skip: tuple[str, ...] = ()) -> dict[str, str]:
    """Every file under ``folder`` (relative POSIX path) with its sha256, but those named
    in ``skip`` and those below a folder named there (``"html/"``)."""
    folder = Path(folder)
    found = {}
    for p in sorted(folder.rglob("*")):
        name = p.relative_to(folder).as_posix()
        if p.is_file() and name not in skip and not name.startswith(tuple(s for s in skip if s.endswith("/"))):
            found[name] = sha256_file(p)
    return found


def listing_problem(folder: Path, recorded: dict, skip: tuple[str, ...] = ()) -> str:
    """'' when ``folder`` holds exactly the recorded files with the recorded bytes; else
    the first difference."""
    if not isinstance(recorded, dict):
        return "its build stamp lists no files"
    now = listing(folder, skip)
    for name in sorted(set(recorded) | set(now)):
        if name not in now:
            return f"{name} is missing"
        if name not in recorded:
            return f"{name} was not written by the build"
        if now[name] != recorded[name]:
            return f"{name} has changed since the build"
    return ""
