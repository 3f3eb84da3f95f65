"""Plain-language sentences written from the numbers.

The direction word ("rose", "fell", "remained static") and the comparison with London
are chosen by code from the indicator row; the book glues the sentences into its prose.
Every function takes one row of :func:`cspbook.compute.table.indicator_table` (a mapping) and
returns text; none of them reads files.
"""

from __future__ import annotations

import math
import re

from cspbook import words
from cspbook.definitions import periods


def _missing(value) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is _NA


try:  # pandas.NA, without importing pandas at module import for doctests' sake
    from pandas import NA as _NA
except ImportError:  # pragma: no cover
    _NA = object()


def plain(note) -> str:
    """A note as residents read it: the analyst's hints (paths under data/) left out; they stay
    in the CSV and the command line.

    >>> plain("no figure supplied for this year (add it to data/partner/)")
    'no figure supplied for this year'
    >>> plain("no decision about the change is recorded in data/classification.yml")
    'no decision about the change is recorded'
    """
    text = re.sub(r"\s*\([^)]*data/[^)]*\)", "", str(note or ""))
    return re.sub(r" in data/[\w./-]+", "", text)


def number(value, unit: str = "offences") -> str:
    """A count or percentage as a resident reads it.

    >>> number(1711), number(63.0, "percent"), number(None), number(24.29906, "percent")
    ('1,711', '63%', 'not available', '24.3%')
    """
    if _missing(value):
        return "not available"
    if unit == "percent":  # to one decimal: a share worked out from two counts has many
        return f"{round(value, 1):g}%"
    return f"{value:,.0f}"


def signed_pct(value) -> str:
    """A change in % with its sign, one decimal.

    >>> signed_pct(4.963), signed_pct(-7.86), signed_pct(0.0), signed_pct(float("nan"))
    ('+5.0%', '-7.9%', '0.0%', 'not available')
    """
    if _missing(value):
        return "not available"
    if round(value, 1) == 0:
        return "0.0%"
    return f"{value:+.1f}%"


def direction(change_pct, threshold: float = 1.0) -> str:
    """'rose', 'fell' or 'remained static' (a change smaller than ``threshold`` %).

    >>> direction(8.77), direction(-3.57), direction(0.4), direction(-1.0)
    ('rose', 'fell', 'remained static', 'fell')
    """
    if abs(change_pct) < threshold:
        return "remained static"
    return "rose" if change_pct > 0 else "fell"


def judgement(change_pct, lower_is_better: bool, threshold: float = 1.0) -> str:
    """'better', 'worse' or 'about the same', from the resident's point of view.

    >>> judgement(-7.9, True), judgement(6.0, False), judgement(8.8, True), judgement(0.2, True)
    ('better', 'better', 'worse', 'about the same')
    """
    if _missing(change_pct) or abs(change_pct) < threshold:
        return "about the same"
    improved = (change_pct < 0) == lower_is_better
    return "better" if improved else "worse"


def row_judgement(row, threshold: float = 1.0) -> str:
    """:func:`judgement` of an indicator row: a share (unit percent, e.g. 57% to 63%) is
    judged on its change in percentage points, a count on its change in %; a change that
    is not comparable is 'not comparable'.

    >>> row_judgement(dict(unit="percent", change=6.0, change_pct=float("nan"), lower_is_better=False, comparable=True))
    'better'
    >>> row_judgement(dict(unit="offences", change=138.0, change_pct=8.77, lower_is_better=True, comparable=True))
    'worse'
    >>> row_judgement(dict(unit="offences", value=9.0, change=float("nan"), change_pct=float("nan"), lower_is_better=True, comparable=False))
    'not comparable'
    >>> row_judgement(dict(unit="offences", value=float("nan"), change=float("nan"), change_pct=float("nan"), lower_is_better=True, comparable=False))
    'not available'
    """
    if _missing(row.get("value")) and _missing(row.get("change_pct")) and _missing(row.get("change")):
        return "not available"
    if not row.get("comparable", True):
        return "not comparable"
    change = row["change"] if row["unit"] == "percent" else row["change_pct"]
    return judgement(change, row["lower_is_better"], threshold)


