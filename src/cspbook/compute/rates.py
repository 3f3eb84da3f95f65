"""Rates per 1,000 residents: population per borough and mid-year (ONS estimates), and a
count's rate beside it, London's (the 32 boroughs' counts over their population; the City of
London is policed separately and left out) and the borough's rank of 32 by rate.

The population of a financial year is the mid-year estimate inside it (mid-2024 for
2024-25). A year with no estimate in the data has no rate (no interpolation); a change of
rate across mid-2021, where the estimates move from the 2011 to the 2021 Census basis, says so.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from cspbook import definitions
from cspbook.compute import opendata

BASIS_YEAR = 2021  # the first mid-year estimate on the 2021 Census basis

RATE_COLUMNS = ["rate_per_1000", "previous_rate_per_1000", "london_rate_per_1000", "rate_rank", "population",
                "population_source", "rate_note"]


def mid_year(year: int) -> int:
    """The mid-year estimate inside a financial year (30 June of its first calendar year).

    >>> mid_year(2024)
    2024
    """
    return int(year)


def populations(open_data, measure: str = "all ages") -> pd.DataFrame:
    """Borough x mid-year residents (columns: borough, year, population, file, basis), the
    32 boroughs only, and London (the 32 summed) for each mid-year that has all 32."""
    if open_data is None:
        return pd.DataFrame(columns=["borough", "year", "population", "file", "basis"])
    pop = opendata.population(open_data, measure)
    boroughs = list(definitions.boroughs())
    pop = pop[pop["area"].isin(boroughs)].rename(columns={"area": "borough", "value": "population"})
    complete = pop.groupby("year")["borough"].nunique()
    full = complete[complete == len(boroughs)].index
    london = (pop[pop["year"].isin(full)].groupby("year")
              .agg(population=("population", "sum"), file=("file", "first"), basis=("basis", "first")).reset_index())
    london["borough"] = "London"
    return pd.concat([pop[["borough", "year", "population", "file", "basis"]], london], ignore_index=True)


def population(open_data, borough: str, year: int, measure: str = "all ages") -> float | None:
    """Residents of a borough (or 'London') in the mid-year estimate of a financial year;
    None when the data have no estimate for it."""
    pop = populations(open_data, measure)
    hit = pop[(pop["borough"] == borough) & (pop["year"] == mid_year(year))]
    return float(hit["population"].iloc[0]) if len(hit) else None


def with_rates(changes: pd.DataFrame, pop: pd.DataFrame) -> pd.DataFrame:
    """``changes`` (indicator, series, borough, year, value, previous_value; every borough)
    with the columns of ``RATE_COLUMNS``: rates per 1,000 residents, London's, the rank of 32
    by rate (1 = the highest rate, as on the London page), the population used and a note for a missing estimate or
    a change of basis."""
    out = changes.copy()
    if out.empty:
        for col in RATE_COLUMNS:
            out[col] = pd.Series(dtype="object")
        return out
    years = out["year"].astype(int)
    years = years.map({year: mid_year(year) for year in years.unique()})
    said = pop.assign(said=[f"ONS mid-{y} estimate ({b}): {p:,.0f} residents; {f}" if not pd.isna(p) else ""
                            for p, y, b, f in zip(pop["population"], pop["year"], pop["basis"], pop["file"])])
    by = said.set_index(["borough", "year"])
    areas, mid = out["borough"].to_numpy(), years.to_numpy()
    here = by.reindex(pd.MultiIndex.from_arrays([areas, mid]))
    before = by.reindex(pd.MultiIndex.from_arrays([areas, mid - 1]))
    london = by.reindex(pd.MultiIndex.from_arrays([np.full(len(out), "London", dtype=object), mid]))
    out["population"] = here["population"].to_numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        out["rate_per_1000"] = out["value"].to_numpy(dtype="float64") / out["population"].to_numpy() * 1000
        out["previous_rate_per_1000"] = (out["previous_value"].to_numpy(dtype="float64")
                                         / before["population"].to_numpy() * 1000)
    group = [c for c in ("indicator", "series", "year") if c in out]
    # London: the 32 boroughs' counts over their population (the frame holds every borough;
    # the City of London, policed separately, and areas that are not boroughs are left out)
    boroughs = out["borough"].isin(list(definitions.boroughs()))
    counts = out["value"].where(boroughs).groupby([out[c] for c in group]).transform("sum", min_count=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out["london_rate_per_1000"] = counts.to_numpy(dtype="float64") / london["population"].to_numpy() * 1000
    out["rate_rank"] = out.groupby(group)["rate_per_1000"].rank(ascending=False, method="min").astype("Int64")
    out["population_source"] = here["said"].astype(object).fillna("").to_numpy()  # all missing: float64
    missing = {year: f"no population estimate for mid-{year} in the data, so no rate (none is interpolated)"
               for year in years.unique()}
    note = np.where(out["population"].isna(), years.map(missing), "")
    spans = (years - 1 < BASIS_YEAR) & (years >= BASIS_YEAR) & out["previous_rate_per_1000"].notna()
    note = np.where(spans & (note == ""), "the population estimates change basis in mid-2021 (2011 to 2021 Census), "
                    "so part of the change in rate is a change of basis", note)
    out["rate_note"] = note
    return out


RANK_INTERVAL_COLUMNS = ["rate_rank_low", "rate_rank_high"]


def with_rank_intervals(rows: pd.DataFrame, value: str = "value", population: str | None = "population",
                        prefix: str = "rate_rank") -> pd.DataFrame:
    """``rows`` (every borough of one or more measures and years, with counts ``value`` and
    residents ``population``) with ``<prefix>_low`` and ``<prefix>_high``: the 95% interval of
    each borough's rank of 32 by rate (1 = the highest), from
    :func:`cspbook.compute.stats.rank_interval` (seeded, so every build says the same).
    ``population`` None ranks the counts themselves. Rows without a count or population have none.
    """
    from cspbook.compute import stats

    out = rows.copy()
    low, high = np.full(len(out), np.nan), np.full(len(out), np.nan)
    pops = out[population].to_numpy(dtype="float64") if population else np.ones(len(out))
    counts = out[value].to_numpy(dtype="float64")
    usable = np.isfinite(counts) & np.isfinite(pops) & (pops > 0) & out["borough"].isin(list(definitions.boroughs())).to_numpy()
    group = [c for c in ("indicator", "series", "year") if c in out]
    for positions in out.reset_index(drop=True).groupby(group, sort=False).indices.values():
        keep = positions[usable[positions]]
        if len(keep) > 1:
            ranked = stats.rank_interval(counts[keep], pops[keep])
            low[keep], high[keep] = ranked["rank_low"].to_numpy(), ranked["rank_high"].to_numpy()
    out[f"{prefix}_low"] = pd.array(np.where(np.isnan(low), None, low), dtype="Int64")
    out[f"{prefix}_high"] = pd.array(np.where(np.isnan(high), None, high), dtype="Int64")
    return out
