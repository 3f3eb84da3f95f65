"""Where in the borough: a priority chapter's police measures by ward (the borough's wards ranked
by count, the top three's share, the change per ward with its significance test), a bar chart
and a table, and the gap of the wards' total to the borough file said with its size."""

from __future__ import annotations

import pandas as pd

from cspbook import words
from cspbook.compute import wards
from cspbook.definitions import periods
from cspbook.pages import narrative, svg
from cspbook.pages.markup import HTML, esc, figure, html_table
from cspbook.pages.plots import PALETTE, Chart

AIRPORT = "Aviation Security (SO18)"  # the ward files' area for crimes at Heathrow (not a borough)
NO_FILES = ("The MPS ward files (recorded crime by ward, London Datastore) are not among the cached open files, "
            "so this chapter has no ward figures.")


def chart(table: pd.DataFrame, label: str, borough: str, period: periods.Period | int) -> Chart:
    """The wards as horizontal bars, most offences at the top (``period``: the year whole or to date)."""
    period = periods.as_period(period)
    n = len(table)
    image = svg.hbars([str(w) for w in table["ward"]], [float(v) for v in table["value"]], PALETTE["borough"],
                      f"{label}: {borough}, by ward", f"offences in {period.title}")
    top, low = table.iloc[0], table.iloc[-1]
    alt = (f"Bar chart of {label.lower()} in each of {borough}'s {n} wards in {period.title}, most first: "
           f"{top['ward']} had the most ({narrative.number(top['value'])}), {low['ward']} the fewest ({narrative.number(low['value'])}).")
    data = pd.DataFrame({"Ward": list(table["ward"]), f"Offences {period.heading}": table["value"].astype("int64").to_numpy()})
    return Chart("wards", image, alt, f"{label} by ward, {borough}, {period.title} (crimes with a known ward).", data)


def rows(table: pd.DataFrame, period: periods.Period | int) -> pd.DataFrame:
    """The reader's table of wards; a year to date names the months of both columns."""
    period = periods.as_period(period)
    def change(r):
        return "not available" if pd.isna(r["change_pct"]) else narrative.signed_pct(r["change_pct"])

    def tested(r):
        return "not tested" if pd.isna(r["ci_low_pct"]) else ("yes" if r["significant"] else "no")

    return pd.DataFrame({
        "Ward": list(table["ward"]),
        "Rank": table["rank"].astype("int64").to_numpy(),
        f"Offences {period.heading}": table["value"].astype("int64").to_numpy(),
        f"Offences {period.previous.heading}": [narrative.number(v) for v in table["previous_value"]],
        "Change": [change(r) for _, r in table.iterrows()],
        "Statistically significant": [tested(r) for _, r in table.iterrows()],
        "Share of the wards' total": [f"{v:.1f}%" for v in table["share_pct"]],
    })


def sentences(table: pd.DataFrame, label: str, borough: str, period: periods.Period | int, borough_count, airport: bool,
              other_categories: str = "") -> list[str]:
    """The top three wards' share, the significant changes, and the gap to the borough figure
    (of the same months: a year to date counts its months in the wards too)."""
    period = periods.as_period(period)
    against = period.previous.label if period.complete else period.previous_name
    top = list(table["ward"].head(wards.TOP))
    total = table["value"].sum()
    out = [f"{label}, {period.title}: the {words.plural(len(table), 'ward')} of {borough} recorded "
           f"{narrative.number(total)} offences with a known ward. The {words.number(len(top))} with the most, "
           f"{narrative_list(top)}, held {wards.top_share(table):.1f}% of them."]
    up = table[table["significant"] & (table["change_pct"] > 0)]["ward"].tolist()
    down = table[table["significant"] & (table["change_pct"] < 0)]["ward"].tolist()
    moved = [f"a significant rise in {narrative_list(up)}" if up else "", f"a significant fall in {narrative_list(down)}" if down else ""]
    moved = [m for m in moved if m]
    out.append(f"Against {against}: " + "; ".join(moved) + "." if moved else
               f"No ward's change on {against} is statistically significant.")
    fewer, pct = wards.gap(borough_count, total)
    if pd.notna(fewer):
        where = (f" Crimes at Heathrow are counted under '{AIRPORT}' in the ward files, not under {borough}." if airport else "")
        if other_categories:
            where += (f" The borough figure of {period.name} is counted in the {other_categories}, the ward files in "
                      "later categories, so part of the difference is a difference of categories.")
        out.append(f"Ward figures count only crimes recorded with a known ward, so they are never used in place of the borough's: "
                   f"their total, {narrative.number(total)}, is {narrative.number(abs(fewer))} ({abs(pct):.1f}%) "
                   f"{'below' if fewer >= 0 else 'above'} the borough figure of {narrative.number(borough_count)} used everywhere else in this report.{where}")
    return out


def narrative_list(items) -> str:
    """
    >>> narrative_list(["A"]), narrative_list(["A", "B", "C"])
    ('A', 'A, B and C')
    """
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1] if items else ""


def _other(ctx, row) -> str:
    """The label of the borough figure's classification when the ward files count in another, else ''."""
    from cspbook import definitions

    series = row.get("series", "")
    if not series:
        return ""
    classes = definitions.classifications()
    wards_series = {classes.by_id[c].series for c in ctx.wards.attrs.get("classifications", []) if c in classes.by_id}
    if not wards_series or series in wards_series:
        return ""
    return classes.series.get(series, series)


def parts(ctx, indicator_rows: pd.DataFrame) -> list[HTML]:
    """The ward section of every police measure of a chapter (in its order)."""
    if ctx.wards is None:
        return [HTML(f"<p>{esc(NO_FILES)}</p>")]
    police = indicator_rows[indicator_rows["source"] == "mps"]
    if police.empty:
        return [HTML("<p>This chapter has no police measure, so no ward figures.</p>")]
    airport = set(ctx.wards.loc[ctx.wards["borough"] == AIRPORT, "ward_code"])
    airport &= set(ctx.wards.loc[ctx.wards["borough"] == ctx.borough, "ward_code"])  # any year: Heathrow Villages
    out = []
    for _, row in police.iterrows():
        table = wards.for_borough(ctx.wards, row["indicator"], ctx.borough, ctx.year)  # the months of ctx.period
        head = f'<h3 id="wards-{esc(row["indicator"])}">{esc(row["label"])}: wards</h3>'
        if table.empty:
            out.append(HTML(f"{head}<p>The ward files do not cover {esc(ctx.period.title)}.</p>"))
            continue
        texts = sentences(table, row["label"], ctx.borough, ctx.period, row["value"], bool(airport), _other(ctx, row))
        out.append(HTML(head + "".join(f"<p>{esc(t)}</p>" for t in texts)))
        out.append(figure(chart(table, row["label"], ctx.borough, ctx.period), f"fig-{row['indicator']}-wards"))
        out.append(html_table(rows(table, ctx.period), caption=f"{row['label']} by ward, {ctx.borough}, {ctx.period.title}"))
    return out
