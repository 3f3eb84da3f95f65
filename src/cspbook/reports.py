"""Report configuration: ``data/reports/defaults.yml`` overridden by
``data/reports/<borough-slug>-<year>.yml`` when that file exists.

Validated when loaded: every priority id and indicator id must be defined in
``data/indicators.yml``; the file's borough and year must match its name.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import yaml

from cspbook import config, definitions, periods
from cspbook.errors import DefinitionError

KEYS = {
    "borough", "year", "aim", "partnership", "priorities", "headline", "next_priorities",
    "static_threshold_pct", "reconciliation_tolerance_pp", "data_sources", "targets",
}


@dataclass(frozen=True)
class PriorityConfig:
    id: str
    title: str
    summary: str
    focus: str
    indicators: tuple[str, ...]


@dataclass(frozen=True)
class Report:
    borough: str
    year: int
    aim: str
    partnership: str
    priorities: tuple[PriorityConfig, ...]
    headline: tuple[str, ...]
    next_priorities: tuple[dict, ...]
    static_threshold_pct: float
    reconciliation_tolerance_pp: float
    data_sources: tuple[dict, ...]
    targets: dict
    files: tuple[str, ...]

    @property
    def year_label(self) -> str:
        return periods.label(self.year)

    def indicator_ids(self) -> list[str]:
        """Every indicator the report uses, headline first, without repeats."""
        seen = dict.fromkeys(self.headline)
        for p in self.priorities:
            seen.update(dict.fromkeys(p.indicators))
        return list(seen)


def path_for(borough: str, year: int, folder: Path | None = None) -> Path:
    folder = folder or config.definitions_dir() / "reports"
    return folder / f"{definitions.slug(borough)}-{periods.label(year)}.yml"


def load(borough: str, year: int, folder: Path | None = None) -> Report:
    """The report configuration for ``borough`` (canonical name) and ``year`` (start year)."""
    folder = folder or config.definitions_dir() / "reports"
    defaults_path = folder / "defaults.yml"
    merged = dict(_mapping(defaults_path))
    origin = dict.fromkeys(merged, defaults_path)  # key -> the file it was taken from
    files = [str(defaults_path)]
    own = path_for(borough, year, folder)
    if own.exists():
        data = _mapping(own)
        _check_identity(own, data, borough, year)
        merged.update(data)
        origin.update(dict.fromkeys(data, own))
        files.append(str(own))
    return _build(merged, borough, year, origin, own if own.exists() else defaults_path, tuple(files))


def _where(path: Path, token: str) -> str:
    """``path, line N`` for the first YAML key or scalar value equal to ``token`` (prose that
    merely mentions it does not count); just ``path`` when the file has none.
    """
    try:
        root = yaml.compose(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return str(path)
    stack = [root] if root is not None else []
    while stack:
        node = stack.pop(0)
        if isinstance(node, yaml.ScalarNode):
            if node.value == str(token):
                return f"{path}, line {node.start_mark.line + 1}"
        elif isinstance(node, yaml.MappingNode):
            stack[:0] = [part for pair in node.value for part in pair]
        elif isinstance(node, yaml.SequenceNode):
            stack[:0] = list(node.value)
    return str(path)


def _mapping(path: Path) -> dict:
    data = definitions.read_yaml(path) or {}
    if not isinstance(data, dict):
        raise DefinitionError(f"{path}: must be a mapping of keys to values, found {type(data).__name__}")
    unknown = sorted(set(data) - KEYS)
    if unknown:
        hint = difflib.get_close_matches(str(unknown[0]), sorted(KEYS), n=1)
        suggestion = f"did you mean '{hint[0]}'? " if hint else ""
        raise DefinitionError(
            f"{_where(path, unknown[0])}: unknown key '{unknown[0]}'; {suggestion}allowed keys: {', '.join(sorted(KEYS))}"
        )
    return data


def _check_identity(path: Path, data: dict, borough: str, year: int) -> None:
    if "borough" in data and data["borough"] != borough:
        raise DefinitionError(f"{path}: borough is '{data['borough']}' but the file name says '{borough}'; make them agree")
    if "year" in data and str(data["year"]) != periods.label(year):
        raise DefinitionError(f"{path}: year is '{data['year']}' but the file name says '{periods.label(year)}'; make them agree")


def _indicator_ids(path, where, ids) -> tuple[str, ...]:
    known = definitions.indicators()
    if not isinstance(ids, list) or not ids:
        raise DefinitionError(f"{path}: {where}: must be a non-empty list of indicator ids")
    for iid in ids:
        if iid not in known:
            hint = difflib.get_close_matches(str(iid), list(known), n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise DefinitionError(
                f"{_where(path, iid)}: {where}: unknown indicator id '{iid}'{suggestion} "
                f"(defined in data/indicators.yml: {', '.join(known)})"
            )
    return tuple(ids)


def _build(data: dict, borough: str, year: int, origin: dict, fallback: Path, files) -> Report:
    """The Report from the merged keys; an error names the file each key came from."""

    def src(key: str) -> Path:
        return origin.get(key, fallback)

    prios = definitions.priorities()
    priorities = []
    path = src("priorities")
    for i, entry in enumerate(data.get("priorities") or [], start=1):
        if not isinstance(entry, dict) or "id" not in entry:
            raise DefinitionError(f"{path}: priorities, entry {i}: needs an 'id' (one of {', '.join(prios)})")
        pid = entry["id"]
        if pid not in prios:
            hint = difflib.get_close_matches(str(pid), list(prios), n=1)
            suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
            raise DefinitionError(
                f"{_where(path, pid)}: priorities, entry {i}: unknown priority '{pid}'{suggestion} "
                f"(defined in data/indicators.yml: {', '.join(prios)})"
            )
        priorities.append(PriorityConfig(
            id=pid,
            title=str(entry.get("title") or prios[pid].title),
            summary=prios[pid].summary,
            focus=str(entry.get("focus", "")),
            indicators=_indicator_ids(path, f"priority '{pid}', indicators", entry.get("indicators")),
        ))
    if not priorities:
        raise DefinitionError(f"{path}: priorities: at least one priority is needed")
    for key in ("aim", "partnership"):
        if not isinstance(data.get(key), str) or not data[key].strip():
            raise DefinitionError(f"{src(key)}: '{key}' must be a non-empty text")
    nxt = data.get("next_priorities") or []
    for i, entry in enumerate(nxt, start=1):
        if not isinstance(entry, dict) or not entry.get("title"):
            raise DefinitionError(f"{src('next_priorities')}: next_priorities, entry {i}: needs a 'title' and a 'text'")
    return Report(
        borough=borough,
        year=year,
        aim=" ".join(data["aim"].split()),
        partnership=" ".join(data["partnership"].split()),
        priorities=tuple(priorities),
        headline=_indicator_ids(src("headline"), "headline", data.get("headline")),
        next_priorities=tuple({"title": str(e["title"]), "text": str(e.get("text", ""))} for e in nxt),
        static_threshold_pct=_float(src("static_threshold_pct"), data, "static_threshold_pct", 1.0),
        reconciliation_tolerance_pp=_float(src("reconciliation_tolerance_pp"), data, "reconciliation_tolerance_pp", 1.0),
        data_sources=tuple(data.get("data_sources") or ()),
        targets=dict(data.get("targets") or {}),
        files=files,
    )


def _float(path, data, key, default) -> float:
    value = data.get(key, default)
    if not isinstance(value, (int, float)) or value < 0:
        raise DefinitionError(f"{path}: '{key}' must be a number of 0 or more, found {value!r}")
    return float(value)
