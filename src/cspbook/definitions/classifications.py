"""The crime classifications of every published edition, the series they belong to, the
spellings of the key columns, and the breaks in each series with their decisions
(``data/classification.yml``)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cspbook import config
from cspbook.definitions.schema import choice, read_yaml, require
from cspbook.errors import DefinitionError


def name_key(name: str) -> str:
    """How category and column names are matched: case, surrounding and repeated spaces ignored.

    >>> name_key("  Res Burglary of  a Home "), name_key("RES BURGLARY OF A HOME")
    ('res burglary of a home', 'res burglary of a home')
    """
    return " ".join(str(name).split()).casefold()


@dataclass(frozen=True)
class Classification:
    """The crime categories of one published naming, and the series its files belong to."""

    id: str
    label: str
    series: str
    categories: dict  # major -> tuple of minors, as spelled in classification.yml
    aliases: dict = field(default_factory=dict)  # a later spelling -> the name it is the same as
    header: tuple = ()  # the key columns of its files, as published (a hint for new editions)

    @property
    def pairs(self) -> frozenset:
        """Every (major, minor) as matched, aliases included: see :func:`name_key`."""
        return frozenset(self.canonical)

    @property
    def direct(self) -> frozenset:
        """Every (major, minor) as matched, without the aliases."""
        return frozenset((name_key(major), name_key(minor)) for major, minors in self.categories.items() for minor in minors)

    @property
    def canonical(self) -> dict:
        """(major key, minor key) -> (major, minor) as spelled in classification.yml; a name
        under ``aliases`` (a renamed major or minor category) maps to the name it is the same as."""
        spellings = {}
        for new, old in self.aliases.items():
            spellings.setdefault(name_key(old), []).append(new)
        out = {}
        for major, minors in self.categories.items():
            for minor in minors:
                for ma in (major, *spellings.get(name_key(major), ())):
                    for mi in (minor, *spellings.get(name_key(minor), ())):
                        out.setdefault((name_key(ma), name_key(mi)), (major, minor))
        return out

    @property
    def minors(self) -> frozenset:
        return frozenset(minor for minors in self.categories.values() for minor in minors)


DECISIONS = ("not_comparable", "caution", "comparable")


@dataclass(frozen=True)
class Break:
    """A change of categories, definitions or recording in a series, and what the book does
    with a change of one year against the year before that spans it (``decision``)."""

    id: str
    month: str  # "YYYY-MM": the first month counted the new way
    series: tuple | str  # series ids, or "all"
    indicators: tuple | str  # indicator ids, or "all"
    decision: str  # one of DECISIONS
    title: str
    reason: str
    evidence: str
    boroughs: tuple | str = "all"  # borough names, or "all" (a movement of crimes into or out of one borough)
    instead: str = ""  # an indicator id that stays comparable across the break, offered beside it

    def applies(self, series: str, indicator: str, borough: str | None = None) -> bool:
        return (self.series == "all" or series in self.series) and (
            self.indicators == "all" or indicator in self.indicators) and (
            borough is None or self.boroughs == "all" or borough in self.boroughs)


@dataclass(frozen=True)
class Classifications:
    columns: dict  # role (borough, major, minor) -> tuple of published spellings
    series: dict  # series id -> label, oldest first
    by_id: dict
    breaks: tuple
    old_to_new: dict


_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


ROLES = ("borough", "major", "minor")


@lru_cache(maxsize=8)
def _classifications(path: Path) -> Classifications:
    data = read_yaml(path)
    columns = require(data, "columns", path, "top level", dict)
    for role in ROLES:
        spellings = require(columns, role, path, "columns", list)
        if not spellings:
            raise DefinitionError(f"{path}: columns: '{role}' needs at least one spelling")
    series = {}
    for sid, body in require(data, "series", path, "top level", dict).items():
        series[sid] = str(require(body, "label", path, f"series '{sid}'"))
    by_id = {}
    for cid, body in require(data, "classifications", path, "top level", dict).items():
        where = f"classification '{cid}'"
        cats = require(body, "categories", path, where, dict)
        by_id[cid] = Classification(
            id=cid,
            label=str(body.get("label", cid)),
            series=choice(require(body, "series", path, where), series, path, where, "series"),
            categories={str(major): tuple(str(m) for m in minors) for major, minors in cats.items()},
            aliases=_aliases(body.get("aliases"), cats, path, where),
            header=tuple(str(h) for h in body.get("header") or ()),
        )
    breaks = tuple(_break(entry, i, path, series) for i, entry in enumerate(data.get("breaks") or [], start=1))
    return Classifications(
        columns={role: tuple(columns[role]) for role in ROLES},
        series=series,
        by_id=by_id,
        breaks=breaks,
        old_to_new=dict(data.get("old_to_new") or {}),
    )


ALIAS = re.compile(r"same as (.+)", re.IGNORECASE)


def _aliases(entries, cats: dict, path: Path, where: str) -> dict:
    """``NEW NAME: same as OLD NAME``: a major or minor category renamed in a later edition.
    OLD NAME must be a category of the classification; the rows are counted under it."""
    if not entries:
        return {}
    if not isinstance(entries, dict):
        raise DefinitionError(f"{path}: {where}: aliases must be lines like 'NEW NAME: same as OLD NAME'")
    names = {name_key(n): str(n) for major, minors in cats.items() for n in (major, *minors)}
    out = {}
    for new, text in entries.items():
        match = ALIAS.fullmatch(" ".join(str(text).split()))
        if not match:
            raise DefinitionError(f"{path}: {where}: alias '{new}: {text}' must read '{new}: same as OLD NAME'")
        old = match.group(1)
        if name_key(old) not in names:
            raise DefinitionError(f"{path}: {where}: alias '{new}' is the same as '{old}', which is not a category of "
                                  f"this classification; name one of its categories")
        if name_key(new) in names:
            raise DefinitionError(f"{path}: {where}: alias '{new}' is already a category of this classification; delete the alias")
        out[str(new)] = names[name_key(old)]
    return out


def _break(entry, number: int, path: Path, series: dict) -> Break:
    where = f"break {number}"
    bid = require(entry, "id", path, where)
    where = f"break '{bid}'"
    month = str(require(entry, "month", path, where))
    if not _MONTH.fullmatch(month):
        raise DefinitionError(f"{path}: {where}: month must look like 2017-01, found '{month}'")
    scope = entry.get("series", "all")
    if scope != "all":
        if not isinstance(scope, list):
            raise DefinitionError(f"{path}: {where}: series must be a list of series ids or all, found {scope!r}")
        scope = tuple(choice(s, series, path, where, "series") for s in scope)
    ids = entry.get("indicators", "all")
    if ids != "all":
        if not isinstance(ids, list):
            raise DefinitionError(f"{path}: {where}: indicators must be a list of indicator ids or all, found {ids!r}")
        ids = tuple(str(i) for i in ids)
    boroughs = entry.get("boroughs", "all")
    if boroughs != "all":
        if not isinstance(boroughs, list):
            raise DefinitionError(f"{path}: {where}: boroughs must be a list of borough names or all, found {boroughs!r}")
        boroughs = tuple(str(b) for b in boroughs)
    return Break(
        id=bid, month=month, series=scope, indicators=ids,
        decision=choice(require(entry, "decision", path, where), DECISIONS, path, where, "decision"),
        title=require(entry, "title", path, where),
        reason=" ".join(require(entry, "reason", path, where).split()),
        evidence=" ".join(require(entry, "evidence", path, where).split()),
        boroughs=boroughs, instead=str(entry.get("instead", "") or ""),
    )


def classifications(path: Path | None = None) -> Classifications:
    """Column spellings, series, crime classifications and breaks (``data/classification.yml``)."""
    return _classifications(path or config.definitions_dir() / "classification.yml")
