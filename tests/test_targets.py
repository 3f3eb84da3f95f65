"""cspbook.definitions.targets: targets read from the report configuration, judged per indicator row,
shown in the headline list and the chapters' tables; every bad target refused with a
message that names the file, the line, the key and the fix."""

from __future__ import annotations

import pandas as pd
import pytest

from cspbook.compute import table
from cspbook.definitions import reports, targets
from cspbook.errors import DefinitionError
from cspbook.pages import context, views

BD = "Barking and Dagenham"
KNOWN = ", ".join(
    "violence_with_injury sexual_offences domestic_violence_offences domestic_abuse_vwi knife_injury_victims_1_24 "
    "knife_injury_victims_non_da_1_24 serious_youth_violence residential_burglary "
    "vehicle_crime vehicle_crime_incl_interference robbery asb_calls criminal_damage drug_treatment_completion "
    "first_time_entrants drug_offences public_confidence pas_good_job pas_trust pas_listen pas_relied_on "
    "pas_treat_fairly pas_understand pas_informed pas_contact_ward total_notifiable_offences violence_against_the_person".split()
)


def row(**changes) -> dict:
    """A count indicator that went from 200 to 180 (-10.0%), comparable."""
    base = dict(indicator="robbery", comparable=True, value=180.0, previous_value=200.0, change=-20.0,
                change_pct=-10.0, note="")
    return base | changes


def percent_row(**changes) -> dict:
    """A percentage indicator that went from 57% to 63% (+6 points); no % change."""
    base = dict(indicator="drug_treatment_completion", comparable=True, value=63.0, previous_value=57.0, change=6.0,
                change_pct=float("nan"), note="")
    return base | changes


@pytest.mark.parametrize(
    ("target", "unit", "data", "expected"),
    [
        ("reduce by 5%", "offences", row(), ("met", "")),
        ("reduce by 10%", "offences", row(), ("met", "")),  # exactly on the target
        ("reduce by 5%", "offences", row(change_pct=-4.96), ("met", "")),  # shown as -5.0%
        ("reduce by 15%", "offences", row(), ("not met", "")),
        ("increase by 5%", "offences", row(), ("not met", "")),
        ("no increase", "offences", row(change_pct=0.04), ("met", "")),  # shown as 0.0%
        ("no increase", "offences", row(change_pct=0.5), ("not met", "")),
        ("at most 180", "offences", row(), ("met", "")),
        ("at most 1,600", "offences", row(value=1711.0), ("not met", "")),
        ("at least 200", "offences", row(), ("not met", "")),
        ("increase by 3 points", "percent", percent_row(), ("met", "")),
        ("increase by 7 points", "percent", percent_row(), ("not met", "")),
        ("increase by 3 points", "percent", percent_row(change=float("nan")), ("met", "")),  # from the two values
        ("at least 60%", "percent", percent_row(), ("met", "")),
        ("at least 65%", "percent", percent_row(), ("not met", "")),
        ("reduce by 5%", "offences", row(comparable=False, note="the categories changed in January 2017"),
         ("not comparable", "the categories changed in January 2017")),
        ("reduce by 5%", "offences", row(change_pct=float("nan")),
         ("not comparable", "the change on last year is not available")),
        ("at most 2,000", "offences", row(value=float("nan"), previous_value=float("nan"), change=float("nan")),
         ("not comparable", "this year's figure is not available")),
        ("increase by 3 points", "percent", percent_row(value=float("nan"), change=float("nan")),
         ("not comparable", "the change on last year is not available")),
        (None, "offences", row(), ("no target", "")),
    ],
    ids=["met", "met-exactly", "met-as-shown", "not-met", "increase-not-met", "no-increase-met", "no-increase-not-met",
         "at-most-met", "at-most-not-met", "at-least-not-met", "points-met", "points-not-met", "points-from-values",
         "at-least-percent-met", "at-least-percent-not-met", "not-comparable-break", "not-comparable-no-change",
         "not-comparable-no-value", "not-comparable-no-points", "no-target"],
)
def test_status_of_one_row(target, unit, data, expected):
    parsed = targets.parse(target, unit) if target else None
    assert targets.judge(data, parsed) == expected


