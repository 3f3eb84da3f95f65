"""One reader per layout of an open source (``layout:`` in ``data/sources.yml``), each
returning the long frame of :data:`common.LONG`: area, period, measure, value, file,
refresh (the file's own refresh date or edition), level (local or aggregate).

Periods are text: a month ``2024-03``; the 12 months to a quarter end ``2023-12``; a
calendar or mid-year ``2024``; a financial year ``2019-20``."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from cspbook.data.opendata.common import areas, check_known, check_unique, find_columns, long_frame, numbers
from cspbook.definitions.sources import OpenSource, column_key
from cspbook.errors import DataFileError


def table(path: Path, roles: dict, optional=(), filters=None) -> tuple[pd.DataFrame, dict, int]:
    """The file's columns for ``roles`` (parquet or CSV, any spelling); the frame (CSV cells
    as text), role -> column, and the line number of the first data row."""
    path = Path(path)
    if path.suffix.lower() == ".parquet":
        import pyarrow.parquet as pq

        try:
            present = pq.read_schema(path).names
        except Exception as exc:  # noqa: BLE001 - any unreadable parquet file is a bad file
            raise DataFileError(path, f"not a readable parquet file ({exc})", fix="fetch the file again") from exc
        cols = find_columns(path, present, roles, optional)
        frame = pd.read_parquet(path, columns=list(dict.fromkeys(cols.values())),
                                filters=[(cols[k], "==", v) for k, v in (filters or {}).items()] or None)
        return frame, cols, 1
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise DataFileError(path, f"not a readable CSV file ({exc})", fix="fetch the file again") from exc
    cols = find_columns(path, list(frame.columns), roles, optional, line=1)
    for role, value in (filters or {}).items():
        frame = frame[frame[cols[role]].str.strip() == value]
    return frame, cols, 2


DASHBOARD = {
    "month": ("Month_Year",), "area_type": ("Area Type",), "area": ("Area name",),
    "subgroup": ("Offence Subgroup", "crime_subtype"), "measure": ("Measure",), "count": ("Count",),
    "refresh": ("Refresh Date",),
}


def dashboard_long(path: Path, source: OpenSource, aliases: dict) -> pd.DataFrame:
    """MPS Monthly Crime Dashboard (Datastore CSV or its parquet copies): borough rows only;
    measure ``'<Offence Subgroup>: <Measure>'`` in the registry's spelling."""
    frame, cols, line0 = table(path, DASHBOARD)
    area_type = frame[cols["area_type"]].astype("string").str.strip().str.lower()
    named = frame[cols["area"]].astype("string").str.strip().fillna("") != ""
    frame = frame[(area_type == "borough") & named]
    subgroup = _checked(path, frame, cols["subgroup"], source, ("offencesubgroup", "crimesubtype"), line0)
    measure = _checked(path, frame, cols["measure"], source, ("measure",), line0)
    try:
        count = numbers(path, frame[cols["count"]].reset_index(drop=True), cols["count"], 0, integer=True,
                        what="a whole number of offences")
    except DataFileError as exc:  # the line in the file, not among the borough rows
        raise DataFileError(path, exc.problem, line=line0 + int(frame.index[exc.line]), column=cols["count"],
                            fix=exc.fix) from None
    month = _months(path, frame[cols["month"]], cols["month"], line0)
    refresh = pd.to_datetime(frame[cols["refresh"]], errors="coerce", dayfirst=True, format="mixed")
    if refresh.isna().any():
        raise _row_error(path, frame, refresh.isna().to_numpy(), cols["refresh"], line0, "a date")
    out = long_frame(path, area=areas(frame[cols["area"]], aliases).to_numpy(), period=month,
                     measure=(subgroup + ": " + measure).to_numpy(), value=count,
                     refresh=refresh.dt.strftime("%Y-%m-%d").to_numpy())
    keyed = pd.DataFrame({"Month_Year": month, "Area name": frame[cols["area"]].to_numpy(),
                          "Offence Subgroup": subgroup.to_numpy(), "Measure": measure.to_numpy()})
    check_unique(path, keyed, list(keyed.columns), cols["count"], line0, rows=frame.index.to_numpy())
    return out


