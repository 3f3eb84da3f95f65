"""Financial years (April to March, written ``2011-12``), periods (a financial year whole or
to date: :class:`Period`) and months.

Months are pandas monthly Periods throughout.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
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


_MONTH_TEXT = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December")


@dataclass(frozen=True)
class Period:
    """What a book, a table or a command reports on: a financial year, whole or to date.

    ``start`` is the calendar year the financial year starts in (April); ``months`` how many
    of its months, from April, are counted (12: the whole year). A period to date is compared
    with the same months of the year before.

    >>> p = Period(2025, 8)
    >>> p.label, p.name, p.span, p.title, p.text
    ('2025-26', '2025-26 to date', 'April to November 2025', '2025-26 to date (April to November 2025)', '2025-26 to 2025-11')
    >>> p.previous.span, p.previous_name, p.heading, p.change_name
    ('April to November 2024', 'the same months of 2024-25 (April to November 2024)', 'April to November 2025', '2025-26 to date (April to November 2025) on the same months of 2024-25')
    >>> w = Period(2011); w.name, w.span, w.title, w.previous_name, w.text, w.heading, w.change_name
    ('2011-12', 'April 2011 to March 2012', '2011-12', '2010-11', '2011-12', '2011-12', '2010-11 to 2011-12')
    >>> Period(2025, 11).span, Period(2025, 1).span
    ('April 2025 to February 2026', 'April 2025')
    """

    start: int
    months: int = 12

    @property
    def complete(self) -> bool:
        return self.months == 12

    @property
    def label(self) -> str:
        """The financial year, e.g. 2025-26 (folder and file names, CSV)."""
        return label(self.start)

    @property
    def name(self) -> str:
        """As prose names it: '2025-26', or '2025-26 to date'."""
        return self.label if self.complete else f"{self.label} to date"

    @property
    def end(self) -> tuple[int, int]:
        """The last month counted, as (year, month)."""
        index = self.start * 12 + 3 + self.months - 1
        return index // 12, index % 12 + 1

    @property
    def span(self) -> str:
        """'April 2011 to March 2012', 'April to November 2025', 'April 2025'."""
        year, month = self.end
        if self.months == 1:
            return f"April {self.start}"
        first = "April" if year == self.start else f"April {self.start}"
        return f"{first} to {_MONTH_NAMES[month - 1]} {year}"

    @property
    def title(self) -> str:
        """'2011-12', or '2025-26 to date (April to November 2025)'."""
        return self.label if self.complete else f"{self.name} ({self.span})"

    @property
    def heading(self) -> str:
        """As a table's column heading names it: '2011-12', or 'April to November 2025'."""
        return self.label if self.complete else self.span

    @property
    def change_name(self) -> str:
        """A change's span, as a caption names it: '2010-11 to 2011-12', or
        '2025-26 to date (April to November 2025) on the same months of 2024-25'."""
        if self.complete:
            return f"{self.previous.label} to {self.label}"
        return f"{self.title} on the same months of {self.previous.label}"

    @property
    def text(self) -> str:
        """How the period is passed on (a notebook parameter): '2011-12' or '2025-26 to 2025-11'."""
        year, month = self.end
        return self.label if self.complete else f"{self.label} to {year}-{month:02d}"

    @property
    def previous(self) -> Period:
        """The same months of the year before."""
        return Period(self.start - 1, self.months)

    @property
    def previous_name(self) -> str:
        """What the period is compared with: '2010-11', or 'the same months of 2024-25 (April to November 2024)'."""
        return self.previous.label if self.complete else f"the same months of {self.previous.label} ({self.previous.span})"

    def month_list(self) -> pd.PeriodIndex:
        """The months counted, as monthly Periods."""
        return months(self.start)[: self.months]


def as_period(period: Period | int) -> Period:
    """A period, or the whole financial year starting in ``period``.

    >>> as_period(2024), as_period(Period(2025, 8))
    (Period(start=2024, months=12), Period(start=2025, months=8))
    """
    return period if isinstance(period, Period) else Period(int(period))


def parse_period(text: str) -> Period:
    """A period from its text: '2011-12' (the whole year) or '2025-26 to 2025-11'.

    >>> parse_period("2025-26 to 2025-11"), parse_period("2011-12")
    (Period(start=2025, months=8), Period(start=2011, months=12))
    """
    year, _, to = str(text).partition(" to ")
    start = parse_year(year)
    return within(start, to) if to else Period(start)


def within(start: int, to: str) -> Period:
    """The period of financial year ``start`` that ends with month ``to`` (YYYY-MM, ``--to``).

    >>> within(2025, "2025-11"), within(2025, "2026-03")
    (Period(start=2025, months=8), Period(start=2025, months=12))
    >>> within(2025, "2024-11")
    Traceback (most recent call last):
    ...
    cspbook.errors.PeriodError: --to 2024-11 is not a month of 2025-26 (April 2025 to March 2026); give a month from 2025-04 to 2026-03
    """
    match = _MONTH_TEXT.fullmatch(str(to).strip())
    first, last = f"{start}-04", f"{start + 1}-03"
    if not match:
        raise PeriodError(f"--to '{to}' is not a month like {last}; write it as YYYY-MM")
    count = (int(match.group(1)) - start) * 12 + int(match.group(2)) - 3
    if not 1 <= count <= 12:
        raise PeriodError(f"--to {to} is not a month of {label(start)} (April {start} to March {start + 1}); "
                          f"give a month from {first} to {last}")
    return Period(start, count)


def resolve(start: int, last: str | None, to: str | None = None) -> Period:
    """The period a book of financial year ``start`` reports on, with data to month ``last``
    (YYYY-MM): the whole year when the data cover it, else the year to date (to ``last``), or
    to ``to`` when given; refused only when no month of the year is in the data.

    >>> resolve(2025, "2025-11"), resolve(2024, "2025-11"), resolve(2025, "2025-11", "2025-09")
    (Period(start=2025, months=8), Period(start=2024, months=12), Period(start=2025, months=6))
    >>> resolve(2026, "2025-11")
    Traceback (most recent call last):
    ...
    cspbook.errors.PeriodError: 2026-27 starts April 2026; the data end November 2025, so no month of it is in the data. Fetch newer data (`cspbook fetch`) or choose an earlier year
    """
    wanted = within(start, to) if to else Period(start)
    if last is None:
        return wanted
    match = _MONTH_TEXT.fullmatch(str(last))
    have = (int(match.group(1)) - start) * 12 + int(match.group(2)) - 3
    ended = f"{_MONTH_NAMES[int(match.group(2)) - 1]} {match.group(1)}"
    if have < 1:
        raise PeriodError(f"{label(start)} starts April {start}; the data end {ended}, so no month of it is in the data. "
                          "Fetch newer data (`cspbook fetch`) or choose an earlier year")
    if to and have < wanted.months:
        raise PeriodError(f"--to {to}: the data end {ended}; give --to {match.group(0)} or an earlier month")
    return wanted if to else Period(start, min(12, have))
