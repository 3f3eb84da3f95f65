"""Tests for cspbook.data.fetch: a fake CKAN server on 127.0.0.1, hand-made CSVs, the real mirror.

Every test works in a scratch project tree (CSPBOOK_HOME), never in the real data/raw, and
never touches the internet. Failure tests check the message and that the previous cache and
manifest are unchanged, byte for byte and mtime for mtime.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from datetime import datetime
from pathlib import Path

import pytest
from ckan_server import FakeCkan, ckan, closed_port_url, html_page, truncated  # noqa: F401 - ckan is a fixture

from cspbook import config
from cspbook.data import load
from cspbook.data.fetch import cache_is_current, fetch
from cspbook.data.manifests import read_manifest
from cspbook.errors import DataFileError, FetchError

REPO = Path(__file__).resolve().parents[1]
HISTORIC = "MPS_Borough_Level_Crime_Historic.csv"
RECENT = "MPS_Borough_Level_Crime_most_recent_24_months.csv"
PROXY_VARIABLES = ("http_proxy", "https_proxy", "all_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY")


def crime_csv(base: int = 0, months=("201101", "201102", "201103")) -> bytes:
    """A small valid file in the real layout (CRLF, previous MPS categories): 2 boroughs x 2 categories."""
    lines = [",".join(["Borough", "Major Category", "Minor Category", *months])]
    rows = [
        (borough, "Burglary", minor)
        for borough in ("Barking and Dagenham", "Barnet")
        for minor in ("Burglary in a Dwelling", "Burglary in Other Buildings")
    ]
    for number, row in enumerate(rows):
        counts = [str(base + number * 10 + month) for month in range(len(months))]
        lines.append(",".join([*row, *counts]))
    return ("\r\n".join(lines) + "\r\n").encode()


def recent_csv(base: int = 0) -> bytes:
    """A small valid file in the updated Home Office categories, 2017-01..2017-02."""
    return crime_csv(base, months=("201701", "201702")).replace(b"Burglary in a Dwelling", b"Burglary - Residential").replace(
        b"Burglary in Other Buildings", b"Burglary - Business and Community"
    )


def snapshot(folder: Path) -> dict:
    """Every file and folder under ``folder`` with its bytes and mtime (folders: None)."""
    if not folder.exists():
        return {}
    return {
        path.relative_to(folder).as_posix(): (path.read_bytes(), path.stat().st_mtime_ns) if path.is_file() else None
        for path in sorted(folder.rglob("*"))
    }


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture(autouse=True)
def home(tmp_path, monkeypatch) -> Path:
    """A scratch project tree holding copies of the definitions; no mirror or proxy from the
    environment, and a Datastore address that refuses connections, so no test reaches the internet."""
    tree = tmp_path / "home"
    (tree / "data").mkdir(parents=True)
    for definition in (REPO / "data").glob("*.yml"):
        shutil.copy(definition, tree / "data" / definition.name)
    monkeypatch.setenv(config.HOME_ENV, str(tree))
    for name in (config.MIRROR_ENV, *PROXY_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv(config.DATASTORE_ENV, closed_port_url())
    return tree


@pytest.fixture
def cache(home) -> Path:
    return config.cache_dir()


def make_mirror(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, body in files.items():
        (folder / name).write_bytes(body)
    return folder


@pytest.fixture
def previous(tmp_path, cache) -> dict:
    """A cache filled by an earlier, successful fetch (from a mirror); its snapshot."""
    mirror = make_mirror(tmp_path / "old-mirror", {HISTORIC: crime_csv(base=500), RECENT: recent_csv(base=500)})
    fetch(mirror)
    before = snapshot(cache)
    assert set(before) == {HISTORIC, RECENT, "manifest.json"}
    return before


# --- downloads from the Datastore ------------------------------------------------------------


def test_download_records_every_manifest_field(ckan, cache):
    bodies = {HISTORIC: crime_csv(), RECENT: recent_csv()}
    urls = {name: ckan.add_file(name, body) for name, body in bodies.items()}

    result = fetch(datastore=ckan.url)

    manifest = json.loads((cache / "manifest.json").read_text())
    assert manifest["dataset"] == "recorded_crime_summary"
    assert manifest["origin"] == ckan.url == result.origin
    assert datetime.fromisoformat(manifest["fetched_at"]).utcoffset().total_seconds() == 0
    assert [entry["name"] for entry in manifest["files"]] == [HISTORIC, RECENT]
    historic, recent = manifest["files"]
    assert historic == {
        "name": HISTORIC,
        "source": urls[HISTORIC],
        "fetched_at": historic["fetched_at"],
        "sha256": sha256(bodies[HISTORIC]),
        "bytes": len(bodies[HISTORIC]),
        "rows": 4,
        "boroughs": 2,
        "first_month": "2011-01",
        "last_month": "2011-03",
        "classification": "mps_previous",
        "series": "mps_2008_2018",
        "last_modified": "2019-01-10T09:00:00.000000",
    }
    assert (recent["first_month"], recent["last_month"], recent["classification"]) == ("2017-01", "2017-02", "home_office")
    assert recent["sha256"] == sha256(bodies[RECENT])
    assert datetime.fromisoformat(historic["fetched_at"]).utcoffset().total_seconds() == 0
    assert {name: (cache / name).read_bytes() for name in bodies} == bodies
    assert sorted(p.name for p in cache.iterdir()) == [HISTORIC, RECENT, "manifest.json"]  # no staging left
    assert result.files == manifest["files"]
    assert sorted(result.changed) == [HISTORIC, RECENT]
    assert result.removed == []
    assert read_manifest() == manifest
    assert all(agent.startswith("cspbook/") for _, agent in ckan.requests)


def test_resource_without_prefix_in_name_is_cached_under_url_basename(ckan, cache):
    ckan.add_file(HISTORIC, crime_csv(), resource={"name": "Borough-level crime (historic)", "format": "text/csv"})
    ckan.resources.append({"name": "Ward level", "format": "CSV", "url": ckan.url + "/download/MPS_Ward_Level_Crime.csv"})

    result = fetch(datastore=ckan.url)

    assert [entry["name"] for entry in result.files] == [HISTORIC]
    assert not any(path.endswith("Ward_Level_Crime.csv") for path, _ in ckan.requests)


def test_a_404_file_fails_and_keeps_the_previous_cache(ckan, cache, previous):
    ckan.add_file(HISTORIC, crime_csv())
    url = ckan.add_file(RECENT, status=404)

    with pytest.raises(FetchError) as caught:
        fetch(datastore=ckan.url)

    assert str(caught.value) == (
        f"{url} answered HTTP 404 Not Found; check the Datastore address (CSPBOOK_DATASTORE) "
        "and the dataset id, or fetch from a folder with --mirror"
    )
    assert snapshot(cache) == previous


@pytest.mark.parametrize("content_type", ["text/html; charset=utf-8", "text/csv"])
def test_an_html_page_with_status_200_is_not_a_csv(ckan, cache, previous, content_type):
    page = html_page("Service Unavailable")
    page.content_type = content_type
    url = ckan.add_file(HISTORIC, page)

    with pytest.raises(FetchError) as caught:
        fetch(datastore=ckan.url)

    assert str(caught.value).startswith(
        f"{url} is an HTML page, not a CSV: the Datastore returned an error page ('Service Unavailable'); try again later"
    )
    assert snapshot(cache) == previous


def test_a_truncated_download_is_rejected(ckan, cache, previous):
    body = crime_csv()
    url = ckan.add_file(HISTORIC, truncated(body))

    with pytest.raises(FetchError) as caught:
        fetch(datastore=ckan.url)

    half = len(body) // 2
    assert str(caught.value).startswith(
        f"download of {url} is truncated: received {half:,} of {len(body):,} bytes (the connection closed early); try again later"
    )
    assert snapshot(cache) == previous


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (404, "{api} answered HTTP 404 Not Found (Not Found Error: Not found); check the Datastore address"),
        (200, "{api}: the Datastore API reported an error (Not Found Error: Not found); check the dataset id 'recorded_crime_summary'"),
    ],
)
def test_a_ckan_error_answer_names_the_url_and_the_error(ckan, cache, previous, status, expected):
    ckan.add_file(HISTORIC, crime_csv())
    ckan.fail_package(status=status)

    with pytest.raises(FetchError) as caught:
        fetch(datastore=ckan.url)

    assert str(caught.value).startswith(expected.format(api=ckan.api_url))
    assert snapshot(cache) == previous
    assert [path for path, _ in ckan.requests] == [ckan.api_url.removeprefix(ckan.url)]  # nothing downloaded


def test_connection_refused_names_the_url_and_the_fix(cache, previous):
    base = closed_port_url()

    with pytest.raises(FetchError) as caught:
        fetch(datastore=base, timeout=5)

    message = str(caught.value)
    assert message.startswith(f"cannot reach {base}/api/3/action/package_show?id=recorded_crime_summary: ")
    assert "Connection refused" in message
    assert message.endswith("or fetch from a folder with --mirror or CSPBOOK_MIRROR")
    assert snapshot(cache) == previous


def test_the_datastore_address_comes_from_cspbook_datastore(ckan, cache, monkeypatch):
    ckan.add_file(HISTORIC, crime_csv())
    monkeypatch.setenv(config.DATASTORE_ENV, ckan.url + "/")

    assert fetch().origin == ckan.url


def test_a_datastore_that_does_not_answer_in_time(ckan, cache, previous):
    ckan.package_reply = html_page("late")
    ckan.package_reply.delay = 2

    with pytest.raises(FetchError) as caught:
        fetch(datastore=ckan.url, timeout=0.2)

    assert str(caught.value).startswith(f"{ckan.api_url} did not answer within 0.2 s; try again later")
    assert snapshot(cache) == previous


def test_an_answer_that_is_not_json_is_rejected(ckan, cache, previous):
    ckan.package_reply = html_page("Welcome")

    with pytest.raises(FetchError, match=r"did not answer with JSON \(Content-Type 'text/html'"):
        fetch(datastore=ckan.url)

    assert snapshot(cache) == previous


def test_a_dataset_without_crime_files_lists_what_it_has(ckan, cache, previous):
    ckan.add_file("notes.pdf", b"%PDF", resource={"format": "PDF"})

    with pytest.raises(FetchError) as caught:
        fetch(datastore=ckan.url)

    assert str(caught.value).startswith(
        f"{ckan.api_url}: dataset 'recorded_crime_summary' lists no MPS borough-level crime CSV resource; found ['notes.pdf']"
    )
    assert snapshot(cache) == previous


def test_an_invalid_file_raises_data_file_error_naming_the_url_and_line(ckan, cache, previous):
    url = ckan.add_file(HISTORIC, crime_csv().replace(b"Barnet,", b"Barnett,", 1))

    with pytest.raises(DataFileError) as caught:
        fetch(datastore=ckan.url)

    assert str(caught.value).startswith(f"{url}, line 4, column 'Borough': unknown borough 'Barnett'")
    assert "Did you mean 'Barnet'?" in str(caught.value)
    assert snapshot(cache) == previous


def test_failure_halfway_through_a_multi_file_fetch_leaves_the_old_cache(ckan, cache):
    ckan.add_file(HISTORIC, crime_csv(base=1))
    ckan.add_file(RECENT, recent_csv(base=1))
    fetch(datastore=ckan.url)
    before = snapshot(cache)
    ckan.set_file(HISTORIC, crime_csv(base=2))  # downloads and validates fine ...
    ckan.set_file(RECENT, truncated(recent_csv(base=2)))  # ... then the second file is cut

    with pytest.raises(FetchError, match="is truncated"):
        fetch(datastore=ckan.url)

    assert snapshot(cache) == before
    assert [path for path, _ in ckan.requests].count(f"/download/{HISTORIC}") == 2  # it was fetched, then dropped


def test_ctrl_c_during_a_fetch_removes_the_partial_files(tmp_path, cache, previous, monkeypatch):
    mirror = make_mirror(tmp_path / "mirror", {HISTORIC: crime_csv(base=3), RECENT: recent_csv(base=3)})
    real_read_wide, calls = load.read_wide, []

    def interrupted_on_second_file(path):
        calls.append(path)
        if len(calls) == 2:
            raise KeyboardInterrupt
        return real_read_wide(path)

    monkeypatch.setattr(load, "read_wide", interrupted_on_second_file)

    with pytest.raises(KeyboardInterrupt):
        fetch(mirror)

    assert snapshot(cache) == previous
    assert all(not Path(path).exists() for path in calls)


# --- the mirror ------------------------------------------------------------------------------


def test_fetch_from_the_real_mirror(cache, mirror):
    """The real mirror is ``$CSPBOOK_TEST_MIRROR`` or ../shared/data (the ``mirror`` fixture
    fails, it does not skip, when it is absent)."""
    result = fetch(mirror)

    assert result.origin == f"mirror:{mirror}"
    expected = {
        HISTORIC: (1056, "2008-01", "2016-12", "mps_previous"),
        RECENT: (1050, "2017-01", "2018-12", "home_office"),
    }
    got = {e["name"]: (e["rows"], e["first_month"], e["last_month"], e["classification"]) for e in result.files}
    assert got == expected
    for entry in result.files:
        original = (mirror / entry["name"]).read_bytes()
        assert entry["source"] == str(mirror / entry["name"])
        assert entry["sha256"] == sha256(original) == sha256((cache / entry["name"]).read_bytes())
        assert entry["bytes"] == len(original)
        assert entry["boroughs"] == 32
    assert read_manifest()["files"] == result.files
    assert cache_is_current(mirror)


def test_a_missing_mirror_folder_says_how_to_fix_it(tmp_path, cache, previous, monkeypatch):
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")

    with pytest.raises(FetchError) as caught:
        fetch(Path("../nope"))

    assert str(caught.value) == (
        "mirror folder '../nope' does not exist; give an existing folder with --mirror or CSPBOOK_MIRROR, "
        "or omit it to download from the London Datastore"
    )
    assert snapshot(cache) == previous


def test_a_mirror_without_crime_files_lists_what_it_holds(tmp_path, cache, previous):
    mirror = make_mirror(tmp_path / "mirror", {"README.md": b"hi", "MPS_Ward_Level_Crime.csv": b"x"})

    with pytest.raises(FetchError) as caught:
        fetch(mirror)

    assert str(caught.value).startswith(
        f"mirror folder '{mirror}' holds no MPS borough-level crime CSV (a name like 'MPS Borough Level Crime "
        "(Historical).csv' or 'MPS_Borough_Level_Crime_Historic.csv'); found ['MPS_Ward_Level_Crime.csv', 'README.md']"
    )
    assert snapshot(cache) == previous


def test_a_saved_web_page_in_the_mirror_is_rejected(tmp_path, cache, previous):
    mirror = make_mirror(tmp_path / "mirror", {HISTORIC: html_page("Log in").body})

    with pytest.raises(FetchError, match=r"is an HTML page, not a CSV: a saved web page, not the data file \('Log in'\)"):
        fetch(mirror)

    assert snapshot(cache) == previous


def test_a_second_fetch_of_unchanged_files_keeps_them_and_refreshes_the_manifest(tmp_path, cache, monkeypatch):
    mirror = make_mirror(tmp_path / "mirror", {HISTORIC: crime_csv(), RECENT: recent_csv()})
    fetch(mirror)
    for name in (HISTORIC, RECENT):
        os.utime(cache / name, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))  # 2001-09-09
    monkeypatch.setattr("cspbook.data.fetch.utc_now", lambda: "2030-01-01T00:00:00Z")  # the recipe stamps the manifest

    result = fetch(mirror)

    assert result.changed == []
    assert [(cache / name).stat().st_mtime_ns for name in (HISTORIC, RECENT)] == [1_000_000_000_000_000_000] * 2
    manifest = read_manifest()
    assert manifest["fetched_at"] == "2030-01-01T00:00:00Z"
    assert [entry["fetched_at"] for entry in manifest["files"]] == ["2030-01-01T00:00:00Z"] * 2


def test_a_changed_file_is_replaced_and_reported(tmp_path, cache):
    mirror = make_mirror(tmp_path / "mirror", {HISTORIC: crime_csv(), RECENT: recent_csv()})
    fetch(mirror)
    (mirror / RECENT).write_bytes(recent_csv(base=7))

    result = fetch(mirror)

    assert result.changed == [RECENT]
    assert (cache / RECENT).read_bytes() == recent_csv(base=7)
    assert read_manifest()["files"][1]["sha256"] == sha256(recent_csv(base=7))


def test_files_the_source_no_longer_offers_leave_the_cache(tmp_path, cache):
    fetch(make_mirror(tmp_path / "old", {HISTORIC: crime_csv(), RECENT: recent_csv()}))

    result = fetch(make_mirror(tmp_path / "new", {HISTORIC: crime_csv()}))

    assert result.removed == [RECENT]
    assert sorted(p.name for p in cache.iterdir()) == [HISTORIC, "manifest.json"]
    assert [entry["name"] for entry in read_manifest()["files"]] == [HISTORIC]


# --- the manifest and cache_is_current -------------------------------------------------------


def test_read_manifest_without_a_fetch_says_run_cspbook_fetch(cache):
    with pytest.raises(FetchError) as caught:
        read_manifest()

    assert str(caught.value) == (
        f"{cache / 'manifest.json'} does not exist: the raw data has not been fetched yet; run `cspbook fetch`"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{not json", "is not valid JSON"),
        ('{"dataset": "recorded_crime_summary"}', "missing keys ['fetched_at', 'origin', 'files']"),
        ('{"dataset": "d", "fetched_at": "t", "origin": "o", "files": [{"name": "a.csv"}]}', "file entry 1 lacks ['source'"),
    ],
)
def test_a_corrupt_manifest_says_run_cspbook_fetch(cache, text, problem):
    cache.mkdir(parents=True)
    (cache / "manifest.json").write_text(text)

    with pytest.raises(FetchError) as caught:
        read_manifest()

    assert problem in str(caught.value)
    assert str(caught.value).endswith("run `cspbook fetch` to rewrite it")
    assert cache_is_current(Path("unused")) is False  # no valid manifest: refetch


def test_cache_is_current_for_a_mirror(tmp_path, cache):
    mirror = make_mirror(tmp_path / "mirror", {HISTORIC: crime_csv(), RECENT: recent_csv()})
    assert cache_is_current(mirror) is False  # nothing fetched yet

    fetch(mirror)
    assert cache_is_current(mirror) is True
    assert cache_is_current(mirror, cache) is True

    (cache / HISTORIC).write_bytes(crime_csv(base=9))  # the cache was edited by hand
    assert cache_is_current(mirror) is False
    fetch(mirror)
    (mirror / RECENT).write_bytes(recent_csv(base=9))  # the mirror has a new version
    assert cache_is_current(mirror) is False
    fetch(mirror)
    (mirror / "MPS_Borough_Level_Crime_2019.csv").write_bytes(crime_csv())  # and a new file
    assert cache_is_current(mirror) is False
    fetch(mirror)
    copy = shutil.copytree(mirror, tmp_path / "copy")  # the same files from another folder
    assert cache_is_current(copy) is False


def test_cache_is_current_raises_for_a_missing_mirror(tmp_path, cache):
    fetch(make_mirror(tmp_path / "mirror", {HISTORIC: crime_csv()}))

    with pytest.raises(FetchError, match="does not exist"):
        cache_is_current(tmp_path / "gone")


def test_cache_is_current_for_the_datastore_compares_url_and_last_modified(ckan, cache):
    ckan.add_file(HISTORIC, crime_csv())
    ckan.add_file(RECENT, recent_csv())
    fetch(datastore=ckan.url)
    downloads = len(ckan.requests)

    assert cache_is_current(datastore=ckan.url) is True
    assert len(ckan.requests) == downloads + 1  # one package_show, no download

    ckan.set_file(RECENT, recent_csv(), last_modified="2019-02-10T09:00:00")
    assert cache_is_current(datastore=ckan.url) is False
    fetch(datastore=ckan.url)
    assert cache_is_current(datastore=ckan.url) is True

    ckan.set_file(RECENT, recent_csv(), last_modified=None)  # unknown: only a download would tell
    assert cache_is_current(datastore=ckan.url) is False

    with FakeCkan() as other:  # same files, another Datastore
        other.add_file(HISTORIC, crime_csv())
        assert cache_is_current(datastore=other.url) is False


# --- today's names: as the Datastore lists them and a browser saves them --------------------

TODAY_HISTORICAL = "MPS Borough Level Crime (Historical).csv"
TODAY_RECENT = "MPS Borough Level Crime (most recent 24 months).csv"


def edition_2025_csv(months=("202310", "202311")) -> bytes:
    """A small file as the November 2025 edition publishes it: MajorText, MinorText, BoroughName
    first, UPPER CASE categories, a row for an area that is not a borough."""
    lines = [",".join(["MajorText", "MinorText", "BoroughName", *months])]
    for number, (minor, borough) in enumerate([
        ("RES BURGLARY OF A HOME", "Barking and Dagenham"), ("RES BURGLARY OF A HOME", "Barnet"),
        ("RES BURGLARY OF UNCONNECTED BUILDING", "Barnet"), ("RES BURGLARY OF A HOME", "Unknown"),
    ]):
        lines.append(",".join(["BURGLARY", minor, borough, *(str(number + i) for i in range(len(months)))]))
    return ("\n".join(lines) + "\n").encode()


def test_a_mirror_with_the_names_a_browser_gives_is_fetched(tmp_path, cache):
    mirror = make_mirror(tmp_path / "downloads", {
        TODAY_HISTORICAL: edition_2025_csv(),
        "MPS Borough Level Crime (most recent 24 months) (1).csv": edition_2025_csv(("202312", "202401")),
        "notes.txt": b"not data",
    })

    result = fetch(mirror)

    names = [entry["name"] for entry in result.files]
    assert names == [TODAY_HISTORICAL, "MPS Borough Level Crime (most recent 24 months) (1).csv"]
    assert [entry["source"] for entry in result.files] == [
        str((mirror / TODAY_HISTORICAL).resolve()),
        str((mirror / "MPS Borough Level Crime (most recent 24 months) (1).csv").resolve())]
    assert {entry["series"] for entry in result.files} == {"restated_2025"}
    assert result.files[0]["boroughs"] == 2  # 'Unknown' is not a borough


def test_the_datastore_resources_of_today_are_selected(ckan, cache):
    ckan.add_file("historical", edition_2025_csv(), resource={
        "name": "MPS Borough Level Crime (Historical)", "format": "csv",
        "url": ckan.url + "/download/historical"})
    ckan.add_file("MPS%20Borough%20Level%20Crime%20%28most%20recent%2024%20months%29.csv",
                  edition_2025_csv(("202312", "202401")), resource={"name": "Most recent 24 months", "format": ""})
    ckan.resources.append({"name": "MPS Ward Level Crime (Historical)", "format": "csv",
                           "url": ckan.url + "/download/ward.csv"})

    result = fetch(datastore=ckan.url)

    # the first by its resource name, the second by its address's file name; the ward file is left alone
    assert [entry["name"] for entry in result.files] == ["MPS Borough Level Crime (Historical).csv", TODAY_RECENT]
    assert not any("ward" in path for path, _ in ckan.requests)
    assert [entry["classification"] for entry in result.files] == ["restated_uppercase"] * 2
