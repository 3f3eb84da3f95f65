"""cspbook.words: counts written as a person writes them, and no "(s)" left in any message."""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

import pytest

from cspbook import words

SRC = Path(words.__file__).resolve().parent


@pytest.mark.parametrize(("n", "word", "expected"), [
    (0, "notebook", "0 notebooks"),
    (1, "notebook", "1 notebook"),
    (11, "notebook", "11 notebooks"),
    (1, "percentage point", "1 percentage point"),
    (0.5, "percentage point", "0.5 percentage points"),
    (1.0, "percentage point", "1 percentage point"),
    (2, "priority", "2 priorities"),
    (2, "day", "2 days"),
    (2, "match", "2 matches"),
    (1056, "row", "1,056 rows"),
    (32, "borough", "32 boroughs"),
])
def test_plural(n, word, expected):
    assert words.plural(n, word) == expected


def test_a_number_shown_with_decimals_takes_the_plural():
    assert words.plural(1.0, "percentage point", shown="1.00") == "1.00 percentage points"
    assert words.plural(1, "point", shown="+1") == "+1 point"


def test_an_irregular_plural_is_given():
    assert [words.form(n, "was", "were") for n in (0, 1, 2)] == ["were", "was", "were"]


def test_no_message_in_the_library_writes_word_s():
    """Every string the library writes (book text, cover paper, CLI, build log) uses
    :func:`cspbook.words.plural` instead of "notebook(s)"; "http(s)" is a scheme, not a plural."""
    found = []
    for path in sorted(SRC.glob("*.py")):
        tokens = tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline)
        for token in tokens:
            if token.type in (tokenize.STRING, getattr(tokenize, "FSTRING_MIDDLE", -1)):
                text = token.string.replace("http(s)", "")
                if "(s)" in text:
                    found.append(f"{path.name}:{token.start[0]}: {token.string[:80]}")
    assert not found, found
