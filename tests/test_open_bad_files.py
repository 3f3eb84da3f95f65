"""A bad file of every layout of data/sources.yml stops `cspbook fetch --open-mirror DIR` with
exit 2 and one message naming the file, the row and the column, and how to fix it: a column
missing, a bad number, a duplicate row and an unknown measure (for a layout with no measure
column, what stands for one: an age column, an area). Each bad file is a small cut of the real
file of the open mirror, written in tmp_path."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from xml.sax.saxutils import escape

import pandas as pd
import pytest
from conftest import run_cli

FIXES = ("Use ", "Add ", "Correct ", "Keep ", "Say ")


# --- small cuts of the real files -----------------------------------------------------------


def _lines(open_dir: Path, relative: str, keep=None, count: int = 30) -> list[str]:
    """The header and the first ``count`` lines (those ``keep`` accepts) of a CSV of the mirror."""
    lines = (open_dir / relative).read_text(encoding="utf-8-sig").splitlines()
    body = [line for line in lines[1:] if keep is None or keep(line)]
    return [lines[0], *body[:count]]


def _csv(lines: list[str]):
    def write(folder: Path, name: str) -> Path:
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
        return folder / name
    return write


def _replace_in(lines: list[str], line: int, old: str, new: str) -> list[str]:
    """``lines`` with ``old`` replaced in file line ``line`` (1 = the header)."""
    out = list(lines)
    assert old in out[line - 1], (line, old)
    out[line - 1] = out[line - 1].replace(old, new, 1)
    return out


def _dashboard(open_dir: Path) -> pd.DataFrame:
    frame = pd.read_parquet(open_dir / "mps-crime-dashboard/refresh-2026-03/monthly-crime-dashboard.parquet")
    return frame[frame["area_type"] == "Borough"].head(200).reset_index(drop=True)


def _lait(open_dir: Path) -> pd.DataFrame:
    frame = pd.read_parquet(open_dir / "lait/edition-2026-04/bds_long_0.parquet")
    return frame[frame["Short Desc"] == "FirstYJS"].head(100).reset_index(drop=True)


def _as_datastore_csv(frame: pd.DataFrame) -> pd.DataFrame:
    """The dashboard's parquet copy in the Datastore's own CSV spelling."""
    return pd.DataFrame({
        "Month_Year": frame["month_year"].dt.strftime("%d/%m/%Y"), "Area Type": frame["area_type"],
        "Borough_SNT": frame["borough_snt"], "Area name": frame["area_name"], "Area code": frame["area_code"],
        "Offence Group": frame["crime_type"], "Offence Subgroup": frame["crime_subtype"], "Measure": frame["measure"],
        "Count": frame["count"], "Refresh Date": frame["refresh_date"].dt.strftime("%d/%m/%Y"),
    })


def _frame(make, edit, csv=False):
    def write(folder: Path, name: str, open_dir: Path) -> Path:
        frame = edit(make(open_dir))
        if csv:
            frame.to_csv(folder / name, index=False)
        else:
            frame.to_parquet(folder / name, index=False)
        return folder / name
    return write


def _set(column, row, value, dtype=None):
    def edit(frame):
        frame = frame.copy()
        if dtype:
            frame[column] = frame[column].astype(dtype)
        frame.loc[row, column] = value
        return frame
    return edit


def _twice(row):
    return lambda frame: pd.concat([frame, frame.iloc[[row]]], ignore_index=True)


def _xlsx(path: Path, sheets: dict) -> None:
    """A minimal .xlsx workbook (inline strings; no openpyxl in the environment)."""
    def ref(c: int) -> str:
        name = ""
        c += 1
        while c:
            c, r = divmod(c - 1, 26)
            name = chr(65 + r) + name
        return name

    def cell(r, c, v) -> str:
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            return f'<c r="{ref(c)}{r}"><v>{v}</v></c>'
        return f'<c r="{ref(c)}{r}" t="inlineStr"><is><t>{escape(str(v))}</t></is></c>'

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("[Content_Types].xml", (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
            + "".join(f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="application/vnd.openxmlformats-'
                      f'officedocument.spreadsheetml.worksheet+xml"/>' for i in range(1, len(sheets) + 1)) + "</Types>"))
        z.writestr("_rels/.rels", f'<Relationships xmlns="{pkg}"><Relationship Id="rId1" Type="{rel}/officeDocument" '
                                  'Target="xl/workbook.xml"/></Relationships>')
        z.writestr("xl/workbook.xml", f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets>' + "".join(
            f'<sheet name="{escape(n)}" sheetId="{i}" r:id="rId{i}"/>' for i, n in enumerate(sheets, 1)) + "</sheets></workbook>")
        z.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{pkg}">' + "".join(
            f'<Relationship Id="rId{i}" Type="{rel}/worksheet" Target="worksheets/sheet{i}.xml"/>'
            for i in range(1, len(sheets) + 1)) + "</Relationships>")
        for i, rows in enumerate(sheets.values(), 1):
            z.writestr(f"xl/worksheets/sheet{i}.xml", f'<worksheet xmlns="{main}"><sheetData>' + "".join(
                f'<row r="{r}">' + "".join(cell(r, c, v) for c, v in enumerate(row) if v not in ("", None)) + "</row>"
                for r, row in enumerate(rows, 1)) + "</sheetData></worksheet>")


MYE2_HEADER = 8  # the line of 'Code, Name, ...' in the mid-2022 workbook's MYE2 - Persons sheet


def _mye2_rows(open_dir: Path) -> list[list]:
    from python_calamine import CalamineWorkbook

    rows = CalamineWorkbook.from_path(str(open_dir / "ons-mye/mye22final.xlsx")).get_sheet_by_name("MYE2 - Persons").to_python()
    assert rows[MYE2_HEADER - 1][0] == "Code"
    return [list(r) for r in rows[: MYE2_HEADER + 10]]


def _workbook(edit):
    def write(folder: Path, name: str, open_dir: Path) -> Path:
        _xlsx(folder / name, {"Cover sheet": [["Population estimates"]], "MYE2 - Persons": edit(_mye2_rows(open_dir))})
        return folder / name
    return write


def _row_edit(line, column, value):
    def edit(rows):
        rows[line - 1][rows[MYE2_HEADER - 1].index(column)] = value
        return rows
    return edit


def _geojson(edit):
    def write(folder: Path, name: str, open_dir: Path) -> Path:
        doc = json.loads((open_dir / "boundaries/bng/London_Borough_Excluding_MHW.geojson").read_bytes())
        edit(doc["features"])
        (folder / name).write_text(json.dumps(doc), encoding="utf-8")
        return folder / name
    return write


def _prop(feature, key, value):
    def edit(features):
        if value is None:
            del features[feature - 1]["properties"][key]
        else:
            features[feature - 1]["properties"][key] = value
    return edit


def _same_name(feature, as_feature):
    def edit(features):
        features[feature - 1]["properties"]["NAME"] = features[as_feature - 1]["properties"]["NAME"]
    return edit


# --- the cases: (layout, problem) -> file name, how to write it, line, column -----------------

PAS = "mopac-pas/PAS_Dashboard_Borough.csv"
VIEWIT = "ndtms-viewit/ViewIt Export Data_LAs.csv"
MYE = "ons-mye/mye24tablesew.csv"
DFE = "dfe-children-population/ons_mid-year_population_estimates_2012_to_2024.csv"
WARD = "mps-ward/MPS Ward Level Crime (most recent 24 months).csv"
TOTALS = lambda line: line.split(",")[2:4] == ["Total", "Total"]  # noqa: E731 - ViewIt rows for all sexes and ages
DASH_CSV = "M1045_MonthlyCrimeDashboard_KnifeCrimeData.csv"


def _text(relative, change, keep=None, count=30):
    """A CSV cut of the mirror's file, changed by ``change(lines)``."""
    def write(folder: Path, name: str, open_dir: Path) -> Path:
        return _csv(change(_lines(open_dir, relative, keep, count)))(folder, name)
    return write


