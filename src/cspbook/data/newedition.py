"""A file whose categories no classification knows in full: a new edition of the MPS file
(categories renamed, dropped or added), or a file that truly mixes two classifications.

For a new edition the message says which classification the file matches best (its header
and the share of its categories that classification knows), lists each unknown category
with its major category, its first line, its total over the file and the known categories of
the same major category that are missing from the file (the likely renaming), and gives the
block to paste into ``data/classification.yml`` (``NEW NAME: same as OLD NAME`` under the
classification's ``aliases:``). ``cspbook validate --suggest FILE`` prints the same block
and writes nothing. A file that truly holds two classifications (the months before a change
in one, the months after it in the other, in different rows) is told where to split it.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from cspbook import definitions, words

KEYS = ("borough", "major", "minor")


@dataclass(frozen=True)
class Unknown:
    major: str  # as spelled in the file (first row)
    minor: str
    line: int  # the first line it is on
    total: int  # its count summed over every row and month of the file
    major_known: bool
    missing: tuple  # known categories of the same major (or, for an unknown major, known majors) not in the file
    likely: str | None  # the one of ``missing`` it most probably renames


@dataclass(frozen=True)
class Finding:
    """What a file with unknown categories is: the best classification and each unknown category."""

    classification: str  # id of the classification the file matches best
    known: int  # distinct categories of the file it knows
    distinct: int  # distinct categories in the file
    header_matches: bool
    unknown: tuple  # of Unknown
    aliases: dict  # NEW -> OLD, the lines to paste
    new_categories: dict  # major -> the minors to add (no likely renaming)


def _keys(frame: pd.DataFrame) -> list[tuple[str, str]]:
    key = definitions.name_key
    return [(key(ma), key(mi)) for ma, mi in zip(frame["major"], frame["minor"])]


def _months(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in KEYS]


def best(frame: pd.DataFrame, header: list[str]) -> tuple[str, int, int, bool]:
    """The classification the file matches best: the largest share of its distinct categories
    known, then a header spelled as that classification's files are. Returns (id, known,
    distinct, header matches)."""
    used = set(_keys(frame))
    classes = definitions.classifications().by_id
    heads = {definitions.name_key(h) for h in header if not re.fullmatch(r"\d{6}", h)}

    def score(c):
        known = len(used & c.pairs)
        matches = bool(c.header) and {definitions.name_key(h) for h in c.header} == heads
        return known, matches

    cid = max(classes, key=lambda c: score(classes[c]))
    known, matches = score(classes[cid])
    return cid, known, len(used), matches


def mixed(frame: pd.DataFrame, cid: str) -> tuple[str, str, str, str] | None:
    """When the file truly holds two classifications: (the earlier classification's id, the
    later one's, the last month of the earlier one, the first month of the later one), YYYYMM. That is when the rows only the
    other classification knows have counts only before (or only after) a month and the rows
    only ``cid`` knows have counts only on the other side of it."""
    classes = definitions.classifications().by_id
    keys = _keys(frame)
    mine = classes[cid].pairs
    foreign = {k for k in keys if k not in mine}
    others = [c for c in classes.values() if c.id != cid and foreign & c.pairs]
    if not others:
        return None
    other = max(others, key=lambda c: len(foreign & c.pairs))
    months = _months(frame)
    counts = frame[months].to_numpy()
    theirs = np.array([k in other.pairs and k not in mine for k in keys])
    ours = np.array([k in mine and k not in other.pairs for k in keys])
    a, b = (np.flatnonzero(counts[rows].sum(axis=0)) for rows in (theirs, ours))
    if not len(a) or not len(b):
        return None
    if a.max() < b.min():
        return other.id, cid, months[a.max()], months[b.min()]
    if b.max() < a.min():
        return cid, other.id, months[b.max()], months[a.min()]
    return None


def find(frame: pd.DataFrame, header: list[str]) -> Finding:
    """Each category of ``frame`` the best classification does not know, with the likely renaming."""
    cid, known, distinct, matches = best(frame, header)
    cls = definitions.classifications().by_id[cid]
    key = definitions.name_key
    keys = _keys(frame)
    canonical = cls.canonical
    present = {canonical[k] for k in keys if k in canonical}
    present_majors = {ma for ma, _ in present}
    majors = {key(m): m for m in cls.categories}
    totals = pd.Series(frame[_months(frame)].to_numpy().sum(axis=1), index=pd.MultiIndex.from_tuples(keys)).groupby(level=[0, 1]).sum()
    unknown, aliases, new = [], {}, {}
    seen = set()
    for (ma, mi), line, raw_ma, raw_mi in zip(keys, frame.index, frame["major"], frame["minor"]):
        if (ma, mi) in canonical or (ma, mi) in seen:
            continue
        seen.add((ma, mi))
        total = int(totals[(ma, mi)])
        if ma in majors:
            major = majors[ma]
            missing = tuple(m for m in cls.categories[major] if (major, m) not in present)
            likely = _guess(raw_mi, cls.categories[major], missing)
            if likely:
                aliases[raw_mi] = likely
            else:
                new.setdefault(major, []).append(raw_mi)
            unknown.append(Unknown(raw_ma, raw_mi, int(line), total, True, missing, likely))
        else:
            missing = tuple(m for m in cls.categories if m not in present_majors)
            holds = [m for m in missing if key(raw_mi) in {key(n) for n in cls.categories[m]}]
            likely = holds[0] if len(holds) == 1 else _guess(raw_ma, list(cls.categories), missing)
            if likely:
                aliases.setdefault(raw_ma, likely)
            unknown.append(Unknown(raw_ma, raw_mi, int(line), total, False, missing, likely))
    return Finding(cid, known, distinct, matches, tuple(unknown), aliases, new)


def _guess(name: str, every, missing) -> str | None:
    """The known name ``name`` most probably stands for: one spelled almost the same (a typing
    slip), else the only one missing from the file, else the missing one spelled most alike.

    >>> _guess("Burglary in a Dwellng", ["Burglary in a Dwelling", "Burglary in Other Buildings"], ["Burglary in Other Buildings"])
    'Burglary in a Dwelling'
    >>> _guess("PERSONAL PROPERTY", ["ROBBERY OF PERSONAL PROPERTY", "ROBBERY OF BUSINESS PROPERTY"], ["ROBBERY OF PERSONAL PROPERTY"])
    'ROBBERY OF PERSONAL PROPERTY'
    """
    return _closest(name, every, 0.85) or (missing[0] if len(missing) == 1 else _closest(name, missing, 0.6))


def _closest(name: str, options, cutoff: float) -> str | None:
    options = list(options)
    folded = [o.casefold() for o in options]
    close = difflib.get_close_matches(name.casefold(), folded, n=1, cutoff=cutoff)
    return options[folded.index(close[0])] if close else None


def _yaml(text: str) -> str:
    """A name as a YAML scalar: quoted when plain YAML would misread it."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ./&'()-]*", text) and not text.endswith(" "):
        return text
    return json.dumps(text)