def test_assess_keeps_the_table_order_and_leaves_it_unchanged():
    frame = pd.DataFrame([row(indicator="robbery"), percent_row(), row(indicator="criminal_damage")])
    before = frame.copy()
    got = targets.assess(frame, {"robbery": targets.parse("reduce by 5%", "offences"),
                                 "drug_treatment_completion": targets.parse("at least 65%", "percent")})
    pd.testing.assert_frame_equal(frame, before)
    assert got.columns.tolist() == targets.COLUMNS
    assert got[["indicator", "target", "status", "mark"]].values.tolist() == [
        ["robbery", "reduce by 5%", "met", "✓ met"],
        ["drug_treatment_completion", "at least 65%", "not met", "✗ not met"],
        ["criminal_damage", "", "no target", "no target"],
    ]


def test_every_mark_has_a_symbol_or_words_and_a_legend_entry():
    assert [mark for mark, _ in targets.LEGEND] == list(targets.MARKS.values())
    assert all(meaning for _, meaning in targets.LEGEND)


# --- bad targets: each message exactly ---------------------------------------------------------


def own_file(project, targets_text: str, name="barnet-2011-12.yml"):
    path = project / "data" / "reports" / name
    path.write_text("borough: Barnet\nyear: 2011-12\ntargets:\n" + targets_text, encoding="utf-8")
    return path


PERCENT_FORMS = "'reduce by N points', 'increase by N points', 'no increase', 'at most N%' or 'at least N%'"
COUNT_FORMS = "'reduce by N%', 'increase by N%', 'no increase', 'at most N' or 'at least N'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  residential_burglery: reduce by 5%\n",
         f"line 4: targets: unknown indicator id 'residential_burglery'; did you mean 'residential_burglary'? "
         f"(defined in data/indicators.yml: {KNOWN})"),
        ("  residential_burglary: cut by 5%\n",
         f"line 4: targets: residential_burglary: 'cut by 5%' is not a target cspbook can read; write {COUNT_FORMS}"),
        ("  public_confidence: about 60\n",
         f"line 4: targets: public_confidence: 'about 60' is not a target cspbook can read; write {PERCENT_FORMS}"),
        ("  violence_with_injury: 1600\n",
         f"line 4: targets: violence_with_injury: 1600 is not a target; write it as text, one of {COUNT_FORMS}"),
        ("  public_confidence: at least 140%\n",
         "line 4: targets: public_confidence: 'at least 140%' is impossible: a percentage lies between 0% and 100%"),
        ("  violence_with_injury: at most -5\n",
         "line 4: targets: violence_with_injury: 'at most -5' is impossible: a count of offences cannot be negative"),
        ("  residential_burglary: reduce by 150%\n",
         "line 4: targets: residential_burglary: 'reduce by 150%' is impossible: a count cannot fall by more than "
         "100%; write a reduction between 0% and 100%"),
        ("  residential_burglary: reduce by -5%\n",
         "line 4: targets: residential_burglary: 'reduce by -5%' is impossible: give the amount as a positive number, "
         "or write 'increase by 5%'"),
        ("  drug_treatment_completion: increase by 150 points\n",
         "line 4: targets: drug_treatment_completion: 'increase by 150 points' is impossible: a percentage cannot "
         "change by more than 100 points"),
        ("  violence_with_injury: at most 60%\n",
         "line 4: targets: violence_with_injury: 'at most 60%' has a % sign, but the measure counts offences; write "
         "the number of offences, e.g. 'at most 1,600'"),
        ("  public_confidence: at least 60\n",
         "line 4: targets: public_confidence: 'at least 60' needs a % sign: the measure is a percentage; write "
         "'at least 60%'"),
        ("  public_confidence: increase by 5%\n",
         "line 4: targets: public_confidence: 'increase by 5%' is ambiguous for a measure given as a percentage; "
         "write 'increase by N points' (percentage points)"),
        ("  asb_calls: reduce by 5 points\n",
         "line 4: targets: asb_calls: 'reduce by 5 points' uses percentage points, which are for measures given as "
         "a percentage; write 'reduce by N%'"),
        ("  asb_calls: reduce by 5\n",
         "line 4: targets: asb_calls: 'reduce by 5' needs a unit; write 'reduce by 5%'"),
        ("  - reduce by 5%\n",
         "line 3: targets: must be a mapping of indicator id to target, e.g. 'residential_burglary: reduce by 5%'"),
    ],
    ids=["unknown-indicator", "unreadable", "unreadable-percent", "not-text", "percent-over-100", "negative-count",
         "reduce-over-100", "negative-reduction", "points-over-100", "percent-sign-on-count",
         "no-percent-sign-on-percentage", "percent-change-of-percentage", "points-on-count", "no-unit",
         "not-a-mapping"],
)
def test_a_bad_target_is_refused_with_the_file_line_key_and_fix(project, text, message):
    path = own_file(project, text)
    with pytest.raises(DefinitionError) as caught:
        reports.load("Barnet", 2011)
    assert str(caught.value) == f"{path}, {message}"


