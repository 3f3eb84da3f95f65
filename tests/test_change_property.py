"""Issue 16, the property: random input changes at random points of a build (a partner figure,
a template, the report configuration, raw files by `cspbook fetch`) never leave a published book
that differs from the clean build of either the old inputs or the new ones (or, when the build
stopped, the book that was there before it), and the next build always converges to the clean
build of the current inputs.

Every example starts from the last good book (``lastgood.py``) with one template changed, so
that the build has notebooks to run; the change is made when the build's log reaches the
drawn point (never after a sleep). A clean build of a set of inputs is built once per session,
in the same tree (a notebook's key includes the project path), from the last good tree.
Few examples (slow: each one is two or three builds); CI runs the same ones every time
(``HYPOTHESIS_PROFILE=ci``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from bookfixtures import BOROUGH, YEAR, mirror_dir
from conftest import HISTORIC, RECENT, snapshot
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from lastgood import cspbook, last_good  # noqa: F401 - last_good is a fixture
from test_change import edit_chapters, set_confidence
from test_integrity import add_to_count

CONFIG = Path("data") / "reports" / "barking-and-dagenham-2011-12.yml"
POINTS = [f"  done   {YEAR}/violent_crime", f"  done   {YEAR}/asb", f"  done   {YEAR}/confidence",
          "building the HTML book"]
KINDS = ("partner", "template", "configuration", "fetch")


def restore(tree) -> None:
    shutil.rmtree(tree.home)
    shutil.copytree(tree.saved, tree.home, symlinks=True)


def edited_mirror(folder: Path) -> Path:
    """The 2008-2018 files with one count of 2011-12 changed: another edition as far as the book knows."""
    if not folder.exists():
        folder.mkdir(parents=True)
        for name in (HISTORIC, RECENT):
            shutil.copy(mirror_dir() / name, folder / name)
        add_to_count(folder / HISTORIC, "Barking and Dagenham", "Burglary in a Dwelling", "201106", 40)
    return folder


def apply(home: Path, state: frozenset, scratch: Path) -> None:
    """Put the inputs of ``state`` (a set of changes) into the tree, on top of the last good inputs."""
    edit_chapters(home, "C" if "template" in state else "B")
    if "partner" in state:
        set_confidence(home, 77)
    if "configuration" in state:
        path = home / CONFIG
        path.write_text(path.read_text(encoding="utf-8").replace("A safer borough", "A safer, fairer borough"), encoding="utf-8")
    if "fetch" in state:
        result = cspbook(home, "fetch", "--mirror", edited_mirror(scratch))
        assert result.returncode == 0, result.stderr


def change(home: Path, kind: str, scratch: Path) -> bool:
    """Make the change ``kind`` now; whether the inputs changed (a fetch may be refused)."""
    if kind == "fetch":
        return cspbook(home, "fetch", "--mirror", edited_mirror(scratch)).returncode == 0
    if kind == "partner":
        set_confidence(home, 77)
    elif kind == "template":
        edit_chapters(home, "C")
    else:
        path = home / CONFIG
        path.write_text(path.read_text(encoding="utf-8").replace("A safer borough", "A safer, fairer borough"), encoding="utf-8")
    return True


_CLEAN: dict[frozenset, dict] = {}


def clean(tree, state: frozenset, scratch: Path) -> dict:
    """The published book (file -> sha256) of a build of ``state`` from the last good tree."""
    if state not in _CLEAN:
        restore(tree)
        apply(tree.home, state, scratch)
        result = cspbook(tree.home)
        assert result.returncode == 0, result.stderr
        _CLEAN[state] = snapshot(tree.home / "_build" / "html")
    return _CLEAN[state]


@pytest.mark.slow
@settings(max_examples=2, deadline=None, database=None, phases=(Phase.explicit, Phase.generate),  # no shrinking: builds are slow
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(kind=st.sampled_from(KINDS), point=st.sampled_from(POINTS))
def test_a_change_at_any_point_of_a_build_publishes_old_or_new_and_the_next_build_converges(
        last_good, tmp_path_factory, kind, point):
    scratch = tmp_path_factory.getbasetemp() / "edited-mirror"
    old = frozenset()
    before, old_book = last_good.html, clean(last_good, old, scratch)
    restore(last_good)
    apply(last_good.home, old, scratch)
    html = last_good.home / "_build" / "html"

    watch, changed = build_changing_at(last_good.home, point, lambda: change(last_good.home, kind, scratch))
    new = old | {kind} if changed else old
    published = snapshot(html)

    allowed = {"old": old_book, "new": clean_keeping(last_good, new, scratch)}
    if watch.proc.returncode != 0:
        assert "changed during the build; nothing was published from it; run again" in watch.text(), watch.text()
        allowed["before the build"] = before
    assert any(published == book for book in allowed.values()), (kind, point, _differences(published, allowed), watch.text())

    again = cspbook(last_good.home)
    assert again.returncode == 0, again.stderr
    assert snapshot(html) == allowed["new"], (kind, point, _differences(snapshot(html), {"new": allowed["new"]}), again.stderr)


def _differences(book: dict, allowed: dict) -> dict:
    """For each allowed book, the files in which ``book`` differs from it (for the message)."""
    return {name: sorted(f for f in set(book) | set(other) if book.get(f) != other.get(f))[:8] for name, other in allowed.items()}


def build_changing_at(home: Path, point: str, action):
    """Like :func:`test_change.build_changing`, at any line of the log (``point``)."""
    from lastgood import start
    from test_faults import Watch

    watch = Watch(start(home, "build", "--borough", BOROUGH, "--year", YEAR, "--jobs", "1"))
    watch.until(lambda: watch.line(point), point)
    result = action()
    watch.finish(300)
    return watch, result


def clean_keeping(tree, state: frozenset, scratch: Path) -> dict:
    """:func:`clean` of ``state`` without losing the tree as it is now (copied aside and back)."""
    if state in _CLEAN:
        return _CLEAN[state]
    aside = tree.home.with_name("aside")
    shutil.rmtree(aside, ignore_errors=True)
    shutil.copytree(tree.home, aside, symlinks=True)
    try:
        return clean(tree, state, scratch)
    finally:
        shutil.rmtree(tree.home)
        shutil.copytree(aside, tree.home, symlinks=True)
        shutil.rmtree(aside)
