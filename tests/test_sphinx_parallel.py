"""Sphinx reading and writing the pages in parallel (the London edition's 385 pages) gives the
bytes of the serial build: sphinx-multitoc-numbering, loaded by sphinx-external-toc, is declared
safe for parallel reading by the book's extension (cspbook.publish.sphinx_ext)."""

from __future__ import annotations

import pytest
from conftest import snapshot, use_home
from lastgood import last_good  # noqa: F401 - a fixture

from cspbook.publish import sphinx_run


@pytest.mark.slow
def test_a_parallel_sphinx_build_gives_the_serial_bytes(last_good, tmp_path, monkeypatch):
    from sphinx.builders import Builder

    use_home(monkeypatch, last_good.home)
    read_in_parallel = []
    original = Builder._read_parallel

    def counted(self, docnames, nproc):
        read_in_parallel.append((len(docnames), nproc))
        return original(self, docnames, nproc)

    monkeypatch.setattr(Builder, "_read_parallel", counted)
    serial = sphinx_run.html(last_good.home, tmp_path / "serial", parallel=1)
    assert read_in_parallel == []
    parallel = sphinx_run.html(last_good.home, tmp_path / "parallel", parallel=2)
    assert read_in_parallel == [(12, 2)]  # every page of the book, read by two processes, no warning
    assert snapshot(parallel) == snapshot(serial)
