"""`python -m cspbook.cli`: the command line, as the `cspbook` script runs it."""

from cspbook.cli import run

run()
