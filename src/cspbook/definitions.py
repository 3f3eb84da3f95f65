"""Definitions as data: boroughs, crime classifications and indicators, read from YAML
under ``data/`` and validated when loaded.

Every problem names the file and the entry, says what was found and what is allowed.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml

from cspbook import config
from cspbook.errors import DefinitionError, UnknownBoroughError

SOURCES = ("mps", "partner")
UNITS = ("offences", "percent", "calls", "people")


@dataclass(frozen=True)
class Indicator:
    """One indicator of the report, as defined in ``data/indicators.yml``."""

    id: str
    label: str
    definition: str
    priority: str
    source: str
    unit: str
    lower_is_better: bool
    categories: dict = field(default_factory=dict)  # classification -> tuple of minors, or "all"


@dataclass(frozen=True)
class Priority:
    id: str
    title: str
    summary: str


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

    @property
    def pairs(self) -> frozenset:
        """Every (major, minor) as matched: see :func:`name_key`."""
        return frozenset(self.canonical)

    @property
    def canonical(self) -> dict:
        """(major key, minor key) -> (major, minor) as spelled in classification.yml."""
        return {(name_key(major), name_key(minor)): (major, minor)
                for major, minors in self.categories.items() for minor in minors}

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

    def applies(self, series: str, indicator: str) -> bool:
        return (self.series == "all" or series in self.series) and (
            self.indicators == "all" or indicator in self.indicators)


@dataclass(frozen=True)
class Classifications:
    columns: dict  # role (borough, major, minor) -> tuple of published spellings
    series: dict  # series id -> label, oldest first
    by_id: dict
    breaks: tuple
    old_to_new: dict


def read_yaml(path: Path):
    """Parse a YAML file, turning syntax errors into a DefinitionError that names the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise DefinitionError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None


def _require(mapping, key, path, where, kind=str):
    if not isinstance(mapping, dict) or key not in mapping:
        raise DefinitionError(f"{path}: {where}: missing '{key}'")
    value = mapping[key]
    if not isinstance(value, kind):
        raise DefinitionError(
            f"{path}: {where}: '{key}' must be {kind.__name__}, found {type(value).__name__} {value!r}"
        )
    return value


