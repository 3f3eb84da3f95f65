"""The reader of each layout, and :func:`read`: one file of an open source as a long frame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cspbook.data import boundaries, parsed, wards
from cspbook.data.opendata import layouts, population
from cspbook.definitions.sources import OpenSource, Registry

READERS = {
    "dashboard_long": layouts.dashboard_long,
    "survey_proportions": layouts.survey_proportions,
    "rates_by_year": layouts.rates_by_year,
    "viewit_export": layouts.viewit_export,
    "population_by_age": population.population_by_age,
    "children_population": population.children_population,
    "boundaries_geojson": boundaries.layout_reader,  # the outlines the maps draw (pages.maps)
    "ward_wide": wards.layout_reader,  # offences by ward (compute.wards); as a long frame, summed by borough
}


def read(path: Path, source: OpenSource, registry: Registry, sha256: str | None = None) -> pd.DataFrame:
    """One file of ``source``, read by its layout's reader and checked (DataFileError, exit
    2, naming the file, row and column of a missing column, bad number, duplicate row or
    unknown measure): columns area, period, measure, value, file, refresh, level.

    With the file's ``sha256`` the frame is parsed once (:mod:`cspbook.data.parsed`): a fetch
    checks a file, and the build after it reads the frame the fetch made."""
    if sha256 is None:
        return READERS[source.layout](Path(path), source, registry.area_aliases)
    name = parsed.key(sha256, "open source", Path(path).name, source.id, source.layout, repr(source.known),
                      repr(source.select), repr(sorted(registry.area_aliases.items())))
    return parsed.frame(name, lambda: READERS[source.layout](Path(path), source, registry.area_aliases))
