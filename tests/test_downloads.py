"""The CSV downloads kept by their inputs (cspbook.publish.downloads, issue 21): a build whose
data, definitions and library are unchanged writes the texts it wrote before without loading the
dataset; any change of them (a partner figure, a report's configuration), or a damaged kept
file, computes them again."""

from __future__ import annotations

import pytest

from cspbook import config
from cspbook.compute import csvtext, dataset, london, table
from cspbook.definitions import periods, reports
from cspbook.execute import snapshot
from cspbook.publish import downloads

BOROUGH = "Barking and Dagenham"


def _texts(data):
    inputs = snapshot.take()
    with snapshot.reading(inputs):
        year = periods.parse_year("2011-12")
        configs = {year: reports.load(BOROUGH, year)}
        spans = {year: periods.Period(year)}
        return downloads.texts(inputs.manifest, BOROUGH, configs, spans, data)[year]


def _refuse():
    pytest.fail("the dataset was loaded although the texts were kept")


def test_kept_texts_are_the_computed_ones_and_need_no_dataset(fetched):
    calls = []
    first = _texts(lambda: calls.append(1) or dataset.dataset())
    assert calls == [1]
    data = dataset.dataset()
    year = periods.parse_year("2011-12")
    report = reports.load(BOROUGH, year)
    assert first == (csvtext.to_csv(table.indicator_table(data, report, period=periods.Period(year))),
                     csvtext.to_csv(london.side_by_side_for(data, periods.Period(year), report.headline)))
    assert _texts(_refuse) == first


@pytest.mark.parametrize("edit", ["partner", "report"])
def test_a_change_of_the_definitions_computes_them_again(fetched, edit):
    _texts(dataset.dataset)
    path = {"partner": config.definitions_dir() / "partner" / "barking-and-dagenham-2011-12.csv",
            "report": config.definitions_dir() / "reports" / "barking-and-dagenham-2011-12.yml"}[edit]
    path.write_text(path.read_text() + ("\n" if edit == "partner" else "\n# edited\n"))
    calls = []
    _texts(lambda: calls.append(1) or dataset.dataset())
    assert calls == [1]


def test_a_damaged_kept_file_is_computed_again(fetched):
    first = _texts(dataset.dataset)
    (kept,) = (config.work_dir() / "downloads").glob("*.json")
    kept.write_bytes(kept.read_bytes()[:-5])
    calls = []
    assert _texts(lambda: calls.append(1) or dataset.dataset()) == first
    assert calls == [1]
