"""Report configuration: ``data/reports/defaults.yml`` overridden by
``data/reports/<borough-slug>-<year>.yml`` when that file exists.

Validated when loaded: every priority id and indicator id must be defined in
``data/indicators.yml``; the file's borough and year must match its name; targets are
read by :mod:`cspbook.definitions.targets`; the ``cover_paper`` text is merged key by key (a borough
file may override one passage) and its placeholders ``{borough}``, ``{year}`` and
``{next_year}`` are filled in.
"""

from __future__ import annotations

import difflib
import functools
import re
import string
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from cspbook import config, definitions
from cspbook.definitions import periods, targets
from cspbook.errors import DefinitionError

KEYS = {
    "borough", "year", "aim", "partnership", "priorities", "headline", "next_priorities",
    "static_threshold_pct", "reconciliation_tolerance_pp", "data_sources", "targets", "cover_paper", "pages",
}
PRIORITIES = "priorities"  # in ``pages``: one chapter per priority of the configuration, in its order
# The Cabinet cover paper's fixed text (see data/reports/defaults.yml), one passage per key.
COVER_TEXT = (
    "council", "meeting", "report_of", "status", "key_decision", "wards", "author", "director",
    "summary", "recommendation", "reasons", "introduction", "options", "consultation", "financial", "legal",
)
COVER_OTHER = ("risk", "staffing", "customer_impact", "safeguarding_children", "health", "crime_and_disorder")
COVER_KEYS = (*COVER_TEXT, "other", "background_papers")
# passages said otherwise of a year to date (a part year's report does not close the year),
# in ``cover_paper.to_date``; each is optional and replaces the passage of the same key
COVER_TO_DATE = ("summary", "recommendation", "reasons", "introduction")
PLACEHOLDERS = ("borough", "year", "next_year", "financial_year")


@dataclass(frozen=True)
class CoverPaperText:
    """The fixed text of the Cabinet cover paper, placeholders filled in. The paragraphs of
    a passage are separated by a newline."""

    text: dict  # COVER_TEXT key -> text
    other: dict  # COVER_OTHER key -> text, in that order
    background_papers: tuple[str, ...]


@dataclass(frozen=True)
class PriorityConfig:
    id: str
    title: str
    summary: str
    focus: str
    indicators: tuple[str, ...]
    introduction: str = ""  # the chapter's opening paragraph; the priority's summary when not given


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
    targets: dict  # indicator id -> cspbook.definitions.targets.Target
    cover_paper: CoverPaperText
    files: tuple[str, ...]
    book_pages: tuple = ()  # (name, title) of each page of the year, ``priorities`` expanded
    period: periods.Period | None = None  # the year to date it reports on (None: the whole year)

    @property
    def pages(self) -> list[tuple[str, str, bool]]:
        """(name, title, is a priority chapter) of every page of the year's book, in order."""
        ids = {p.id for p in self.priorities}
        return [(name, title, name in ids) for name, title in self.book_pages]

    @property
    def year_label(self) -> str:
        """'2012-13', or '2025-26 to date' for a year to date."""
        return self.period.name if self.period is not None else periods.label(self.year)

    @property
    def title(self) -> str:
        """The report's title, as the cover paper and the PDF give it: 'Newham Community
        Safety Partnership Annual Report 2012-13'."""
        return f"{self.borough} Community Safety Partnership Annual Report {self.year_label}"

    def indicator_ids(self) -> list[str]:
        """Every indicator the report uses, headline first, without repeats."""
        seen = dict.fromkeys(self.headline)
        for p in self.priorities:
            seen.update(dict.fromkeys(p.indicators))
        return list(seen)


def path_for(borough: str, year: int, folder: Path | None = None) -> Path:
    return definitions.year_file("reports", borough, year, ".yml", folder)


