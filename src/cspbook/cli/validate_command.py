"""`cspbook validate`: check raw files and every definition under data/, one line per item."""

from __future__ import annotations

from pathlib import Path

from cspbook import config, definitions, words
from cspbook.compute import reconcile
from cspbook.data import load
from cspbook.definitions import partner, periods, reports
from cspbook.errors import DefinitionError


def run(files: list[Path] | None = None) -> list[str]:
    """Validate; return one line per item checked. Raises the first CspbookError found."""
    lines = []
    for path in files or _cached_files():
        wide = load.read_wide(path)
        info = load.describe(path, wide)
        lines.append(f"ok  {path}: {words.plural(info['rows'], 'row')}, {words.plural(info['boroughs'], 'borough')}, "
                     f"{info['first_month']}..{info['last_month']} ({info['classification']}, series {info['series']})")
    if files:
        return lines
    base = config.definitions_dir()
    classes = definitions.classifications()
    lines.append(f"ok  {base / 'classification.yml'}: {words.plural(len(classes.by_id), 'classification')} in "
                 f"{len(classes.series)} series, {words.plural(len(classes.breaks), 'break')} decided")
    lines.append(f"ok  {base / 'indicators.yml'}: {words.plural(len(definitions.indicators()), 'indicator')}")
    _check_defaults(base / "reports")
    lines.append(f"ok  {base / 'reports' / 'defaults.yml'}")
    for path in sorted((base / "reports").glob("*.yml")):
        if path.name == "defaults.yml":
            continue
        borough, year = _identity(path)
        reports.load(borough, year)
        lines.append(f"ok  {path}")
    for path in sorted((base / "partner").glob("*.csv")):
        if path.name == partner.TEMPLATE:
            continue
        _identity(path)
        lines.append(f"ok  {path}: {words.plural(len(partner.read(path)), 'figure')}")
    for path in sorted((base / "published").glob("*.csv")):
        _identity(path)
        lines.append(f"ok  {path}: {words.plural(len(reconcile.read_published(path)), 'figure')}")
    return lines


def _check_defaults(folder: Path) -> None:
    """Load the defaults alone, as for a borough and year with no file of their own: the
    year after the latest that has a file."""
    years = [_identity(p)[1] for p in folder.glob("*.yml") if p.name != "defaults.yml"]
    reports.load(definitions.boroughs()[0], max(years, default=2000) + 1)


def _cached_files() -> list[Path]:
    if not config.manifest_path().exists():
        return []
    from cspbook.data import rawcache

    manifest = rawcache.verified_manifest()  # a file that differs from its manifest is an error here too
    return [config.cache_dir() / f["name"] for f in manifest.get("files", [])]


def _identity(path: Path) -> tuple[str, int]:
    """Borough and year from a file name like barking-and-dagenham-2011-12.csv."""
    stem = path.stem
    by_slug = {definitions.slug(b): b for b in definitions.boroughs()}
    slug, _, year = stem.rpartition("-")
    slug, _, start = slug.rpartition("-")
    if slug not in by_slug:
        raise DefinitionError(f"{path}: the file name must be <borough-slug>-<year>{path.suffix}, e.g. barking-and-dagenham-2011-12{path.suffix}")
    return by_slug[slug], periods.parse_year(f"{start}-{year}")
