"""Every sentence the book could write, for every borough and year of both data series (the
2008-2018 files and the November 2025 edition), through the library's narrative functions
(no book build): words that never contradict themselves, nothing called significant across a
break, no analyst's hint in a page; and the chart data across breaks."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import use_home

from cspbook import definitions
from cspbook.compute import dataset, indicators, reconcile
from cspbook.definitions import periods
from cspbook.pages import narrative, plots, views

FASTER = re.compile(r"\b(faster|more slowly)\b")
STATIC = re.compile(r"remained static|about the same")


def rows_of(data) -> list[dict]:
    """Each change row of the dataset as the indicator table gives it to the narrative."""
    defs = definitions.indicators()
    out = []
    for row in data.changes.to_dict("records"):
        ind = defs[row["indicator"]]
        out.append(row | {"label": ind.label, "source": ind.source, "unit": ind.unit, "year_start": row["year"],
                          "lower_is_better": ind.lower_is_better, "year": periods.label(row["year"])})
    return out


@pytest.fixture(params=["2008-2018 files", "edition-2025-11"])
def every_row(request, edition_tree, real_home, monkeypatch):
    if request.param != "2008-2018 files":
        use_home(monkeypatch, edition_tree(request.param))
    return rows_of(dataset.dataset())


def test_every_sentence_keeps_one_rule_for_words(every_row):
    assert len(every_row) > 3000
    for row in every_row:
        across = not row["comparable"] or bool(row["caution"])
        for text in (narrative.sentence(row), narrative.sentence(row, with_reason=False), narrative.significance(row)):
            assert not (STATIC.search(text) and FASTER.search(text)), text
            assert "data/" not in text and "(add it" not in text, text
            if across:
                assert "statistically significant" not in text, text
        said = narrative.sentence(row)
        if FASTER.search(said):  # only when the borough differs from the rest of London by more than chance
            assert row["differs_from_london"] is True and row["significant"] is True, said
        if across:
            assert pd.isna(row["significant"]), row


def test_every_headline_count_has_its_denominator(every_row):
    by_year = {}
    for row in every_row:
        by_year.setdefault((row["borough"], row["year"]), []).append(row)
    for (borough, year), rows in by_year.items():
        text = narrative.headline_count(rows)
        assert not re.search(r"\b0 (figures|headline measures)\b", text), text
        judged = [narrative.verdict(r) for r in rows]
        moved = sum(v in ("better", "worse") for v in judged)
        assert moved <= sum(r["significant"] is True for r in rows), (borough, year)  # police: only tested changes move
        n_out = sum(v in ("not available", "across a break") for v in judged)
        if n_out:
            assert f"{n_out} cannot be judged" in text or text.startswith("None of the"), text


def test_a_reconciliation_with_nothing_published_says_so_in_one_sentence():
    empty = reconcile.compare(pd.DataFrame(columns=reconcile.COLUMNS), pd.DataFrame(columns=["indicator", "label", "change_pct"]))
    ctx = SimpleNamespace(reconciliation=empty, year_label="2024-25", borough="Barking and Dagenham",
                          report=SimpleNamespace(reconciliation_tolerance_pp=1.0))
    view = views.reconciliation(ctx)
    assert view.parts == []
    (text,) = view.glue.values()
    assert text.count(".") == 1 and "0 figures" not in text and "no figures" in text


def monthly_chart(data, indicator, borough, first_year, year):
    series = data.series_for(year)
    frame = indicators.month_series(data.monthly, indicator, borough, year, years_before=year - first_year, series=series)
    months, _ = views.chart_breaks(borough, indicator, series)
    return plots.monthly(frame, indicator, borough, year, months)


def joins_across(segments, month: str) -> bool:
    return any(seg[0] < month <= seg[-1] for seg in segments)


def test_the_monthly_chart_across_april_2017_is_not_joined_and_marks_the_break(real_home):
    chart = monthly_chart(dataset.dataset(), "residential_burglary", "Barking and Dagenham", 2016, 2017)
    assert not joins_across(chart.segments, "2017-04")
    assert [s[-1] for s in chart.segments][:1] == ["2017-03"] and chart.segments[1][0] == "2017-04"
    assert "2017-04" in dict(chart.markers) and "2017-01" in dict(chart.markers)  # the renaming is marked too
    assert sum(len(s) for s in chart.segments) == len(chart.table) == 24


def test_the_monthly_chart_across_april_2017_and_march_2024_marks_every_break(edition_tree, monkeypatch):
    use_home(monkeypatch, edition_tree("edition-2025-11"))
    data = dataset.dataset()
    burglary = monthly_chart(data, "residential_burglary", "Hillingdon", 2016, 2024)
    # not comparable: April 2017 (outbuildings), April 2023 and March 2024 (Hillingdon's airports)
    for month in ("2017-04", "2023-04", "2024-03"):
        assert not joins_across(burglary.segments, month), month
        assert month in dict(burglary.markers)
    violence = monthly_chart(data, "violence_with_injury", "Barking and Dagenham", 2022, 2024)
    assert not joins_across(violence.segments, "2024-03") and "2024-03" in dict(violence.markers)
    robbery = monthly_chart(data, "robbery", "Barking and Dagenham", 2022, 2024)  # caution only: marked, joined
    assert joins_across(robbery.segments, "2024-03") and "2024-03" in dict(robbery.markers)


def test_a_change_is_rounded_once_from_the_exact_value(edition_tree, monkeypatch, mirror):
    """Criminal damage in Barking and Dagenham, 2023-24 to 2024-25: 1,430 -> 1,302 is -8.951%,
    shown as -9.0% (rounding -8.95 again would give -8.9%)."""
    folder = mirror / "edition-2025-11"
    raw = pd.concat([pd.read_csv(folder / f"MPS Borough Level Crime ({n}).csv") for n in ("Historical", "most recent 24 months")])
    rows = raw[(raw["BoroughName"] == "Barking and Dagenham") & raw["MinorText"].isin(["ARSON", "CRIMINAL DAMAGE"])]
    months = lambda first: [f"{first + (m + 3) // 12}{(m + 3) % 12 + 1:02d}" for m in range(12)]  # noqa: E731
    previous, value = (int(rows[[c for c in months(y) if c in rows]].sum().sum()) for y in (2023, 2024))
    assert (previous, value) == (1430, 1302)
    use_home(monkeypatch, edition_tree("edition-2025-11"))
    data = dataset.dataset()
    row = next(r for r in rows_of(data) if (r["indicator"], r["borough"], r["year_start"]) == ("criminal_damage", "Barking and Dagenham", 2024))
    assert row["change_pct"] == pytest.approx((value - previous) / previous * 100)  # exact: -8.951...
    assert narrative.sentence(row).startswith("Criminal damage fell by 9.0% (1,430 to 1,302)")
    from cspbook.pages import markup

    frame = pd.DataFrame([row | {"comparable": True}])
    assert markup.indicator_rows(frame)["Change"].iloc[0] == "-9.0% (interpret with caution)"