CASES = {
    # dashboard_long, the parquet copy (snake_case columns): line = row + 1
    ("dashboard parquet", "column missing"): ("monthly-crime-dashboard.parquet",
                                              _frame(_dashboard, lambda f: f.drop(columns=["count"])), None, "Count"),
    ("dashboard parquet", "bad number"): ("monthly-crime-dashboard.parquet",
                                          _frame(_dashboard, _set("count", 5, 2.5, "float64")), 6, "count"),
    ("dashboard parquet", "duplicate row"): ("monthly-crime-dashboard.parquet", _frame(_dashboard, _twice(0)), 201, "count"),
    ("dashboard parquet", "unknown measure"): ("monthly-crime-dashboard.parquet",
                                               _frame(_dashboard, _set("crime_subtype", 5, "Knife Crime (new)")), 6, "crime_subtype"),
    # dashboard_long, the Datastore's CSV: line = row + 2
    ("dashboard csv", "column missing"): (DASH_CSV, _frame(_dashboard, lambda f: _as_datastore_csv(f).drop(columns=["Measure"]),
                                                           csv=True), 1, "Measure"),
    ("dashboard csv", "bad number"): (DASH_CSV, _frame(_dashboard, lambda f: _set("Count", 7, "7a", "object")(_as_datastore_csv(f)),
                                                       csv=True), 9, "Count"),
    ("dashboard csv", "duplicate row"): (DASH_CSV, _frame(_dashboard, lambda f: _twice(3)(_as_datastore_csv(f)), csv=True),
                                         202, "Count"),
    ("dashboard csv", "unknown measure"): (DASH_CSV, _frame(_dashboard, lambda f: _set("Measure", 4, "Arrests")(_as_datastore_csv(f)),
                                                            csv=True), 6, "Measure"),
    # survey_proportions (PAS)
    ("pas", "column missing"): ("PAS_Dashboard_Borough.csv", _text(PAS, lambda t: _replace_in(t, 1, "Proportion", "Share")),
                                1, "Proportion"),
    ("pas", "bad number"): ("PAS_Dashboard_Borough.csv", _text(PAS, lambda t: _replace_in(t, 2, '"0,56"', '"0,5x"')), 2, "Proportion"),
    ("pas", "duplicate row"): ("PAS_Dashboard_Borough.csv", _text(PAS, lambda t: [*t, t[1]]), 32, "Proportion"),
    ("pas", "unknown measure"): ("PAS_Dashboard_Borough.csv",
                                 _text(PAS, lambda t: _replace_in(t, 3, '"""Good Job"" local"', "Listen to us")), 3, "Measure"),
    # rates_by_year (LAIT): line = row + 1
    ("lait", "column missing"): ("bds_long_0.parquet", _frame(_lait, lambda f: f.drop(columns=["Values"])), None, "Values"),
    ("lait", "bad number"): ("bds_long_0.parquet", _frame(_lait, _set("Values", 3, "n/a")), 4, "Values"),
    ("lait", "duplicate row"): ("bds_long_0.parquet", _frame(_lait, _twice(0)), 101, "Values"),
    ("lait", "unknown measure"): ("bds_long_0.parquet", _frame(_lait, lambda f: f.assign(**{"Short Desc": "FirstYJS2"})),
                                  None, "Short Desc"),
    # population_by_age, the MYE2 sheet saved as CSV
    ("mye csv", "column missing"): ("mye24tablesew.csv", _text(MYE, lambda t: _replace_in(t, 1, "All ages", "Total"), count=15),
                                    1, "All ages"),
    ("mye csv", "bad number"): ("mye24tablesew.csv", _text(MYE, lambda t: _replace_in(t, 3, ",58620101,", ",5862O101,"), count=15),
                                3, "All ages"),
    ("mye csv", "duplicate row"): ("mye24tablesew.csv", _text(MYE, lambda t: [*t, t[1]], count=15), 17, "Code"),
    ("mye csv", "unknown measure"): ("mye24tablesew.csv", _text(MYE, lambda t: [t[0] + ",91", *(x + ",0" for x in t[1:])], count=15),
                                     1, "91"),
    # population_by_age, the ONS workbook (sheet MYE2 - Persons)
    ("mye workbook", "column missing"): ("mye22final.xlsx", _workbook(_row_edit(MYE2_HEADER, "All ages", "Everyone")),
                                         MYE2_HEADER, "All ages"),
    ("mye workbook", "bad number"): ("mye22final.xlsx", _workbook(_row_edit(MYE2_HEADER + 2, "All ages", "many")),
                                     MYE2_HEADER + 2, "All ages"),
    ("mye workbook", "duplicate row"): ("mye22final.xlsx", _workbook(lambda rows: [*rows, rows[MYE2_HEADER]]),
                                        MYE2_HEADER + 11, "Code"),
    ("mye workbook", "unknown measure"): ("mye22final.xlsx", _workbook(_row_edit(MYE2_HEADER, "90+", "90-94")),
                                          MYE2_HEADER, "90-94"),
    # children_population (DfE 0-17)
    ("dfe 0-17", "column missing"): ("ons_mid-year_population_estimates_2012_to_2024.csv",
                                     _text(DFE, lambda t: _replace_in(t, 1, "population_estimate", "estimate")), 1, "population_estimate"),
    ("dfe 0-17", "bad number"): ("ons_mid-year_population_estimates_2012_to_2024.csv",
                                 _text(DFE, lambda t: _replace_in(t, 3, ",542710", ",54271O")), 3, "population_estimate"),
    ("dfe 0-17", "duplicate row"): ("ons_mid-year_population_estimates_2012_to_2024.csv", _text(DFE, lambda t: [*t, t[2]]),
                                    32, "population_estimate"),
    ("dfe 0-17", "unknown measure"): ("ons_mid-year_population_estimates_2012_to_2024.csv",
                                      _text(DFE, lambda t: _replace_in(t, 3, "0 to 17", "0 to 15")), 3, "age_group"),
    # viewit_export (NDTMS), its rows for all sexes and ages
    ("viewit", "column missing"): ("ViewIt Export Data_LAs.csv",
                                   _text(VIEWIT, lambda t: _replace_in(t, 1, "drug_group", "drug"), TOTALS, 20), 1, "drug_group"),
    ("viewit", "bad number"): ("ViewIt Export Data_LAs.csv",
                               _text(VIEWIT, lambda t: _replace_in(t, 2, ",Total,Total,Total,", ",Total,Total,Total,x"), TOTALS, 20),
                               2, "intreatment_allintx"),
    ("viewit", "duplicate row"): ("ViewIt Export Data_LAs.csv", _text(VIEWIT, lambda t: [*t, t[1]], TOTALS, 20), 22, "drug_group"),
    ("viewit", "unknown measure"): ("ViewIt Export Data_LAs.csv",
                                    _text(VIEWIT, lambda t: _replace_in(t, 3, ",Total,Total,Opiate,", ",Total,Total,Cannabis,"),
                                          TOTALS, 20), 3, "drug_group"),
    # boundaries_geojson: a feature is a row, named by its number (a GeoJSON file has no lines to name)
    ("boundaries", "column missing"): ("London_Borough_Excluding_MHW.geojson", _geojson(_prop(2, "NAME", None)), "feature 2", "NAME"),
    ("boundaries", "bad number"): ("London_Borough_Excluding_MHW.geojson", _geojson(_prop(2, "HECTARES", "lots")), "feature 2", "HECTARES"),
    ("boundaries", "duplicate row"): ("London_Borough_Excluding_MHW.geojson", _geojson(_same_name(3, 1)), "feature 3", "NAME"),
    ("boundaries", "unknown measure"): ("London_Borough_Excluding_MHW.geojson", _geojson(_prop(2, "NAME", "Atlantis")), "feature 2", "NAME"),
    # ward_wide (MPS ward files)
    ("wards", "column missing"): ("MPS Ward Level Crime (most recent 24 months).csv",
                                  _text(WARD, lambda t: _replace_in(t, 1, "WardCode", "WardKey")), 1, "WardCode"),
    ("wards", "bad number"): ("MPS Ward Level Crime (most recent 24 months).csv",
                              _text(WARD, lambda t: _replace_in(t, 2, "(SO18),0,", "(SO18),x,")), 2, "202403"),
    ("wards", "duplicate row"): ("MPS Ward Level Crime (most recent 24 months).csv", _text(WARD, lambda t: [*t, t[1]]),
                                 32, "WardCode"),
    ("wards", "unknown measure"): ("MPS Ward Level Crime (most recent 24 months).csv",
                                   _text(WARD, lambda t: _replace_in(t, 2, ",ARSON,", ",ARSON (NEW),")), 2, "MinorText"),
}


