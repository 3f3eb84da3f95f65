"""Issue 16, cases 2-9: a revised duplicate, provenance, formula cells in CSV, hostile count
cells, the preview server, an unclosed directive, orphan fetch folders, the preview's lock
message. Each reproduced as the issue found it."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import HISTORIC, RECENT, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_bad_input import SEED_HEADER, SEED_ROWS, to_csv
from test_preview_parts import request

from cspbook import config
from cspbook.data import fetch, load
from cspbook.errors import BuildError, CspbookError
from cspbook.publish import lock, preview

BOROUGH, YEAR = "Barking and Dagenham", "2011-12"
FORMULA = '=HYPERLINK("http://x","pub")'
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")  # OWASP: a cell beginning so is read as a formula


# --- 4. CSV formula injection ------------------------------------------------------------------


def cells_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_a_formula_as_the_source_of_a_published_figure_is_text_in_the_reconcile_csv(real_data, tmp_path, monkeypatch, capsys):
    home = tmp_path / "project"
    shutil.copytree(config.home(), home, ignore=shutil.ignore_patterns(".cspbook", "_build", "book"))
    monkeypatch.setenv(config.HOME_ENV, str(home))
    from conftest import clear_caches

    clear_caches()
    published = home / "data" / "published" / "barking-and-dagenham-2011-12.csv"
    rows = cells_of(published.read_text(encoding="utf-8"))
    rows[1][rows[0].index("source")] = FORMULA
    published.write_text("".join(",".join(f'"{c}"' if "," in c or '"' in c else c for c in [
        c.replace('"', '""') if '"' in c else c for c in row]) + "\n" for row in rows), encoding="utf-8")

    code, out, err = run_cli(capsys, "reconcile", "--borough", BOROUGH, "--year", YEAR, "--offline", "--format", "csv")

    assert code == 0, err
    sources = [row for row in cells_of(out) if any(FORMULA in cell for cell in row)]
    assert sources, out
    assert all(not cell.startswith(FORMULA_START) or _is_number(cell) for row in cells_of(out) for cell in row), out
    assert any(cell == "'" + FORMULA for cell in sources[0])


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@settings(max_examples=60, deadline=None)
# text as it reaches a frame: decoded from UTF-8 files, so never a lone surrogate (category Cs)
@given(st.lists(st.one_of(st.text(st.characters(blacklist_characters="\r\n", blacklist_categories=("Cs",)), max_size=12),
                          st.sampled_from(["=1+1", "+1", "-x", "@SUM(A1)", "\tx", "-4.0", FORMULA]),
                          st.floats(allow_nan=False), st.integers()), min_size=1, max_size=6))
def test_every_text_cell_csvtext_writes_is_inert_and_numbers_stay_numbers(values):
    import pandas as pd

    from cspbook.compute import csvtext

    frame = pd.DataFrame({"text": [str(v) for v in values], "number": [float(len(str(v))) for v in values]})
    rows = cells_of(csvtext.to_csv(frame))[1:]
    for (text, number), value in zip(rows, values):
        assert not text.startswith(FORMULA_START) or _is_number(text)
        assert text in (str(value), "'" + str(value))
        assert float(number) == float(len(str(value)))


# --- 5. a count cell of any bytes ----------------------------------------------------------------


@pytest.mark.parametrize("cell", [b'"1,234"', b"\xc2\xa01234", b'" 12"', b'"1,2,3"'])
def test_a_count_written_with_a_separator_or_a_no_break_space_is_named(project, tmp_path, cell):
    lines = [",".join(SEED_HEADER).encode()] + [",".join(r).encode() for r in SEED_ROWS]
    lines[2] = lines[2].replace(b",0,", b"," + cell + b",", 1)
    path = tmp_path / "counts.csv"
    path.write_bytes(b"\r\n".join(lines) + b"\r\n")
    try:
        load.read_wide(path)
    except CspbookError as exc:
        assert str(exc).startswith(f"{path}, line 3, column '201105'"), str(exc)
    else:
        assert cell == b'" 12"'


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cell=st.one_of(st.binary(max_size=12), st.lists(st.sampled_from(
    [b"1", b"23", b",", b" ", b'"', b"\xc2\xa0", b"\xa0", b"\t", b"-", b"\x1c", b"\xe2\x80\x89", b"."]), max_size=8).map(b"".join)))
def test_any_bytes_in_a_count_cell_give_a_message_naming_file_line_and_column(project, tmp_path, cell):
    head = ",".join(SEED_HEADER).encode()
    row = ",".join(SEED_ROWS[0][:3]).encode() + b"," + cell + b",12,9"
    path = tmp_path / "cell.csv"
    path.write_bytes(head + b"\r\n" + row + b"\r\n" + to_csv(SEED_ROWS[1:]))
    try:
        load.read_wide(path)
    except CspbookError as exc:
        assert str(exc).startswith(str(path)), str(exc)


# --- 8. fetch folders a killed fetch left ------------------------------------------------------------


def test_a_fetch_removes_the_staging_folders_no_live_process_owns(fetched, mirror):
    raw = fetched / "data" / "raw"
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    orphan = raw / f".partial-{int(dead.stdout)}-abc123"
    old_style = raw / ".partial-x9y8z7"  # named before staging folders held their owner's pid
    live = raw / f".partial-{os.getppid()}-livefetch"
    for folder in (orphan, old_style, live):
        folder.mkdir()
        (folder / HISTORIC).write_bytes(b"half a download")

    fetch.fetch(mirror=mirror)

    assert not orphan.exists() and not old_style.exists()
    assert live.exists()  # its owner is alive: it may be fetching now
    assert {HISTORIC, RECENT, "manifest.json"} <= {p.name for p in raw.iterdir() if not p.name.startswith(".partial")}


# --- 6. the preview server ----------------------------------------------------------------------------


@pytest.fixture
def app(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("<html><body><p>Good page</p></body></html>")
    state = preview.State()
    state.update(site=site, generation=1)
    return preview.make_app(state)


def test_a_missing_page_is_a_404_without_a_traceback(app, capfd):
    status, _, body = request(app, "/book/2011-12/nowhere.html", {"Host": "127.0.0.1:8000"})
    assert status == 404 and b"Not Found" in body
    assert "Traceback" not in "".join(capfd.readouterr())


@pytest.mark.parametrize("host", ["127.0.0.1:8000", "localhost:8000", "[::1]:8000", "localhost"])
def test_the_preview_answers_its_own_names(app, host):
    assert request(app, "/index.html", {"Host": host})[0] == 200


@pytest.mark.parametrize("host", ["evil.example:8000", "127.0.0.1.nip.io:8000", "attacker.test"])
def test_another_host_name_is_refused(app, host):
    status, _, body = request(app, "/index.html", {"Host": host})
    assert status == 403 and b"Good page" not in body


# --- 9. the lock seen from the preview -------------------------------------------------------------------


def test_a_build_refused_by_a_preview_names_the_preview(tmp_path):
    path = tmp_path / ".cspbook" / "build.lock"
    holder = subprocess.Popen([sys.executable, "-c", f"""
