"""The reader of each layout, and :func:`read`: one file of an open source as a long frame."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from cspbook.data.opendata import layouts, population
from cspbook.definitions.sources import OpenSource, Registry

READERS = {
    "dashboard_long": layouts.dashboard_long,
    "survey_proportions": layouts.survey_proportions,
    "rates_by_year": layouts.rates_by_year,
    "viewit_export": layouts.viewit_export,
    "population_by_age": population.population_by_age,
    "children_population": population.children_population,
}


_MEMO: dict = {}


def read(path: Path, source: OpenSource, registry: Registry, sha256: str | None = None) -> pd.DataFrame:
    """One file of ``source``, read by its layout's reader and checked (DataFileError, exit
    2, naming the file, row and column of a missing column, bad number, duplicate row or
    unknown measure): columns area, period, measure, value, file, refresh, level.

    With the file's ``sha256`` the frame is memoised in the process (a fetch checks a file
    and the dataset reads it again; test trees share the same files): parsed once."""
    if sha256 is None:
        return READERS[source.layout](Path(path), source, registry.area_aliases)
    key = (sha256, Path(path).name, source.id, source.layout, repr(source.known), repr(source.select),
           repr(sorted(registry.area_aliases.items())))
    if key not in _MEMO:
        if len(_MEMO) > 32:
            _MEMO.clear()
        _MEMO[key] = READERS[source.layout](Path(path), source, registry.area_aliases)
    return _MEMO[key].copy()