def _row_error(path, frame, bad, column, line0, what) -> DataFileError:
    at = int(np.flatnonzero(bad)[0])
    return DataFileError(path, f"'{frame[column].iloc[at]}' is not {what}", line=line0 + int(frame.index[at]),
                         column=column, fix="correct the value, or fetch the file again")


def _checked(path, frame, column, source, keys, line0) -> pd.Series:
    """A column's values, checked against the registry's ``known`` list when it has one."""
    key = next((k for k in keys if k in source.known), None)
    values = frame[column].astype("string").str.strip()
    if key is None:
        return values.reset_index(drop=True)
    try:
        return check_known(path, values.reset_index(drop=True), column, source.known[key], 0, source.id)
    except DataFileError as exc:
        raise DataFileError(path, exc.problem, line=line0 + int(frame.index[exc.line]), column=column, fix=exc.fix) from None


def _months(path, values: pd.Series, column, line0) -> np.ndarray:
    """Month text ``YYYY-MM`` of dates (datetime, ``2024-03-01``, ``01/03/2024``, ``Mar-24``)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        parsed = values
    else:
        parsed = pd.to_datetime(values.astype("string").str.strip(), errors="coerce", dayfirst=True, format="mixed")
    if parsed.isna().any():
        raise _row_error(path, values.to_frame(), parsed.isna().to_numpy(), column, line0, "a month")
    return parsed.dt.strftime("%Y-%m").to_numpy()


SURVEY = {"date": ("Date",), "area": ("Borough",), "measure": ("Measure",), "value": ("Proportion",),
          "london": ("MPS",)}


def survey_proportions(path: Path, source: OpenSource, aliases: dict) -> pd.DataFrame:
    """MOPAC PAS borough dashboard: proportions (decimal commas read) for the 12 months to
    each quarter end; the ``MPS`` column gives London's."""
    frame, cols, line0 = table(path, SURVEY, optional=("london",))
    frame = frame[frame[cols["date"]].str.strip() != ""]  # trailing empty lines of a saved sheet
    measure = _checked(path, frame, cols["measure"], source, ("measure",), line0)
    value = _proportions(path, frame, cols["value"], line0)
    period = _months(path, frame[cols["date"]], cols["date"], line0)
    area = areas(frame[cols["area"]], aliases).to_numpy()
    keyed = pd.DataFrame({"Date": period, "Borough": area, "Measure": measure.to_numpy()})
    check_unique(path, keyed, list(keyed.columns), cols["value"], line0, rows=frame.index.to_numpy())
    out = long_frame(path, area=area, period=period, measure=measure.to_numpy(), value=value)
    if "london" in cols:
        london = long_frame(path, area="London", period=period, measure=measure.to_numpy(),
                            value=_proportions(path, frame, cols["london"], line0), level="aggregate")
        out = pd.concat([out, london.drop_duplicates(["period", "measure"])], ignore_index=True)
    return out


def _proportions(path, frame, column, line0) -> np.ndarray:
    text = frame[column].astype("string").str.strip().str.replace(",", ".", regex=False)
    try:
        return numbers(path, text.reset_index(drop=True), column, 0, high=1.0, missing=("",),
                       what="a proportion between 0 and 1")
    except DataFileError as exc:
        raise DataFileError(path, exc.problem, line=line0 + int(frame.index[exc.line]), column=column, fix=exc.fix) from None


LAIT = {"short": ("Short Desc",), "year": ("Years",), "area": ("LA and Regions",), "value": ("Values",),
        "region": ("Region",)}


