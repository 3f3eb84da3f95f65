"""How long the library takes to compute every indicator for all 32 boroughs and every year
of every edition of the real MPS files: loading (``load.load_files``: read and validate) and
computing (``indicators.monthly`` -> ``annual`` -> ``changes`` -> ``select``), separately and
together, for two sets of files side by side in one run: the 2008-2018 files alone, and every
edition at once (the 2008-2018 files plus the January 2024 and November 2025 editions).

    .venv/bin/python benchmarks/indicators.py [--runs 7] [--mirror DIR]

The files are the ``*.csv`` in the mirror (``$CSPBOOK_MIRROR``, else ``../shared/data``
beside the repository) and in its ``edition-*`` folders. Each stage is timed ``--runs`` times
after one untimed warm-up run (imports, YAML definitions), and the median is reported; the
warm-up run is shown too. Wall-clock and CPU time (``time.process_time``) are both reported:
on a machine shared with other work the CPU time is the steadier of the two. Target: every
edition, the whole under 0.25 s.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 0.25


def mirror_dir(given: str | None = None) -> Path:
    return Path(given or os.environ.get("CSPBOOK_MIRROR") or REPO.parent / "shared" / "data").resolve()


def files(mirror: Path, editions: bool = False) -> list[Path]:
    """The 2008-2018 files at the top of the mirror; with ``editions``, every later edition's too."""
    found = sorted(mirror.glob("*.csv"))
    if editions:
        found += sorted(p for folder in sorted(mirror.glob("edition-*")) for p in folder.glob("*.csv"))
    if not found:
        raise SystemExit(f"{mirror}: no *.csv files; set CSPBOOK_MIRROR or pass --mirror DIR")
    return found


def _load(paths):
    from cspbook.data import load

    return load.load_files(paths)


def _compute(wides):
    from cspbook import definitions
    from cspbook.compute import indicators

    defs = definitions.indicators()
    classes = definitions.classifications()
    monthly = indicators.monthly(wides, defs, definitions.boroughs())
    annual = indicators.annual(monthly)
    changes = indicators.changes(annual, classes.breaks)
    return indicators.select(changes, indicators.series_order(monthly, classes.series))


