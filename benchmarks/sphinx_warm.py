"""Sphinx kept warm (issue 21), side by side: the preview's rebuild of one changed page with a
new Sphinx application each time (its environment read from the pickle on disk) against one
application kept across rebuilds (:class:`cspbook.publish.sphinx_run.Warm`, environment in memory).

    .venv/bin/python benchmarks/sphinx_warm.py [--edits 8]

Builds the Barking and Dagenham 2011-12 book once in a scratch tree (data from $CSPBOOK_MIRROR
or ../shared/data), then, for each edit, changes one sentence of one executed page and rebuilds
it both ways, alternating which goes first; prints the median seconds of each and checks that
both wrote the same bytes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--edits", type=int, default=8)
    args = parser.parse_args(argv)
    from bookfixtures import build_in, make_project, mirror_dir

    os.environ.setdefault("CSPBOOK_MIRROR", str(mirror_dir()))
    import nbformat

    from cspbook.publish import sphinx_run

    root = Path(tempfile.mkdtemp(prefix="cspbook-sphinx-warm-"))
    home = make_project(root / "project")
    build_in(home)
    os.environ["CSPBOOK_HOME"] = str(home)
    page = home / "book" / "2011-12" / "violent_crime.ipynb"
    original = page.read_bytes()
    times: dict[str, list[float]] = {"fresh": [], "warm": []}
    pages: dict[str, list[bytes]] = {"fresh": [], "warm": []}
    warm = None
    # one way after the other: a kept application holds its docutils namespace open, so no
    # other Sphinx application may run in the process while it lives
    for how in ("fresh", "warm"):
        page.write_bytes(original)
        work = root / how
        if how == "fresh":
            sphinx_run.html(home, work)
        else:
            warm = sphinx_run.Warm(home, work)
            warm.build()
        for edit in range(1, args.edits + 1):
            nb = nbformat.read(page, as_version=4)
            cell = next(c for c in nb.cells if c.cell_type == "markdown" and not c.source.startswith("# "))
            cell.source += f"\n\nBenchmark sentence {edit}."
            nbformat.write(nb, page)
            started = time.perf_counter()
            if how == "fresh":
                sphinx_run.html(home, work)
            else:
                warm.build()
            times[how].append(time.perf_counter() - started)
            pages[how].append((work / "_build" / "html" / "book" / "2011-12" / "violent_crime.html").read_bytes())
    warm.close()
    trees = {how: {f.relative_to(root / how).as_posix(): f.read_bytes() for f in sorted((root / how / "_build" / "html").rglob("*"))
                   if f.is_file()} for how in ("fresh", "warm")}
    if trees["fresh"] != trees["warm"]:
        import difflib

        name = next(k for k in sorted(trees["fresh"]) if trees["fresh"][k] != trees["warm"].get(k))
        print("\n".join(list(difflib.unified_diff(trees["fresh"][name].decode().splitlines(),
                                                  trees["warm"][name].decode().splitlines(), lineterm="", n=1))[:30]))
        raise SystemExit("the two ways wrote different books: "
                         f"{sorted(k for k in set(trees['fresh']) | set(trees['warm']) if trees['fresh'].get(k) != trees['warm'].get(k))}")
    if pages["fresh"] != pages["warm"]:
        import difflib

        n = next(i for i, (a, b) in enumerate(zip(pages["fresh"], pages["warm"])) if a != b)
        diff = difflib.unified_diff(pages["fresh"][n].decode().splitlines(), pages["warm"][n].decode().splitlines(), lineterm="", n=1)
        raise SystemExit(f"edit {n + 1}: the two ways wrote different pages:\n" + "\n".join(list(diff)[:40]))
    assert all(f"Benchmark sentence {n}.".encode() in b for n, b in enumerate(pages["warm"], 1))
    fresh, kept = statistics.median(times["fresh"]), statistics.median(times["warm"])
    print(f"one changed page, median of {args.edits} rebuilds (load average {os.getloadavg()[0]:.1f}):")
    print(f"  new application per rebuild  {fresh:.3f} s  {[round(t, 3) for t in times['fresh']]}")
    print(f"  one application kept warm    {kept:.3f} s  {[round(t, 3) for t in times['warm']]}")
    print(f"  kept / new = {kept / fresh:.2f}; reused {warm.reused} times")
    return 0


if __name__ == "__main__":
    sys.exit(main())