def load(borough: str, year: int, folder: Path | None = None, period: periods.Period | None = None) -> Report:
    """The report configuration for ``borough`` (canonical name) and ``year`` (start year);
    ``period``: the year to date it reports on, which its texts name ('2025-26 to date')."""
    folder = folder or config.definitions_dir() / "reports"
    defaults_path = folder / "defaults.yml"
    merged = dict(_mapping(defaults_path))
    origin = dict.fromkeys(merged, defaults_path)  # key -> the file it was taken from
    files = [str(defaults_path)]
    own = path_for(borough, year, folder)
    if own.exists():
        data = _mapping(own)
        _check_identity(own, data, borough, year)
        cover = _merge_cover(merged.get("cover_paper"), data.get("cover_paper"))
        merged.update(data)
        origin.update(dict.fromkeys(data, own))
        if cover is not None:  # passage by passage: each blamed on the file it came from
            merged["cover_paper"] = cover
            origin.update(_cover_origin(merged["cover_paper"], data["cover_paper"], own, defaults_path))
        files.append(str(own))
    report = _build(merged, borough, year, origin, own if own.exists() else defaults_path, tuple(files), period)
    return report if period is None or period.complete else replace(report, period=period)


def _cover_origin(merged: dict, own: dict, own_path: Path, defaults_path: Path) -> dict:
    """``cover_paper[.other].<key>`` -> the file each merged passage came from."""
    origin = {"cover_paper": defaults_path}  # a passage missing from both is missing from the defaults
    origin.update({f"cover_paper.{key}": own_path if key in own else defaults_path for key in merged})
    own_other = own.get("other") if isinstance(own.get("other"), dict) else {}
    if isinstance(merged.get("other"), dict):
        origin.update({f"cover_paper.other.{key}": own_path if key in own_other else defaults_path
                       for key in merged["other"]})
    return origin


def _merge_cover(base, own):
    """The cover paper text of defaults.yml with the borough file's passages over it
    (``other`` merged key by key too); None unless both files give a mapping."""
    if not (isinstance(base, dict) and isinstance(own, dict)):
        return None
    merged = {**base, **own}
    for key in ("other", "to_date"):
        if isinstance(base.get(key), dict) and isinstance(own.get(key), dict):
            merged[key] = {**base[key], **own[key]}
    return merged


@functools.lru_cache(maxsize=16)
def _composed(path: str, mtime_ns: int, size: int):
    """The YAML node tree of a file, cached per version of the file (``_where_key`` asks for
    every passage of every report loaded; composing the file each time made a load cost 0.2 s)."""
    text = Path(path).read_text(encoding="utf-8")
    loader = getattr(yaml, "CSafeLoader", None)  # libyaml's composer: the same nodes and marks, faster
    if loader is not None:
        try:
            return yaml.compose(text, Loader=loader)
        except yaml.YAMLError:
            pass
    return yaml.compose(text)


def _where_key(path: Path, *keys: str) -> str:
    """``path, line N`` for the key at ``keys`` (e.g. ``targets``, ``robbery``) in the YAML
    mapping; the nearest enclosing key found, or just ``path``."""
    try:
        stat = Path(path).stat()
        node = _composed(str(path), stat.st_mtime_ns, stat.st_size)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return str(path)
    where = str(path)
    for key in keys:
        if not isinstance(node, yaml.MappingNode):
            break
        found = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(key)), None)
        if found is None:
            break
        where, node = f"{path}, line {found[0].start_mark.line + 1}", found[1]
    return where


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
        _known(path, iid, known, f"{where}: unknown indicator id")
    return tuple(ids)


