"""What a borough map costs a warm kernel, two ways side by side in one run: the light reader
(:mod:`cspbook.data.boundaries`: ``json`` + numpy, written as SVG paths by
:mod:`cspbook.pages.maps`) against geopandas/shapely (``geopandas.read_file`` with pyogrio,
``GeoDataFrame.plot(column=...)``).

    .venv/bin/python benchmarks/map_reader.py [--runs 5] [--geopandas-path DIR] [--geojson FILE]

Each way runs in fresh Python processes that first import what a warm kernel already holds
(``cspbook.pages.plots``: pandas), then time the first map (imports, read,
draw: SVG for the light way, PNG for geopandas) and a second map (read and draw again, as the next notebook on the same kernel
would), and the resident memory the map added (RSS after minus RSS before). geopandas is not a
dependency of cspbook: give a folder it is installed in (``pip install --target DIR geopandas``)
with ``--geopandas-path``. Medians of ``--runs`` processes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GEOJSON = REPO.parent / "shared" / "data" / "open" / "boundaries" / "bng" / "London_Borough_Excluding_MHW.geojson"

CHILD = r"""
import json, sys, time, psutil
proc = psutil.Process()
from cspbook.pages import plots  # what the warm kernel already holds
import pandas as pd
before = proc.memory_info().rss
path, way = sys.argv[1], sys.argv[2]

def light():
    from cspbook.data import boundaries
    from cspbook.pages import maps
    shapes = boundaries.read(path)
    values = pd.Series({n: float(i) for i, n in enumerate(shapes.names) if n != "City of London"})
    return len(maps.choropleth(shapes, values, "Barking and Dagenham", what="a test", kind="rate").image)

def geo():
    import io
    import geopandas
    frame = geopandas.read_file(path).set_crs(27700, allow_override=True)  # the file names no CRS
    frame["value"] = range(len(frame))
    ax = frame.plot(column="value", cmap="YlGnBu", aspect="equal", edgecolor="#4d4d4d", linewidth=0.5, figsize=(7.5, 6.2))
    frame[frame["NAME"] == "Barking and Dagenham"].boundary.plot(ax=ax, color="black", linewidth=2.6)
    ax.set_axis_off()
    buf = io.BytesIO()
    ax.figure.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    import matplotlib.pyplot as plt
    plt.close(ax.figure)
    return len(buf.getvalue())

run = light if way == "light" else geo
t0 = time.perf_counter(); run(); t1 = time.perf_counter(); run(); t2 = time.perf_counter()
print(json.dumps({"first": t1 - t0, "again": t2 - t1, "mib": (proc.memory_info().rss - before) / 2**20}))
"""


def measure(way: str, geojson: Path, runs: int, extra_path: str | None) -> dict:
    env = dict(os.environ)
    if extra_path:
        env["PYTHONPATH"] = os.pathsep.join(p for p in (env.get("PYTHONPATH"), extra_path) if p)
    rows = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", CHILD, str(geojson), way], env=env, capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    return {key: statistics.median(r[key] for r in rows) for key in rows[0]}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--geojson", type=Path, default=GEOJSON)
    parser.add_argument("--geopandas-path", help="a folder geopandas, shapely and pyogrio are installed in (pip install --target)")
    args = parser.parse_args(argv)
    results = {"light (json + SVG paths)": measure("light", args.geojson, args.runs, None)}
    try:
        results["geopandas + shapely"] = measure("geo", args.geojson, args.runs, args.geopandas_path)
    except subprocess.CalledProcessError as exc:
        print(f"geopandas could not run ({exc.stderr.strip().splitlines()[-1]}); give --geopandas-path", file=sys.stderr)
    print(f"{'':32} {'first map s':>12} {'next map s':>11} {'added MiB':>10}   (median of {args.runs} processes)")
    for name, r in results.items():
        print(f"{name:32} {r['first']:12.3f} {r['again']:11.3f} {r['mib']:10.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
