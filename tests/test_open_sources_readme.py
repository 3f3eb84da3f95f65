"""The README's "a new source of a known layout needs no code": its YAML, taken from the README
itself, added to a scratch project's definitions, gives a figure from a file of that layout."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml
from conftest import run_cli

README = Path(__file__).resolve().parents[1] / "README.md"
BD = "Barking and Dagenham"


def readme_block(marker: str) -> list:
    """The YAML list under ``<!-- new-source:MARKER -->`` in the README."""
    text = README.read_text(encoding="utf-8")
    found = re.search(rf"<!-- new-source:{re.escape(marker)} -->\s*```yaml\n(.*?)```", text, re.S)
    assert found, f"README has no YAML block marked new-source:{marker}"
    return yaml.safe_load(found.group(1))


def _add(path: Path, key: str, items: list) -> None:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data[key] = [*data[key], *items]
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")


def test_the_readme_new_source_needs_no_code(project, mirror, tmp_path, capsys, monkeypatch):
    source, = readme_block("sources.yml")
    indicator, = readme_block("indicators.yml")
    _add(project / "data" / "sources.yml", "sources", [source])
    _add(project / "data" / "indicators.yml", "indicators", [indicator])
    defaults = project / "data" / "reports" / "defaults.yml"
    data = yaml.safe_load(defaults.read_text(encoding="utf-8"))
    prio = next(p for p in data["priorities"] if p["id"] == indicator["priority"])
    prio["indicators"].append(indicator["id"])
    defaults.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")

    # a file of the layout: the PAS dashboard's rows of one measure, under the new source's name and measure
    pas = pd.read_csv(mirror / "open/mopac-pas/PAS_Dashboard_Borough.csv", dtype=str, keep_default_na=False)
    mine = pas[pas["Measure"] == "Trust MPS"].assign(Measure=indicator["open"]["measure"], Survey="USS")
    folder = tmp_path / "open" / "uss"
    folder.mkdir(parents=True)
    mine.to_csv(folder / "USS_Dashboard_Borough.csv", index=False)
    monkeypatch.setenv("CSPBOOK_MIRROR", str(mirror / "edition-2025-11"))
    monkeypatch.setenv("CSPBOOK_OPEN_MIRROR", str(tmp_path / "open"))

    code, out, err = run_cli(capsys, "indicators", "--borough", BD, "--year", "2024-25", "--format", "csv")
    assert code == 0, err
    row = pd.read_csv(io.StringIO(out)).set_index("indicator").loc[indicator["id"]]
    latest = mine[(mine["Borough"] == BD) & (mine["Date"] == "31/12/2023")]["Proportion"].iloc[0]
    assert row["value"] == pytest.approx(float(latest.replace(",", ".")) * 100)
    assert row["source"] == "open" and row["figure_source"] == source["id"]
    assert row["period"] == "latest published: 12 months to December 2023"
    assert "no significance test" in row["test_note"]
