"""cspbook.publish: the book's stamp and the build lock held by `cspbook pdf` (fast tests,
no book built)."""

from __future__ import annotations

import contextlib

import pytest

from cspbook.publish import book, build, lock, pdf


class Stop(Exception):
    """Raised by a stand-in to end `cspbook pdf` once what the test needs has happened."""


def test_the_stamp_changes_when_a_static_file_is_renamed(tmp_path, monkeypatch):
    """The stamp covers the static files' names, not only their bytes: a stylesheet renamed
    (and so no longer linked) gives another stamp."""
    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    static = tmp_path / "book" / "_static"
    static.mkdir(parents=True)
    (static / "cspbook.css").write_text("body { color: black }")
    before = book.stamp([], [])
    (static / "cspbook.css").rename(static / "old.css")
    assert book.stamp([], []) != before


def test_pdf_holds_the_build_lock_from_the_build_to_the_last_pdf(project, monkeypatch):
    """Another build cannot slip in between the book's build and its printing (it could make
    the PDF show another borough): `cspbook pdf` takes the lock once, and builds under it."""
    held = []
    real = lock.held

    @contextlib.contextmanager
    def counting(path, notice=None):
        held.append(path)
        with real(path, notice=notice):
            yield

    monkeypatch.setattr(lock, "held", counting)
    monkeypatch.setattr(pdf, "chromium", lambda: "chromium")
    seen = {}

    def fake_build(*args, locked=False, **kwargs):
        seen["locked"] = locked
        seen["holding"] = len(held)
        with contextlib.nullcontext() if locked else lock.held(project / ".cspbook" / "build.lock"):
            pass

    def stop(log):
        seen["printing"] = len(held)
        raise Stop

    monkeypatch.setattr(build, "build", fake_build)
    monkeypatch.setattr(pdf, "singlehtml", stop)
    with pytest.raises(Stop):
        pdf.pdf("Barking and Dagenham", "2011-12", log=lambda msg: None)
    assert seen == {"locked": True, "holding": 1, "printing": 1}
    assert len(held) == 1
