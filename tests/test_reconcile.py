"""cspbook.compute.reconcile: published changes against recomputed ones, with the reason for each difference."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cspbook.compute import dataset, reconcile, table
from cspbook.definitions import reports
from cspbook.errors import DefinitionError

BD = "Barking and Dagenham"
REVISION = reconcile.REVISION_REASON
SOURCE = "Annual Report 2011-12"


def published(*rows):
    return pd.DataFrame({
        "indicator": [r[0] for r in rows],
        "published_change_pct": [r[1] for r in rows],
        "source": [SOURCE] * len(rows),
    })


def recomputed(*rows):
    return pd.DataFrame({
        "indicator": [r[0] for r in rows],
        "label": [r[0].upper() for r in rows],
        "change_pct": [r[1] for r in rows],
    })


def test_each_difference_gets_a_status_and_a_reason():
    got = reconcile.compare(
        published(("a", 7.8), ("b", -3.5), ("c", 2.0)),
        recomputed(("a", 8.7731), ("b", -6.0), ("c", float("nan"))),
    )
    # a: 8.77 - 7.8 = +0.97 pp (within 1); b: -6.0 - -3.5 = -2.5 pp (beyond 1); c: nothing to compare
    expected = pd.DataFrame({
        "indicator": ["a", "b", "c"],
        "label": ["A", "B", "C"],
        "published_change_pct": [7.8, -3.5, 2.0],
        "recomputed_change_pct": [8.77, -6.0, float("nan")],
        "difference_pp": [0.97, -2.5, float("nan")],
        "status": ["reconciled", "outside tolerance", "not recomputed"],
        "reason": [
            f"within 1 pp (0.97 percentage points): {REVISION}",
            f"differs by 2.50 percentage points, more than 1 pp: {REVISION}; the definition may also differ",
            "the data give no comparable change for this year",
        ],
        "source": [SOURCE] * 3,
    })
    pd.testing.assert_frame_equal(got, expected)


@pytest.mark.parametrize(
    ("recomputed_pct", "tolerance", "status"),
    [(8.8, 1.0, "reconciled"), (8.81, 1.0, "outside tolerance"), (6.8, 1.0, "reconciled"), (8.3, 0.5, "reconciled"),
     (8.31, 0.5, "outside tolerance")],
)
def test_the_tolerance_is_inclusive(recomputed_pct, tolerance, status):
    # published 7.8: 8.8 and 6.8 are exactly 1.00 pp away, 8.3 exactly 0.50
    got = reconcile.compare(published(("a", 7.8)), recomputed(("a", recomputed_pct)), tolerance)
    assert got["status"].tolist() == [status]


def test_a_published_figure_that_is_not_recomputed_at_all(project):
    got = reconcile.compare(published(("a", 1.0)), recomputed(("b", 2.0)))
    assert got["status"].tolist() == ["not recomputed"]
    assert math.isnan(got["recomputed_change_pct"].iloc[0])


def test_the_committed_published_figures(project):
    path = reconcile.path_for(BD, 2011)
    got = reconcile.read_published(path)
    assert got[["indicator", "published_change_pct"]].values.tolist() == [
        ["violence_with_injury", -7.2], ["residential_burglary", 7.8], ["vehicle_crime", -3.5],
    ]
    assert set(got["borough"]) == {BD} and set(got["year"]) == {2011}


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"{BD},2011-12,robbery,,{SOURCE}", "line 2, column 'published_change_pct': empty. Give a number"),
        (f"{BD},2011-12,robbery,about 5,{SOURCE}",
         "line 2, column 'published_change_pct': found 'about 5', which is not a number. Write a plain number such as 12.5"),
        (f"{BD},2011-12,robbery,-120,{SOURCE}",
         "line 2, column 'published_change_pct': found -120, below -100. A change cannot fall below -100%; "
         "correct the figure"),
        (f"{BD},2011-12,robery,5,{SOURCE}", "line 2, column 'indicator': unknown indicator 'robery'; did you mean 'robbery'? "),
    ],
    ids=["empty", "not-a-number", "below-minus-100", "unknown-indicator"],
)
def test_a_bad_published_figure_names_file_line_and_column(project, row, message):
    path = project / "data" / "published" / "barking-and-dagenham-2011-12.csv"
    path.write_text(f"borough,year,indicator,published_change_pct,source\n{row}\n")
    with pytest.raises(DefinitionError) as caught:
        reconcile.read_published(path)
    assert str(caught.value).startswith(f"{path}, {message}")


def test_reconciliation_without_a_published_file_is_empty(real_data):
    got = table.reconciliation(real_data, reports.load("Barnet", 2011))
    assert len(got) == 0
    assert got.columns.tolist() == [
        "indicator", "label", "published_change_pct", "recomputed_change_pct", "difference_pp", "status", "reason", "source",
    ]


def test_the_reports_tolerance_is_used(fetched):
    own = fetched / "data" / "reports" / "barking-and-dagenham-2011-12.yml"
    own.write_text(own.read_text() + "reconciliation_tolerance_pp: 0.5\n")
    got = table.reconciliation(dataset.dataset(), reports.load(BD, 2011)).set_index("indicator")
    # recomputed from the data: -7.86, +8.77, -3.57 against published -7.2, +7.8, -3.5
    assert got["difference_pp"].to_dict() == {"violence_with_injury": -0.66, "residential_burglary": 0.97, "vehicle_crime": -0.07}
    assert got["status"].to_dict() == {
        "violence_with_injury": "outside tolerance", "residential_burglary": "outside tolerance", "vehicle_crime": "reconciled",
    }
    # the reason the numbers support: -3.5% is the figure recomputed with vehicle interference (-3.48%)
    assert got.loc["vehicle_crime", "reason"].startswith("within 0.5 pp (0.07 percentage points): matches the figure "
                                                         "recomputed as vehicle crime including interference")
    assert got.loc["vehicle_crime", "reason"].endswith("(-3.5%): a likely difference of definition")
    assert got.loc["residential_burglary", "reason"].startswith(
        "differs by 0.97 percentage points, more than 0.5 pp: not confirmed: no definition or edition the data allow gives +7.8%")


def test_reconciliation_computes_only_what_it_compares(real_data, monkeypatch):
    """`cspbook reconcile` needs the recomputed changes, not the whole indicator table (partner
    figures, targets): building it would read files for nothing."""
    def refuse(*args, **kwargs):
        raise AssertionError("the indicator table was built")

    monkeypatch.setattr(table, "indicator_table", refuse)
    got = table.reconciliation(real_data, reports.load(BD, 2011))
    assert got["indicator"].tolist() == ["violence_with_injury", "residential_burglary", "vehicle_crime"]
