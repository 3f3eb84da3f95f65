"""The ``cspbook`` command line.

Every command has an example in its ``--help``. A :class:`~cspbook.errors.CspbookError`
becomes one clean message on stderr and exit code 2 (``--debug`` shows the traceback).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from cspbook import __version__
from cspbook.errors import CspbookError

EXAMPLES = {
    "fetch": """examples:
  cspbook fetch                              # from the London Datastore (CKAN API)
  cspbook fetch --mirror ../shared/data      # from a local folder of the same files
  CSPBOOK_MIRROR=../shared/data cspbook fetch""",
    "validate": """examples:
  cspbook validate                           # the cached data and every definition under data/
  cspbook validate new_month.csv             # check a file before dropping it in
  cspbook validate --suggest new_month.csv   # what data/classification.yml needs for a new edition (writes nothing)""",
    "indicators": """examples:
  cspbook indicators --borough "Barking and Dagenham" --year 2011-12
  cspbook indicators --borough Newham --year 2014-15 --format csv > newham.csv
  cspbook indicators --borough Newham --year 2025-26 --to 2025-09   # the year to date, against the same months
  CSPBOOK_MIRROR=../shared/data cspbook indicators --borough Camden --year 2012-13 --format json""",
    "build": """examples:
  cspbook build --borough "Barking and Dagenham" --year 2011-12
  cspbook build --borough Newham --year 2012-13 --years 2010-11..2012-13 --jobs 2
  cspbook build --borough all --year 2024-25   # the London edition: every borough's book and a London front page
  cspbook build --borough "Barking and Dagenham" --year 2025-26   # data to November 2025: 2025-26 to date
  CSPBOOK_MIRROR=../shared/data cspbook build --borough "Barking and Dagenham" --year 2011-12 --offline""",
    "pdf": """examples:
  cspbook pdf --borough "Barking and Dagenham" --year 2011-12
  cspbook pdf --borough all --year 2024-25   # every borough's Cabinet cover paper (the London edition)
      # _build/pdf/barking-and-dagenham-2011-12-report.pdf and ...-cover-paper.pdf
  CSPBOOK_CHROMIUM=/usr/bin/chromium cspbook pdf --borough Newham --year 2012-13 --offline""",
    "preview": """examples:
  cspbook preview --borough "Barking and Dagenham" --year 2011-12
      # serves http://127.0.0.1:8000/; edit a template, data/ or _config.yml and the open page reloads
  cspbook preview --borough Newham --year 2012-13 --port 0 --open   # a free port, opened in the browser""",
    "reconcile": """examples:
  cspbook reconcile --borough "Barking and Dagenham" --year 2011-12""",
}


def _data_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mirror", type=Path, metavar="DIR",
                        help="take the raw files from this folder instead of the London Datastore (default: $CSPBOOK_MIRROR)")
    parser.add_argument("--offline", action="store_true", help="use the cached data as it is; fetch nothing")
    _open_option(parser)


def _open_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--open-mirror", type=Path, metavar="DIR", dest="open_mirror",
                        help="a folder of the open sources of data/sources.yml, at any depth "
                             "(default: $CSPBOOK_OPEN_MIRROR, or the mirror's open/ folder)")


def _report_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--borough", required=True, help='borough name, e.g. "Barking and Dagenham" ("all": every borough, build and pdf only)')
    parser.add_argument("--year", required=True, help="financial year, e.g. 2011-12 (April 2011 to March 2012); a year "
                        "the data do not cover to March is reported to date, against the same months of the year before")
    parser.add_argument("--to", metavar="YYYY-MM", help="end the year to date at this month, e.g. 2025-09 (default: "
                        "March, or the latest month in the data)")