def _timed(func, *args) -> tuple[tuple[float, float], object]:
    """(wall seconds, CPU seconds of this process) and the result."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = func(*args)
    return (time.perf_counter() - wall, time.process_time() - cpu), result


def measure(runs: int = 7, mirror: Path | None = None, editions: bool = True) -> dict:
    """Median seconds of ``load``, ``compute`` and ``whole`` (load then compute) over ``runs``."""
    paths = files(mirror or mirror_dir(), editions)
    started = time.perf_counter()
    import pandas  # noqa: F401 - imports are not what this measures

    from cspbook.data import load  # noqa: F401

    imports = time.perf_counter() - started
    (first_load, _), wides = _timed(_load, paths)
    (first_compute, _), changes = _timed(_compute, wides)
    times = {"load": [], "compute": [], "whole": []}
    cpu = {"load": [], "compute": [], "whole": []}
    for _ in range(runs):
        for stage, func, args in (("load", _load, (paths,)), ("compute", _compute, (wides,)),
                                  ("whole", lambda: _compute(_load(paths)), ())):
            (wall, used), _ = _timed(func, *args)
            times[stage].append(wall)
            cpu[stage].append(used)
    median = {stage: statistics.median(values) for stage, values in times.items()}
    return {
        "files": [str(p) for p in paths],
        "rows": {"file rows": int(sum(len(w) for w in wides)), "changes": int(len(changes))},
        "boroughs": int(changes["borough"].nunique()),
        "years": sorted(int(y) for y in changes["year"].unique()),
        "runs": runs,
        "cores": os.cpu_count(),
        "load_average": os.getloadavg(),
        "imports_seconds": imports,
        "first_run": {"load": first_load, "compute": first_compute, "whole": first_load + first_compute},
        "times": times,
        "cpu": cpu,
        "median": median,
        "median_cpu": {stage: statistics.median(values) for stage, values in cpu.items()},
        "share": {stage: median[stage] / (median["load"] + median["compute"]) for stage in ("load", "compute")},
        "target_seconds": TARGET_SECONDS,
        "met": median["whole"] < TARGET_SECONDS,
        "editions": editions,
    }


def report(result: dict) -> str:
    m, c, first, share = result["median"], result["median_cpu"], result["first_run"], result["share"]
    rows = (("load", "load.load_files"), ("compute", "monthly -> annual -> changes -> select"), ("whole", "load then compute"))
    which = "every edition" if result["editions"] else "the 2008-2018 files"
    lines = [
        f"{which} ({len(result['files'])} files, {result['rows']['file rows']} file rows): all indicators, "
        f"{result['boroughs']} boroughs x {len(result['years'])} financial years "
        f"({result['years'][0]}..{result['years'][-1]}); median of {result['runs']} runs "
        f"on {result['cores']} cores, load average {result['load_average'][0]:.1f}:",
        f"  {'stage':8} {'':42} {'wall':>8} {'CPU':>8} {'share':>6} {'cold run':>9}",
    ]
    for stage, what in rows:
        pct = f"{share[stage]:6.0%}" if stage in share else " " * 6
        lines.append(f"  {stage:8} {what:42} {m[stage]:7.3f}s {c[stage]:7.3f}s {pct} {first[stage]:8.3f}s")
    if result["editions"]:
        lines.append(f"  target: whole < {result['target_seconds']:g} s: {'met' if result['met'] else 'NOT met'} "
                     f"(imports of pandas and cspbook, not counted: {result['imports_seconds']:.2f} s)")
    return "\n".join(lines)


OPEN_TARGET_SECONDS = 0.5


def _open_figures(open_data, changes):
    """Every open figure of every borough and every year of the MPS data (all years at once:
    :func:`cspbook.compute.open_indicators.tables`), and every rate per 1,000 residents: of
    the MPS counts and of the open counts that have one (``per_1000``)."""
    import pandas as pd

    from cspbook import definitions
    from cspbook.compute import open_indicators, rates

    defs, boroughs = definitions.indicators(), definitions.boroughs()
    pop = rates.populations(open_data)
    years = sorted(int(y) for y in changes["year"].unique())
    tables = open_indicators.tables(open_data, defs, years, boroughs)
    counted = [i for i, ind in defs.items() if ind.open.get("per_1000")]
    opened = pd.concat([t[t["indicator"].isin(counted)] for t in tables.values()], ignore_index=True)
    return tables, rates.with_rates(changes, pop), rates.with_rates(opened, pop)


def _open_year(open_data, year):
    """One year's open figures, every borough: what a notebook of a build pays (its kernel
    keeps no memo from the notebook before)."""
    from cspbook import definitions
    from cspbook.compute import open_indicators

    return open_indicators.table(open_data, definitions.indicators(), year, definitions.boroughs())


def measure_open(runs: int, mirror: Path, changes) -> dict:
    """The open sources of ``<mirror>/open``: parsing every file once and working out every
    year's changes of the monthly open indicators (cold; cspbook does both once per data
    version and keeps them in the dataset pickle), then every open figure and rate for every
    borough and year, and one year's figures alone (the parts a build pays each time),
    median of ``runs`` (wall and CPU)."""
    import pandas as pd

    from cspbook import definitions
    from cspbook.compute import open_indicators, opendata
    from cspbook.data.opendata import fetch as open_fetch
    from cspbook.data.opendata import readers
    from cspbook.definitions.sources import registry

    reg = registry()
    found = open_fetch.mirror_files(mirror / "open", reg)
    started = time.perf_counter()
    parts = {}
    for item in found:
        frame = readers.read(Path(item.source.location), reg.sources[item.source_id], reg).assign(file=item.source.name)
        parts.setdefault(item.source_id, []).append(frame)
    frames = {sid: opendata.newest(pd.concat(p, ignore_index=True)) for sid, p in parts.items()}
    frames, refused = opendata.plausible(frames, reg)
    parse = time.perf_counter() - started
    data = opendata.OpenData({"files": []}, frames, refused)
    (monthly, _), done = _timed(open_indicators.month_changes, data, definitions.indicators(), definitions.boroughs())
    data = opendata.OpenData(data.manifest, frames, refused, done)  # as the dataset pickle keeps it
    latest = int(changes["year"].max())
    _open_figures(data, changes), _open_year(data, latest)  # warm-up (first calls of pandas paths)
    every, one = {"wall": [], "cpu": []}, {"wall": [], "cpu": []}
    for _ in range(runs):
        for into, func, args in ((every, _open_figures, (data, changes)), (one, _open_year, (data, latest))):
            (wall, used), _ = _timed(func, *args)
            into["wall"].append(wall)
            into["cpu"].append(used)
    median = statistics.median(every["wall"])
    return {"files": len(found), "parse_seconds": parse, "month_changes_seconds": monthly,
            "years": sorted(int(y) for y in changes["year"].unique()), "one_year": latest,
            "median": median, "median_cpu": statistics.median(every["cpu"]),
            "one_median": statistics.median(one["wall"]), "one_median_cpu": statistics.median(one["cpu"]),
            "load_average": os.getloadavg(), "met": median < OPEN_TARGET_SECONDS}


def report_open(opened: dict, mirror: Path, runs: int) -> str:
    years = opened["years"]
    return (f"open sources ({opened['files']} files of {mirror / 'open'}): parsing them once {opened['parse_seconds']:.2f} s "
            f"and every year's monthly changes {opened['month_changes_seconds']:.2f} s (both kept in the dataset pickle);\n"
            f"  every open figure and rate per 1,000, 32 boroughs x {len(years)} years ({years[0]}..{years[-1]}): "
            f"{opened['median']:.3f} s wall, {opened['median_cpu']:.3f} s CPU (median of {runs}, load average "
            f"{opened['load_average'][0]:.1f}); target < {OPEN_TARGET_SECONDS:g} s: {'met' if opened['met'] else 'NOT met'}\n"
            f"  one year alone ({opened['one_year']}, every borough, as a notebook pays it): "
            f"{opened['one_median']:.3f} s wall, {opened['one_median_cpu']:.3f} s CPU")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7, help="timed runs per stage (median reported; default 7, at least 5)")
    parser.add_argument("--mirror", help="folder with the MPS *.csv files (default: $CSPBOOK_MIRROR or ../shared/data)")
    args = parser.parse_args(argv)
    if args.runs < 5:
        parser.error("--runs must be at least 5")
    mirror = mirror_dir(args.mirror)
    old, every = measure(args.runs, mirror, editions=False), measure(args.runs, mirror, editions=True)
    every["imports_seconds"] = old["imports_seconds"]  # imported once, by the first measurement
    print(report(old))
    print(report(every))
    print(f"ratio, every edition / the 2008-2018 files (whole, CPU): "
          f"{every['median_cpu']['whole'] / old['median_cpu']['whole']:.2f} "
          f"for {every['rows']['file rows'] / old['rows']['file rows']:.1f} times the file rows")
    if (mirror / "open").is_dir():
        changes = _compute(_load(files(mirror, True)))
        opened = measure_open(args.runs, mirror, changes)
        print(report_open(opened, mirror, args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
