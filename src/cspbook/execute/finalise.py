"""An executed notebook made ready for the book, the same bytes from the same inputs: the
parameter cells hidden, the title from the report configuration, stderr and run-to-run
metadata dropped, papermill's cell given a fixed id, a stream sent in pieces made one."""

from __future__ import annotations

from pathlib import Path

INJECTED_ID = "injected-parameters"  # the id of papermill's parameters cell (papermill draws a random one)


def finalise(path: Path, job) -> None:
    """Make the executed notebook ready for the book: remove the parameter cells from the
    page, set the title from the report configuration, drop stderr output and metadata
    that changes from run to run (and give papermill's cell a fixed id, and merge the pieces
    of a stream the kernel sent in several). Applied to a notebook it finalised before, it
    changes nothing."""
    import nbformat  # imported here: the no-change build path never reads a notebook

    nb = nbformat.read(path, as_version=4)
    taken = {cell.get("id") for cell in nb.cells}
    for cell in nb.cells:
        tags = cell.metadata.get("tags", [])
        if "injected-parameters" in tags or "parameters" in tags:
            cell.metadata["tags"] = sorted(set(tags) | {"remove-cell"})
        if "injected-parameters" in tags and "id" in cell and INJECTED_ID not in taken:
            cell.id = INJECTED_ID  # the same bytes from the same inputs, run after run
        if cell.cell_type == "code":
            cell.outputs = merge_streams([o for o in cell.outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")])
        cell.metadata.pop("papermill", None)
        cell.metadata.pop("execution", None)
    first = nb.cells[0]
    if first.cell_type == "markdown" and first.source.lstrip().startswith("# "):
        first.source = "# " + escape_markdown(job.title)
    if "papermill" in nb.metadata:  # the template the page comes from, wherever the build read it
        nb.metadata["papermill"]["input_path"] = str(job.source)
    nb.metadata.get("papermill", {}).pop("start_time", None)
    nb.metadata.get("papermill", {}).pop("end_time", None)
    nb.metadata.get("papermill", {}).pop("duration", None)
    nbformat.write(nb, path)


def merge_streams(outputs: list) -> list:
    """``outputs`` with each run of consecutive stream outputs of the same stream made one: the
    kernel sends what a cell prints on a timer, so a busy machine splits the same text into
    more pieces, and the notebook would differ from run to run.

    >>> merge_streams([{"output_type": "stream", "name": "stdout", "text": "the last"},
    ...                {"output_type": "stream", "name": "stdout", "text": " cell\\n"}, {"output_type": "display_data"}])
    [{'output_type': 'stream', 'name': 'stdout', 'text': 'the last cell\\n'}, {'output_type': 'display_data'}]
    """
    out: list = []
    for output in outputs:
        last = out[-1] if out else None
        if (last is not None and output.get("output_type") == "stream" == last.get("output_type")
                and output.get("name") == last.get("name")):
            last["text"] = last["text"] + output["text"]
        else:
            out.append(output)
    return out


def escape_markdown(text: str) -> str:
    """Escape MyST/Markdown syntax in a one-line title.

    >>> escape_markdown("Crime <script> & {{ x }} *y*")
    'Crime \\\\<script\\\\> & \\\\{\\\\{ x \\\\}\\\\} \\\\*y\\\\*'
    """
    out = []
    for ch in " ".join(str(text).split()):
        out.append("\\" + ch if ch in "\\`*_{}[]()<>#+-.!|$~:^=\"'" and ch not in " " else ch)
    return "".join(out).replace("\\-", "-").replace("\\.", ".").replace("\\'", "'").replace("\\:", ":")


def template_cell(template: Path, source: str, fallback: int) -> int:
    """The number (from 1) of the template's cell whose source is ``source``: papermill
    counts the cells of the executed notebook, which has the injected parameters cell too."""
    try:
        import nbformat

        cells = nbformat.read(template, as_version=4).cells
    except Exception:  # noqa: BLE001 - the message is still useful with papermill's count
        return fallback
    found = [i for i, cell in enumerate(cells) if cell.source == source]
    return found[0] + 1 if len(found) == 1 else fallback