def _known(path: Path, token, known, problem: str) -> None:
    """DefinitionError (at the line of ``token``, with the closest known id) unless ``token``
    is one of ``known``, the ids defined in data/indicators.yml."""
    if token not in known:
        hint = difflib.get_close_matches(str(token), list(known), n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        raise DefinitionError(
            f"{_where(path, token)}: {problem} '{token}'{suggestion} (defined in data/indicators.yml: {', '.join(known)})"
        )


def _build(data: dict, borough: str, year: int, origin: dict, fallback: Path, files, period=None) -> Report:
    """The Report from the merged keys; an error names the file each key came from."""

    def src(key: str) -> Path:
        return origin.get(key, fallback)

    def cover_src(*keys: str) -> Path:  # the file of cover_paper.<keys>, or of the nearest enclosing key
        for n in range(len(keys), -1, -1):
            key = ".".join(("cover_paper", *keys[:n]))
            if key in origin:
                return origin[key]
        return fallback

    prios = definitions.priorities()
    priorities = []
    path = src("priorities")
    for i, entry in enumerate(data.get("priorities") or [], start=1):
        if not isinstance(entry, dict) or "id" not in entry:
            raise DefinitionError(f"{path}: priorities, entry {i}: needs an 'id' (one of {', '.join(prios)})")
        pid = entry["id"]
        _known(path, pid, prios, f"priorities, entry {i}: unknown priority")
        priorities.append(PriorityConfig(
            id=pid,
            title=str(entry.get("title") or prios[pid].title),
            summary=prios[pid].summary,
            focus=str(entry.get("focus", "")),
            indicators=_indicator_ids(path, f"priority '{pid}', indicators", entry.get("indicators")),
            introduction=" ".join(str(entry.get("introduction") or prios[pid].summary).split()),
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
        targets=targets.validate(data.get("targets"), src("targets"), set(_report_ids(data)),
                                 lambda path, *keys: _where_key(path, "targets", *keys)),
        cover_paper=_cover_paper(data.get("cover_paper"), cover_src, borough, year, period),
        files=files,
        book_pages=_pages(src("pages"), data.get("pages"), priorities),
    )


def _pages(path: Path, entries, priorities) -> tuple:
    """The pages of the book, from ``pages:`` (``- name: Title``, and ``- priorities``)."""
    if not isinstance(entries, list) or not entries:
        raise DefinitionError(f"{path}: 'pages' must list the pages of the book, e.g. - overview: Overview, "
                              f"- {PRIORITIES}, - methodology: Methodology")
    out = []
    for i, entry in enumerate(entries, start=1):
        if entry == PRIORITIES:
            out.extend((p.id, p.title) for p in priorities)
        elif isinstance(entry, dict) and len(entry) == 1 and all(isinstance(v, str) and v.strip() for v in entry.values()):
            out.extend((str(k), str(v)) for k, v in entry.items())
        else:
            raise DefinitionError(f"{path}: pages, entry {i}: found {entry!r}; write '- name: Title' (a template "
                                  f"book/templates/<name>.ipynb) or '- {PRIORITIES}'")
    names = [name for name, _ in out]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        raise DefinitionError(f"{path}: pages: {twice} listed twice (a priority's id may not be a page's name)")
    return tuple(out)


def _report_ids(data: dict) -> list[str]:
    ids = list(data.get("headline") or [])
    for entry in data.get("priorities") or []:
        ids.extend(entry.get("indicators") or [])
    return ids


def _cover_paper(raw, src, borough: str, year: int, period=None) -> CoverPaperText:
    """The cover paper text: every passage present and a non-empty text, placeholders known.
    ``src(*keys)`` is the file that ``cover_paper.<keys>`` came from."""
    path = src()
    if not isinstance(raw, dict):
        raise DefinitionError(f"{path}: 'cover_paper' must be a mapping of passages ({', '.join(COVER_KEYS)}); "
                              "see data/reports/defaults.yml")
    _known_keys(src, ("cover_paper",), raw, (*COVER_KEYS, "to_date"))
    missing = [k for k in COVER_KEYS if k not in raw]
    if missing:
        raise DefinitionError(f"{_where_key(path, 'cover_paper')}: cover_paper: '{missing[0]}' is missing; every cover "
                              f"paper needs {', '.join(COVER_KEYS)} (see data/reports/defaults.yml)")
    values = {"borough": borough, "year": (period or periods.Period(year)).name, "next_year": periods.label(year + 1),
              "financial_year": periods.label(year)}

    def text(keys: tuple, value) -> str:
        where = _where_key(src(*keys), "cover_paper", *keys)
        name = ".".join(("cover_paper", *keys))
        if not isinstance(value, str) or not value.strip():
            raise DefinitionError(f"{where}: {name}: must be a non-empty text, found {value!r}")
        return _fill(where, name, value, values)

    other, other_path = raw["other"], src("other")
    if not isinstance(other, dict):
        raise DefinitionError(f"{_where_key(other_path, 'cover_paper', 'other')}: cover_paper.other: must be a mapping "
                              f"of {', '.join(COVER_OTHER)} to text")
    _known_keys(lambda key: src("other", key), ("cover_paper", "other"), other, COVER_OTHER)
    absent = [k for k in COVER_OTHER if k not in other]
    if absent:
        raise DefinitionError(f"{_where_key(other_path, 'cover_paper', 'other')}: cover_paper.other: '{absent[0]}' is "
                              f"missing; the other implications are {', '.join(COVER_OTHER)}")
    papers = raw["background_papers"]
    if not isinstance(papers, list):
        raise DefinitionError(f"{_where_key(src('background_papers'), 'cover_paper', 'background_papers')}: "
                              "cover_paper.background_papers: must be a list of texts (it may be empty: [])")
    to_date = raw.get("to_date") or {}
    if not isinstance(to_date, dict):
        raise DefinitionError(f"{_where_key(src('to_date'), 'cover_paper', 'to_date')}: cover_paper.to_date: must be "
                              f"a mapping of {', '.join(COVER_TO_DATE)} to text")
    _known_keys(lambda key: src("to_date", key), ("cover_paper", "to_date"), to_date, COVER_TO_DATE)
    part_year = period is not None and not period.complete
    return CoverPaperText(
        text={k: text(("to_date", k), to_date[k]) if part_year and k in to_date else text((k,), raw[k]) for k in COVER_TEXT},
        other={k: text(("other", k), other[k]) for k in COVER_OTHER},
        background_papers=tuple(text(("background_papers",), p) for p in papers),
    )


def _known_keys(src, keys: tuple, raw: dict, allowed) -> None:
    """Refuse a key not in ``allowed``; ``src(key)`` is the file it came from."""
    unknown = [k for k in raw if k not in allowed]
    if unknown:
        path = src(unknown[0])
        hint = difflib.get_close_matches(str(unknown[0]), list(allowed), n=1)
        suggestion = f"did you mean '{hint[0]}'? " if hint else ""
        raise DefinitionError(f"{_where_key(path, *keys, unknown[0])}: {'.'.join(keys)}: unknown key '{unknown[0]}'; "
                              f"{suggestion}allowed keys: {', '.join(allowed)}")


def _fill(where: str, name: str, text: str, values: dict) -> str:
    """``text`` with its placeholders filled in, paragraphs kept (one per line), spaces tidied.

    >>> _fill("f.yml", "cover_paper.summary", "The {borough}  report\\n\\nfor {year}.", {"borough": "Brent", "year": "2011-12"})
    'The Brent report\\nfor 2011-12.'
    """
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise DefinitionError(f"{where}: {name}: {exc}; write {{{{ or }}}} for a brace in the text") from None
    for field in fields:
        if field not in values:
            raise DefinitionError(f"{where}: {name}: unknown placeholder '{{{field}}}'; use "
                                  f"{', '.join('{' + p + '}' for p in PLACEHOLDERS)}")
    filled = text.format(**values)
    return "\n".join(" ".join(p.split()) for p in re.split(r"\n+", filled) if p.strip())


def _float(path, data, key, default) -> float:
    value = data.get(key, default)
    if not isinstance(value, (int, float)) or value < 0:
        raise DefinitionError(f"{path}: '{key}' must be a number of 0 or more, found {value!r}")
    return float(value)
