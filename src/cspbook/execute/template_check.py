"""Templates are checked before they run: a fence (```` ``` ```` or ``:::``, e.g. a
```` ```{warning} ```` directive) opened in a markdown cell and never closed would swallow the
rest of the cell into its box and still build without a warning, so it stops the build naming
the template, the cell and the line."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cspbook.errors import BuildError

FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,}|:{3,})(.*)$")


def unclosed(text: str) -> tuple[int, str] | None:
    """(line number from 1, the opening line) of the first fence of ``text`` never closed;
    None when every fence is closed.

    >>> unclosed("```{warning}\\nCareful.\\n```\\n"), unclosed("text\\n```{warning}\\nCareful.\\n[CSV](x.csv)")
    (None, (2, '```{warning}'))
    >>> unclosed("````{note}\\n```python\\nx\\n```\\n````"), unclosed(":::{tip}\\nx\\n:::")
    (None, None)
    """
    stack: list[tuple[str, int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = FENCE.match(line)
        if not match:
            continue
        marker, rest = match.groups()
        top = stack[-1] if stack else None
        if top and marker[0] == top[0][0] and len(marker) >= len(top[0]) and not rest.strip():
            stack.pop()
        elif top and top[0][0] == "`" and not top[2].strip().startswith("{"):
            continue  # inside a code block: fences are its text
        else:
            stack.append((marker, number, rest))
    if not stack:
        return None
    marker, number, rest = stack[0]
    return number, marker + rest


def check(template: Path, source: Path | None = None) -> None:
    """BuildError naming ``source`` (the template as the analyst knows it), the cell and the
    line of the first fence that a markdown cell of ``template`` opens and never closes."""
    try:
        cells = json.loads(Path(template).read_bytes()).get("cells", [])
    except (OSError, ValueError, AttributeError):
        return  # not a notebook: the run reports it, naming the template
    for index, cell in enumerate(cells, start=1):
        if not isinstance(cell, dict) or cell.get("cell_type") != "markdown":
            continue
        text = "".join(cell.get("source", "")) if isinstance(cell.get("source"), list) else str(cell.get("source", ""))
        found = unclosed(text)
        if found:
            line, opening = found
            raise BuildError(
                f"{source or template}: markdown cell {index}, line {line}: the fence `{opening.strip()}` is never closed, "
                "so the rest of the cell would be swallowed into it; close it with a line holding only "
                f"`{re.match(r'[`~:]+', opening.strip()).group(0)}`"
            )