def _book_options(parser: argparse.ArgumentParser, verb: str) -> None:
    """Borough, year, more years, parallel notebooks and the data options of a book command."""
    _report_options(parser)
    parser.add_argument("--years", metavar="FIRST..LAST", help=f"also {verb} these years, e.g. 2010-11..2012-13 (a part per year)")
    parser.add_argument("--jobs", type=int, metavar="N", help="notebooks executed in parallel (default: the number of cores)")
    _data_options(parser)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(
        prog="cspbook",
        description="The annual report of a London Community Safety Partnership, computed from open data.",
        epilog=("examples:\n"
                "  cspbook build --borough \"Barking and Dagenham\" --year 2024-25 --mirror ../shared/data/edition-2025-11 --open-mirror ../shared/data/open\n"
                "  cspbook build --borough \"Barking and Dagenham\" --year 2025-26 --mirror ../shared/data/edition-2025-11 --open-mirror ../shared/data/open   # this year to date\n"
                "  cspbook indicators --borough \"Barking and Dagenham\" --year 2011-12\n"
                "  cspbook COMMAND --help"),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    top.add_argument("--version", action="version", version=f"cspbook {__version__}")
    top.add_argument("--debug", action="store_true", help="show the full traceback on errors")
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    def add(name, help_text):
        p = sub.add_parser(name, help=help_text, description=help_text, epilog=EXAMPLES[name],
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--debug", action="store_true", default=argparse.SUPPRESS, help="show the full traceback on errors")
        return p

    p = add("fetch", "Fetch the MPS recorded crime files into the cache (data/raw/) with a manifest.")
    p.add_argument("--mirror", type=Path, metavar="DIR", help="a local folder holding the files (default: $CSPBOOK_MIRROR)")
    _open_option(p)
    p.set_defaults(func=cmd_fetch)

    p = add("validate", "Check raw crime files and every definition under data/, reporting the first problem.")
    p.add_argument("files", nargs="*", type=Path, help="raw crime CSV files to check (default: the cached files)")
    p.add_argument("--suggest", type=Path, metavar="FILE", action="append", default=[],
                   help="print the lines data/classification.yml needs to read FILE (a new edition); writes nothing")
    p.set_defaults(func=cmd_validate)

    p = add("indicators", "Compute the indicators of one borough and financial year.")
    _report_options(p)
    p.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format (default: table)")
    _data_options(p)
    p.set_defaults(func=cmd_indicators)

    p = add("reconcile", "Compare the figures the report published with those recomputed from the data.")
    _report_options(p)
    p.add_argument("--format", choices=["table", "csv", "json"], default="table", help="output format (default: table)")
    _data_options(p)
    p.set_defaults(func=cmd_reconcile)

    p = add("build", "Build the HTML book: execute the notebooks with papermill and assemble them with Jupyter Book.")
    _book_options(p, "build")
    p.set_defaults(func=cmd_build)

    p = add("pdf", "Write the book and its Cabinet cover paper as two PDFs in _build/pdf/ (builds the book first if needed; "
                   "prints with an installed Chromium).")
    _book_options(p, "include")
    p.set_defaults(func=cmd_pdf)

    p = add("preview", "Build the book, serve it on 127.0.0.1 and rebuild it as you edit: open pages reload "
                       "themselves, and a failed rebuild shows its error in the page. Ctrl-C stops it.")
    _report_options(p)
    p.add_argument("--years", metavar="FIRST..LAST", help="also build these years, e.g. 2010-11..2012-13 (a part per year)")
    p.add_argument("--port", type=int, default=8000, metavar="N", help="port on 127.0.0.1 (default: 8000; 0: a free one)")
    p.add_argument("--jobs", type=int, metavar="N", help="warm kernels kept for rebuilds (default: the number of cores)")
    p.add_argument("--open", action="store_true", help="open the book in the default browser once built")
    _data_options(p)
    p.set_defaults(func=cmd_preview)
    return top


AFTER_INTERRUPT = {"build": "; the last good book is unchanged", "fetch": "; the cache is unchanged",
                   "pdf": "; the PDFs in _build/pdf are unchanged", "preview": "; preview stopped"}


def run() -> None:
    """The `cspbook` script: :func:`main`, then out without the interpreter's teardown. Freeing
    the objects of Sphinx, pandas and the dataset one by one at exit took half a second of every
    build (measured: 0.5 s after a template edit's 4 s build), and nothing is left to save
    by then. The exit handlers still run (logging, temporary folders, multiprocessing) and the
    output is flushed; with another thread still running, or under a profiler or debugger,
    the normal exit."""
    import atexit
    import threading

    code = main()
    run_exit_handlers = getattr(atexit, "_run_exitfuncs", None)  # CPython's, since 3.0
    if threading.active_count() != 1 or run_exit_handlers is None or sys.getprofile() or sys.gettrace():
        sys.exit(code)  # a profiler or debugger reports when the interpreter ends
    run_exit_handlers()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed pipe: what could be written was
            pass
    os._exit(code)


def main(argv: list[str] | None = None) -> int:
    from cspbook import signals

    args = parser().parse_args(argv)
    from cspbook import config

    config.use_open_mirror(getattr(args, "open_mirror", None))
    try:
        with signals.handled():  # SIGINT/SIGTERM: stop kernels and Jupyter Book, unwind, release the lock
            return args.func(args) or 0
    except CspbookError as exc:
        if args.debug:
            raise
        stopped_by = signals.received()
        if stopped_by:  # the error came of stopping for the signal (e.g. a kernel it killed)
            print(f"cspbook: interrupted{AFTER_INTERRUPT.get(args.command, '')}", file=sys.stderr)
            return 128 + stopped_by
        print(f"cspbook: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt as exc:  # also signals.Interrupted (SIGTERM)
        signals.stop_children()
        outcome = getattr(exc, "outcome", None)  # set when the work was done before the signal was delivered
        print(f"cspbook: interrupted{'; ' + outcome if outcome else AFTER_INTERRUPT.get(args.command, '')}", file=sys.stderr)
        return signals.exit_code(exc)
    except BrokenPipeError:  # e.g. `cspbook indicators ... | head`: the reader left early
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def cmd_fetch(args) -> int:
    from cspbook import config, words
    from cspbook.data import fetch
    from cspbook.publish import lock

    from cspbook.data.opendata import fetch as open_fetch

    mirror = args.mirror or config.mirror_from_env()
    with lock.held(config.work_dir() / "build.lock", kind="fetch"):  # never under a running build
        result = fetch.fetch(mirror=mirror)
        opened = open_fetch.fetch(config.open_mirror(mirror), online=mirror is None)
    for entry in result.files:
        state = "updated" if entry["name"] in result.changed else "unchanged"
        print(f"{entry['name']}: {words.plural(entry['rows'], 'row')}, {words.plural(entry['boroughs'], 'borough')}, "
              f"{entry['first_month']}..{entry['last_month']}, sha256 {entry['sha256'][:12]} ({state})")
    print(f"manifest: {config.manifest_path()}")
    for entry in opened.files:
        print(f"open/{entry['name']}: {words.plural(entry['rows'], 'row')}, {entry['first_month']}..{entry['last_month']}, "
              f"sha256 {entry['sha256'][:12]}")
    for line in opened.notices:
        print(f"notice: open source {line}", file=sys.stderr)
    return 0


def cmd_validate(args) -> int:
    from cspbook.cli import validate_command

    if args.suggest:
        from cspbook.data import load

        for path in [*args.suggest, *args.files]:
            print(load.suggest(path))
        return 0
    for line in validate_command.run(args.files):
        print(line)
    return 0


def _report(args):
    from cspbook import definitions
    from cspbook.compute import dataset
    from cspbook.data import rawcache
    from cspbook.definitions import periods, reports

    borough = definitions.resolve_borough(args.borough)
    year = periods.parse_year(args.year)
    if args.to:
        periods.within(year, args.to)  # a bad --to is named before any data is read
    report = reports.load(borough, year)
    rawcache.ensure(mirror=args.mirror, offline=args.offline)
    data = dataset.dataset()
    period = periods.resolve(year, str(data.months.max()) if len(data.months) else None, args.to)
    return data.to_date(period.months), report


def _emit(frame, fmt: str, as_text) -> None:
    """Write ``frame`` as CSV, JSON or a plain-text table (``as_text``, from :mod:`cspbook.pages.terminal`)."""
    from cspbook.compute import csvtext, table

    if fmt == "csv":
        sys.stdout.write(csvtext.to_csv(frame))
    elif fmt == "json":
        print(json.dumps(table.to_records(frame), indent=2))
    else:
        print(as_text(frame))


def cmd_indicators(args) -> int:
    from cspbook.compute import table
    from cspbook.pages import terminal

    from cspbook.definitions import periods

    data, report = _report(args)
    period = periods.Period(report.year, data.months_counted)
    if args.format == "table" and not period.complete:
        print(f"{report.borough}, {period.title} compared with {period.previous_name}")
    _emit(table.indicator_table(data, report, period=period), args.format, terminal.indicators)
    return 0


def cmd_build(args) -> int:
    from cspbook.publish import build

    if args.jobs is not None and args.jobs < 1:
        raise CspbookError(f"--jobs {args.jobs}: give a whole number of 1 or more")
    from cspbook.publish import london_edition

    if london_edition.is_all(args.borough):  # the London edition: every borough's book in one site
        if args.years:
            raise CspbookError(f"--years {args.years}: the London edition (--borough all) is one year; give --year only")
        if args.to:
            raise CspbookError(f"--to {args.to}: the London edition (--borough all) is built for whole years; leave out --to")
        london_edition.build_all(args.year, jobs=args.jobs, mirror=args.mirror, offline=args.offline)
        return 0
    build.build(args.borough, args.year, years=args.years, jobs=args.jobs, mirror=args.mirror, offline=args.offline, to=args.to)
    return 0


def cmd_pdf(args) -> int:
    from cspbook.publish import pdf

    if args.jobs is not None and args.jobs < 1:
        raise CspbookError(f"--jobs {args.jobs}: give a whole number of 1 or more")
    from cspbook.publish import london_edition

    if london_edition.is_all(args.borough):  # every borough's Cabinet cover paper
        if args.years:
            raise CspbookError(f"--years {args.years}: the London edition (--borough all) is one year; give --year only")
        if args.to:
            raise CspbookError(f"--to {args.to}: the London edition (--borough all) is built for whole years; leave out --to")
        for path in london_edition.cover_papers(args.year, jobs=args.jobs, mirror=args.mirror, offline=args.offline):
            print(path)
        return 0
    result = pdf.pdf(args.borough, args.year, years=args.years, jobs=args.jobs, mirror=args.mirror, offline=args.offline,
                     to=args.to)
    print(result.report)
    print(result.cover_paper)
    return 0


def cmd_preview(args) -> int:
    from cspbook.publish import preview

    if args.jobs is not None and args.jobs < 1:
        raise CspbookError(f"--jobs {args.jobs}: give a whole number of 1 or more")
    if not 0 <= args.port <= 65535:
        raise CspbookError(f"--port {args.port}: give a port number from 0 to 65535")
    preview.preview(args.borough, args.year, years=args.years, port=args.port, jobs=args.jobs, mirror=args.mirror,
                    offline=args.offline, open_browser=args.open, to=args.to)
    return 0


def cmd_reconcile(args) -> int:
    from cspbook.compute import reconcile, table
    from cspbook.pages import terminal

    data, report = _report(args)
    frame = table.reconciliation(data, report)
    if frame.empty and args.format == "table":
        path = reconcile.path_for(report.borough, report.year)
        print(f"no published figures for {report.borough} {report.year_label}: {path} does not exist "
              "(add it to compare the report's figures with the data)")
        return 0
    _emit(frame, args.format, terminal.reconciliation)
    return 0
