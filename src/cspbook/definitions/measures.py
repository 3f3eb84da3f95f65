"""The indicators and priorities of the report (``data/indicators.yml``): what each counts,
in words and, for each classification, in categories."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cspbook import config
from cspbook.definitions.classifications import classifications, name_key
from cspbook.definitions.schema import choice, read_yaml, require
from cspbook.errors import DefinitionError

SOURCES = ("mps", "partner", "open")


UNITS = ("offences", "percent", "calls", "people", "victims", "rate per 100,000 aged 10-17")


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
    open: dict = field(default_factory=dict)  # the open figure (data/sources.yml): source, measure, period, ...
    beside: tuple = ()  # open indicators shown beside this one where it has no figure (a narrower measure)


@dataclass(frozen=True)
class Priority:
    id: str
    title: str
    summary: str


@lru_cache(maxsize=8)
def _indicators(path: Path, classification_path: Path):
    data = read_yaml(path)
    known_classes = classifications(classification_path).by_id
    priorities = {}
    for pid, body in require(data, "priorities", path, "top level", dict).items():
        where = f"priority '{pid}'"
        priorities[pid] = Priority(
            pid, require(body, "title", path, where), require(body, "summary", path, where)
        )
    indicators = {}
    for i, entry in enumerate(require(data, "indicators", path, "top level", list), start=1):
        where = f"indicator {i}"
        iid = require(entry, "id", path, where)
        where = f"indicator '{iid}'"
        if iid in indicators:
            raise DefinitionError(f"{path}: {where}: id defined twice; ids must be unique")
        source = choice(require(entry, "source", path, where), SOURCES, path, where, "source")
        categories = {}
        if source == "mps":
            cats = require(entry, "categories", path, where, dict)
            for cid in known_classes:
                if cid not in cats:
                    raise DefinitionError(
                        f"{path}: {where}: categories for classification '{cid}' missing; "
                        f"give the minor categories it sums in each of {sorted(known_classes)}"
                    )
            for cid, minors in cats.items():
                choice(cid, known_classes, path, where, "classification")
                if minors == "all":
                    categories[cid] = "all"
                    continue
                allowed = {name_key(m): m for m in known_classes[cid].minors}
                for minor in minors:
                    if name_key(minor) not in allowed:
                        choice(minor, set(allowed.values()), path, f"{where}, {cid}", "category")
                categories[cid] = tuple(allowed[name_key(m)] for m in minors)
        indicators[iid] = Indicator(
            id=iid,
            label=require(entry, "label", path, where),
            definition=require(entry, "definition", path, where),
            priority=choice(require(entry, "priority", path, where), priorities, path, where, "priority"),
            source=source,
            unit=choice(require(entry, "unit", path, where), UNITS, path, where, "unit"),
            lower_is_better=require(entry, "lower_is_better", path, where, bool),
            categories=categories,
            open=_open(entry, path, where, source),
            beside=tuple(entry.get("beside") or ()),
        )
    for ind in indicators.values():
        for other in ind.beside:
            choice(other, indicators, path, f"indicator '{ind.id}', beside", "indicator")
    for brk in classifications(classification_path).breaks:
        for iid in () if brk.indicators == "all" else brk.indicators:
            choice(iid, indicators, classification_path, f"break '{brk.id}'", "indicator")
    return priorities, indicators


OPEN_PERIODS = ("financial_year_of_months", "calendar_year", "quarter_end_nearest_year_end", "financial_year")


def _open(entry, path, where, source) -> dict:
    """The ``open:`` block: where an open source gives the indicator (the figure of an open
    indicator; a partner indicator's figure when no partner figure is supplied)."""
    block = entry.get("open")
    if block is None:
        if source == "open":
            raise DefinitionError(f"{path}: {where}: source 'open' needs an 'open:' block (source, measure, period)")
        return {}
    if not isinstance(block, dict):
        raise DefinitionError(f"{path}: {where}: 'open' must be a mapping (source, measure, period)")
    from cspbook.definitions.sources import registry

    choice(require(block, "source", path, f"{where}, open"), registry().sources, path, f"{where}, open", "source")
    require(block, "measure", path, f"{where}, open")
    choice(require(block, "period", path, f"{where}, open"), OPEN_PERIODS, path, f"{where}, open", "period")
    choice(block.get("unit", entry.get("unit")), UNITS, path, f"{where}, open", "unit")
    return dict(block)


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
