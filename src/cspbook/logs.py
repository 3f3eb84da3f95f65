"""The ``cspbook`` logger: the progress lines of fetches, builds, PDFs and previews.

Lines are written as they are, without level or time, to whatever ``sys.stderr`` is when
they are logged (a test that captures stderr sees them; a terminal reads as it always did).
A caller that wants the lines elsewhere passes its own ``log`` callable, as the tests and
the preview do; :func:`line` is the default everywhere.
"""

from __future__ import annotations

import logging
import sys

LOGGER = logging.getLogger("cspbook")


class _CurrentStderr(logging.Handler):
    """Writes each record to the current ``sys.stderr`` (not the one of import time)."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(f"{self.format(record)}\n")  # one write: notebooks finish in parallel threads
            sys.stderr.flush()
        except Exception:  # noqa: BLE001 - logging must never break the build
            self.handleError(record)


if not any(isinstance(h, _CurrentStderr) for h in LOGGER.handlers):
    LOGGER.addHandler(_CurrentStderr())
    LOGGER.setLevel(logging.INFO)
    LOGGER.propagate = False


def line(msg: str) -> None:
    """Log one progress line."""
    LOGGER.info(msg)
