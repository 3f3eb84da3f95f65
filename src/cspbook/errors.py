"""Exceptions raised by cspbook.

Every error a user can cause derives from :class:`CspbookError`. The command line turns
them into one clean message and exit code 2, without a traceback (``--debug`` shows it).
A message always says what was given, what was expected and how to fix it.
"""

from __future__ import annotations


class CspbookError(Exception):
    """Raised for any problem that the user can fix (bad data, bad parameters, bad config)."""

    exit_code = 2


class DataFileError(CspbookError):
    """Raised when a raw crime data file cannot be read or fails validation."""

    def __init__(self, path, problem, *, line=None, column=None, fix=None):
        self.path = str(path)
        self.line = line
        self.column = column
        self.problem = problem
        self.fix = f"{fix[:1].upper()}{fix[1:]}" if fix else fix
        where = self.path
        if line is not None:
            where += f", line {line}"
        if column is not None:
            where += f", column '{column}'"
        message = f"{where}: {problem}"
        if fix:
            message += f". {self.fix}"
        super().__init__(message)


class DefinitionError(CspbookError):
    """Raised when a YAML or CSV definition under data/ (indicators, reports, partner figures) is invalid."""


class UnknownBoroughError(CspbookError):
    """Raised when a borough name matches none of the 32 London boroughs."""


class PeriodError(CspbookError):
    """Raised when a financial year is malformed or lies outside the data."""


class FetchError(CspbookError):
    """Raised when the raw data cannot be fetched from the Datastore or the mirror."""


class BuildError(CspbookError):
    """Raised when the book cannot be built (a notebook failed, Jupyter Book failed, a lock is held)."""
