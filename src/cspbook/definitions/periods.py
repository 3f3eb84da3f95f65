"""Financial years (April to March, written ``2011-12``) and months.

Months are pandas monthly Periods throughout.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from cspbook.errors import PeriodError

if TYPE_CHECKING:  # annotations only: pandas is imported where it is used
    import pandas as pd

_FY = re.compile(r"(\d{4})-(\d{2})")


def parse_year(text: str) -> int:
    """The calendar year in which financial year ``text`` starts.

    >>> parse_year("2011-12")
    2011
    >>> parse_year("1999-00")
    1999
    >>> parse_year("2011/12")
    Traceback (most recent call last):
    ...
    cspbook.errors.PeriodError: year '2011/12' is not a financial year like 2011-12 (April 2011 to March 2012); write it as 2011-12
    """
    text = str(text).strip()
    match = _FY.fullmatch(text)
    if not match:
        digits = re.findall(r"\d{4}", text)
        example = f"{digits[0]}-{(int(digits[0]) + 1) % 100:02d}" if digits else "2011-12"
        start = int(example[:4])
        raise PeriodError(
            f"year '{text}' is not a financial year like {example} "
            f"(April {start} to March {start + 1}); write it as {example}"
        )
    start, end = int(match.group(1)), int(match.group(2))
    if (start + 1) % 100 != end:
        raise PeriodError(
            f"year '{text}': the second part must be the year after {start}; "
            f"write it as {start}-{(start + 1) % 100:02d}"
        )
    return start


def label(start: int) -> str:
    """Financial-year label for the year starting in April of ``start``.

    >>> label(2011)
    '2011-12'
    >>> label(1999)
    '1999-00'
    """
    return f"{start}-{(start + 1) % 100:02d}"


def months(start: int) -> pd.PeriodIndex:
    """The twelve months of the financial year starting in April of ``start``.

    >>> m = months(2011); (str(m[0]), str(m[-1]), len(m))
    ('2011-04', '2012-03', 12)
    """
    import pandas as pd  # not at import time: the no-change build path avoids pandas

    return pd.period_range(f"{start}-04", periods=12, freq="M")


def describe_month(month: pd.Period) -> str:
    """'December 2010' style.

    >>> import pandas as pd
    >>> describe_month(pd.Period("2010-12", "M"))
    'December 2010'
    """
    return month.strftime("%B %Y")


def parse_year_range(text: str) -> list[int]:
    """``2010-11..2012-13`` -> [2010, 2011, 2012]; a single year gives a one-item list.

    >>> parse_year_range("2010-11..2012-13")
    [2010, 2011, 2012]
    >>> parse_year_range("2012-13..2010-11")
    Traceback (most recent call last):
    ...
    cspbook.errors.PeriodError: years '2012-13..2010-11': the first year must not be after the last; write 2010-11..2012-13
    """
    if ".." not in text:
        return [parse_year(text)]
    first, last = (parse_year(part) for part in text.split("..", 1))
    if first > last:
        raise PeriodError(
            f"years '{text}': the first year must not be after the last; write {label(last)}..{label(first)}"
        )
    return list(range(first, last + 1))
