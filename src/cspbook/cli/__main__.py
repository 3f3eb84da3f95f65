"""`python -m cspbook.cli`: the command line, as the `cspbook` script runs it."""

import sys

from cspbook.cli import main

sys.exit(main())
