"""The London edition against separate one-borough builds, in the same run:

    .venv/bin/python benchmarks/london_edition.py [--boroughs N] [--year 2024-25] [--mirror DIR] [--jobs 2]

a. ``cspbook build --borough B --year Y`` for each of the first N boroughs (default all 32), each in
   a fresh copy of one fetched project tree (clean: no dataset pickle, no notebook cache, no
   Jupyter Book tree), one after the other; their times summed;
b. ``cspbook build --borough all --year Y`` in another fresh copy (for N < 32 the library's
   ``london_edition.build_all`` with those N boroughs).

Both read the November 2025 edition (``<mirror>/edition-2025-11``) and the open sources
(``<mirror>/open``: boundaries, wards, population), fetched into the tree's cache before timing. Peak memory is the largest
resident size of the build's whole process tree (the command, its kernels, Jupyter Book), sampled
every 0.1 s. Target: b <= 0.4 x the sum of a. Results also go to ``benchmarks/results/london_edition-<time>.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "benchmarks"))
TARGET = 0.4


def fetched_tree(root: Path, mirror: Path) -> Path:
    from bookfixtures import make_project

    home = make_project(root / "fetched")
    env = dict(os.environ, CSPBOOK_HOME=str(home))
    subprocess.run([str(REPO / ".venv" / "bin" / "cspbook"), "fetch", "--mirror", str(mirror / "edition-2025-11"),
                    "--open-mirror", str(mirror / "open")], env=env, check=True, capture_output=True)
    return home


def timed(cmd: list[str], home: Path) -> tuple[float, float, float]:
    """Seconds, peak MiB and CPU seconds (user + system of the whole process tree, from
    ``getrusage(RUSAGE_CHILDREN)``: steadier than wall time on a shared machine) of ``cmd``,
    measured as ``build_speed.py`` measures its builds (RSS of the tree sampled every 0.1 s)."""
    from build_speed import Measured

    env = dict(os.environ, CSPBOOK_HOME=str(home))
    env.pop("CSPBOOK_MIRROR", None)
    run = Measured(cmd, env, home, interval=0.1)
    return run.seconds, run.peak_rss / 2**20, run.cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--boroughs", type=int, default=32)
    parser.add_argument("--year", default="2024-25")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--mirror", type=Path, default=REPO.parent / "shared" / "data")
    args = parser.parse_args(argv)
    os.environ["CSPBOOK_HOME"] = str(REPO)
    from cspbook import definitions

    names = list(definitions.boroughs())[:args.boroughs]
    cspbook = str(REPO / ".venv" / "bin" / "cspbook")
    with tempfile.TemporaryDirectory(prefix="cspbook-london-bench-") as tmp:
        base = fetched_tree(Path(tmp), args.mirror.resolve())
        singles = []
        for i, borough in enumerate(names):
            home = Path(tmp) / f"single-{i}"
            shutil.copytree(base, home)
            seconds, mib, cpu = timed([cspbook, "build", "--borough", borough, "--year", args.year, "--offline", "--jobs", str(args.jobs)], home)
            singles.append({"borough": borough, "seconds": seconds, "peak_mib": mib, "cpu_seconds": cpu})
            print(f"a  {borough:28} {seconds:7.1f} s  {cpu:7.1f} s CPU  {mib:7.0f} MiB  load {os.getloadavg()[0]:.1f}", flush=True)
            shutil.rmtree(home)
        home = Path(tmp) / "london"
        shutil.copytree(base, home)
        if len(names) == 32:
            cmd = [cspbook, "build", "--borough", "all", "--year", args.year, "--offline", "--jobs", str(args.jobs)]
        else:
            code = ("import sys; from cspbook.publish import london_edition; "
                    f"london_edition.build_all({args.year!r}, boroughs={names!r}, jobs={args.jobs}, offline=True)")
            cmd = [sys.executable, "-c", code]
        seconds, mib, cpu = timed(cmd, home)
        total = sum(s["seconds"] for s in singles)
        total_cpu = sum(s["cpu_seconds"] for s in singles)
        result = {"boroughs": len(names), "year": args.year, "jobs": args.jobs, "singles": singles,
                  "singles_sum_seconds": total, "singles_peak_mib": max(s["peak_mib"] for s in singles),
                  "singles_sum_cpu_seconds": total_cpu, "london_cpu_seconds": cpu, "cpu_ratio": cpu / total_cpu,
                  "london_seconds": seconds, "london_peak_mib": mib, "ratio": seconds / total,
                  "load_average": os.getloadavg()}
    print(f"\na: {len(names)} one-borough builds, sum      {total:8.1f} s   (peak {result['singles_peak_mib']:.0f} MiB)")
    print(f"b: the London edition ({len(names)} boroughs)    {seconds:8.1f} s   (peak {mib:.0f} MiB)")
    print(f"CPU (user + system, whole process trees): a {total_cpu:.1f} s, b {cpu:.1f} s, b / a = {cpu / total_cpu:.2f}")
    print(f"b / a = {seconds / total:.2f} (target <= {TARGET}); load average {os.getloadavg()}")
    out = REPO / "benchmarks" / "results" / f"london_edition-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1))
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
