"""Targets the partnership sets at the beginning of the year, and whether they were met.

A report configuration may give one target per indicator, as text an officer writes:

- ``reduce by 5%`` / ``increase by 5%``: the change on last year, in % (counts);
- ``reduce by 3 points`` / ``increase by 3 points``: the change in percentage points
  (indicators measured as a percentage);
- ``no increase``: a change of 0 or less;
- ``at most 1,600`` / ``at least 60%``: this year's figure (a ``%`` sign exactly when the
  indicator is a percentage).

:func:`parse` reads one target (pure); :func:`validate` reads the ``targets:`` mapping of a
report file and turns a bad entry into a :class:`~cspbook.errors.DefinitionError` that
names the file, the line, the key and the fix; :func:`assess` judges each row of
:func:`cspbook.compute.table.indicator_table`: met, not met, not comparable, or no target.
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from cspbook import definitions, words
from cspbook.errors import DefinitionError

if TYPE_CHECKING:  # annotations only: pandas is imported where it is used
    import pandas as pd

MET, NOT_MET, NOT_COMPARABLE, NO_TARGET = "met", "not met", "not comparable", "no target"
# The status as the reader sees it: a symbol and words, never colour alone.
MARKS = {MET: "✓ met", NOT_MET: "✗ not met", NOT_COMPARABLE: "– not comparable", NO_TARGET: "no target"}
LEGEND = (
    ("✓ met", "the figure reached the target set at the beginning of the year"),
    ("✗ not met", "the figure did not reach the target"),
    ("– not comparable", "the figure needed to judge the target is not available or cannot be compared with last year"),
    ("no target", "no target was set for this measure"),
)
COLUMNS = ["indicator", "target", "status", "mark", "reason"]

_NUMBER = r"(-?\d[\d,]*(?:\.\d+)?|-?\.\d+)"
_CHANGE = re.compile(rf"^(reduce|increase) by {_NUMBER} ?(%|percent|per cent|percentage points?|points?)?$")
_LEVEL = re.compile(rf"^(at most|at least) {_NUMBER} ?(%|percent|per cent)?$")
_NO_INCREASE = re.compile(r"^no (increase|rise)$")


@dataclass(frozen=True)
class Target:
    """One target: ``kind`` is reduce, increase, at most or at least; ``measure`` is
    ``pct`` (% change), ``points`` (percentage-point change) or ``level`` (this year's figure)."""

    kind: str
    amount: float
    measure: str
    percent: bool  # the indicator is a percentage

    @property
    def text(self) -> str:
        """The target in the book's words.

        >>> parse("Reduce by 5 %", "offences").text, parse("at least 60%", "percent").text
        ('reduce by 5%', 'at least 60%')
        >>> parse("no increase", "offences").text, parse("increase by 3 points", "percent").text
        ('no increase', 'increase by 3 percentage points')
        >>> parse("at most 1600", "offences").text, parse("increase by 1 point", "percent").text
        ('at most 1,600', 'increase by 1 percentage point')
        """
        amount = f"{self.amount:,.10g}"
        if self.measure == "pct":
            return "no increase" if self.kind == "reduce" and self.amount == 0 else f"{self.kind} by {amount}%"
        if self.measure == "points":
            return "no increase" if self.kind == "reduce" and self.amount == 0 else f"{self.kind} by {words.plural(self.amount, 'percentage point', shown=amount)}"
        return f"{self.kind} {amount}{'%' if self.percent else ''}"


class TargetTextError(ValueError):
    """Raised by :func:`parse` when a target's text cannot be read or is impossible."""


def _forms(percent: bool) -> str:
    if percent:
        return "'reduce by N points', 'increase by N points', 'no increase', 'at most N%' or 'at least N%'"
    return "'reduce by N%', 'increase by N%', 'no increase', 'at most N' or 'at least N'"


def parse(text: str, unit: str) -> Target:
    """Read one target for an indicator measured in ``unit`` (offences, calls, people, percent).

    Case and spaces do not matter; thousands may have commas.

    >>> parse("reduce by 5%", "offences")
    Target(kind='reduce', amount=5.0, measure='pct', percent=False)
    >>> parse("At most 1,600", "offences")
    Target(kind='at most', amount=1600.0, measure='level', percent=False)
    >>> parse("at least 60%", "percent")
    Target(kind='at least', amount=60.0, measure='level', percent=True)
    >>> parse("no increase", "percent")
    Target(kind='reduce', amount=0.0, measure='points', percent=True)
    >>> parse("reduce by 150%", "offences")
    Traceback (most recent call last):
    ...
    cspbook.definitions.targets.TargetTextError: is impossible: a count cannot fall by more than 100%; write a reduction between 0% and 100%
    >>> parse("cut by 5%", "offences")
    Traceback (most recent call last):
    ...
    cspbook.definitions.targets.TargetTextError: is not a target cspbook can read; write 'reduce by N%', 'increase by N%', 'no increase', 'at most N' or 'at least N'
    """
    percent = unit == "percent"
    words = " ".join(str(text).lower().split())
    if _NO_INCREASE.match(words):
        return Target("reduce", 0.0, "points" if percent else "pct", percent)
    change, level = _CHANGE.match(words), _LEVEL.match(words)
    if not (change or level):
        raise TargetTextError(f"is not a target cspbook can read; write {_forms(percent)}")
    kind, number, suffix = (change or level).groups()
    amount = float(number.replace(",", ""))
    suffix = suffix or ""
    if change:
        return _change_target(kind, amount, suffix, percent)
    return _level_target(kind, amount, suffix, unit)


def _change_target(kind: str, amount: float, suffix: str, percent: bool) -> Target:
    if "point" in suffix:
        if not percent:
            raise TargetTextError(f"uses percentage points, which are for measures given as a percentage; write '{kind} by N%'")
        measure = "points"
    elif suffix:
        if percent:
            raise TargetTextError(
                f"is ambiguous for a measure given as a percentage; write '{kind} by N points' (percentage points)")
        measure = "pct"
    else:
        raise TargetTextError(f"needs a unit; write '{kind} by {amount:g}%'" if not percent
                              else f"needs a unit; write '{kind} by {amount:g} points'")
    if amount < 0:
        other = "increase" if kind == "reduce" else "reduce"
        raise TargetTextError(f"is impossible: give the amount as a positive number, or write '{other} by {-amount:g}{'%' if measure == 'pct' else ' points'}'")
    if kind == "reduce" and measure == "pct" and amount > 100:
        raise TargetTextError("is impossible: a count cannot fall by more than 100%; write a reduction between 0% and 100%")
    if measure == "points" and amount > 100:
        raise TargetTextError("is impossible: a percentage cannot change by more than 100 points")
    return Target(kind, amount, measure, percent)


def _level_target(kind: str, amount: float, suffix: str, unit: str) -> Target:
    percent = unit == "percent"
    if percent and not suffix:
        raise TargetTextError(f"needs a % sign: the measure is a percentage; write '{kind} {amount:g}%'")
    if not percent and suffix:
        raise TargetTextError(f"has a % sign, but the measure counts {unit}; write the number of {unit}, e.g. '{kind} 1,600'")
    if percent and not 0 <= amount <= 100:
        raise TargetTextError("is impossible: a percentage lies between 0% and 100%")
    if amount < 0:
        raise TargetTextError(f"is impossible: a count of {unit} cannot be negative")
    return Target(kind, amount, "level", percent)


def validate(raw, path: Path, report_ids, locate=None) -> dict[str, Target]:
    """The ``targets:`` mapping of a report file, read and checked against the report.

    ``report_ids`` are the indicators the report shows; ``locate(path, *keys)`` returns
    ``path, line N`` for the line of ``targets`` (no keys) or of one of its keys (the file
    itself when not given).
    """
    locate = locate or (lambda p, *keys: str(p))
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise DefinitionError(
            f"{locate(path)}: targets: must be a mapping of indicator id to target, "
            "e.g. 'residential_burglary: reduce by 5%'")
    known = definitions.indicators()
    out = {}
    for iid, text in raw.items():
        where = locate(path, iid)
        if iid not in known:
            hint = difflib.get_close_matches(str(iid), list(known), n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise DefinitionError(
                f"{where}: targets: unknown indicator id '{iid}'{suggestion} (defined in data/indicators.yml: {', '.join(known)})")
        if iid not in report_ids:
            raise DefinitionError(
                f"{where}: targets: '{iid}' is not one of this report's indicators; add it to a priority's "
                "indicators or remove its target")
        ind = known[iid]
        if not isinstance(text, str):
            raise DefinitionError(
                f"{where}: targets: {iid}: {text!r} is not a target; write it as text, one of {_forms(ind.unit == 'percent')}")
        try:
            out[iid] = parse(text, ind.unit)
        except TargetTextError as exc:
            raise DefinitionError(f"{where}: targets: {iid}: '{' '.join(text.split())}' {exc}") from None
    return out


def _missing(value) -> bool:
    import pandas as pd

    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def judge(row, target: Target | None) -> tuple[str, str]:
    """The status of one indicator row against its target, and why when not judged.

    A change is judged as the book shows it, to one decimal place.

    >>> row = dict(comparable=True, value=1829.0, previous_value=1985.0, change=-156.0, change_pct=-7.86, note="")
    >>> judge(row, parse("reduce by 5%", "offences")), judge(row, parse("reduce by 10%", "offences"))
    (('met', ''), ('not met', ''))
    >>> judge(row, parse("at most 1,600", "offences")), judge(row, None)
    (('not met', ''), ('no target', ''))
    >>> judge(dict(row, change_pct=-4.96), parse("reduce by 5%", "offences"))  # shown as -5.0%
    ('met', '')
    >>> judge(dict(row, value=float("nan")), parse("at most 1,600", "offences"))
    ('not comparable', "this year's figure is not available")
    >>> judge(dict(row, comparable=False, note="categories changed"), parse("reduce by 5%", "offences"))
    ('not comparable', 'categories changed')
    """
    if target is None:
        return NO_TARGET, ""
    if not row.get("comparable", True):
        return NOT_COMPARABLE, str(row.get("note") or "the figures cannot be compared with last year")
    if target.measure == "level":
        value = row.get("value")
        if _missing(value):
            return NOT_COMPARABLE, "this year's figure is not available"
        met = value <= target.amount if target.kind == "at most" else value >= target.amount
        return (MET if met else NOT_MET), ""
    if target.measure == "points":
        change = row.get("change")
        if _missing(change) and not (_missing(row.get("value")) or _missing(row.get("previous_value"))):
            change = row["value"] - row["previous_value"]
        if _missing(change):
            return NOT_COMPARABLE, "the change on last year is not available"
        change = round(float(change), 1)
    else:
        change = row.get("change_pct")
        if _missing(change):
            return NOT_COMPARABLE, "the change on last year is not available"
        change = round(float(change), 1)
    met = change <= -target.amount if target.kind == "reduce" else change >= target.amount
    return (MET if met else NOT_MET), ""


def assess(table: pd.DataFrame, targets: dict[str, Target]) -> pd.DataFrame:
    """One row per row of ``table`` (same order): indicator, target text, status, mark, reason.

    Pure: ``table`` is not changed.

    >>> import pandas as pd
    >>> t = pd.DataFrame([dict(indicator="a", comparable=True, value=10.0, previous_value=20.0, change=-10.0,
    ...                        change_pct=-50.0, note=""),
    ...                   dict(indicator="b", comparable=True, value=5.0, previous_value=4.0, change=1.0,
    ...                        change_pct=25.0, note="")])
    >>> assess(t, {"a": parse("reduce by 5%", "offences")})[["indicator", "target", "mark"]].values.tolist()
    [['a', 'reduce by 5%', '✓ met'], ['b', '', 'no target']]
    """
    records = []
    for row in table.to_dict("records"):
        target = targets.get(row["indicator"])
        status, reason = judge(row, target)
        records.append({"indicator": row["indicator"], "target": target.text if target else "",
                        "status": status, "mark": MARKS[status], "reason": reason})
    import pandas as pd

    return pd.DataFrame.from_records(records, columns=COLUMNS)


def cell(row) -> str:
    """The table cell for one assessed row.

    >>> cell(dict(target="reduce by 5%", mark="✓ met")), cell(dict(target="", mark="no target"))
    ('reduce by 5%: ✓ met', 'no target')
    """
    return f"{row['target']}: {row['mark']}" if row["target"] else row["mark"]


def sentence(row) -> str:
    """The words added to a headline bullet.

    >>> sentence(dict(target="reduce by 5%", status="met", mark="✓ met", reason=""))
    'Target: reduce by 5% (✓ met).'
    >>> sentence(dict(target="at most 2,000", status="not comparable", mark="– not comparable",
    ...               reason="this year's figure is not available"))
    "Target: at most 2,000 (– not comparable: this year's figure is not available)."
    >>> sentence(dict(target="", status="no target", mark="no target", reason=""))
    'No target was set.'
    """
    if not row["target"]:
        return "No target was set."
    why = f": {row['reason']}" if row["status"] == NOT_COMPARABLE and row["reason"] else ""
    return f"Target: {row['target']} ({row['mark']}{why})."


def counts(assessed: pd.DataFrame) -> dict[str, int]:
    """How many targets were met, not met and not comparable (rows with no target left out)."""
    statuses = assessed["status"].tolist()
    return {s: statuses.count(s) for s in (MET, NOT_MET, NOT_COMPARABLE)}