def test_a_target_for_an_indicator_the_report_does_not_show(project):
    path = project / "data" / "reports" / "barnet-2011-12.yml"
    path.write_text("headline: [robbery]\npriorities:\n  - id: acquisitive_crime\n    indicators: [robbery]\n"
                    "targets:\n  robbery: reduce by 5%\n  criminal_damage: reduce by 5%\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as caught:
        reports.load("Barnet", 2011)
    assert str(caught.value) == (
        f"{path}, line 7: targets: 'criminal_damage' is not one of this report's indicators; add it to a priority's "
        "indicators or remove its target"
    )


def test_targets_are_read_case_and_spacing_aside(project):
    own_file(project, "  robbery: '  Reduce   BY 5 %'\n  public_confidence: At Least 60%\n  asb_calls: no increase\n")
    got = reports.load("Barnet", 2011).targets
    assert {k: t.text for k, t in got.items()} == {
        "robbery": "reduce by 5%", "public_confidence": "at least 60%", "asb_calls": "no increase"}


# --- the real report: Barking and Dagenham 2011-12 --------------------------------------------


def test_barking_and_dagenham_2011_12_targets(real_data):
    report = reports.load(BD, 2011)
    got = targets.assess(table.indicator_table(real_data, report), report.targets).set_index("indicator")
    assert got["status"].to_dict() == {
        "violence_with_injury": "met",  # -7.9% against "reduce by 5%"
        "domestic_violence_offences": "not comparable",  # only the change was supplied: no count to compare
        "serious_youth_violence": "not met",  # +14.5%
        "residential_burglary": "not met",  # +8.8%
        "vehicle_crime": "met",  # 2,758 against "at most 2,800"
        "asb_calls": "met",  # -16.4% against "reduce by 10%"
        "drug_treatment_completion": "met",  # +6 points against "increase by 3 points"
        "first_time_entrants": "no target",
        "public_confidence": "not met",  # 50% against "at least 60%"
        **dict.fromkeys(["sexual_offences", "vehicle_crime_incl_interference", "robbery", "criminal_damage",
                         "drug_offences", "total_notifiable_offences"], "no target"),
    }
    assert got.loc["domestic_violence_offences", "reason"] == "this year's figure is not available"


def test_the_headline_list_and_chapter_tables_show_the_status_with_a_legend(real_home):
    ctx = context.context(BD, "2011-12", str(real_home))
    overview = "".join(p.markup for p in views.overview(ctx).parts)
    assert "Violence with injury fell by 7.9% (1,985 to 1,829), in line with London (-7.5%). " \
           "Target: reduce by 5% (✓ met).</li>" in overview
    assert "First-time entrants to the youth justice system remained static (partner-supplied figure). " \
           "No target was set.</li>" in overview
    assert '<th scope="col">Target</th>' in overview and "<td>reduce by 5%: ✗ not met</td>" in overview
    assert 'class="cspbook-target-legend"' in overview
    for mark, _ in targets.LEGEND:
        assert f"<strong>{mark}</strong>" in overview
    chapter = "".join(p.markup for p in views.priority(ctx, "acquisitive_crime").parts)
    assert "<td>at most 2,800: ✓ met</td>" in chapter and 'class="cspbook-target-legend"' in chapter


def test_a_report_without_targets_shows_no_target_column(real_home):
    ctx = context.context("Newham", "2011-12", str(real_home))  # the defaults: no targets
    assert ctx.report.targets == {}
    overview = "".join(p.markup for p in views.overview(ctx).parts)
    assert ">Target<" not in overview and "cspbook-target-legend" not in overview and "Target:" not in overview
