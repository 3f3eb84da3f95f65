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


@dataclass(frozen=True)
class Classification:
    id: str
    label: str
    categories: dict  # major -> tuple of minors

    @property
    def pairs(self) -> frozenset:
        return frozenset((major, minor) for major, minors in self.categories.items() for minor in minors)

    @property
    def minors(self) -> frozenset:
        return frozenset(minor for _, minor in self.pairs)


@dataclass(frozen=True)
class Classifications:
    break_month: str  # "YYYY-MM"
    break_description: str
    by_id: dict
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


@lru_cache(maxsize=8)
def _classifications(path: Path) -> Classifications:
    data = read_yaml(path)
    brk = _require(data, "break", path, "top level", dict)
    month = str(_require(brk, "month", path, "break"))
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise DefinitionError(f"{path}: break: month must look like 2017-01, found '{month}'")
    by_id = {}
    for cid, body in _require(data, "classifications", path, "top level", dict).items():
        cats = _require(body, "categories", path, f"classification '{cid}'", dict)
        by_id[cid] = Classification(
            id=cid,
            label=str(body.get("label", cid)),
            categories={major: tuple(minors) for major, minors in cats.items()},
        )
    return Classifications(
        break_month=month,
        break_description=str(brk.get("description", "")),
        by_id=by_id,
        old_to_new=dict(data.get("old_to_new") or {}),
    )


def classifications(path: Path | None = None) -> Classifications:
    """The crime classifications and the date of the 2017 break (``data/classification.yml``)."""
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
                allowed = known_classes[cid].minors
                for minor in minors:
                    _choice(minor, allowed, path, f"{where}, {cid}", "category")
                categories[cid] = tuple(minors)
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
