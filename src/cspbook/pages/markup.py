"""The HTML pieces the pages share: glue that refuses a key twice and glues text as text,
accessible tables, charts with their data one click away, the library code behind a figure,
and the reader's indicator table.

Everything that reaches the page as HTML is escaped here; text glued into prose is glued
as plain text, so a name from the data can never become markup."""

from __future__ import annotations

import base64
import html
import inspect
import os

import numpy as np
import pandas as pd

from cspbook import words
from cspbook.definitions import targets
from cspbook.pages import narrative

pass
from cspbook.errors import CspbookError


class Text(str):
    """A string that glues as itself: its plain-text form has no quotes around it."""

    def __repr__(self) -> str:
        return str(self)

    def _repr_html_(self) -> str:
        return html.escape(str(self))


class Glue:
    """Glue values into the notebook, refusing a key glued twice on the same page."""

    def __init__(self):
        self.keys: set[str] = set()

    def __call__(self, key: str, value) -> None:
        from myst_nb import glue

        if key in self.keys:
            raise CspbookError(f"glue key '{key}' used twice on this page; every glued value needs its own key")
        self.keys.add(key)
        if isinstance(value, str):
            value = Text(value)
        glue(key, value, display=False)

    def all(self, values: dict) -> None:
        for key, value in values.items():
            self(key, value)


class HTML:
    """Raw HTML output for the page (already escaped by the caller)."""

    def __init__(self, markup: str):
        self.markup = markup

    def _repr_html_(self) -> str:
        return self.markup

    def __repr__(self) -> str:
        """The notebook's plain-text form of the output (the page shows the HTML): the same
        from run to run, where the default repr holds a memory address.

        >>> HTML("<p>Hi</p>")
        <HTML output: 9 characters>
        """
        return f"<HTML output: {len(self.markup)} characters>"


def esc(value) -> str:
    return html.escape(str(value), quote=True)


def _fmt_value(value, unit) -> str:
    return narrative.number(value, unit)


def _fmt_change(row) -> str:
    if pd.isna(row["value"]) and pd.isna(row["change_pct"]) and pd.isna(row.get("change")):
        return "not available"
    if not row["comparable"]:
        brk = row.get("break")
        return f"not comparable: {brk}" if isinstance(brk, str) and brk else "not comparable"
    if row["unit"] == "percent":
        if pd.isna(row["change"]):
            return "not available"
        return words.plural(row["change"], "point", shown=f"{row['change']:+g}")
    mark = " (interpret with caution)" if isinstance(row.get("caution"), str) and row["caution"] else ""
    return narrative.signed_pct(row["change_pct"]) + mark


def _fmt_london(row) -> str:
    """London's change: in % for a count, in points for a share (when the source gives London's)."""
    if row["source"] not in ("mps", "open") or not row["comparable"]:
        return "-"
    if row["unit"] == "percent":
        now, before = row.get("london_value"), row.get("london_previous")
        if pd.isna(now) or pd.isna(before):
            return "not available"
        return words.plural(round(now - before, 1), "point", shown=f"{round(now - before, 1):+g}")
    return narrative.signed_pct(row["london_change_pct"])


def _fmt_previous(row) -> str:
    """Last year's figure; left out when the two years are not comparable (a break between
    them), so that no one reads a change into two counts of different things."""
    if not row["comparable"] and not pd.isna(row["previous_value"]) and row["source"] == "mps":
        return "not shown (counted differently)"
    return _fmt_value(row["previous_value"], row["unit"])


def _fmt_sig(row) -> str:
    if row["source"] == "partner":
        return "not tested"
    if not row["comparable"] or pd.isna(row["ci_low_pct"]):
        return "not tested"
    return "yes" if row["significant"] else "no"


def _own_period(row) -> str:
    """' (rate per 100,000 aged 10-17; 2024, calendar year)': what a rate is per, and an open
    figure's own period when it is not the report's year.

    >>> _own_period(dict(source="open", unit="rate per 100,000 aged 10-17", period="2024, calendar year", year="2024-25"))
    ' (rate per 100,000 aged 10-17; 2024, calendar year)'
    >>> _own_period(dict(source="open", unit="offences", period="2024-25, financial year (April to March)", year="2024-25"))
    ''
    """
    unit = row.get("unit")
    said = [unit] if isinstance(unit, str) and unit.startswith("rate per ") else []
    if row["source"] == "open" and own_period(row):
        said.append(own_period(row))
    return f" ({'; '.join(said)})" if said else ""


def own_period(row) -> str:
    """A figure's own period when it is not the report's financial year, else ''.

    >>> own_period(dict(period="2024, calendar year", year="2024-25")), own_period(dict(period="2024-25 to date", year="2024-25"))
    ('2024, calendar year', '')
    """
    period = str(row.get("period") or "")
    return "" if not period or period.startswith(str(row.get("year"))) else period


def indicator_rows(frame: pd.DataFrame, assessed: pd.DataFrame | None = None) -> pd.DataFrame:
    """The reader's table: indicator, previous, current, change, significant, London change,
    and the target and its status when ``assessed`` (:func:`cspbook.definitions.targets.assess`) is given."""
    rows = pd.DataFrame({
        "Indicator": [r["label"] + (" (partner-supplied)" if r["source"] == "partner" else "") + _own_period(r) for _, r in frame.iterrows()],
        "Previous year": [_fmt_previous(r) for _, r in frame.iterrows()],
        "This year": [_fmt_value(r["value"], r["unit"]) for _, r in frame.iterrows()],
        "Change": [_fmt_change(r) for _, r in frame.iterrows()],
        "Statistically significant": [_fmt_sig(r) for _, r in frame.iterrows()],
        "London change": [_fmt_london(r) for _, r in frame.iterrows()],
    })
    if assessed is not None:
        rows["Target"] = [targets.cell(a) for a in assessed.to_dict("records")]
    return rows


