""""Among London's boroughs": for each headline police measure, the map of the 32 boroughs and
their table side by side (count, rate per 1,000 where the data have rates, change, ranks), the
report's borough highlighted in words as well as in type, sortable in the browser by a small
local script (``book/_static/cspbook-sort.js``) and downloadable as ``london.csv``."""

from __future__ import annotations

import pandas as pd

from cspbook import config, words
from cspbook.definitions import periods
from cspbook.pages import maps, narrative, open_pages
from cspbook.pages.markup import HTML, esc, figure

THIS = " (this report)"


def measures(frame: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(frame["indicator"]))


def has_rates(rows: pd.DataFrame) -> bool:
    return bool(rows["rate_per_1000"].notna().any())


def sentence(rows: pd.DataFrame, borough: str, year: str) -> str:
    """Where the borough stands among the boroughs for one measure, in words: its count and rate
    with their ranks, each with the 95% interval of the rank (changes are not ranked)."""
    row = rows[rows["borough"] == borough]
    if row.empty:
        return f"{borough} has no figure for {year}."
    r = row.iloc[0]
    n = int(rows["value"].notna().sum())
    text = (f"In {year}, {borough} recorded {narrative.number(r['value'])} offences, "
            f"{ranked(r, 'count_rank', f'count of {n} boroughs')}")
    if pd.notna(r["rate_per_1000"]):
        text += f"; {r['rate_per_1000']:.1f} per 1,000 residents, {ranked(r, 'rate_rank', 'rate')}"
    return text + "."


def ranked(row, prefix: str, what: str) -> str:
    """'the 22nd highest count of 32 boroughs (95% interval of the rank: 20th to 24th)'.

    >>> ranked(dict(count_rank=22, count_rank_low=20, count_rank_high=24), "count_rank", "count of 32 boroughs")
    'the 22nd highest count of 32 boroughs (95% interval of the rank: 20th to 24th)'
    """
    interval = open_pages.rank_interval(row[f"{prefix}_low"], row[f"{prefix}_high"])
    return f"the {narrative.ordinal(int(row[prefix]))} highest {what}" + (f" ({interval})" if interval else "")


def london_sentence(rows: pd.DataFrame, year: str, against: str = "the year before") -> str:
    """London's total and change for one measure (the sum of the 32 boroughs); ``against``: what
    the change is on (a year to date: the same months of the year before)."""
    now, before = rows["value"].sum(), rows["previous_value"].sum(min_count=1)
    text = f"In {year} London's {len(rows)} boroughs recorded {narrative.number(now)} offences"
    if pd.notna(before) and before and rows["comparable"].all():
        text += f", {narrative.signed_pct((now - before) / before * 100)} on {against}"
    return text + "."


def columns(rows: pd.DataFrame, period: periods.Period | int) -> list[tuple[str, str]]:
    """(column key, heading) of the side-by-side table; a year to date names its months.

    >>> [h for _, h in columns(pd.DataFrame({"rate_per_1000": [float("nan")]}), periods.Period(2025, 8))][:3]
    ['Borough', 'Offences April to November 2025', 'Offences April to November 2024']
    """
    period = periods.as_period(period)
    cols = [("borough", "Borough"), ("value", f"Offences {period.heading}")]
    if has_rates(rows):
        cols += [("rate_per_1000", "Per 1,000 residents"), ("rate_rank", "Rank by rate (1 = highest; 95% interval)")]
    cols += [("previous_value", f"Offences {period.previous.heading}"), ("change_pct", "Change"),
             ("count_rank", "Rank by count (1 = highest; 95% interval)")]
    return cols


def shared_caution(rows: pd.DataFrame) -> str:
    """The caution every comparable change of the measure carries (said once, above the table), or ''."""
    cautions = set(rows.loc[rows["comparable"], "caution"])
    return cautions.pop() if len(cautions) == 1 else ""


def _cell(key: str, row, said: str = "") -> tuple[str, str]:
    """(text shown, sort key) of one cell; a missing value sorts last either way (empty key)."""
    value = row[key]
    if key == "borough":
        return str(value), str(value)
    if pd.isna(value) or (key == "change_pct" and not row["comparable"]):
        return ("not comparable" if key == "change_pct" else "-"), ""
    if key.endswith("_rank"):
        return open_pages.rank_cell(value, row[f"{key}_low"], row[f"{key}_high"]), str(int(value))
    if key == "change_pct":
        flag = " (interpret with caution)" if row["caution"] and row["caution"] != said else ""
        return narrative.signed_pct(value) + flag, f"{value:.6g}"
    if key == "rate_per_1000":
        return f"{value:.1f}", f"{value:.6g}"
    return words.number(int(value)), str(int(value))


