"""The dataset behind every figure (cspbook.compute.dataset): computed once per data version and
read back from disk; a missing borough is refused."""

from __future__ import annotations

import pandas as pd
import pytest

from cspbook.compute import dataset
from cspbook.errors import DataFileError


def small_dataset(manifest: dict) -> dataset.Dataset:
    frame = pd.DataFrame({"indicator": ["burglary"], "borough": ["Barnet"], "count": [3]})
    months = pd.period_range("2011-04", periods=12, freq="M")
    return dataset.Dataset({}, manifest, frame, frame, frame, frame, months, ("a_series",))


def test_the_dataset_is_computed_once_then_read_from_disk(tmp_path, monkeypatch):
    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    (tmp_path / "data").mkdir()
    built = []
    monkeypatch.setattr(dataset, "build", lambda manifest, cache: built.append(1) or small_dataset(manifest))
    manifest = {"files": [{"name": "a.csv", "sha256": "0" * 64}]}
    cache = tmp_path / "data" / "raw"
    first = dataset._saved_or_built(manifest, cache)
    path = dataset.saved_path(manifest, cache)
    assert path.exists() and path.parent == tmp_path / ".cspbook" / "dataset"
    second = dataset._saved_or_built(manifest, cache)
    assert len(built) == 1
    pd.testing.assert_frame_equal(first.changes, second.changes)
    assert second.months.equals(first.months)
    path.write_bytes(b"cut short")  # an unreadable file is rebuilt and replaced
    dataset._saved_or_built(manifest, cache)
    dataset._saved_or_built(manifest, cache)
    assert len(built) == 2
    changed = {"files": [{"name": "a.csv", "sha256": "1" * 64}]}
    assert dataset.saved_path(changed, cache) != path
    dataset._saved_or_built(changed, cache)
    assert [p.name for p in path.parent.glob("*.pickle")] == [dataset.saved_path(changed, cache).name]  # old one pruned


def test_the_saved_dataset_depends_on_the_definitions(tmp_path, monkeypatch):
    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "indicators.yml").write_text("indicators: []\n")
    manifest = {"files": [{"name": "a.csv", "sha256": "0" * 64}]}
    before = dataset.saved_path(manifest, tmp_path / "data" / "raw")
    (tmp_path / "data" / "indicators.yml").write_text("indicators: [x]\n")
    assert dataset.saved_path(manifest, tmp_path / "data" / "raw") != before


def test_a_file_that_misses_a_borough_is_refused(tmp_path):
    wide = pd.DataFrame({"borough": ["Barnet", "London Heathrow and London City Airports"]})
    with pytest.raises(DataFileError) as caught:
        dataset.check_boroughs([wide], [tmp_path / "a.csv"], ["Barnet", "Camden", "Brent"])
    assert str(caught.value) == (
        f"{tmp_path / 'a.csv'}: no rows for the borough 'Camden' (and 1 more); a borough-level MPS file "
        "lists all 3 boroughs. Fetch the file again (`cspbook fetch`) or restore the missing rows"
    )


def test_the_saved_dataset_depends_on_the_library_in_every_stage_package(tmp_path, monkeypatch):
    """The code that computes the dataset lives in stage packages (compute/, data/, ...): a
    change there must give another key, not the pickle of the old code."""
    import shutil

    from cspbook import config

    monkeypatch.setenv("CSPBOOK_HOME", str(tmp_path))
    (tmp_path / "data").mkdir()
    library = tmp_path / "library"
    shutil.copytree(config.PACKAGE_DIR, library, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(config, "PACKAGE_DIR", library)
    manifest = {"files": [{"name": "a.csv", "sha256": "0" * 64}]}
    before = dataset.saved_path(manifest, tmp_path / "data" / "raw")
    code = library / "compute" / "indicators.py"
    code.write_text(code.read_text() + "\n# a change to how indicators are computed\n")
    assert dataset.saved_path(manifest, tmp_path / "data" / "raw") != before