def _london_clause(row, change_pct, london_pct, threshold: float = 1.0) -> str:
    """How the borough's change stands beside London's, by one rule: 'faster' or 'more slowly'
    only when both moved the same way by more than ``threshold``, the borough's change is
    significant and it differs from London's by more than chance (the borough against the
    rest of London, ``differs_from_london``); otherwise 'in line with London' when tested, or
    London's own change in the same words (the same threshold) when it is not.

    >>> r = dict(significant=True, differs_from_london=True)
    >>> _london_clause(r, 8.8, 5.0), _london_clause(dict(r, differs_from_london=False), 8.8, 5.0)
    (', faster than across London (+5.0%)', ', in line with London (+5.0%)')
    >>> _london_clause(dict(r, significant=False, differs_from_london=False), 0.0, -0.4)
    ', in line with London (-0.4%)'
    >>> _london_clause(dict(r, significant=False), 0.3, -10.3)
    ', while across London it fell (-10.3%)'
    >>> _london_clause(dict(significant=None, differs_from_london=None), -5.0, 0.2)
    '; across London it remained static (+0.2%)'
    """
    if _missing(london_pct):
        return ""
    london = f"({signed_pct(london_pct)})"
    mine, theirs = direction(change_pct, threshold), direction(london_pct, threshold)
    differs, significant = row.get("differs_from_london"), row.get("significant")
    if _missing(differs) or _missing(significant):  # not tested: London's change, said the same way, no comparison
        return f"; across London it {theirs} {london}"
    if _true(differs) and mine != theirs:
        return f", while across London it {theirs} {london}"
    if _true(differs) and _true(significant) and mine != "remained static":
        return f", {'faster' if abs(change_pct) > abs(london_pct) else 'more slowly'} than across London {london}"
    return f", in line with London {london}"


def sentence(row, threshold: float = 1.0, with_reason: bool = True) -> str:
    """One sentence about an indicator's change; a change to interpret with caution says so,
    with its reason unless ``with_reason`` is false (a list that gives the reasons once).

    >>> row = dict(label="Residential burglary", source="mps", unit="offences", value=1711.0,
    ...     previous_value=1573.0, change_pct=8.77, london_change_pct=4.96, comparable=True,
    ...     significant=True, differs_from_london=True, year="2011-12", note="")
    >>> sentence(row)
    'Residential burglary rose by 8.8% (1,573 to 1,711), faster than across London (+5.0%).'
    >>> sentence(dict(row, change_pct=0.3, value=1578.0, london_change_pct=-2.0, significant=False))
    'Residential burglary remained static (1,573 to 1,578), while across London it fell (-2.0%).'
    >>> sentence(dict(row, change_pct=0.3, value=1578.0, london_change_pct=0.3, significant=False, differs_from_london=False))
    'Residential burglary remained static (1,573 to 1,578), in line with London (+0.3%).'
    >>> sentence(dict(label="Domestic abuse", source="partner", unit="offences", value=float("nan"),
    ...     change_pct=float("nan"), year="2024-25"))
    'Domestic abuse: the partner agency has not supplied a figure for 2024-25.'
    >>> sentence(dict(label="Drug treatment completed", source="partner", unit="percent", value=63.0,
    ...     previous_value=57.0, change_pct=float("nan"), london_change_pct=float("nan"), comparable=True, note=""))
    'Drug treatment completed rose from 57% to 63% (up 6 percentage points).'

    A rate says what it is per:

    >>> sentence(dict(row, label="First-time entrants", unit="rate per 100,000 aged 10-17", value=236.0,
    ...     previous_value=189.0, change_pct=24.87, london_change_pct=6.8, significant=None))
    'First-time entrants rose by 24.9% (189 to 236 per 100,000 aged 10-17); across London it rose (+6.8%).'
    """
    label = row["label"]
    if row.get("source") == "partner" and _missing(row.get("value")) and _missing(row.get("change_pct")):
        return f"{label}: the partner agency has not supplied a figure for {row['year']}."
    if not row.get("comparable", True):
        if _missing(row.get("value")):
            return f"{label}: not available for {row['year']}."
        return f"{label}: {number(row['value'], row['unit'])} in {row['year']}; no change is shown ({plain(row['note'])})."
    if row["unit"] == "percent":
        return _percent_sentence(row, threshold)
    change = row["change_pct"]
    if _missing(change):
        return f"{label}: no figure for the change is available."
    word = direction(change, threshold)
    by = "" if word == "remained static" else f" by {abs(change):.1f}%"
    counts = ""
    if not _missing(row.get("value")) and not _missing(row.get("previous_value")):
        counts = f" ({number(row['previous_value'])} to {number(row['value'])}{_per(row['unit'])})"
    text = f"{label} {word}{by}{counts}{_london_clause(row, change, row.get('london_change_pct'), threshold)}"
    return f"{text}.{caution(row)}" if with_reason else f"{text}{'; interpret with caution' if caution(row) else ''}."