def block(finding: Finding) -> str:
    """The text to paste into data/classification.yml (and what else to edit), with where."""
    cls = definitions.classifications().by_id[finding.classification]
    out = []
    if finding.aliases:
        where = (f"add these lines under 'aliases:' of classification '{cls.id}'" if cls.aliases else
                 f"paste this block under the line '  {cls.id}:'")
        out.append(f"In data/classification.yml, {where} (one line per renamed category):")
        if not cls.aliases:
            out.append("    aliases:")
        out.extend(f"      {_yaml(new)}: {_yaml('same as ' + old)}" for new, old in finding.aliases.items())
    for major, minors in finding.new_categories.items():
        listed = ", ".join(_yaml(m) for m in (*cls.categories[major], *minors))
        names = " and ".join(repr(m) for m in minors)
        out.append(f"In data/classification.yml, classification '{cls.id}': {names} new under '{major}' (if one renames "
                   f"a category, write the alias 'NEW NAME: same as OLD NAME' under 'aliases:' instead); make the line")
        out.append(f"      {_yaml(major)}: [{listed}]")
        out.append(f"and add {names} to the indicators that count it in data/indicators.yml (under {cls.id}:)")
    return "\n".join(out)


def describe(finding: Finding) -> str:
    """The unknown categories, one a line, with line, total and the likely renaming."""
    cls = definitions.classifications().by_id[finding.classification]
    head = (f"{words.plural(len(finding.unknown), 'category', 'categories')} that no classification in data/classification.yml "
            f"knows. The file matches best the {cls.label} ('{cls.id}': {finding.known} of its {finding.distinct} "
            f"categories known" + ("; its header is spelled as that edition's" if finding.header_matches else "") + ")")
    lines = [head]
    for u in finding.unknown:
        what = (f"'{u.minor}' (major category '{u.major}')" if u.major_known else
                f"major category '{u.major}' (minor '{u.minor}'), not a major category of '{cls.id}'")
        missing = ", ".join(f"'{m}'" for m in u.missing) or "none"
        gone = "known major categories missing from this file" if not u.major_known else f"known categories of '{u.major}' missing from this file"
        guess = ("; likely a new category" if not u.likely else f"; likely a renaming of '{u.likely}'" if u.likely in u.missing
                 else f"; likely a misspelling of '{u.likely}', which the file also uses (correct the file, or alias it)")
        lines.append(f"  - {what}, first on line {u.line}, {words.plural(u.total, 'offence')} over the file; {gone}: {missing}{guess}")
    return "\n".join(lines)


def mixed_advice(earlier: str, later: str, last: str, first: str) -> tuple[str, str]:
    """(problem, fix) for a file that truly holds two classifications."""
    classes = definitions.classifications().by_id
    problem = (f"the file holds two classifications: the {classes[earlier].label} to {_month(last)} and the "
               f"{classes[later].label} from {_month(first)}, in different rows")
    fix = (f"one file must use one classification: split it at {_month(first)} into two files with the same three "
           f"key columns, one with the month columns up to {last} and the other with the month columns from {first} "
           f"(delete from each the rows that are all zero), then `cspbook validate` each")
    return problem, fix


def _month(yyyymm: str) -> str:
    return pd.Period(f"{yyyymm[:4]}-{yyyymm[4:]}", "M").strftime("%B %Y")