def rates_by_year(path: Path, source: OpenSource, aliases: dict) -> pd.DataFrame:
    """DfE LAIT long table: the rows of the selected dataset (``select:``), a value per
    area and calendar year; ``-`` is a suppressed value (kept as missing)."""
    frame, cols, line0 = table(path, LAIT, optional=("region",))
    frame = frame.reset_index(drop=True)
    keep = np.ones(len(frame), dtype=bool)
    for key, value in source.select.items():
        role = next(r for r, s in LAIT.items() if any(column_key(x) == key for x in s))
        keep &= (frame[cols[role]].astype("string").str.strip() == value).to_numpy()
    if source.select and not keep.any():
        key, value = next(iter(source.select.items()))
        role = next(r for r, s in LAIT.items() if any(column_key(x) == key for x in s))
        raise DataFileError(
            path, f"no row has {cols[role]} '{value}', the dataset source '{source.id}' takes from this file",
            column=cols[role], fix=f"use the publisher's file with its '{value}' rows, or if the publisher renamed the "
            f"dataset, say its new name under select: of '{source.id}' in data/sources.yml")
    frame = frame[keep]
    years = frame[cols["year"]].astype("string").str.strip()
    bad = ~years.str.fullmatch(r"\d{4}").fillna(False)
    if bad.any():
        raise _row_error(path, frame, bad.to_numpy(), cols["year"], line0, "a calendar year (YYYY)")
    try:
        value = numbers(path, frame[cols["value"]].reset_index(drop=True), cols["value"], 0, missing=("-", ""))
    except DataFileError as exc:
        raise DataFileError(path, exc.problem, line=line0 + int(frame.index[exc.line]), column=cols["value"], fix=exc.fix) from None
    area = areas(frame[cols["area"]], aliases).to_numpy()
    measure = frame[cols["short"]].astype("string").str.strip().to_numpy()
    keyed = pd.DataFrame({"Short Desc": measure, "Years": years.to_numpy(), "LA and Regions": area})
    check_unique(path, keyed, list(keyed.columns), cols["value"], line0, rows=frame.index.to_numpy())
    level = "local"
    if "region" in cols:
        level = np.where(frame[cols["region"]].astype("string").str.strip().fillna("NA").isin(["NA", ""]),
                         "aggregate", "local")
    return long_frame(path, area=area, period=years.to_numpy(), measure=measure, value=value, level=level)


VIEWIT = {"period": ("ReportingPeriod",), "area": ("Area",), "sex": ("sex",), "age": ("age_group",),
          "drug": ("drug_group",)}


def viewit_export(path: Path, source: OpenSource, aliases: dict) -> pd.DataFrame:
    """NDTMS ViewIt export: every count column of the rows for all sexes and ages, measure
    ``'<drug group>: <column>'``, period the financial year (``2019/20`` -> ``2019-20``);
    ``NULL`` or empty is a missing count."""
    frame, cols, line0 = table(path, VIEWIT)
    total = ((frame[cols["sex"]].str.strip().str.lower() == "total")
             & (frame[cols["age"]].str.strip().str.lower() == "total"))
    frame = frame[total]
    drug = _checked(path, frame, cols["drug"], source, ("druggroup",), line0)
    period = frame[cols["period"]].astype("string").str.strip()
    bad = ~period.str.fullmatch(r"\d{4}/\d{2}").fillna(False)
    if bad.any():
        raise _row_error(path, frame, bad.to_numpy(), cols["period"], line0, "a financial year (YYYY/YY)")
    period = period.str.replace("/", "-", regex=False).to_numpy()
    area = areas(frame[cols["area"]], aliases).to_numpy()
    keyed = pd.DataFrame({"ReportingPeriod": period, "Area": area, "drug_group": drug.to_numpy()})
    check_unique(path, keyed, list(keyed.columns), cols["drug"], line0, rows=frame.index.to_numpy())
    measures = [c for c in frame.columns if c not in cols.values()]
    cells = frame[measures].to_numpy().T.ravel()  # column by column
    try:
        value = numbers(path, pd.Series(cells), "", 0, missing=("NULL", ""), integer=True, what="a whole number")
    except DataFileError as exc:
        column, at = measures[exc.line // len(frame)], exc.line % len(frame)
        raise DataFileError(path, exc.problem, line=line0 + int(frame.index[at]), column=column, fix=exc.fix) from None
    names = np.repeat(np.asarray(measures, dtype=object), len(frame))
    labels = np.tile(drug.to_numpy(dtype=object), len(measures)) + ": " + names
    return long_frame(path, area=np.tile(area, len(measures)), period=np.tile(period, len(measures)),
                      measure=labels, value=value)
