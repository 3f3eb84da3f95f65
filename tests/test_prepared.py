"""The page context a build computes once (cspbook.pages.prepared, issue 21): what a page loads
is what it would have computed, each page gets its own copy, and a damaged or missing entry
(or no build at all) means the page computes its context itself."""

from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pandas as pd

from cspbook import config, integrity
from cspbook.execute import snapshot
from cspbook.pages import context, prepared

BOROUGH = "Barking and Dagenham"


def _params(home) -> dict:
    return {"borough": BOROUGH, "year": "2011-12", "home": str(home)}


def _same(a, b, where="ctx") -> None:
    """Field by field: frames exactly equal (values, dtypes, index), everything else ==."""
    assert type(a) is type(b), where
    if dataclasses.is_dataclass(a):
        for field in dataclasses.fields(a):
            _same(getattr(a, field.name), getattr(b, field.name), f"{where}.{field.name}")
    elif isinstance(a, pd.DataFrame):
        pd.testing.assert_frame_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, pd.Series):
        pd.testing.assert_series_equal(a, b, check_exact=True, obj=where)
    elif isinstance(a, pd.Index):
        pd.testing.assert_index_equal(a, b, exact=True, obj=where)
    elif isinstance(a, np.ndarray):
        np.testing.assert_array_equal(a, b, err_msg=where, strict=True)
    elif isinstance(a, dict):
        assert list(a) == list(b), where
        for key in a:
            _same(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            _same(x, y, f"{where}[{i}]")
    elif hasattr(a, "__dict__") and not isinstance(a, type):
        _same(vars(a), vars(b), where)
    else:
        assert a == b, where


def test_a_prepared_context_is_the_computed_one_and_each_load_is_a_fresh_copy(fetched):
    inputs = snapshot.take()
    with snapshot.reading(inputs):
        written = prepared.prepare([_params(fetched), _params(fetched) | {"priority": "asb"}])
        assert len(written) == 1 and written[0].parent == config.work_dir() / "context"
        computed = context.compute(BOROUGH, "2011-12", str(fetched))
        loaded = context.context(BOROUGH, "2011-12", str(fetched))
        _same(loaded, computed)
        first = loaded.table.columns[0]
        loaded.table[first] = "changed by a page"  # a page that writes into its context...
        again = prepared.load(BOROUGH, "2011-12", str(fetched))
        pd.testing.assert_frame_equal(again.table, computed.table)  # ...changes no other page's
        assert again is not loaded


def test_a_damaged_entry_or_no_build_means_the_page_computes_it(fetched):
    assert prepared.load(BOROUGH, "2011-12", str(fetched)) is None  # outside a build: no snapshot
    assert prepared.prepare([_params(fetched)]) == []
    inputs = snapshot.take()
    with snapshot.reading(inputs):
        [entry] = prepared.prepare([_params(fetched)])
        data = bytearray(entry.read_bytes())
        data[-10] ^= 0xFF
        entry.write_bytes(bytes(data))
        assert prepared.load(BOROUGH, "2011-12", str(fetched)) is None
        assert context.context(BOROUGH, "2011-12", str(fetched)).borough == BOROUGH
        [again] = prepared.prepare([_params(fetched)])  # rewritten whole
        assert prepared.load(BOROUGH, "2011-12", str(fetched)) is not None
        other = prepared.prepare([_params(fetched) | {"year": "2010-11"}])
        assert not again.exists() and sorted(p.name for p in other[0].parent.iterdir()) == sorted([other[0].name, _shared(other[0]).name])


def _shared(entry):
    """The file of what an entry's contexts hold alike (the dataset, wards, outlines, London)."""
    return entry.parent / pickle.loads(integrity.read_sealed(entry)[0])[0]


def test_a_damaged_shared_part_means_the_page_computes_it_and_the_next_build_writes_it_again(fetched):
    inputs = snapshot.take()
    with snapshot.reading(inputs):
        [entry] = prepared.prepare([_params(fetched)])
        shared = _shared(entry)
        data = bytearray(shared.read_bytes())
        data[-10] ^= 0xFF
        shared.write_bytes(bytes(data))
        prepared._READ.clear()  # as in a kernel that has not read it yet (one that has keeps the bytes it verified)
        assert prepared.load(BOROUGH, "2011-12", str(fetched)) is None
        assert prepared.prepare([_params(fetched)]) == [entry]
        _same(prepared.load(BOROUGH, "2011-12", str(fetched)), context.compute(BOROUGH, "2011-12", str(fetched)))


def test_an_edit_that_leaves_the_data_rewrites_the_small_file_only(fetched):
    """The preview's rebuild after a partner figure changed: the contexts are sealed again, the
    30-60 MB they share (same objects, kept in ``shared``) is not written again."""
    kept: dict = {}
    with snapshot.reading(snapshot.take(), keep_dataset=True):
        [first] = prepared.prepare([_params(fetched)], kept)
        shared = _shared(first)
        written = shared.stat().st_mtime_ns, shared.stat().st_ino
    partner = fetched / "data" / "partner" / "barking-and-dagenham-2011-12.csv"
    partner.write_text(partner.read_text(encoding="utf-8").replace("drug_treatment_completion,57,63,",
                                                                   "drug_treatment_completion,57,64,"), encoding="utf-8")
    with snapshot.reading(snapshot.take(), keep_dataset=True):
        [second] = prepared.prepare([_params(fetched)], kept)
        assert second != first and not first.exists()
        assert _shared(second) == shared and (shared.stat().st_mtime_ns, shared.stat().st_ino) == written
        loaded = prepared.load(BOROUGH, "2011-12", str(fetched))
        assert loaded.partner.set_index("indicator").at["drug_treatment_completion", "value"] == 64
        computed = context.compute(BOROUGH, "2011-12", str(fetched))
        # the outlines kept from the first snapshot name the file there (the same bytes; no page shows it)
        assert Path(loaded.boundaries.source).name == Path(computed.boundaries.source).name
        loaded.boundaries = dataclasses.replace(loaded.boundaries, source=computed.boundaries.source)
        _same(loaded, computed)


def test_one_entry_holds_every_borough_of_a_year_and_stores_what_they_share_once(fetched):
    """The London edition prepares 32 boroughs: their dataset, wards and outlines are pickled once."""
    other = "Newham"
    inputs = snapshot.take()
    with snapshot.reading(inputs):
        [alone] = prepared.prepare([_params(fetched)])
        size_one = alone.stat().st_size + _shared(alone).stat().st_size
        [both] = prepared.prepare([_params(fetched), _params(fetched) | {"borough": other}])
        size_both = both.stat().st_size + _shared(both).stat().st_size
        assert both == alone and size_both < 1.2 * size_one  # the shared part is not stored twice
        for name in (BOROUGH, other):
            loaded = prepared.load(name, "2011-12", str(fetched))
            assert loaded.borough == name
            _same(loaded, context.compute(name, "2011-12", str(fetched)), name)
        assert prepared.load("Camden", "2011-12", str(fetched)) is None  # not prepared: computed by the page
        assert context.context("Camden", "2011-12", str(fetched)).borough == "Camden"


def test_the_reconciliation_is_computed_once_while_its_inputs_stay_and_again_after_a_published_figure_changed(fetched):
    shared: dict = {}
    inputs = snapshot.take()
    with snapshot.reading(inputs):
        first = context.compute(BOROUGH, "2011-12", str(fetched), shared)
        again = context.compute(BOROUGH, "2011-12", str(fetched), shared)
        assert again.reconciliation is first.reconciliation  # a partner figure's edit does not recompute it
    published = fetched / "data" / "published" / "barking-and-dagenham-2011-12.csv"
    text = published.read_text()
    assert "violence_with_injury,-7.2," in text
    published.write_text(text.replace("violence_with_injury,-7.2,", "violence_with_injury,-5.7,"))
    inputs = snapshot.take()
    with snapshot.reading(inputs):
        changed = context.compute(BOROUGH, "2011-12", str(fetched), shared)
        assert changed.reconciliation is not first.reconciliation
        assert -5.7 in changed.reconciliation["published_change_pct"].tolist()
        pd.testing.assert_frame_equal(changed.reconciliation, table_reconciliation(changed))


def table_reconciliation(ctx):
    from cspbook.compute import table

    return table.reconciliation(ctx.data, ctx.report, ctx.published)
