"""The CSV downloads of a year (its indicator table; every borough's headline figures side by
side), kept by what they are computed from: data, definitions (the partner figures and the
report configurations among them), library, Python, pandas and numpy, borough and period. A build whose inputs
are those of an earlier build (a template edited, a notebook rerun) writes the same texts
without loading the dataset."""

from __future__ import annotations

import json
import sys
from importlib import metadata

from cspbook import config, fingerprint, integrity
from cspbook.execute import plan

KEEP = 32  # the newest used: a few books (years, boroughs) over a few edits


def key(manifest: dict, borough: str, period) -> str:
    partner = fingerprint.tree(config.definitions_dir() / "partner", "*.*")  # the rest is in inputs_digest
    versions = f"{sys.version} pandas {metadata.version('pandas')} numpy {metadata.version('numpy')}"
    return fingerprint.digest(b"downloads", plan.inputs_digest(manifest), partner.encode(), borough.encode(),
                              period.text.encode(), versions.encode())


def texts(manifest: dict, borough: str, configs: dict, spans: dict, data) -> dict[int, tuple[str, str]]:
    """Each year's (indicator table, London side by side) as CSV text. ``data``: a callable
    giving the dataset, called only when a year's texts are not kept (computing the table checks
    the year's figures: a kept text was checked when it was computed from the same inputs)."""
    out = {}
    for year, report in configs.items():
        path = config.work_dir() / "downloads" / f"{key(manifest, borough, spans[year])}.json"
        payload = integrity.read_kept(path)
        if payload is not None:
            out[year] = tuple(json.loads(bytes(payload)))
            continue
        from cspbook.compute import csvtext, london, table

        found = data()
        out[year] = (csvtext.to_csv(table.indicator_table(found, report, period=spans[year])),
                     csvtext.to_csv(london.side_by_side_for(found, spans[year], report.headline)))
        integrity.write_kept(path, json.dumps(out[year]).encode(), KEEP)
    return out
