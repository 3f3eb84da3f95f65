"""Prose-only template edits: the executed notebook from the one executed before, no kernel.

A template's markdown cells are never executed: the kernel sees the code cells only (their
source, tags and order, the notebook's metadata) and the parameters. So each job has two
keys (:func:`cspbook.execute.plan.plan`): ``key`` covers everything its notebook depends on,
``code_key`` the same but the markdown cells (:func:`code_part`). When ``key`` misses and an
executed notebook of the same ``code_key`` is cached, only prose changed: the new notebook
is the template prepared as for a run (papermill's parameters cell written in) with each
code cell taken, outputs and all, from the executed one (:func:`merge`), then finalised and
checked as an executed notebook is. The result is byte for byte what executing the template
would write (``tests/test_prose.py``).

Any change to a code cell (source, tags or other metadata, id), to the order or number of
the code cells, to the notebook's metadata, or to any other input (parameters, data,
definitions, library) changes ``code_key``: the notebook is executed.
"""

from __future__ import annotations

import copy
import json


class NotReusable(ValueError):
    """Raised when an executed notebook's code cells do not line up with a template's."""


def code_part(template: bytes) -> bytes:
    """What executing ``template`` (its bytes) reads: everything but the markdown cells.

    A template that is not a notebook is all code (any change to it runs it, and the run
    names the problem).

    >>> md = {"cell_type": "markdown", "metadata": {}, "source": "Prose."}
    >>> code = {"cell_type": "code", "metadata": {"tags": ["x"]}, "source": "a = 1", "outputs": [], "execution_count": None}
    >>> nb = lambda *cells: json.dumps({"nbformat": 4, "nbformat_minor": 5, "metadata": {}, "cells": list(cells)}).encode()
    >>> code_part(nb(md, code)) == code_part(nb(code, dict(md, source="Other prose."), md))
    True
    >>> code_part(nb(md, code)) == code_part(nb(md, dict(code, metadata={})))
    False
    >>> code_part(b"not json")
    b'not json'
    """
    try:
        nb = json.loads(template)
        cells = [cell for cell in nb["cells"] if cell.get("cell_type") != "markdown"]
        kept = {"nbformat": nb.get("nbformat"), "nbformat_minor": nb.get("nbformat_minor"),
                "metadata": nb.get("metadata"), "cells": cells}
    except (ValueError, UnicodeDecodeError, TypeError, KeyError, AttributeError):
        return template
    return json.dumps(kept, sort_keys=True, ensure_ascii=False).encode()


def merge(prepared, executed):
    """The notebook ``prepared`` (a template with its parameters written in, as papermill
    prepares it to run) with every cell that is not markdown replaced by the executed
    notebook's cell at the same place among those cells (outputs, execution count and
    metadata), and the executed notebook's metadata (the kernel's ``language_info``, the
    parameters). Neither argument is changed. NotReusable when the two do not have the same
    cells that are not markdown, in the same order, with the same source and type.

    >>> from nbformat.v4 import new_notebook, new_code_cell, new_markdown_cell
    >>> template = new_notebook(cells=[new_markdown_cell("New prose."), new_code_cell("x = 1")])
    >>> ran = new_notebook(cells=[new_code_cell("x = 1", execution_count=1, outputs=[{"output_type": "stream", "name": "stdout", "text": "1"}]),
    ...                           new_markdown_cell("Old prose.")])
    >>> [(c.cell_type, c.source, c.get("execution_count")) for c in merge(template, ran).cells]
    [('markdown', 'New prose.', None), ('code', 'x = 1', 1)]
    >>> merge(template, new_notebook(cells=[new_code_cell("x = 2", execution_count=1)]))
    Traceback (most recent call last):
    ...
    cspbook.execute.prose.NotReusable: code cell 1 differs: 'x = 1' in the template, 'x = 2' executed
    """
    fresh = [i for i, cell in enumerate(prepared.cells) if cell.cell_type != "markdown"]
    done = [cell for cell in executed.cells if cell.cell_type != "markdown"]
    if len(fresh) != len(done):
        raise NotReusable(f"the template has {len(fresh)} cells that are not markdown, the executed notebook {len(done)}")
    out = copy.deepcopy(prepared)
    for number, (index, cell) in enumerate(zip(fresh, done), start=1):
        want = prepared.cells[index]
        if (want.cell_type, want.source) != (cell.cell_type, cell.source):
            raise NotReusable(f"{want.cell_type} cell {number} differs: {want.source!r} in the template, {cell.source!r} executed")
        out.cells[index] = copy.deepcopy(cell)
    out.metadata = copy.deepcopy(executed.metadata)
    return out