def _per(unit) -> str:
    """' per 100,000 aged 10-17' for a rate ('rate per 100,000 aged 10-17'), else ''."""
    return f" {unit[len('rate '):]}" if isinstance(unit, str) and unit.startswith("rate per ") else ""


def caution(row) -> str:
    """The caution given with a change across a break in the series ('' when there is none).

    >>> caution(dict(caution="the MPS moved to a new recording system"))
    ' Interpret with caution: the MPS moved to a new recording system.'
    >>> caution(dict(caution=""))
    ''
    """
    text = row.get("caution")
    return f" Interpret with caution: {text}." if isinstance(text, str) and text else ""


def cautions(rows) -> str:
    """The reasons to interpret changes with caution, each said once, for a list whose
    sentences only mark them (see :func:`sentence`); '' when there are none.

    >>> cautions([dict(caution="a new system"), dict(caution=""), dict(caution="a new system")])
    'Changes marked "interpret with caution" span a break in the police data: a new system.'
    """
    reasons = list(dict.fromkeys(r.get("caution") for r in rows if isinstance(r.get("caution"), str) and r.get("caution")))
    return f'Changes marked "interpret with caution" span a break in the police data: {"; ".join(reasons)}.' if reasons else ""


def _percent_sentence(row, threshold) -> str:
    """A share's change in percentage points; one smaller than ``threshold`` points is
    static, as :func:`row_judgement` judges it.

    >>> row = dict(label="Completed", previous_value=57.0, value=57.5)
    >>> _percent_sentence(row, 1.0), _percent_sentence(row, 0.25)
    ('Completed remained static (57% to 57.5%).', 'Completed rose from 57% to 57.5% (up 0.5 percentage points).')
    >>> _percent_sentence(dict(row, value=57.0), 1.0)
    'Completed remained static at 57%.'
    """
    label, prev, value = row["label"], row.get("previous_value"), row.get("value")
    if _missing(prev) or _missing(value):
        return f"{label}: {number(value, 'percent')}."
    points = value - prev
    if abs(points) < 0.05:
        return f"{label} remained static at {number(value, 'percent')}."
    if abs(points) < threshold:
        return f"{label} remained static ({number(prev, 'percent')} to {number(value, 'percent')})."
    word = "rose" if points > 0 else "fell"
    return (f"{label} {word} from {number(prev, 'percent')} to {number(value, 'percent')} "
            f"({_points(points)}){_london_points(row, threshold)}.")


def _points(points: float) -> str:
    """'up 2 percentage points', 'down 0.5 percentage points'."""
    shown = round(abs(points), 1)
    return f"{'up' if points > 0 else 'down'} {words.plural(shown, 'percentage point', shown=f'{shown:g}')}"


def _london_points(row, threshold) -> str:
    """London's share over the same two periods, when the source gives it ('' otherwise).

    >>> _london_points(dict(london_value=66.0, london_previous=68.0), 1.0)
    '; across London it fell from 68% to 66% (down 2 percentage points)'
    >>> _london_points(dict(london_value=68.4, london_previous=68.0), 1.0), _london_points(dict(london_value=None), 1.0)
    ('; across London it remained static (68% to 68.4%)', '')
    """
    now, before = row.get("london_value"), row.get("london_previous")
    if _missing(now) or _missing(before):
        return ""
    points = now - before
    if abs(points) < threshold:
        return f"; across London it remained static ({number(before, 'percent')} to {number(now, 'percent')})"
    word = "rose" if points > 0 else "fell"
    return f"; across London it {word} from {number(before, 'percent')} to {number(now, 'percent')} ({_points(points)})"


