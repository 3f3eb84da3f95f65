"""The 32 boroughs (``data/boroughs.yml``), the areas of the MPS files that are not
boroughs, borough names as people write them, and the per-borough, per-year file names."""

from __future__ import annotations

import difflib
import re
from functools import lru_cache
from pathlib import Path

from cspbook import config
from cspbook.definitions.classifications import name_key
from cspbook.definitions.schema import read_yaml, require
from cspbook.errors import UnknownBoroughError


@lru_cache(maxsize=8)
def _boroughs(path: Path) -> tuple[tuple[str, ...], tuple[str, ...]]:
    data = read_yaml(path)
    boroughs = tuple(require(data, "boroughs", path, "top level", list))
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
    from cspbook.definitions import periods

    folder = folder or config.definitions_dir() / kind
    return folder / f"{slug(borough)}-{periods.label(year)}{suffix}"


def slug(name: str) -> str:
    """File-name form of a borough name.

    >>> slug("Barking and Dagenham")
    'barking-and-dagenham'
    """
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