def target_legend() -> HTML:
    """What the target marks mean, in words and symbols (never colour alone)."""
    items = "".join(f"<li><strong>{esc(mark)}</strong>: {esc(meaning)}</li>" for mark, meaning in targets.LEGEND)
    return HTML(f'<div class="cspbook-target-legend"><p>Targets set at the beginning of the year:</p><ul>{items}</ul></div>')


def _cell(value):
    """A table cell's value as written: a count with thousands separators ("1,414").

    >>> _cell(1414), _cell(pd.Series([2225]).iloc[0]), _cell(100.0), _cell("2008-09"), _cell(True)
    ('1,414', '2,225', 100.0, '2008-09', True)
    """
    if isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
        return words.number(int(value))
    return value


def html_table(frame: pd.DataFrame, caption: str = "", classes: str = "cspbook-table") -> HTML:
    """An escaped, accessible HTML table (caption, column headers with scope)."""
    head = "".join(f'<th scope="col">{esc(c)}</th>' for c in frame.columns)
    body = "".join(
        "<tr>" + "".join(
            (f'<th scope="row">{esc(_cell(v))}</th>' if i == 0 else f"<td>{esc(_cell(v))}</td>") for i, v in enumerate(row)
        ) + "</tr>"
        for row in frame.itertuples(index=False)
    )
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    # A wide table scrolls sideways inside its wrapper (on a phone, most do); a keyboard user
    # must be able to focus the scrolling region, and a screen reader announces it by name.
    region = f'role="region" aria-label="{esc(caption or "Table")}" tabindex="0"'
    return HTML(f'<div class="table-wrapper" {region}><table class="{classes}">{cap}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>')


def figure(chart, fig_id: str) -> HTML:
    """A chart as an image with alt text, a caption and its data table one click away."""
    data = base64.b64encode(chart.image.encode("utf-8")).decode("ascii")
    table_html = html_table(chart.table, caption=f"Data for: {chart.caption}").markup
    return HTML(
        f'<figure class="cspbook-chart" id="{esc(fig_id)}">'
        f'<img src="data:image/svg+xml;base64,{data}" alt="{esc(chart.alt)}" style="max-width:100%;height:auto">'
        f"<figcaption>{esc(chart.caption)}</figcaption></figure>"
        f'<details class="cspbook-chart-data"><summary>Show the data in this chart as a table</summary>{table_html}</details>'
    )


_HIGHLIGHTED: dict[str, str] = {}  # source text -> its highlighted HTML (see :func:`highlighted`)


def highlighted(code: str) -> str:
    """``code`` (Python) as pygments' HTML, without the ``<pre>``. A pure function of the text,
    remembered for the life of the process (not cleared between a warm kernel's notebooks:
    it holds nothing a notebook computed): pygments takes 10-20 ms a function, and every
    chapter shows the same seven."""
    found = _HIGHLIGHTED.get(code)
    if found is None:
        from pygments import highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import PythonLexer

        if len(_HIGHLIGHTED) >= 1024:
            _HIGHLIGHTED.clear()
        found = _HIGHLIGHTED[code] = highlight(code, PythonLexer(), HtmlFormatter(nowrap=True))
    return found


def source(func) -> HTML:
    """The source code of a library function, as a highlighted block with its file."""
    code = source_text(func)
    module = inspect.getmodule(func).__name__
    block = highlighted(code)
    return HTML(
        f'<p class="cspbook-source">From <code>{esc(module)}.{esc(func.__name__)}</code> '
        f"(<code>src/{esc(module.replace('.', '/'))}.py</code>):</p>"
        f'<div class="highlight-python notranslate"><div class="highlight"><pre>{block}</pre></div></div>'
    )


def source_text(func) -> str:
    """``inspect.getsource(func)``, kept while the function's file is the same (size and
    modification time): finding a function's lines tokenises its file, 2-3 ms each, for every
    function shown on every page.

    >>> source_text(source_text).splitlines()[0]
    'def source_text(func) -> str:'
    """
    code = getattr(func, "__code__", None)
    try:
        info = os.stat(code.co_filename)
    except (AttributeError, OSError):
        return inspect.getsource(func)
    key = (code.co_filename, code.co_firstlineno, func.__qualname__, info.st_size, info.st_mtime_ns)
    found = _SOURCES.get(key)
    if found is None:
        if len(_SOURCES) >= 1024:
            _SOURCES.clear()
        found = _SOURCES[key] = inspect.getsource(func)
    return found


_SOURCES: dict = {}


def show(*parts) -> None:
    """Display page parts (HTML objects) as cell outputs."""
    from IPython.display import display

    for part in parts:
        display(part)


def source_details(*funcs) -> HTML:
    """The source of library functions, folded away under a 'Show the code' summary."""
    blocks = "".join(source(f).markup for f in funcs)
    return HTML(f'<details class="cspbook-code"><summary>Show the library code that computes these figures</summary>{blocks}</details>')
