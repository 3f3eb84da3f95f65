"""The open sources as the rest of cspbook sees them: every cached file read once (by its
layout's reader), the newest refresh chosen for each measure and period, the values that a
plausibility rule of ``data/sources.yml`` refuses set aside with their reason.

Nothing downstream knows which reader a figure came from: each source is one long frame
(area, period, measure, value, file, refresh, level) in :attr:`OpenData.frames`."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from cspbook.definitions.sources import Registry, registry

REFUSED = ["source", "area", "period", "measure", "value", "file", "rule", "reason"]


@dataclass(frozen=True)
class OpenData:
    """The open sources of the cache: ``manifest`` (None when none were fetched), one long
    frame per source id, the refused values and the registry they were read with."""

    manifest: dict | None = None
    frames: dict = field(default_factory=dict)
    refused: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=REFUSED))
    changes: pd.DataFrame | None = None  # every year's changes of the monthly open indicators (open_indicators)

    def frame(self, source_id: str) -> pd.DataFrame:
        """The long frame of a source (empty, with the columns, when it has no file)."""
        if source_id in self.frames:
            return self.frames[source_id]
        return pd.DataFrame(columns=["area", "period", "measure", "value", "file", "refresh", "level"])

    def sha256(self) -> dict:
        """File name in the cache -> sha256, for provenance."""
        return {f["name"]: f["sha256"] for f in (self.manifest or {}).get("files", [])}

    def entry(self, name: str) -> dict:
        return next((f for f in (self.manifest or {}).get("files", []) if f["name"] == name), {})


# Layouts whose files no indicator reads as a long frame: the ward files (checked whole by
# `cspbook fetch`) are read ward by ward by cspbook.compute.wards; as a frame they were two
# thirds of the dataset that every page of every book unpickles.
READ_ELSEWHERE = {"ward_wide"}


def load(manifest: dict | None, folder: Path, reg: Registry | None = None) -> OpenData:
    """Read every file of the open manifest (``folder`` is the open cache) but those of
    :data:`READ_ELSEWHERE`."""
    reg = reg or registry()
    if not manifest or not manifest.get("files"):
        return OpenData(manifest)
    parts: dict = {}
    for entry in manifest["files"]:
        source = reg.sources.get(entry["series"])
        if source is None:
            continue  # a source since removed from data/sources.yml
        if source.layout in READ_ELSEWHERE:
            continue
        frame = _read(folder / entry["name"], entry, source, reg)
        parts.setdefault(source.id, []).append(frame)
    frames = {sid: newest(pd.concat(p, ignore_index=True)) for sid, p in parts.items()}
    frames, refused = plausible(frames, reg)
    return OpenData(manifest, frames, refused)


def _read(path: Path, entry: dict, source, reg: Registry) -> pd.DataFrame:
    """A file's long frame (parsed once per process for its sha256), named as in the cache."""
    from cspbook.data.opendata import readers

    return readers.read(path, source, reg, sha256=entry["sha256"]).assign(file=entry["name"])


def newest(frame: pd.DataFrame) -> pd.DataFrame:
    """For each measure and period, the rows of the one file with the newest refresh that
    has it (for any area): a month a later refresh gives is taken from it whole, so an area
    the later refresh leaves out (a zero) is not filled from an older one.

    >>> f = pd.DataFrame({"area": ["A", "B", "A"], "period": ["2024-01"] * 3, "measure": ["m"] * 3,
    ...     "value": [1.0, 2.0, 3.0], "file": ["old", "old", "new"], "refresh": ["2025-08-02"] * 2 + ["2026-03-18"],
    ...     "level": ["local"] * 3})
    >>> newest(f)[["area", "value", "file"]].values.tolist()
    [['A', 3.0, 'new']]
    """
    if frame.empty or frame["file"].nunique() < 2:
        return frame.reset_index(drop=True)
    stamp = frame.groupby(["measure", "period", "file"], sort=False, observed=True)["refresh"].max().reset_index()
    stamp = stamp.sort_values(["refresh", "file"]).drop_duplicates(["measure", "period"], keep="last")
    keep = frame.merge(stamp[["measure", "period", "file"]], on=["measure", "period", "file"], how="inner")
    return keep.reset_index(drop=True)


def plausible(frames: dict, reg: Registry) -> tuple[dict, pd.DataFrame]:
    """The frames without the values a plausibility rule refuses, and the refused rows
    with the rule and its reason. ``within_local_range``: a value of one of the rule's areas
    must lie within the range of the local authorities' values for its measure and period."""
    refused = []
    frames = dict(frames)
    for rule in reg.plausibility:
        frame = frames.get(rule.source)
        if frame is None or frame.empty:
            continue
        local = frame[frame["level"] == "local"].groupby(["measure", "period"])["value"].agg(["min", "max"])
        mine = frame[frame["area"].isin(rule.areas)].join(local, on=["measure", "period"])
        bad = mine[(mine["value"] < mine["min"]) | (mine["value"] > mine["max"])]
        if len(bad):
            refused.append(bad[["area", "period", "measure", "value", "file"]].assign(
                source=rule.source, rule=rule.id, reason=rule.reason))
            frames[rule.source] = frame.drop(index=bad.index).reset_index(drop=True)
    out = pd.concat(refused, ignore_index=True)[REFUSED] if refused else pd.DataFrame(columns=REFUSED)
    return frames, out


def population(data: OpenData, measure: str = "all ages") -> pd.DataFrame:
    """Residents by area and mid-year: columns area, year (int), value, file, refresh, basis.
    The ONS estimates first; DfE's children only for a mid-year no ONS file gives."""
    ons = data.frame("ons_mye")
    ons = ons[ons["measure"] == measure]
    if measure == "aged 0-17":
        dfe = data.frame("dfe_children_population")
        dfe = dfe[~dfe["period"].isin(set(ons["period"]))]
        ons = pd.concat([ons, dfe[dfe["measure"] == measure]], ignore_index=True)
    out = ons.assign(year=ons["period"].astype(int))
    out = out.sort_values(["year", "refresh"]).drop_duplicates(["area", "year"], keep="last")
    out["basis"] = np.where(out["year"] >= 2021, "Census 2021 based", "Census 2011 based")
    return out[["area", "year", "value", "file", "refresh", "basis"]].reset_index(drop=True)
