"""Reading the YAML definitions: a syntax error names the line; a missing or mistyped key,
or a value not among those allowed, names the file, the entry and what is allowed."""

from __future__ import annotations

import difflib
from pathlib import Path

import yaml

from cspbook.errors import DefinitionError


def read_yaml(path: Path):
    """Parse a YAML file, turning syntax errors into a DefinitionError that names the line."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DefinitionError(f"{path}: file not found") from None
    except UnicodeDecodeError as exc:
        raise DefinitionError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8") from None
    try:
        return _load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark else ""
        raise DefinitionError(f"{path}{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None


def _load(text: str):
    """``yaml.safe_load`` with libyaml's parser when PyYAML has it (the same safe constructors,
    several times faster: every page's kernel reads the definitions); text libyaml refuses is
    parsed by PyYAML's own parser, so what is accepted and every error message stay PyYAML's."""
    loader = getattr(yaml, "CSafeLoader", None)
    if loader is not None:
        try:
            return yaml.load(text, Loader=loader)  # noqa: S506 - CSafeLoader is the safe loader
        except yaml.YAMLError:
            pass
    return yaml.safe_load(text)


def require(mapping, key, path, where, kind=str):
    if not isinstance(mapping, dict) or key not in mapping:
        raise DefinitionError(f"{path}: {where}: missing '{key}'")
    value = mapping[key]
    if not isinstance(value, kind):
        raise DefinitionError(
            f"{path}: {where}: '{key}' must be {kind.__name__}, found {type(value).__name__} {value!r}"
        )
    return value


def choice(value, allowed, path, where, key):
    if value not in allowed:
        hint = difflib.get_close_matches(str(value), list(allowed), n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        raise DefinitionError(
            f"{path}: {where}: {key} '{value}' is not one of {sorted(allowed)}{suggestion}"
        )
    return value