def significance(row) -> str:
    """Plain words for the significance test, or why there is none.

    >>> significance(dict(source="mps", comparable=True, significant=True, ci_low_pct=1.58, ci_high_pct=16.48, caution=""))
    'This change is statistically significant: it is larger than chance variation alone would be expected to produce (95% interval +1.6% to +16.5%).'
    >>> significance(dict(source="partner", comparable=True, significant=None))
    'The partner agency did not supply the counts needed to test whether this change is more than chance.'
    >>> significance(dict(source="mps", comparable=True, significant=None, caution="a new system"))
    'This change is not tested for significance: it spans a break in the police data (a new system), and a test measures chance, not a change in how crimes are recorded.'
    >>> significance(dict(source="open", comparable=True, significant=None, caution="",
    ...     test_note="no significance test: the source publishes rates or shares without counts"))
    'No test of significance is possible for this change: the source publishes rates or shares without counts.'
    """
    if row.get("source") == "partner":
        return "The partner agency did not supply the counts needed to test whether this change is more than chance."
    if not row.get("comparable", True):
        return "No change is shown, so none is tested for significance."
    text = row.get("caution")
    if isinstance(text, str) and text:
        return ("This change is not tested for significance: it spans a break in the police data "
                f"({text}), and a test measures chance, not a change in how crimes are recorded.")
    if _missing(row.get("significant")) or _missing(row.get("ci_low_pct")):
        why = str(row.get("test_note") or "")  # an open source's reason: rates without counts, rounded counts
        if why.startswith("no significance test: "):
            return f"No test of significance is possible for this change: {why[len('no significance test: '):]}."
        return "No test of significance is possible for this change."
    high = "no upper limit" if _missing(row.get("ci_high_pct")) else signed_pct(row["ci_high_pct"])
    interval = f"95% interval {signed_pct(row['ci_low_pct'])} to {high}"
    if _true(row.get("significant")):
        return f"This change is statistically significant: it is larger than chance variation alone would be expected to produce ({interval})."
    return f"This change is not statistically significant: a change this size could arise by chance ({interval})."


def instead(row, other, threshold: float = 1.0) -> str:
    """The comparable measure offered beside a change that a break makes not comparable.

    >>> other = dict(label="Total violence against the person", source="mps", unit="offences", value=6778.0,
    ...     previous_value=7186.0, change_pct=-5.68, london_change_pct=-7.41, comparable=True, caution="a new system",
    ...     significant=None, differs_from_london=None, note="")
    >>> instead(dict(label="Violence with injury"), other)
    'Violence with injury cannot be compared on its own; total violence against the person, which counts it with the crimes it moved into, can: Total violence against the person fell by 5.7% (7,186 to 6,778); across London it fell (-7.4%). Interpret with caution: a new system.'
    """
    if other is None or not other.get("comparable", False):  # not comparable either: nothing to offer
        return ""
    return (f"{row['label']} cannot be compared on its own; {other['label'][0].lower()}{other['label'][1:]}, which counts "
            f"it with the crimes it moved into, can: {sentence(other, threshold)}")


def ordinal(n: int) -> str:
    """
    >>> [ordinal(i) for i in (1, 2, 3, 4, 11, 12, 13, 21, 22, 32)]
    ['1st', '2nd', '3rd', '4th', '11th', '12th', '13th', '21st', '22nd', '32nd']
    """
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def headline_bullet(row, threshold: float = 1.0, with_reason: bool = True) -> str:
    """The headline list line: the sentence, marked when the figure came from a partner."""
    text = sentence(row, threshold, with_reason)
    if row.get("source") == "partner" and not (_missing(row.get("value")) and _missing(row.get("change_pct"))):
        text = text[:-1] + " (partner-supplied figure)."
    return text


def year_span(year: int) -> str:
    """
    >>> year_span(2011)
    'April 2011 to March 2012'
    """
    m = periods.months(year)
    return f"{periods.describe_month(m[0])} to {periods.describe_month(m[-1])}"