import sys, time
from cspbook.publish import lock
with lock.held({str(path)!r}, kind="preview"):
    print("held", flush=True)
    sys.stdin.readline()
"""], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "held\n"
        with pytest.raises(BuildError, match=rf"another cspbook preview \(pid {holder.pid}\) is running on this tree"):
            with lock.held(path):
                pass
    finally:
        holder.stdin.close()
        holder.wait(10)
    assert lock.holder(path) is None  # free again: the preview's waiting message clears itself (it asks this)


# --- 7. an unclosed directive in a template ---------------------------------------------------------------


def test_an_unclosed_directive_stops_the_build_naming_template_cell_and_line(fetched):
    from cspbook.definitions import periods, reports
    from cspbook.execute import plan

    templates = fetched / "book" / "templates"
    shutil.copytree(Path(__file__).resolve().parents[1] / "book" / "templates", templates)
    path = templates / "next_priorities.ipynb"
    nb = json.loads(path.read_text(encoding="utf-8"))
    index = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "markdown" and i > 0)
    nb["cells"][index]["source"] = "Some text.\n\n```{warning}\nThis box is never closed.\n\n[Download the CSV](x.csv)\n"
    path.write_text(json.dumps(nb), encoding="utf-8")
    start = periods.parse_year(YEAR)
    from cspbook.data import rawcache

    with pytest.raises(BuildError) as refused:
        plan.plan(BOROUGH, [start], {start: reports.load(BOROUGH, start).pages}, rawcache.read_manifest())
    message = str(refused.value)
    assert message.startswith(f"{path}: markdown cell {index + 1}, line 3: the fence `"), message
    assert "```{warning}` is never closed" in message, message


def test_fences_closed_in_every_template_of_the_book():
    from cspbook.execute import template_check

    for path in sorted((Path(__file__).resolve().parents[1] / "book" / "templates").glob("*.ipynb")):
        template_check.check(path)


# --- 2. a revised duplicate -------------------------------------------------------------------------------

EDITION = "edition-2025-11"
RECENT_2025 = "MPS Borough Level Crime (most recent 24 months).csv"


def duplicate_mirror(mirror: Path, folder: Path, revise: bool) -> Path:
    """The November 2025 files, and a second download of the 24 months file (' (1)'),
    revised (one count changed) or identical."""
    folder.mkdir()
    for path in (mirror / EDITION).glob("*.csv"):
        (folder / path.name).symlink_to(path)
    data = (mirror / EDITION / RECENT_2025).read_bytes()
    if revise:
        lines = data.split(b"\n")
        fields = lines[5].split(b",")
        fields[-1] = str(int(fields[-1].strip()) + 7).encode() + (b"\r" if fields[-1].endswith(b"\r") else b"")
        lines[5] = b",".join(fields)
        data = b"\n".join(lines)
    (folder / RECENT_2025.replace(".csv", " (1).csv")).write_bytes(data)
    return folder


def test_two_files_of_one_edition_that_disagree_are_refused_naming_both(project, mirror, tmp_path, capsys):
    source = duplicate_mirror(mirror, tmp_path / "downloads", revise=True)
    code, _, err = run_cli(capsys, "fetch", "--mirror", source)
    assert code == 0, err

    code, out, err = run_cli(capsys, "indicators", "--borough", BOROUGH, "--year", "2024-25", "--offline", "--format", "csv")

    assert code == 2, out + err
    assert "most recent 24 months) (1).csv" in err and f"the same series" in err and "differs from it in 1 cell; first: line 6" in err, err
    assert "remove the other from the mirror folder" in err and "Traceback" not in err


def test_an_identical_second_download_is_read_once_with_a_line_saying_so(project, mirror, tmp_path, capsys):
    source = duplicate_mirror(mirror, tmp_path / "downloads", revise=False)
    assert run_cli(capsys, "fetch", "--mirror", source)[0] == 0

    code, out, err = run_cli(capsys, "indicators", "--borough", BOROUGH, "--year", "2024-25", "--offline", "--format", "csv")

    assert code == 0, err
    second = RECENT_2025.replace(".csv", " (1).csv")
    assert err.count("is an identical copy of") == 1, err
    assert (f"{second} is an identical copy of {RECENT_2025}: read once" in err
            or f"{RECENT_2025} is an identical copy of {second}: read once" in err), err


# --- 3. provenance ------------------------------------------------------------------------------------


def test_the_same_bytes_from_another_folder_give_the_same_dataset_and_no_origin_in_the_pages(project, mirror, tmp_path, capsys):
    from cspbook.compute import dataset

    first, second = tmp_path / "one", tmp_path / "two"
    for folder in (first, second):
        folder.mkdir()
        for name in (HISTORIC, RECENT):
            shutil.copy(mirror / name, folder / name)
    assert run_cli(capsys, "fetch", "--mirror", first)[0] == 0
    data = dataset.dataset()
    pickle = next((project / ".cspbook" / "dataset").glob("*.pickle")).read_bytes()
    assert str(first).encode() not in pickle and b"fetched_at" not in pickle  # the pickle holds no provenance
    assert "origin" not in data.manifest and all("fetched_at" not in f and "source" not in f for f in data.manifest["files"])

    assert run_cli(capsys, "fetch", "--mirror", second)[0] == 0
    from conftest import clear_caches

    clear_caches()
    again = dataset.dataset()
    assert again.manifest == data.manifest
    assert next((project / ".cspbook" / "dataset").glob("*.pickle")).read_bytes() == pickle
    template = (Path(__file__).resolve().parents[1] / "book" / "templates" / "data_sources.ipynb").read_text()
    assert "`origin`" not in template and "`fetched_at`" not in template
