"""cspbook.definitions.reports: defaults.yml overridden by <borough-slug>-<year>.yml, validated when loaded.

An error names the file the bad value came from (the borough's own file or defaults.yml)
and, for an unknown id or key, the line it is on.
"""

from __future__ import annotations

import pytest

from conftest import clear_caches

from cspbook.definitions import reports
from cspbook.errors import DefinitionError

BD = "Barking and Dagenham"
KNOWN = ", ".join(
    "violence_with_injury sexual_offences domestic_violence_offences domestic_abuse_vwi knife_injury_victims_1_24 "
    "knife_injury_victims_non_da_1_24 serious_youth_violence residential_burglary "
    "vehicle_crime vehicle_crime_incl_interference robbery asb_calls criminal_damage drug_treatment_completion "
    "first_time_entrants drug_offences public_confidence pas_good_job pas_trust pas_listen pas_relied_on "
    "pas_treat_fairly pas_understand pas_informed pas_contact_ward total_notifiable_offences violence_against_the_person".split()
)
HEADLINE = [
    "violence_with_injury", "domestic_violence_offences", "serious_youth_violence", "residential_burglary",
    "vehicle_crime", "asb_calls", "drug_treatment_completion", "first_time_entrants", "public_confidence",
]


def own_file(project, text, name="barnet-2011-12.yml"):
    path = project / "data" / "reports" / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_borough_without_its_own_file_uses_the_defaults(project):
    report = reports.load("Barnet", 2011)
    defaults = project / "data" / "reports" / "defaults.yml"
    assert report.files == (str(defaults),)
    assert (report.borough, report.year, report.year_label) == ("Barnet", 2011, "2011-12")
    assert [p.id for p in report.priorities] == ["violent_crime", "acquisitive_crime", "asb", "reoffending", "confidence"]
    assert list(report.headline) == HEADLINE
    assert report.static_threshold_pct == 1.0 and report.reconciliation_tolerance_pp == 1.0
    assert report.aim.startswith("A safer borough, where residents feel confident")
    assert "\n" not in report.partnership  # folded YAML text is one paragraph


def test_the_boroughs_own_file_overrides_key_by_key(project):
    report = reports.load(BD, 2011)
    assert report.files == (
        str(project / "data" / "reports" / "defaults.yml"),
        str(project / "data" / "reports" / "barking-and-dagenham-2011-12.yml"),
    )
    assert report.aim == (
        "A safer borough where the problems of antisocial behaviour have been tackled and all "
        "young people have a positive role to play in the community."
    )
    assert [p["title"] for p in report.next_priorities] == [
        "Serious youth violence", "Serious acquisitive crime", "Anti-social behaviour", "Substance misuse",
    ]
    assert list(report.headline) == HEADLINE  # not in the own file: from the defaults


def test_indicator_ids_are_headline_first_then_each_priority_without_repeats(project):
    assert reports.load(BD, 2011).indicator_ids() == HEADLINE + [
        "domestic_abuse_vwi", "knife_injury_victims_1_24", "knife_injury_victims_non_da_1_24",
        "sexual_offences", "vehicle_crime_incl_interference", "robbery", "criminal_damage", "drug_offences",
        "pas_good_job", "pas_trust", "pas_listen", "pas_relied_on", "pas_treat_fairly", "pas_understand",
        "pas_informed", "pas_contact_ward", "total_notifiable_offences",
    ]


def test_an_unknown_indicator_id_names_the_file_and_line(project):
    path = own_file(project, "borough: Barnet\nyear: 2011-12\nheadline:\n  - violence_with_injury\n  - residential_burglery\n")
    with pytest.raises(DefinitionError) as caught:
        reports.load("Barnet", 2011)
    assert str(caught.value) == (
        f"{path}, line 5: headline: unknown indicator id 'residential_burglery'; did you mean 'residential_burglary'? "
        f"(defined in data/indicators.yml: {KNOWN})"
    )


def test_a_bad_value_from_the_defaults_is_blamed_on_defaults_yml_not_the_boroughs_file(project):
    defaults = project / "data" / "reports" / "defaults.yml"
    text = defaults.read_text()
    defaults.write_text(text.replace("  - asb_calls\n", "  - asb_cals\n", 1))
    line = text.splitlines().index("  - asb_calls") + 1
    with pytest.raises(DefinitionError) as caught:
        reports.load(BD, 2011)  # Barking and Dagenham 2011-12 has its own file, without a headline
    assert str(caught.value) == (
        f"{defaults}, line {line}: headline: unknown indicator id 'asb_cals'; did you mean 'asb_calls'? "
        f"(defined in data/indicators.yml: {KNOWN})"
    )


