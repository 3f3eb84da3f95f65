"""cspbook.definitions.partner: partner-supplied figures, read and checked cell by cell."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from cspbook import definitions
from cspbook.definitions import partner
from cspbook.errors import DefinitionError

HEADER = "borough,year,indicator,previous_value,value,change_pct,supplied_by,source"
BD = "Barking and Dagenham"
WHO = "Youth Offending Service,Annual Report 2011-12"
KNOWN = ", ".join(
    "violence_with_injury sexual_offences domestic_violence_offences domestic_abuse_vwi knife_injury_victims_1_24 "
    "knife_injury_victims_non_da_1_24 serious_youth_violence residential_burglary "
    "vehicle_crime vehicle_crime_incl_interference robbery asb_calls criminal_damage drug_treatment_completion "
    "first_time_entrants drug_offences public_confidence pas_good_job pas_trust pas_listen pas_relied_on "
    "pas_treat_fairly pas_understand pas_informed pas_contact_ward total_notifiable_offences violence_against_the_person".split()
)


def write(folder, *rows, name="barking-and-dagenham-2011-12.csv", header=HEADER):
    path = folder / "data" / "partner" / name
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_the_committed_file_reads_with_its_values(project):
    frame = partner.for_borough(BD, 2011)
    assert frame.columns.tolist() == partner.COLUMNS + ["unit"]
    got = frame.set_index("indicator")[["previous_value", "value", "change_pct", "unit"]]
    assert got.loc["drug_treatment_completion"].tolist()[:2] == [57.0, 63.0]
    assert math.isnan(got.loc["drug_treatment_completion", "change_pct"])
    assert got.loc["domestic_violence_offences", "change_pct"] == -4.0
    assert got.loc["first_time_entrants", "change_pct"] == 0.0
    assert set(frame["borough"]) == {BD} and set(frame["year"]) == {2011}


def test_as_changes_gives_percentage_points_for_a_percentage(project):
    path = write(
        project,
        f"{BD},2011-12,drug_treatment_completion,57,63,,{WHO}",  # a percentage: +6 points, no % change
        f"{BD},2011-12,asb_calls,200,150,,{WHO}",  # calls: (150 - 200) / 200 = -25%
        f"{BD},2011-12,first_time_entrants,,,-4.5,{WHO}",  # only the published change
    )
    changes = partner.as_changes(partner.read(path)).set_index("indicator")
    drug = changes.loc["drug_treatment_completion"]
    assert (drug["previous_value"], drug["value"], drug["change"]) == (57, 63, 6)
    assert math.isnan(drug["change_pct"])
    assert drug["note"] == "supplied by Youth Offending Service; published in Annual Report 2011-12; change in percentage points"
    assert changes.loc["asb_calls", "change_pct"] == pytest.approx(-25.0)
    assert changes.loc["first_time_entrants", "change_pct"] == -4.5
    assert changes["comparable"].tolist() == [True, True, True]
    assert changes["significant"].isna().all()  # no interval for partner figures


def test_no_file_means_no_figures(project):
    frame = partner.for_borough("Barnet", 2011)
    assert len(frame) == 0 and frame.columns.tolist() == partner.COLUMNS + ["unit"]


@pytest.mark.parametrize(
    ("rows", "message"),
    [
        ([f"{BD},2011-12,drug_treatment_completion,57,140,,{WHO}"],
         "line 2, column 'value': found 140, outside 0 to 100. 'drug_treatment_completion' is a percentage; "
         "correct the figure"),
        ([f"{BD},2011-12,public_confidence,-1,50,,{WHO}"],
         "line 2, column 'previous_value': found -1, outside 0 to 100. 'public_confidence' is a percentage; "
         "correct the figure"),
        ([f"{BD},2011-12,asb_calls,200,-5,,{WHO}"],
         "line 2, column 'value': found -5, below 0. 'asb_calls' counts calls, which cannot be negative; "
         "correct the figure"),
        ([f"{BD},2011-12,asb_calls,lots,150,,{WHO}"],
         "line 2, column 'previous_value': found 'lots', which is not a number. Write a plain number such as 12.5"),
        ([f"{BD},2011-12,asb_calls,100,110,20,{WHO}"],
         "line 2, column 'change_pct': 20% disagrees with the values (100 to 110 is +10.0%). "
         "Correct the change or the values"),
        ([f"{BD},2011-12,asb_calls,,110,,{WHO}"],
         "line 2, column 'change_pct': empty, and the row does not give both values. "
         "Give previous_value and value, or the published change_pct"),
        ([f"{BD},2011-12,asb_calls,,,-3,{WHO}", f"{BD},2011-12,asb_calls,,,-4,{WHO}"],
         "line 3, column 'indicator': 'asb_calls' given twice (first on line 2). Keep one row per indicator"),
        ([f"{BD},2011-12,robbery,,,-3,{WHO}"],
         "line 2, column 'indicator': 'robbery' is a source: mps indicator, not partner. "
         "Only source: partner indicators belong in this file"),
        ([f"{BD},2011-12,asb_call,,,-3,{WHO}"],
         f"line 2, column 'indicator': unknown indicator 'asb_call'; did you mean 'asb_calls'? "
         f"(defined in data/indicators.yml: {KNOWN})"),
        ([f"Barkin,2011-12,asb_calls,,,-3,{WHO}"],
         "line 2, column 'borough': unknown borough 'Barkin'; did you mean 'Barking and Dagenham'?"),
        ([f"{BD},2011/12,asb_calls,,,-3,{WHO}"],
         "line 2, column 'year': year '2011/12' is not a financial year like 2011-12 (April 2011 to March 2012); "
         "write it as 2011-12"),
        ([f"{BD},2011-12,asb_calls,,,-3,,Annual Report"],
         "line 2, column 'supplied_by': empty. Say who supplied the figure and where it was published"),
        ([f"{BD},2011-12,asb_calls,,,-3,{WHO},extra"],
         "line 2: more fields than the header has; check for a stray comma"),
    ],
    ids=["percentage-140", "percentage-negative", "negative-count", "not-a-number", "change-disagrees",
         "no-values-no-change", "duplicate", "mps-indicator", "unknown-indicator", "unknown-borough",
         "bad-year", "no-supplier", "stray-comma"],
)
def test_a_bad_cell_is_named_by_file_line_and_column(project, rows, message):
    path = write(project, *rows)
    with pytest.raises(DefinitionError) as caught:
        partner.read(path)
    assert str(caught.value) == f"{path}, {message}"


def test_a_missing_column_lists_the_header_found(project):
    path = write(project, f"{BD},2011-12,asb_calls,,,-3,{WHO}", header=HEADER.replace(",supplied_by", ",supplier"))
    with pytest.raises(DefinitionError) as caught:
        partner.read(path)
    assert str(caught.value) == (
        f"{path}, line 1, column 'supplied_by': column missing; found ['borough', 'year', 'indicator', "
        f"'previous_value', 'value', 'change_pct', 'supplier', 'source']. The header must be {HEADER}"
    )


def test_an_empty_file_says_what_it_needs(project):
    path = project / "data" / "partner" / "barnet-2011-12.csv"
    path.write_text("")
    with pytest.raises(DefinitionError) as caught:
        partner.read(path)
    assert str(caught.value) == f"{path}: the file is empty; it needs the header {HEADER} and one row per figure"


def test_a_file_that_is_not_utf8(project):
    path = project / "data" / "partner" / "barnet-2011-12.csv"
    path.write_bytes(f"{HEADER}\nBarnet,2011-12,asb_calls,,,-3,Council \xa3,Report\n".encode("latin-1"))
    with pytest.raises(DefinitionError) as caught:
        partner.read(path)
    assert str(caught.value) == (
        f"{path}, line 2, column 'supplied_by': found byte 0xa3 ('£' in Latin-1 or Windows-1252), which is not UTF-8. "
        "Save the file as UTF-8 (in Excel: 'CSV UTF-8')"
    )


def test_a_row_for_another_borough_or_year_must_move_to_its_own_file(project):
    write(project, f"{BD},2011-12,asb_calls,,,-3,{WHO}", f"Barnet,2011-12,first_time_entrants,,,-3,{WHO}")
    path = partner.path_for(BD, 2011)
    with pytest.raises(DefinitionError) as caught:
        partner.for_borough(BD, 2011)
    assert str(caught.value) == (
        f"{path}: holds a row for Barnet 2011-12, but the file name says Barking and Dagenham 2011-12; "
        "move the row to its own file"
    )


def test_the_template_names_every_partner_indicator(project):
    template = pd.read_csv(project / "data" / "partner" / partner.TEMPLATE)
    wanted = [i.id for i in definitions.indicators().values() if i.source == "partner"]
    assert template["indicator"].tolist() == wanted
    assert template.columns.tolist() == partner.COLUMNS
