"""London borough boundaries (the Datastore's ``London_Borough_Excluding_MHW`` as GeoJSON, in
British National Grid metres): each area's outline as plain arrays, read with ``json`` and
numpy alone.

Measured against geopandas/shapely (``benchmarks/map_reader.py``): the 33 outlines need no
geometry operation beyond drawing them; a first map this way took 0.19 s and added 20 MiB to a
warm kernel, against 0.35 s and 62 MiB with geopandas (its imports, pyogrio, shapely, pyproj).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cspbook.errors import DataFileError

NAME_FIELD = "NAME"
CODE_FIELD = "GSS_CODE"
# British National Grid (EPSG:27700) eastings and northings of Greater London, in metres: a
# file in longitude and latitude (the wgs84/ copy) is refused rather than drawn squashed.
BNG_BOX = ((480_000, 150_000), (580_000, 210_000))
CITY = "City of London"  # policed separately: in the file, drawn grey, never counted
FIX = "use the British National Grid copy of London_Borough_Excluding_MHW.geojson (boundaries/bng/)"


@dataclass(frozen=True)
class Area:
    """One area: its name, GSS code and outer rings (each an (n, 2) array of metres)."""

    name: str
    code: str
    rings: tuple

    @property
    def label_point(self) -> tuple[float, float]:
        """Where to write the area's name: the centre of the vertices of its largest ring."""
        ring = max(self.rings, key=len)
        return float(ring[:, 0].mean()), float(ring[:, 1].mean())


@dataclass(frozen=True)
class Boundaries:
    """Every area of the file, by name, in the file's order."""

    source: str
    areas: tuple

    @property
    def names(self) -> list[str]:
        return [a.name for a in self.areas]

    def __getitem__(self, name: str) -> Area:
        for area in self.areas:
            if area.name == name:
                return area
        raise KeyError(name)


def read(path: Path) -> Boundaries:
    """The areas of a GeoJSON FeatureCollection of Polygons and MultiPolygons.

    A missing property, a geometry of another kind or coordinates outside London's grid box
    raise DataFileError naming the file, the feature and the fix.
    """
    path = Path(path)
    return Boundaries(str(path), tuple(_area(path, i, f) for i, f in enumerate(_features(path), 1)))


def _features(path: Path) -> list:
    """The features of the GeoJSON FeatureCollection at ``path`` (DataFileError when it is not one)."""
    try:
        doc = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise DataFileError(path, f"cannot be read as GeoJSON ({exc})", fix=FIX) from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list) or not features:
        raise DataFileError(path, "holds no 'features' list; a GeoJSON FeatureCollection was expected", fix=FIX)
    return features


def _properties(path: Path, number: int, feature) -> dict:
    """The feature's properties; DataFileError when it has no area name."""
    props = (feature.get("properties") or {}) if isinstance(feature, dict) else {}
    name = props.get(NAME_FIELD)
    if not isinstance(name, str) or not name.strip():
        raise DataFileError(path, f"feature {number} has no '{NAME_FIELD}' property; found {sorted(props)}",
                            column=NAME_FIELD, fix=FIX)
    return props


def _area(path: Path, number: int, feature) -> Area:
    where = f"feature {number}"
    props = _properties(path, number, feature)
    name, code = props[NAME_FIELD], props.get(CODE_FIELD)
    geometry = feature.get("geometry") or {}
    kind, coords = geometry.get("type"), geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon") or not isinstance(coords, list):
        raise DataFileError(path, f"{where} ({name}) is a {kind!r}, not a Polygon or MultiPolygon", fix=FIX)
    polygons = [coords] if kind == "Polygon" else coords
    try:
        rings = tuple(np.asarray(polygon[0], dtype="float64")[:, :2] for polygon in polygons)
    except (ValueError, IndexError, TypeError):
        raise DataFileError(path, f"{where} ({name}) has coordinates that are not pairs of numbers", fix=FIX) from None
    (x0, y0), (x1, y1) = BNG_BOX
    for ring in rings:
        if not ((ring[:, 0] >= x0) & (ring[:, 0] <= x1) & (ring[:, 1] >= y0) & (ring[:, 1] <= y1)).all():
            raise DataFileError(path, f"{where} ({name}) lies outside London's British National Grid box "
                                f"(eastings {x0:,}-{x1:,}, northings {y0:,}-{y1:,} metres)", fix=FIX)
    return Area(name.strip(), str(code or ""), rings)


FILE_NAME = "London_Borough_Excluding_MHW.geojson"


def cached(cache: Path) -> Path | None:
    """The British National Grid boundary file among the open files in the cache
    (``<cache>/open/``, at any depth, in a folder named ``bng``), or None when there is none."""
    folder = Path(cache) / "open"
    found = sorted(p for p in folder.rglob(FILE_NAME) if p.parent.name.lower() == "bng") if folder.is_dir() else []
    return found[0] if found else None


def layout_reader(path: Path, source=None, aliases=None):
    """The ``boundaries_geojson`` layout of ``data/sources.yml`` (what `cspbook fetch` checks and
    the manifest summarises): one row per area, its hectares. Both copies the publisher offers
    (British National Grid and longitude/latitude) pass; the maps draw the first (:func:`cached`).

    Each feature is a row of the file (a message names it by its number): an area that is
    neither a borough nor the City of London, an area listed twice or hectares that are not a
    number stop the fetch."""
    import pandas as pd

    from cspbook import definitions
    from cspbook.definitions.sources import area_key

    path = Path(path)
    known = {area_key(b): b for b in (*definitions.boroughs(), CITY)}
    known.update({k: v for k, v in (aliases or {}).items() if area_key(v) in known})
    names, hectares, first = [], [], {}
    for i, feature in enumerate(_features(path), 1):
        props = _properties(path, i, feature)
        name = known.get(area_key(props[NAME_FIELD]))
        if name is None:
            raise DataFileError(path, f"feature {i}: unknown area '{props[NAME_FIELD]}'; the file holds London's "
                                f"{len(known) - 1} boroughs and the {CITY}", column=NAME_FIELD, fix=FIX)
        if name in first:
            raise DataFileError(path, f"feature {i}: {name} is listed twice (first as feature {first[name]})",
                                column=NAME_FIELD, fix=FIX)
        first[name] = i
        value = props.get("HECTARES")
        try:
            number = float("nan") if value in (None, "") else float(value)
        except (TypeError, ValueError):
            number = -1.0
        if not number >= 0 and value not in (None, ""):
            raise DataFileError(path, f"feature {i} ({name}): '{value}' is not a number of hectares",
                                column="HECTARES", fix=FIX)
        names.append(name)
        hectares.append(number)
    return pd.DataFrame({"area": names, "period": "", "measure": "hectares", "value": hectares, "file": path.name,
                         "refresh": "", "level": "local"})