def _first(key: str) -> str:
    """The way a column sorts when first chosen: names A to Z and ranks 1 first, values highest first."""
    return "ascending" if key == "borough" or key.endswith("_rank") else "descending"


def sortable_table(rows: pd.DataFrame, borough: str | None, period: periods.Period | int, caption: str,
                   links: dict | None = None) -> HTML:
    """The boroughs of one measure as an accessible table whose column headings are buttons
    that sort it (aria-sort says how it is sorted); the report's borough is marked in words.
    ``links``: borough -> address of its book (the London edition's front page)."""
    cols = columns(rows, period)
    said = shared_caution(rows)
    first = "rate_per_1000" if has_rates(rows) else "value"
    sorted_by = ' aria-sort="descending"'
    head = "".join(
        f'<th scope="col"{sorted_by if key == first else ""}>'
        f'<button type="button" class="cspbook-sort" data-column="{i}" data-first="{_first(key)}">{esc(title)}</button></th>'
        for i, (key, title) in enumerate(cols))
    body = []
    for _, row in rows.iterrows():
        mine = row["borough"] == borough
        cells = []
        for key, _title in cols:
            text, sort = _cell(key, row, said)
            if key == "borough":
                shown = f"<strong>{esc(text)}{esc(THIS)}</strong>" if mine else esc(text)
                if links and text in links:
                    shown = f'<a href="{esc(links[text])}">{shown}</a>'
                cells.append(f'<th scope="row" data-sort="{esc(sort)}">{shown}</th>')
            else:
                cells.append(f'<td data-sort="{esc(sort)}">{esc(text)}</td>')
        body.append(("<tr class=\"cspbook-this-borough\">" if mine else "<tr>") + "".join(cells) + "</tr>")
    region = f'role="region" aria-label="{esc(caption)}" tabindex="0"'
    return HTML(
        f'<div class="table-wrapper" {region}><table class="cspbook-table cspbook-sortable">'
        f"<caption>{esc(caption)} <span class=\"cspbook-sort-hint\">Select a column heading to sort by it.</span></caption>"
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def measure_parts(rows: pd.DataFrame, shapes, borough: str | None, year: int, links: dict | None = None,
                  level: int = 2, period: periods.Period | None = None) -> list[HTML]:
    """The heading (``<h{level}>``), sentence, maps and table of one measure (``borough`` None:
    London's). ``period``: the year whole or to date (default whole), as the sentences name it."""
    period = period or periods.Period(year)
    label = rows["label"].iloc[0]
    named, against = period.title, ("the year before" if period.complete else period.previous_name)
    ind = rows["indicator"].iloc[0]
    values = rows.set_index("borough")
    said = shared_caution(rows)
    note = f"<p>Interpret every borough's change with caution: {esc(said)}.</p>" if said else ""
    said_where = sentence(rows, borough, named) if borough else london_sentence(rows, named, against)
    parts = [HTML(f'<h{level} id="london-{esc(ind)}">{esc(label)}</h{level}><p>{esc(said_where)}</p>{note}')]
    if shapes is not None:
        level = ("rate_per_1000", "rate", f"{label.lower()} per 1,000 residents, {period.title}") if has_rates(rows) else \
            ("value", "count", f"{label.lower()}, offences in {period.title}")
        change = values["change_pct"].where(values["comparable"].astype(bool))
        maps_drawn = [(level[0], level[1], level[2], "map")]
        if change.notna().any():
            maps_drawn.append((None, "change", f"change in {label.lower()}, {period.change_name}", "map-change"))
        for column, kind, what, name in maps_drawn:
            series = change if column is None else values[column]
            rank = None
            if column is not None and borough in values.index:
                prefix = "rate_rank" if column == "rate_per_1000" else "count_rank"
                mine = values.loc[borough]
                rank = open_pages.rank_range(mine[prefix], mine[f"{prefix}_low"], mine[f"{prefix}_high"]) or None
            parts.append(figure(maps.choropleth(shapes, series, borough, what=what, kind=kind, name=name, rank=rank),
                                f"fig-london-{ind}-{name}"))
        if len(maps_drawn) == 1:  # a map with no borough coloured would say nothing
            parts.append(HTML(f"<p>{esc(no_change_map(label, period))}</p>"))
    parts.append(sortable_table(rows, borough, period, f"{label}: the 32 boroughs, {period.title}", links))
    return parts


def no_change_map(label: str, period: periods.Period | int) -> str:
    """Why a measure has no map of its change: no borough's change can be compared.

    >>> print(no_change_map("Violence with injury", 2024))
    No map of the change, 2023-24 to 2024-25: no borough's change in violence with injury can be compared (the Methodology page lists the breaks in the police series).
    """
    return (f"No map of the change, {periods.as_period(period).change_name}: no borough's change in "
            f"{label.lower()} can be compared (the Methodology page lists the breaks in the police series).")


def order_said(rates: bool, period: periods.Period) -> str:
    """What the boroughs are listed by, and why not by rate when they are not.

    >>> order_said(False, periods.Period(2025, 8))
    'count of offences (a year to date has no rate per 1,000 residents: a rate counts a whole year)'
    """
    if rates:
        return "rate per 1,000 residents"
    if not period.complete:
        return "count of offences (a year to date has no rate per 1,000 residents: a rate counts a whole year)"
    return (f"count of offences (a rate per 1,000 residents needs the ONS population estimate for mid-{period.start}, "
            "not in the data)")


def maps_said(period: periods.Period) -> str:
    """What the maps of each measure show.

    >>> maps_said(periods.Period(2025, 8))
    'Each measure has two maps: its level in 2025-26 to date and its change on the same months of 2024-25 (April to November 2024), where the changes can be compared.'
    """
    against = "the year before" if period.complete else period.previous_name
    return (f"Each measure has two maps: its level in {period.name} and its change on {against}, "
            "where the changes can be compared.")


NO_MAP = ("The maps need the London borough boundaries (the Datastore's Statistical GIS Boundary Files for London, "
          "London_Borough_Excluding_MHW in British National Grid), which are not among the cached open files; the tables "
          "below give every figure.")


def page(ctx):
    """The "Among London's boroughs" page of one year: a section per headline police measure."""
    from cspbook.pages.views import View, _and_list

    frame = ctx.london
    ids = measures(frame)
    labels = [frame.loc[frame["indicator"] == i, "label"].iloc[0].lower() for i in ids]
    rates = has_rates(frame)
    view = View(glue={
        "london_measures": _and_list(labels) if labels else "none of the headline measures",
        "n_london_measures": words.plural(len(ids), "headline police measure"),
        "london_order": order_said(rates, ctx.period),
        "london_maps": maps_said(ctx.period) if ctx.boundaries is not None else NO_MAP,
    })
    for ind in ids:
        view.parts.extend(measure_parts(frame[frame["indicator"] == ind], ctx.boundaries, ctx.borough, ctx.year,
                                        period=ctx.period))
    return view


def front(year: str, boroughs: list[str] | None = None, home: str | None = None):
    """The London edition's front page: for each headline police measure of the boroughs'
    reports, London's maps and the 32 boroughs side by side, each borough of the edition
    linking to its book."""
    from cspbook import definitions
    from cspbook.compute import dataset
    from cspbook.compute import london as side_by_side
    from cspbook.data import boundaries
    from cspbook.definitions import reports
    from cspbook.pages.context import _use_home
    from cspbook.pages.views import View

    _use_home(home)
    period = periods.parse_period(year)
    start = period.start
    names = list(boroughs or definitions.boroughs())
    headline = list(dict.fromkeys(i for b in names for i in reports.load(b, start).headline))
    data = dataset.dataset()
    if period.complete and " to " not in str(year) and len(data.months):  # a year the data end within: to date
        period = periods.resolve(start, str(data.months.max()))
    frame = side_by_side.side_by_side_for(data, period, headline)
    path = boundaries.cached(config.cache_dir())
    shapes = boundaries.read(path) if path else None
    links = {b: f"{definitions.slug(b)}/overview.html" for b in names}
    items = "".join(f'<li><a href="{esc(links[b])}">{esc(b)}</a></li>' for b in names)
    view = View(glue={"year": period.name, "n_books": words.plural(len(names), "borough"),
                      "london_maps": NO_MAP if shapes is None else maps_said(period)})
    view.parts.append(HTML(f'<nav aria-label="The boroughs\' reports"><ul class="cspbook-borough-list">{items}</ul></nav>'))
    for ind in measures(frame):
        view.parts.extend(measure_parts(frame[frame["indicator"] == ind], shapes, None, start, links, level=3, period=period))
    return view
