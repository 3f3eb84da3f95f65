"""Counts written as a person writes them, everywhere text is generated (the book, the
cover paper, the command line and the build log): "1 notebook", "11 notebooks",
"1,056 rows", "0.5 percentage points"; never a noun with "s" in brackets.

Imports nothing heavy: the build log uses it on the path where nothing else is loaded.
"""

from __future__ import annotations

import re


def number(n) -> str:
    """``n`` as written in prose: thousands separators; a whole float without ".0".

    >>> number(1056), number(1573.0), number(0.5), number(-2), number(12500.25)
    ('1,056', '1,573', '0.5', '-2', '12,500.25')
    """
    if isinstance(n, float) and n.is_integer():
        n = int(n)
    return f"{n:,}"


def form(n, word: str, many: str | None = None) -> str:
    """``word`` (singular) when ``n`` is one, else its plural: ``many``, or the last word
    of ``word`` made plural by the common English rules. ``n`` may be the number as it is
    written ("1.00" reads as plural, "1" as singular).

    >>> form(1, "notebook"), form(0, "notebook"), form(2, "priority"), form(3, "percentage point")
    ('notebook', 'notebooks', 'priorities', 'percentage points')
    >>> form(1.0, "box"), form(2, "box"), form(2, "match"), form(2, "day"), form(2, "was", "were")
    ('box', 'boxes', 'matches', 'days', 'were')
    >>> form("1.00", "percentage point"), form(-1, "point")
    ('percentage points', 'point')
    """
    if isinstance(n, str):
        one = re.fullmatch(r"[+-]?1", n.strip()) is not None
    else:
        one = abs(n) == 1
    if one:
        return word
    if many is not None:
        return many
    head, _, last = word.rpartition(" ")
    if re.search(r"[^aeiou]y$", last):
        last = last[:-1] + "ies"
    elif re.search(r"(s|x|z|ch|sh)$", last):
        last += "es"
    else:
        last += "s"
    return f"{head} {last}" if head else last


def plural(n, word: str, many: str | None = None, shown: str | None = None) -> str:
    """The count and the word that goes with it: ``plural(11, "notebook")`` is "11
    notebooks". ``shown`` is the number as it should be written, when :func:`number` is
    not it (e.g. rounded to two decimals).

    >>> plural(1, "notebook"), plural(11, "notebook"), plural(1056, "row"), plural(0.5, "percentage point")
    ('1 notebook', '11 notebooks', '1,056 rows', '0.5 percentage points')
    >>> plural(1, "percentage point"), plural(1.0, "percentage point", shown="1.00"), plural(2, "worker")
    ('1 percentage point', '1.00 percentage points', '2 workers')
    """
    text = number(n) if shown is None else shown
    return f"{text} {form(text, word, many)}"
