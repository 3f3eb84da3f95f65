"""Population readers: the ONS mid-year estimates by single year of age (``MYE2 - Persons``
of an .xls or .xlsx workbook, or that sheet saved as CSV with thousands separators; the
mid-2011 column of the mid-2022 workbook's ``MYEB1`` sheet) and DfE's children aged 0-17.

Each returns the long frame of :data:`common.LONG` with measures ``all ages``,
``aged 10-17`` and ``aged 0-17``, period the mid-year (``2024``) and ``refresh`` the
edition (``mid-2022`` for the mid-2011 figures taken from the mid-2022 workbook)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd

from cspbook.data.opendata.common import areas, check_known, check_unique, find_columns, long_frame, numbers
from cspbook.data.opendata.layouts import table
from cspbook.definitions.sources import OpenSource, column_key
from cspbook.errors import DataFileError

AGES = [str(a) for a in range(90)] + ["90+"]


BANDS = {"all ages": None, "aged 10-17": range(10, 18), "aged 0-17": range(0, 18)}


def population_by_age(path: Path, source: OpenSource, aliases: dict) -> pd.DataFrame:
    """The MYE2 table of a workbook or CSV (and MYEB1's mid-2011 where the workbook has it)."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        match = re.search(r"mye(\d\d)", path.name.lower())
        if not match:
            raise DataFileError(path, "the mid-year of a CSV copy is read from its name (mye24...: mid-2024), "
                                "and this name has none", fix="keep the ONS file name, e.g. mye24tablesew.csv")
        rows = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
        return _mye2(path, [list(rows.columns), *rows.to_numpy().tolist()], 0, 2000 + int(match.group(1)), aliases)
    sheets = _workbook(path)
    mye2 = next((rows for name, rows in sheets.items() if column_key(name) == "mye2persons"), None)
    if mye2 is None:
        raise DataFileError(path, f"no sheet 'MYE2 - Persons'; the sheets are {', '.join(sheets)}",
                            fix="use the ONS workbook as published")
    header = next((i for i, row in enumerate(mye2) if row and str(row[0]).strip().lower() == "code"), None)
    title = " ".join(str(c) for row in mye2[: header or 0] for c in row if c)
    year = re.search(r"mid-(\d{4})", title)
    if header is None or year is None:
        raise DataFileError(path, "sheet 'MYE2 - Persons' has no title 'mid-YYYY' above a header row starting 'Code'",
                            fix="use the ONS workbook as published")
    out = _mye2(path, mye2[header:], header, int(year.group(1)), aliases)
    myeb1 = next((rows for name, rows in sheets.items() if column_key(name) == "myeb1"), None)
    if myeb1 is not None:
        out = pd.concat([out, _myeb1(path, myeb1, int(year.group(1)), aliases)], ignore_index=True)
    return out


def _workbook(path: Path) -> dict:
    """Sheet name -> rows (lists of cell values) of the sheets cspbook reads.

    Both the old ``.xls`` and the ``.xlsx`` workbooks are read by calamine (Rust): the
    mid-2022 workbook's long MYEB1 sheet takes about 1.5 s there against 13 s with openpyxl.
    """
    wanted = ("mye2persons", "myeb1")
    try:
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        return {n: book.get_sheet_by_name(n).to_python() for n in book.sheet_names if column_key(n) in wanted}
    except DataFileError:
        raise
    except Exception as exc:  # noqa: BLE001 - any unreadable workbook is a bad file
        raise DataFileError(path, f"not a readable workbook ({type(exc).__name__}: {exc})", fix="fetch the file again") from exc


def _cells(values: pd.Series) -> pd.Series:
    """:func:`_cell` of a whole column.

    >>> _cells(pd.Series([3.0, 2.5, None, " a ", 7])).tolist()
    ['3', '2.5', '', 'a', '7']
    """
    number = pd.to_numeric(values.where(values.map(type).isin((int, float))), errors="coerce")
    whole = number.notna() & (number % 1 == 0)
    out = values.astype(str).str.strip().where(values.notna(), "")
    out[whole] = number[whole].astype("int64").astype(str)
    return out


def _cell(value) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return "" if value is None else str(value).strip()


def _mye2(path, rows: list, first_line: int, year: int, aliases: dict) -> pd.DataFrame:
    """Areas x ages of an MYE2 table (``rows[0]`` is its header, on sheet line ``first_line + 1``)."""
    header = [_cell(c) for c in rows[0]]
    cols = find_columns(path, header, {"code": ("Code",), "name": ("Name",), "all": ("All ages",)}, line=first_line + 1)
    unknown = [h for h in header[header.index(cols["all"]) + 1:] if h and h not in AGES]
    if unknown:
        raise DataFileError(path, f"unknown column '{unknown[0]}': an MYE2 table has ages 0 to 89 and 90+",
                            line=first_line + 1, column=unknown[0], fix="use the ONS table as published")
    missing = [a for a in AGES if a not in header]
    if missing:
        raise DataFileError(path, f"no column '{missing[0]}' (age)", line=first_line + 1, column=missing[0],
                            fix="use the ONS table as published")
    body = pd.DataFrame([[_cell(c) for c in r[: len(header)]] for r in rows[1:]], columns=header)
    body = body[body[cols["code"]].str.fullmatch(r"[A-Z]\d{8}")]  # not the notes below the table
    line0 = first_line + 2
    check_unique(path, body[[cols["code"]]], [cols["code"]], cols["code"], line0, rows=body.index.to_numpy())
    bands = {measure: [cols["all"]] if ages is None else [str(a) for a in ages] for measure, ages in BANDS.items()}
    values = _all_numbers(path, body, list(dict.fromkeys(n for names in bands.values() for n in names)), line0)
    named = areas(body[cols["name"]], aliases).to_numpy()
    out = [long_frame(path, area=named, period=str(year), measure=measure, value=sum(values[n] for n in names),
                      refresh=f"mid-{year}") for measure, names in bands.items()]
    return pd.concat(out, ignore_index=True)


def _all_numbers(path, body, columns: list[str], line0) -> dict[str, np.ndarray]:
    """:func:`_numbers` of each of ``columns``, checked in one pass (a tenth of the time of a
    column at a time); a bad value is then found column by column, so that the message names
    its row and column as before."""
    block = body[columns]
    flat = pd.Series(block.to_numpy().ravel(order="F"))
    try:
        parsed = numbers(path, flat, columns[0], 0, integer=True, what="a whole number of people")
    except DataFileError:
        for column in columns:
            _numbers(path, body, column, line0)  # raises, naming the row and column
        raise
    return dict(zip(columns, parsed.reshape(len(columns), len(block))))


def _numbers(path, body, column, line0, missing=()) -> np.ndarray:
    try:
        return numbers(path, body[column].reset_index(drop=True), column, 0, integer=True, missing=missing,
                       what="a whole number of people")
    except DataFileError as exc:
        raise DataFileError(path, exc.problem, line=line0 + int(body.index[exc.line]), column=column, fix=exc.fix) from None


def _myeb1(path, rows: list, edition: int, aliases: dict) -> pd.DataFrame:
    """Mid-2011 by area from MYEB1 (code, name, geography, sex, age, population_2011, ...)."""
    header = [_cell(c) for c in rows[0]]
    cols = find_columns(path, header, {"code": ("code",), "name": ("name",), "age": ("age",),
                                       "pop": ("population_2011",)})
    index = [header.index(cols[k]) for k in ("code", "name", "age", "pop")]
    body = pd.DataFrame([[r[i] for i in index] for r in rows[1:] if len(r) > max(index)], columns=["code", "name", "age", "pop"])
    body = body.apply(_cells)  # 73,000 rows: whole columns, not a cell at a time
    body = body[body["code"] != ""].reset_index(drop=True)
    age = pd.to_numeric(body["age"].str.rstrip("+"), errors="coerce")
    pop = _numbers(path, body.rename(columns={"pop": cols["pop"]}), cols["pop"], 2)
    body = body.assign(age=age, pop=pop)
    out = []
    for measure, ages in BANDS.items():
        part = body if ages is None else body[body["age"].isin(list(ages))]
        sums = part.groupby(["code", "name"], sort=False)["pop"].sum().reset_index()
        out.append(long_frame(path, area=areas(sums["name"], aliases).to_numpy(), period="2011", measure=measure,
                              value=sums["pop"].to_numpy(), refresh=f"mid-{edition}"))
    return pd.concat(out, ignore_index=True)


CHILDREN = {"year": ("time_period",), "level": ("geographic_level",), "area": ("la_name",),
            "region": ("region_name",), "age": ("age_group",), "value": ("population_estimate",)}


def children_population(path: Path, source: OpenSource, aliases: dict) -> pd.DataFrame:
    """DfE's children aged 0-17 by local authority (and London, from its regional rows)."""
    frame, cols, line0 = table(path, CHILDREN)
    level = frame[cols["level"]].str.strip().str.lower()
    frame = frame[level.isin(["local authority", "regional"])]
    regional = (frame[cols["level"]].str.strip().str.lower() == "regional").to_numpy()
    names = frame[cols["area"]].where(~regional, frame[cols["region"]])
    key = next(k for k in ("agegroup",) if k in source.known) if source.known else None
    if key:
        try:
            check_known(path, frame[cols["age"]].reset_index(drop=True), cols["age"], source.known[key], 0, source.id)
        except DataFileError as exc:
            raise DataFileError(path, exc.problem, line=line0 + int(frame.index[exc.line]), column=cols["age"], fix=exc.fix) from None
    value = _numbers(path, frame, cols["value"], line0, missing=("x", "z", ":", ""))  # DfE's 'not available'
    year = frame[cols["year"]].str.strip()
    bad = ~year.str.fullmatch(r"\d{4}")
    if bad.any():
        at = int(np.flatnonzero(bad.to_numpy())[0])
        raise DataFileError(path, f"'{year.iloc[at]}' is not a year", line=line0 + int(frame.index[at]),
                            column=cols["year"], fix="correct the value")
    area = areas(names, aliases).to_numpy()
    keyed = pd.DataFrame({"time_period": year.to_numpy(), "la_name": area, "age_group": frame[cols["age"]].to_numpy()})
    check_unique(path, keyed, list(keyed.columns), cols["value"], line0, rows=frame.index.to_numpy())
    return long_frame(path, area=area, period=year.to_numpy(), measure="aged 0-17", value=value,
                      level=np.where(regional, "aggregate", "local"))
