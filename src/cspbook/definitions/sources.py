"""The open sources beside the MPS borough file (``data/sources.yml``): who publishes each,
where it is fetched from, the files it expects, how they are laid out and what period a
figure covers; the area spellings, breaks and plausibility rules that go with them."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cspbook import config
from cspbook.definitions.classifications import DECISIONS, Break
from cspbook.definitions.schema import choice, read_yaml, require
from cspbook.errors import DefinitionError

LAYOUTS = ("dashboard_long", "survey_proportions", "rates_by_year", "population_by_age",
           "children_population", "viewit_export")


PERIODS = ("month", "rolling_12_months_to_quarter_end", "calendar_year", "mid_year", "financial_year")


RULES = ("within_local_range",)


@dataclass(frozen=True)
class OpenSource:
    """One open source, as ``data/sources.yml`` defines it."""

    id: str
    publisher: str
    dataset: str
    online: dict  # {"ckan": name} | {"urls": [...]} | {"none": why}
    files: tuple  # file name patterns (shell style, case ignored)
    layout: str
    licence: str
    period: str
    known: dict = field(default_factory=dict)  # column key -> tuple of allowed values
    select: dict = field(default_factory=dict)  # column key -> the one value kept
    caveats: str = ""

    def matches(self, name: str) -> bool:
        """Whether a file name is one of this source's files.

        >>> OpenSource("s", "", "", {}, ("bds_long*.parquet",), "rates_by_year", "", "").matches("BDS_long_0.parquet")
        True
        """
        return any(fnmatch.fnmatch(name.lower(), pattern.lower()) for pattern in self.files)

    @property
    def where(self) -> str:
        """Where it is published, for a reader: the Datastore page, an address, or how to get it."""
        if "ckan" in self.online:
            return f"{config.DATASTORE_URL}/dataset/{self.online['ckan']}"
        if "urls" in self.online:
            return "; ".join(self.online["urls"])
        return str(self.online.get("none", ""))


@dataclass(frozen=True)
class Plausibility:
    id: str
    source: str
    rule: str
    areas: tuple
    reason: str


@dataclass(frozen=True)
class Registry:
    sources: dict  # id -> OpenSource, in file order
    area_aliases: dict  # area key -> canonical name
    breaks: tuple  # Break
    plausibility: tuple  # Plausibility

    def source_of(self, name: str) -> OpenSource | None:
        """The source a file name belongs to (the first whose patterns match), or None."""
        return next((s for s in self.sources.values() if s.matches(name)), None)


def area_key(name: str) -> str:
    """An area name for matching: lower case, '&' as 'and', one space between words.

    >>> area_key("Richmond Upon  Thames"), area_key("Barking & Dagenham")
    ('richmond upon thames', 'barking and dagenham')
    """
    name = str(name).replace("&", " and ").lower()
    return re.sub(r"[^a-z0-9]+", " ", name).strip()


def column_key(name: str) -> str:
    """A column name for matching any published spelling: lower case letters and digits.

    >>> column_key("Offence Subgroup") == column_key("offence_subgroup")
    True
    """
    return re.sub(r"[^a-z0-9]+", "", str(name).lower())


def _strings(value, path, where, key) -> tuple:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise DefinitionError(f"{path}: {where}: '{key}' must be a list of names")
    return tuple(value)


def _source(entry, path, number) -> OpenSource:
    where = f"source {number}"
    sid = require(entry, "id", path, where)
    where = f"source '{sid}'"
    online = require(entry, "online", path, where, dict)
    if len(online) != 1 or next(iter(online)) not in ("ckan", "urls", "none"):
        raise DefinitionError(f"{path}: {where}: 'online' must be one of {{ckan: NAME}}, {{urls: [...]}}, {{none: WHY}}")
    known = {column_key(k): _strings(v, path, where, f"known: {k}") for k, v in (entry.get("known") or {}).items()}
    select = {column_key(k): str(v) for k, v in (entry.get("select") or {}).items()}
    return OpenSource(
        id=sid,
        publisher=require(entry, "publisher", path, where),
        dataset=require(entry, "dataset", path, where),
        online=online,
        files=_strings(require(entry, "files", path, where, list), path, where, "files"),
        layout=choice(require(entry, "layout", path, where), LAYOUTS, path, where, "layout"),
        licence=require(entry, "licence", path, where),
        period=choice(require(entry, "period", path, where), PERIODS, path, where, "period"),
        known=known,
        select=select,
        caveats=str(entry.get("caveats", "")).strip(),
    )


def _break(entry, path, sources) -> Break:
    where = f"break '{entry.get('id', '?')}'"
    series = _strings(require(entry, "series", path, where, list), path, where, "series")
    for sid in series:
        choice(sid, sources, path, where, "series")
    return Break(
        id=require(entry, "id", path, where),
        month=str(require(entry, "month", path, where)),
        series=series,
        indicators=_strings(require(entry, "indicators", path, where, list), path, where, "indicators"),
        decision=choice(require(entry, "decision", path, where), DECISIONS, path, where, "decision"),
        title=require(entry, "title", path, where),
        reason=" ".join(require(entry, "reason", path, where).split()),
        evidence=" ".join(require(entry, "evidence", path, where).split()),
    )


@lru_cache(maxsize=4)
def _registry(path: Path) -> Registry:
    data = read_yaml(path)
    sources = {}
    for number, entry in enumerate(require(data, "sources", path, "top level", list), start=1):
        source = _source(entry, path, number)
        if source.id in sources:
            raise DefinitionError(f"{path}: source '{source.id}' defined twice; ids must be unique")
        sources[source.id] = source
    aliases = {area_key(k): str(v) for k, v in (data.get("area_aliases") or {}).items()}
    breaks = tuple(_break(entry, path, sources) for entry in data.get("breaks") or [])
    rules = []
    for entry in data.get("plausibility") or []:
        where = f"plausibility rule '{entry.get('id', '?')}'"
        rules.append(Plausibility(
            id=require(entry, "id", path, where),
            source=choice(require(entry, "source", path, where), sources, path, where, "source"),
            rule=choice(require(entry, "rule", path, where), RULES, path, where, "rule"),
            areas=_strings(require(entry, "areas", path, where, list), path, where, "areas"),
            reason=" ".join(require(entry, "reason", path, where).split()),
        ))
    return Registry(sources, aliases, breaks, tuple(rules))


def registry(path: Path | None = None) -> Registry:
    """The open sources of ``data/sources.yml``, checked."""
    return _registry(path or config.definitions_dir() / "sources.yml")