def verdict(row, threshold: float = 1.0) -> str:
    """What the headline count may say of a measure: 'better' or 'worse' (a tested figure only
    when significant; a figure that cannot be tested, from a partner or published without counts,
    by its size), 'within chance', 'not available' (no figure) or 'across a break' (a published
    figure not comparable, or to interpret with caution).

    >>> base = dict(source="mps", unit="offences", value=9.0, change=-1.0, change_pct=-10.0, lower_is_better=True,
    ...     comparable=True, caution="", significant=True)
    >>> [verdict(dict(base, **kw)) for kw in ({}, dict(significant=False), dict(caution="x", significant=None),
    ...     dict(comparable=False, change_pct=float("nan")), dict(value=float("nan"), change_pct=float("nan"), change=float("nan")))]
    ['better', 'within chance', 'across a break', 'across a break', 'not available']

    An open figure is tested when its source gives counts, judged by size when it gives rates, and
    across a break like a police figure:

    >>> opened = dict(base, source="open")
    >>> [verdict(dict(opened, **kw)) for kw in (dict(significant=False), dict(significant=None), dict(caution="x"))]
    ['within chance', 'better', 'across a break']
    """
    judged = row_judgement(row, threshold)
    if judged == "not available":
        return judged
    if judged == "not comparable" or (isinstance(row.get("caution"), str) and row.get("caution")):
        return "not available" if row.get("source") == "partner" else "across a break"
    if judged == "about the same" or (can_be_tested(row) and not _true(row.get("significant"))):
        return "within chance"
    return judged


def can_be_tested(row) -> bool:
    """Whether the row's change can be tested for chance: a police figure (the borough file), or
    any other figure that carries a test result (an open source's counts); a partner's figure, or
    a rate or share published without counts, cannot be."""
    return row.get("source") == "mps" or (row.get("source") != "partner" and not _missing(row.get("significant")))


def _true(value) -> bool:
    """True for a value that is true (a Python, numpy or pandas boolean); False for false or missing."""
    return not _missing(value) and bool(value)


def headline_count(rows, threshold: float = 1.0) -> str:
    """The headline count with its denominator: the measures that can be judged, how many moved
    the right way (and the wrong way) by more than chance, and how many cannot be judged and why.

    >>> rows = [dict(source="mps", unit="offences", value=9.0, change=-1.0, change_pct=-10.0, lower_is_better=True,
    ...     comparable=True, caution="", significant=True)] + [dict(source="partner", unit="offences", value=float("nan"),
    ...     change=float("nan"), change_pct=float("nan"), lower_is_better=True, comparable=False)] * 2
    >>> headline_count(rows)
    'Of the 1 headline measure that can be judged this year, 1 moved in the right direction and none in the wrong direction by more than chance. 2 cannot be judged: 2 not available.'
    >>> headline_count(rows[1:])
    'None of the 2 headline measures can be judged this year: 2 not available.'
    """
    verdicts = [verdict(r, threshold) for r in rows]
    n = {v: verdicts.count(v) for v in ("better", "worse", "within chance", "not available", "across a break")}
    judged = n["better"] + n["worse"] + n["within chance"]
    why = ", ".join(f"{n[k]} {k}" for k in ("not available", "across a break") if n[k])
    if not judged:
        return f"None of the {words.plural(len(rows), 'headline measure')} can be judged this year: {why}."
    counted = [r for r, v in zip(rows, verdicts) if v in ("better", "worse", "within chance")]
    untested = any(not can_be_tested(r) for r in counted)
    partners_only = all(r.get("source") == "partner" for r in counted if not can_be_tested(r))
    how = ("by more than chance" if not untested
           else f"by more than {threshold:g}%" if partners_only and not any(can_be_tested(r) for r in counted)
           else f"by more than {threshold:g}% (these figures cannot be tested for chance: they come from partners or are "
                "published without counts)" if not any(can_be_tested(r) for r in counted)
           else f"(police figures by more than chance, partner figures, which cannot be tested, by more than {threshold:g}%)"
           if partners_only
           else f"(tested figures by more than chance; figures that cannot be tested, from partners or published "
                f"without counts, by more than {threshold:g}%)")
    text = (f"Of the {words.plural(judged, 'headline measure')} that can be judged this year, "
            f"{n['better'] or 'none'} moved in the right direction and {n['worse'] or 'none'} in the wrong direction {how}")
    if n["within chance"]:
        text += f"; {n['within chance']} did not change by more than {'chance' if not untested else 'that'}"
    text += "."
    unjudged = n["not available"] + n["across a break"]
    return f"{text} {unjudged} cannot be judged: {why}." if unjudged else text
