""""Among London's boroughs": every borough's figures for the headline police measures, checked
against counts worked out here from the file with plain pandas, and the page's table."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cspbook.compute import london
from cspbook.pages import london as page

HISTORIC = "MPS_Borough_Level_Crime_Historic.csv"
VIOLENCE = ["Assault with Injury", "Wounding/GBH", "Grievous Bodily Harm", "Murder"]  # data/indicators.yml, 2008-2018 files


def _by_hand(mirror, categories, first: str) -> pd.Series:
    """Offences per borough in the financial year starting April of ``first``, from the file."""
    frame = pd.read_csv(mirror / HISTORIC)
    months = [p.strftime("%Y%m") for p in pd.period_range(f"{first}-04", periods=12, freq="M")]
    return frame[frame["Minor Category"].isin(categories)].groupby("Borough")[months].sum().sum(axis=1)


@pytest.fixture
def side_by_side(real_data):
    return london.boroughs_side_by_side(real_data.changes, 2011, ["violence_with_injury", "asb_calls", "residential_burglary"])


def test_every_borough_s_count_and_change_is_the_file_s(side_by_side, mirror):
    rows = side_by_side[side_by_side["indicator"] == "violence_with_injury"].set_index("borough")
    now, before = _by_hand(mirror, VIOLENCE, "2011"), _by_hand(mirror, VIOLENCE, "2010")
    assert len(rows) == 32
    for borough in ("Barking and Dagenham", "Westminster"):
        assert rows.loc[borough, "value"] == now[borough]
        assert rows.loc[borough, "previous_value"] == before[borough]
        assert rows.loc[borough, "change_pct"] == pytest.approx((now[borough] - before[borough]) / before[borough] * 100)
    assert rows.loc[now.idxmax(), "count_rank"] == 1 and rows.loc[now.idxmin(), "count_rank"] == 32
    assert list(rows.index) == list(now.sort_values(ascending=False).index)  # highest first (no rates in the data)


def test_only_police_measures_in_the_report_s_order(side_by_side):
    assert list(dict.fromkeys(side_by_side["indicator"])) == ["violence_with_injury", "residential_burglary"]
    assert list(side_by_side.columns) == london.COLUMNS


def test_rates_sort_the_table_when_the_dataset_has_them(real_data):
    changes = real_data.changes.assign(rate_per_1000=lambda f: f["value"] / f["borough"].str.len())  # any values
    rows = london.boroughs_side_by_side(changes, 2011, ["violence_with_injury"])
    assert rows["rate_per_1000"].is_monotonic_decreasing and rows["rate_rank"].iloc[0] == 1
    table = page.sortable_table(rows, "Barnet", 2011, "t").markup
    assert re.search(r'<th scope="col" aria-sort="descending"><button[^>]*>Per 1,000 residents<', table)


def test_the_table_marks_the_report_s_borough_and_sorts_by_numbers(side_by_side):
    rows = side_by_side[side_by_side["indicator"] == "violence_with_injury"]
    table = page.sortable_table(rows, "Barking and Dagenham", 2011, "Violence").markup
    assert table.count('<tr class="cspbook-this-borough">') == 1
    assert "<strong>Barking and Dagenham (this report)</strong>" in table
    assert re.search(r'<th scope="col" aria-sort="descending"><button type="button" class="cspbook-sort" data-column="1" '
                     r'data-first="descending">Offences 2011-12</button>', table)
    assert table.count("aria-sort") == 1 and table.count("<tr") == 33
    value = int(rows.loc[rows["borough"] == "Westminster", "value"].iloc[0])
    assert f'<td data-sort="{value}">{value:,}</td>' in table


def test_an_open_file_added_to_the_cache_reruns_the_pages(project, mirror):
    """The boundaries (or the ward files) arriving in the cache change every page's key, so a
    London page cached without its maps is not reused."""
    import shutil

    from cspbook.execute import plan

    before = plan.inputs_digest({})
    target = project / "data" / "raw" / "open" / "boundaries" / "bng" / "London_Borough_Excluding_MHW.geojson"
    target.parent.mkdir(parents=True)
    shutil.copy(mirror / "open" / "boundaries" / "bng" / target.name, target)
    after = plan.inputs_digest({})
    assert after != before
    (target.parents[2] / "manifest.json").write_text("{}")  # the open files' manifest: its times are not content
    assert plan.inputs_digest({}) == after


def test_every_rank_comes_with_its_interval_and_no_change_is_ranked(side_by_side, real_data):
    """Methodology: ranks of counts and rates carry their 95% interval (a seeded Poisson bootstrap);
    changes are not ranked."""
    assert "change_rank" not in side_by_side.columns
    rows = side_by_side[side_by_side["indicator"] == "violence_with_injury"]
    assert ((rows["count_rank_low"] <= rows["count_rank"]) & (rows["count_rank"] <= rows["count_rank_high"])).all()
    assert rows["count_rank_low"].min() == 1 and rows["count_rank_high"].max() == 32
    again = london.boroughs_side_by_side(real_data.changes, 2011, ["violence_with_injury"])
    assert again["count_rank_low"].tolist() == rows["count_rank_low"].tolist()  # seeded: every build says the same
    table = page.sortable_table(rows, "Barking and Dagenham", 2011, "Violence").markup
    assert "Rank by change" not in table and "Rank by count (1 = highest; 95% interval)" in table
    mine = rows.set_index("borough").loc["Barking and Dagenham"]
    said = page.sentence(rows, "Barking and Dagenham", "2011-12")
    assert (f"the {page.narrative.ordinal(int(mine['count_rank']))} highest count of 32 boroughs (95% interval of the rank: "
            f"{page.narrative.ordinal(int(mine['count_rank_low']))} to {page.narrative.ordinal(int(mine['count_rank_high']))})") in said
    assert "ranked" not in said  # no rank of the change


def test_the_london_front_page_of_a_year_to_date_compares_the_same_months(edition_tree, monkeypatch):
    """`--borough all --year 2025-26` with data to November 2025: the front page counts April to
    November of each borough (it showed nothing: it asked for the whole year) and compares them
    with the same months of 2024-25, in its words too."""
    from conftest import use_home

    from cspbook.compute import dataset
    from cspbook.definitions import periods

    use_home(monkeypatch, edition_tree("edition-2025-11"))
    view = page.front("2025-26", ["Barnet", "Camden"])
    html = "".join(part._repr_html_() for part in view.parts)
    assert view.glue["year"] == "2025-26 to date"
    data = dataset.dataset()
    span = periods.resolve(2025, str(data.months.max()))
    burglary = london.side_by_side_for(data, span, ["residential_burglary"])
    now, before = burglary["value"].sum(), burglary["previous_value"].sum()
    assert len(burglary) == 32 and now > 0
    pct = (now - before) / before * 100
    assert (f"In 2025-26 to date (April to November 2025) London&#x27;s 32 boroughs recorded {now:,.0f} offences, "
            f"{'+' if pct > 0 else ''}{pct:.1f}% on the same months of 2024-25 (April to November 2024).") in html
    assert html.count("<tbody>") == 3  # the three headline police measures, 32 rows each
    # the maps' captions, the tables' headings and the words above them name the months, not the year
    assert "Offences April to November 2025</button>" in html and "Offences April to November 2024</button>" in html
    assert "Residential burglary: the 32 boroughs, 2025-26 to date (April to November 2025)" in html
    assert ("its change on the same months of 2024-25 (April to November 2024)" in view.glue["london_maps"]
            or view.glue["london_maps"] == page.NO_MAP)
    assert "Offences 2025-26" not in html and "offences in 2025-26<" not in html and "2024-25 to 2025-26" not in html