def test_an_unknown_indicator_in_a_priority(project):
    path = own_file(project, "priorities:\n  - id: asb\n    indicators: [asb_calls, graffiti]\n")
    with pytest.raises(DefinitionError) as caught:
        reports.load("Barnet", 2011)
    assert str(caught.value) == (
        f"{path}, line 3: priority 'asb', indicators: unknown indicator id 'graffiti' "
        f"(defined in data/indicators.yml: {KNOWN})"
    )


def test_an_unknown_priority_suggests_the_closest(project):
    path = own_file(project, "priorities:\n  - id: violent_crimes\n    indicators: [robbery]\n")
    with pytest.raises(DefinitionError) as caught:
        reports.load("Barnet", 2011)
    assert str(caught.value) == (
        f"{path}, line 2: priorities, entry 1: unknown priority 'violent_crimes'; did you mean 'violent_crime'? "
        "(defined in data/indicators.yml: violent_crime, acquisitive_crime, asb, reoffending, confidence)"
    )


def test_an_unknown_key_suggests_the_closest(project):
    path = own_file(project, "borough: Barnet\nheadlines: [robbery]\n")
    with pytest.raises(DefinitionError) as caught:
        reports.load("Barnet", 2011)
    assert str(caught.value) == (
        f"{path}, line 2: unknown key 'headlines'; did you mean 'headline'? allowed keys: {', '.join(sorted(reports.KEYS))}"
    )
    assert {"aim", "headline", "priorities", "reconciliation_tolerance_pp"} <= reports.KEYS


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("borough: Barking and Dagenham\n", "borough is 'Barking and Dagenham' but the file name says 'Barnet'; make them agree"),
        ("year: 2012-13\n", "year is '2012-13' but the file name says '2011-12'; make them agree"),
        ("priorities: []\n", "priorities: at least one priority is needed"),
        ("aim: ''\n", "'aim' must be a non-empty text"),
        ("reconciliation_tolerance_pp: -1\n", "'reconciliation_tolerance_pp' must be a number of 0 or more, found -1"),
        ("headline: []\n", "headline: must be a non-empty list of indicator ids"),
        ("next_priorities:\n  - text: no title\n", "next_priorities, entry 1: needs a 'title' and a 'text'"),
        ("- a list\n", "must be a mapping of keys to values, found list"),
        ("aim: [unclosed\n", "line 2: not valid YAML (expected ',' or ']', but got '<stream end>')"),
    ],
    ids=["borough-mismatch", "year-mismatch", "no-priorities", "empty-aim", "negative-tolerance", "empty-headline",
         "next-priority-without-title", "not-a-mapping", "bad-yaml"],
)
def test_a_bad_report_file_is_refused(project, text, message):
    path = own_file(project, text)
    with pytest.raises(DefinitionError) as caught:
        reports.load("Barnet", 2011)
    separator = ", " if message.startswith("line ") else ": "
    assert str(caught.value) == f"{path}{separator}{message}"


def test_the_pages_of_the_book_are_data(project):
    """The pages and their order come from the report configuration: ``priorities`` stands for
    one chapter per priority; a closing page left out of ``pages`` is not in the plan."""
    from cspbook.execute import plan

    report = reports.load("Barnet", 2011)
    assert [name for name, _, _ in report.pages] == [
        "overview", "violent_crime", "acquisitive_crime", "asb", "reoffending", "confidence",
        "next_priorities", "methodology", "data_sources", "reconciliation", "cover_paper"]
    assert [name for name, _, chapter in report.pages if chapter] == [p.id for p in report.priorities]
    defaults = project / "data" / "reports" / "defaults.yml"
    defaults.write_text(defaults.read_text().replace("  - reconciliation: Reconciliation\n", ""))
    clear_caches()
    report = reports.load("Barnet", 2011)
    (project / "book" / "templates").mkdir(parents=True)
    for name in ("overview", "priority", "next_priorities", "methodology", "data_sources", "cover_paper"):
        (project / "book" / "templates" / f"{name}.ipynb").write_text("{}")
    jobs = plan.plan("Barnet", [2011], {2011: report.pages}, {})
    assert "reconciliation" not in [job.name for job in jobs] and jobs[-1].name == "cover_paper"


def test_a_page_listed_twice_is_refused(project):
    defaults = project / "data" / "reports" / "defaults.yml"
    defaults.write_text(defaults.read_text().replace("  - priorities\n", "  - priorities\n  - asb: Again\n"))
    with pytest.raises(DefinitionError, match=r"pages: \['asb'\] listed twice"):
        reports.load("Barnet", 2011)