def _choice(value, allowed, path, where, key):
    if value not in allowed:
        hint = difflib.get_close_matches(str(value), list(allowed), n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        raise DefinitionError(
            f"{path}: {where}: {key} '{value}' is not one of {sorted(allowed)}{suggestion}"
        )
    return value


@lru_cache(maxsize=8)
def _boroughs(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    data = read_yaml(path)
    boroughs = tuple(_require(data, "boroughs", path, "top level", list))
    others = tuple(data.get("other_areas") or ())
    return boroughs, others


def boroughs(path: Path | None = None) -> tuple[str, ...]:
    """The 32 London boroughs, in the order of ``data/boroughs.yml``."""
    return _boroughs(path or config.definitions_dir() / "boroughs.yml")[0]


def other_areas(path: Path | None = None) -> tuple[str, ...]:
    """Areas present in MPS files that are not boroughs (left out of every figure)."""
    return _boroughs(path or config.definitions_dir() / "boroughs.yml")[1]


def _normalise_name(name: str) -> str:
    name = name.replace("&", " and ").lower()
    return re.sub(r"[^a-z0-9]+", " ", name).strip()


def suggest_borough(name: str, known=None) -> str | None:
    """The closest known borough to ``name``, or None.

    >>> suggest_borough("Barking & Dagenham", ["Barking and Dagenham", "Barnet"])
    'Barking and Dagenham'
    >>> suggest_borough("Barking", ["Barking and Dagenham", "Barnet"])
    'Barking and Dagenham'
    >>> suggest_borough("Xyz", ["Barking and Dagenham", "Barnet"]) is None
    True
    """
    known = list(known if known is not None else boroughs())
    by_norm = {_normalise_name(b): b for b in known}
    norm = _normalise_name(name)
    if norm in by_norm:
        return by_norm[norm]
    prefixed = [b for n, b in by_norm.items() if norm and n.startswith(norm)]
    if len(prefixed) == 1:
        return prefixed[0]
    close = difflib.get_close_matches(norm, list(by_norm), n=1, cutoff=0.6)
    return by_norm[close[0]] if close else None


def resolve_borough(name: str) -> str:
    """Return the canonical borough name, accepting case and '&' variants; raise otherwise.

    >>> resolve_borough("barking and dagenham")
    'Barking and Dagenham'
    """
    known = boroughs()
    if name in known:
        return name
    others = {name_key(area): area for area in other_areas()}
    if name_key(name) in others:
        raise UnknownBoroughError(
            f"'{others[name_key(name)]}' is not a borough: the MPS files use it for crimes not counted in any "
            f"borough, which are left out of every figure; the boroughs are: {', '.join(known)}"
        )
    suggestion = suggest_borough(name, known)
    if suggestion and _normalise_name(suggestion) == _normalise_name(name):
        return suggestion
    hint = f"; did you mean '{suggestion}'?" if suggestion else f"; the boroughs are: {', '.join(known)}"
    raise UnknownBoroughError(f"unknown borough '{name}'{hint}")


def year_file(kind: str, borough: str, year: int, suffix: str, folder: Path | None = None) -> Path:
    """``data/<kind>/<borough-slug>-<year><suffix>``: the per-borough, per-year files of
    reports, partner figures and published figures.

    >>> year_file("partner", "Barking and Dagenham", 2011, ".csv", Path("data/partner")).as_posix()
    'data/partner/barking-and-dagenham-2011-12.csv'
    """
    from cspbook import periods

    folder = folder or config.definitions_dir() / kind
    return folder / f"{slug(borough)}-{periods.label(year)}{suffix}"


def slug(name: str) -> str:
    """File-name form of a borough name.

    >>> slug("Barking and Dagenham")
    'barking-and-dagenham'
    """
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
ROLES = ("borough", "major", "minor")


@lru_cache(maxsize=8)
def _classifications(path: Path) -> Classifications:
    data = read_yaml(path)
    columns = _require(data, "columns", path, "top level", dict)
    for role in ROLES:
        spellings = _require(columns, role, path, "columns", list)
        if not spellings:
            raise DefinitionError(f"{path}: columns: '{role}' needs at least one spelling")
    series = {}
    for sid, body in _require(data, "series", path, "top level", dict).items():
        series[sid] = str(_require(body, "label", path, f"series '{sid}'"))
    by_id = {}
    for cid, body in _require(data, "classifications", path, "top level", dict).items():
        where = f"classification '{cid}'"
        cats = _require(body, "categories", path, where, dict)
        by_id[cid] = Classification(
            id=cid,
            label=str(body.get("label", cid)),
            series=_choice(_require(body, "series", path, where), series, path, where, "series"),
            categories={str(major): tuple(str(m) for m in minors) for major, minors in cats.items()},
        )
    breaks = tuple(_break(entry, i, path, series) for i, entry in enumerate(data.get("breaks") or [], start=1))
    return Classifications(
        columns={role: tuple(columns[role]) for role in ROLES},
        series=series,
        by_id=by_id,
        breaks=breaks,
        old_to_new=dict(data.get("old_to_new") or {}),
    )


def _break(entry, number: int, path: Path, series: dict) -> Break:
    where = f"break {number}"
    bid = _require(entry, "id", path, where)
    where = f"break '{bid}'"
    month = str(_require(entry, "month", path, where))
    if not _MONTH.fullmatch(month):
        raise DefinitionError(f"{path}: {where}: month must look like 2017-01, found '{month}'")
    scope = entry.get("series", "all")
    if scope != "all":
        if not isinstance(scope, list):
            raise DefinitionError(f"{path}: {where}: series must be a list of series ids or all, found {scope!r}")
        scope = tuple(_choice(s, series, path, where, "series") for s in scope)
    ids = entry.get("indicators", "all")
    if ids != "all":
        if not isinstance(ids, list):
            raise DefinitionError(f"{path}: {where}: indicators must be a list of indicator ids or all, found {ids!r}")
        ids = tuple(str(i) for i in ids)
    return Break(
        id=bid, month=month, series=scope, indicators=ids,
        decision=_choice(_require(entry, "decision", path, where), DECISIONS, path, where, "decision"),
        title=_require(entry, "title", path, where),
        reason=" ".join(_require(entry, "reason", path, where).split()),
        evidence=" ".join(_require(entry, "evidence", path, where).split()),
    )


def classifications(path: Path | None = None) -> Classifications:
    """Column spellings, series, crime classifications and breaks (``data/classification.yml``)."""
    return _classifications(path or config.definitions_dir() / "classification.yml")


@lru_cache(maxsize=8)
def _indicators(path: Path, classification_path: Path):
    data = read_yaml(path)
    known_classes = classifications(classification_path).by_id
    priorities = {}
    for pid, body in _require(data, "priorities", path, "top level", dict).items():
        where = f"priority '{pid}'"
        priorities[pid] = Priority(
            pid, _require(body, "title", path, where), _require(body, "summary", path, where)
        )
    indicators = {}
    for i, entry in enumerate(_require(data, "indicators", path, "top level", list), start=1):
        where = f"indicator {i}"
        iid = _require(entry, "id", path, where)
        where = f"indicator '{iid}'"
        if iid in indicators:
            raise DefinitionError(f"{path}: {where}: id defined twice; ids must be unique")
        source = _choice(_require(entry, "source", path, where), SOURCES, path, where, "source")
        categories = {}
        if source == "mps":
            cats = _require(entry, "categories", path, where, dict)
            for cid in known_classes:
                if cid not in cats:
                    raise DefinitionError(
                        f"{path}: {where}: categories for classification '{cid}' missing; "
                        f"give the minor categories it sums in each of {sorted(known_classes)}"
                    )
            for cid, minors in cats.items():
                _choice(cid, known_classes, path, where, "classification")
                if minors == "all":
                    categories[cid] = "all"
                    continue
                allowed = {name_key(m): m for m in known_classes[cid].minors}
                for minor in minors:
                    if name_key(minor) not in allowed:
                        _choice(minor, set(allowed.values()), path, f"{where}, {cid}", "category")
                categories[cid] = tuple(allowed[name_key(m)] for m in minors)
        indicators[iid] = Indicator(
            id=iid,
            label=_require(entry, "label", path, where),
            definition=_require(entry, "definition", path, where),
            priority=_choice(_require(entry, "priority", path, where), priorities, path, where, "priority"),
            source=source,
            unit=_choice(_require(entry, "unit", path, where), UNITS, path, where, "unit"),
            lower_is_better=_require(entry, "lower_is_better", path, where, bool),
            categories=categories,
        )
    for brk in classifications(classification_path).breaks:
        for iid in () if brk.indicators == "all" else brk.indicators:
            _choice(iid, indicators, classification_path, f"break '{brk.id}'", "indicator")
    return priorities, indicators


def indicators(path: Path | None = None) -> dict[str, Indicator]:
    """All indicators by id, in the order of ``data/indicators.yml``."""
    base = config.definitions_dir()
    return _indicators(path or base / "indicators.yml", base / "classification.yml")[1]


def priorities(path: Path | None = None) -> dict[str, Priority]:
    """The report priorities by id (``data/indicators.yml``)."""
    base = config.definitions_dir()
    return _indicators(path or base / "indicators.yml", base / "classification.yml")[0]


def indicator(indicator_id: str) -> Indicator:
    """One indicator by id; an unknown id raises with the closest match."""
    known = indicators()
    if indicator_id not in known:
        hint = difflib.get_close_matches(indicator_id, list(known), n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        raise DefinitionError(f"unknown indicator '{indicator_id}'{suggestion} (defined in data/indicators.yml: {', '.join(known)})")
    return known[indicator_id]
