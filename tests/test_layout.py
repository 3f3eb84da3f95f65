"""The layout shows the architecture: stage packages, and imports that only go down the stages.

Stages, lowest first: the shared foundation (config, errors, logs, words, fingerprint, signals,
integrity, caches) -> definitions -> data -> compute -> pages -> execute -> publish -> cli.
A module may import from its own stage or a lower one, at the top of the file or inside a
function, never from a higher one.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "cspbook"
STAGES = ["", "definitions", "data", "compute", "pages", "execute", "publish", "cli"]  # "" = the foundation
LIMITS = {"module lines": 420, "class lines": 120}


def stage_of(module: str) -> int:
    """The stage index of a dotted module name under cspbook (the foundation is 0)."""
    parts = module.split(".")
    return STAGES.index(parts[1]) if len(parts) > 2 or (len(parts) == 2 and parts[1] in STAGES[1:]) else 0


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        name = ".".join(("cspbook", *path.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
        yield name, path


# Parsed once, at collection, before any test runs in this process: CPython 3.11's ast.parse can
# fail ("AST constructor recursion depth mismatch") after another test in the same worker caught
# a RecursionError.
TREES = {path: ast.parse(path.read_text(encoding="utf-8")) for _name, path in modules()}


def parsed(path: Path) -> ast.Module:
    """The module's syntax tree, parsed when this file is collected (see :data:`TREES`)."""
    return TREES.get(path) or ast.parse(path.read_text(encoding="utf-8"))


def imported(path: Path, name: str):
    """Every cspbook module ``path`` imports (``from cspbook import x`` counts as ``cspbook.x``)."""
    for node in ast.walk(parsed(path)):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "cspbook":
            if node.module == "cspbook":
                yield from (f"cspbook.{alias.name}" for alias in node.names if alias.name != "__version__")
            else:
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names if alias.name.startswith("cspbook."))


def test_the_package_is_a_handful_of_stage_packages():
    folders = sorted(p.name for p in PACKAGE.iterdir() if p.is_dir() and p.name != "__pycache__")
    assert folders == sorted(STAGES[1:])
    loose = sorted(p.stem for p in PACKAGE.glob("*.py"))
    assert loose == ["__init__", "caches", "config", "errors", "fingerprint", "integrity", "logs", "signals", "words"]


@pytest.mark.parametrize(("name", "path"), list(modules()), ids=[n for n, _ in modules()])
def test_imports_only_go_down_the_stages(name, path):
    mine = stage_of(name)
    upward = sorted({m for m in imported(path, name) if stage_of(m) > mine})
    assert not upward, f"{name} (stage {STAGES[mine] or 'foundation'}) imports from a later stage: {upward}"


def test_no_module_or_class_is_too_long():
    long = []
    for name, path in modules():
        text = path.read_text(encoding="utf-8")
        if len(text.splitlines()) > LIMITS["module lines"]:
            long.append(f"{name}: {len(text.splitlines())} lines")
        for node in ast.walk(parsed(path)):
            if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > LIMITS["class lines"]:
                long.append(f"{name}.{node.name}: {node.end_lineno - node.lineno + 1} lines")
    assert not long, long


def test_the_stage_rule_is_checked_for_real():
    """The checker itself: an upward import is seen, a downward one is not."""
    assert stage_of("cspbook.publish.book") > stage_of("cspbook.compute.table") > stage_of("cspbook.config")
    assert stage_of("cspbook.cli") == STAGES.index("cli") and stage_of("cspbook.definitions") == 1


def test_only_config_reads_environment_variables():
    """``config`` owns every environment variable: elsewhere ``os.environ`` is only copied for a
    child process, snapshotted by the kernel reset, or set (a notebook's CSPBOOK_HOME)."""
    readers = []
    for name, path in modules():
        if name == "cspbook.config":
            continue
        for node in ast.walk(parsed(path)):
            text = ast.unparse(node) if isinstance(node, (ast.Call, ast.Subscript)) else ""
            if isinstance(node, ast.Call) and text.startswith(("os.environ.get(", "os.getenv(")):
                readers.append(f"{name}: {text}")
            elif isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load) and text.startswith("os.environ["):
                readers.append(f"{name}: {text}")
    assert not readers, readers