def test_the_cases_cover_every_layout_of_the_registry(project):
    from cspbook.definitions.sources import registry

    layouts = {s.layout for s in registry().sources.values()}
    covered = {"dashboard_long": "dashboard parquet", "survey_proportions": "pas", "rates_by_year": "lait",
               "population_by_age": "mye csv", "children_population": "dfe 0-17", "viewit_export": "viewit",
               "boundaries_geojson": "boundaries", "ward_wide": "wards"}
    assert layouts <= set(covered)
    for layout in layouts:
        assert {p for (kind, p) in CASES if kind == covered[layout]} == {
            "column missing", "bad number", "duplicate row", "unknown measure"}, layout


@pytest.mark.parametrize("case", list(CASES), ids=[f"{k}: {p}" for k, p in CASES])
def test_a_bad_file_of_each_layout_stops_fetch_with_exit_2(case, project, mirror, open_dir, tmp_path, capsys):
    name, write, line, column = CASES[case]
    folder = tmp_path / "open" / "bad"
    folder.mkdir(parents=True)
    path = write(folder, name, open_dir)
    code, out, err = run_cli(capsys, "fetch", "--mirror", str(mirror), "--open-mirror", str(tmp_path / "open"))
    assert code == 2, err
    assert "Traceback" not in err, err
    if isinstance(line, str):  # a GeoJSON feature
        assert f"{path.resolve()}, column '{column}': {line}" in err, err
    else:
        where = f"{path.resolve()}" + (f", line {line}" if line is not None else "") + f", column '{column}'"
        assert where in err, err
    assert any(fix in err for fix in FIXES), err
    assert not (project / "data" / "raw" / "open").is_dir() or not any((project / "data" / "raw" / "open").rglob(name))
