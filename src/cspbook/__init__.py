"""cspbook: the annual report of a London Community Safety Partnership as a Jupyter Book."""

from cspbook.errors import CspbookError

__version__ = "0.1.0"

__all__ = ["CspbookError", "__version__"]
