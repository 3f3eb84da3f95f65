"""Files parsed once (cspbook.data.parsed, issue 21): the frames `cspbook fetch` made while it
checked the open files are the ones the build reads, in another process; a damaged kept frame,
or a change of what a reader consults, means the file is parsed again."""

from __future__ import annotations


import pandas as pd
import pytest

from cspbook import config, integrity
from cspbook.compute import opendata
from cspbook.data import parsed, wards
from cspbook.data.opendata import fetch as open_fetch
from cspbook.data.opendata import readers
from cspbook.definitions.sources import registry


def _entry(series: str) -> dict:
    manifest = open_fetch.verified_manifest()
    return next(e for e in manifest["files"] if e["series"] == series)


def _counting(monkeypatch, layout: str) -> list:
    """Count the calls of a layout's reader (it still reads)."""
    calls, real = [], readers.READERS[layout]
    monkeypatch.setitem(readers.READERS, layout, lambda *a, **k: calls.append(a[0]) or real(*a, **k))
    return calls


def test_the_fetch_kept_what_it_parsed_and_a_new_process_reads_it_without_parsing(fetched, monkeypatch):
    assert len(list((config.work_dir() / "parsed").glob("*.pickle"))) >= 10  # every open file the fetch checked
    parsed.clear()  # as a new process
    calls = _counting(monkeypatch, "population_by_age")
    entry, reg = _entry("ons_mye"), registry()
    path = open_fetch.cache_dir() / entry["name"]
    kept = readers.read(path, reg.sources["ons_mye"], reg, sha256=entry["sha256"])
    assert calls == []
    fresh = readers.read(path, reg.sources["ons_mye"], reg)  # no sha256: parsed now
    assert calls == [path]
    pd.testing.assert_frame_equal(kept, fresh, check_exact=True)
    kept["value"] = -1.0  # the caller's copy: what is kept is untouched
    again = readers.read(path, reg.sources["ons_mye"], reg, sha256=entry["sha256"])
    pd.testing.assert_frame_equal(again, fresh, check_exact=True)


def test_a_damaged_kept_frame_is_parsed_again_and_replaced(fetched, monkeypatch):
    parsed.clear()
    entry, reg = _entry("mopac_pas"), registry()
    path = open_fetch.cache_dir() / entry["name"]
    source = reg.sources["mopac_pas"]
    name = parsed.key(entry["sha256"], "open source", path.name, source.id, source.layout, repr(source.known), repr(source.select),
                      repr(sorted(reg.area_aliases.items())))
    kept = config.work_dir() / "parsed" / f"{name}.pickle"
    assert kept.is_file(), "the name readers.read gives this file's frame"
    data = bytearray(kept.read_bytes())
    data[-10] ^= 0xFF
    kept.write_bytes(bytes(data))
    calls = _counting(monkeypatch, source.layout)
    frame = readers.read(path, source, reg, sha256=entry["sha256"])
    assert calls == [path]
    assert integrity.read_sealed(kept)[1] == "", "the parse replaced the damaged file"
    pd.testing.assert_frame_equal(frame, readers.READERS[source.layout](path, source, reg.area_aliases), check_exact=True)


def test_a_change_of_the_definitions_names_another_frame(fetched):
    before = parsed.key("0" * 64, "ward file", "x.csv")
    classification = config.definitions_dir() / "classification.yml"
    classification.write_text(classification.read_text() + "\n# a comment\n")
    assert parsed.key("0" * 64, "ward file", "x.csv") != before


def test_the_ward_files_read_by_the_build_are_the_fetch_s_and_name_the_path_they_were_read_at(fetched, monkeypatch):
    parsed.clear()
    paths = wards.find(config.cache_dir())
    assert paths
    monkeypatch.setattr(wards, "read", lambda path: pytest.fail(f"{path} parsed again"))
    frame = wards.read_once(paths[0])
    assert frame.attrs["path"] == str(paths[0])
    assert frame.attrs["classification"]


def test_opendata_from_kept_frames_equals_opendata_parsed_now(fetched, monkeypatch):
    manifest = open_fetch.verified_manifest()
    parsed.clear()
    kept = opendata.load(manifest, open_fetch.cache_dir())
    parsed.clear()
    monkeypatch.setattr(parsed, "_load", lambda name: None)  # nothing kept: every file parsed
    now = opendata.load(manifest, open_fetch.cache_dir())
    assert sorted(kept.frames) == sorted(now.frames)
    for source_id in kept.frames:
        pd.testing.assert_frame_equal(kept.frames[source_id], now.frames[source_id], check_exact=True, obj=source_id)
    pd.testing.assert_frame_equal(kept.refused, now.refused, check_exact=True)
