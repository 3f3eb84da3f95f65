"""The `cspbook` command line: help with real examples, clean errors (exit 2, one line, no
traceback, the cache untouched), `--debug` re-raising, and the output formats."""

from __future__ import annotations

import argparse
import json
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import crime_csv, months, run_cli, snapshot

from cspbook import cli, definitions
from cspbook.compute import dataset, table
from cspbook.definitions import periods, reports
from cspbook.errors import PeriodError, UnknownBoroughError

BD = "Barking and Dagenham"
BOROUGHS = (
    "Barking and Dagenham, Barnet, Bexley, Brent, Bromley, Camden, Croydon, Ealing, Enfield, Greenwich, Hackney, "
    "Hammersmith and Fulham, Haringey, Harrow, Havering, Hillingdon, Hounslow, Islington, Kensington and Chelsea, "
    "Kingston upon Thames, Lambeth, Lewisham, Merton, Newham, Redbridge, Richmond upon Thames, Southwark, Sutton, "
    "Tower Hamlets, Waltham Forest, Wandsworth, Westminster"
)
KNOWN = ", ".join(
    "violence_with_injury sexual_offences domestic_violence_offences domestic_abuse_vwi knife_injury_victims_1_24 "
    "knife_injury_victims_non_da_1_24 serious_youth_violence residential_burglary "
    "vehicle_crime vehicle_crime_incl_interference robbery asb_calls criminal_damage drug_treatment_completion "
    "first_time_entrants drug_offences public_confidence pas_good_job pas_trust pas_listen pas_relied_on "
    "pas_treat_fairly pas_understand pas_informed pas_contact_ward total_notifiable_offences violence_against_the_person".split()
)
FETCH_NEWER = "Fetch newer data (`cspbook fetch`) or choose an earlier year"


def commands() -> list[str]:
    action = next(a for a in cli.parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices)


def example_commands(help_text: str) -> list[list[str]]:
    """The argument lists of the `cspbook ...` lines under 'examples:' (env settings, comments, redirects dropped)."""
    found = []
    for line in help_text.split("examples:", 1)[1].splitlines():
        tokens = shlex.split(line, comments=True)
        while tokens and "=" in tokens[0] and not tokens[0].startswith("-"):
            tokens.pop(0)
        if not tokens or tokens[0] != "cspbook":
            continue
        found.append(tokens[1 : tokens.index(">")] if ">" in tokens else tokens[1:])
    return found


# --- help ------------------------------------------------------------------------------------


def test_there_are_commands():
    assert {"fetch", "validate", "indicators", "reconcile", "build", "pdf"} <= set(commands())


@pytest.mark.parametrize("command", commands())
def test_every_command_has_help_with_examples_that_really_parse(command, capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main([command, "--help"])
    out = capsys.readouterr().out
    assert caught.value.code == 0
    assert out.startswith(f"usage: cspbook {command}")
    assert "\nexamples:\n" in out
    examples = example_commands(out)
    assert examples, f"no `cspbook {command} ...` line under examples:"
    for argv in examples:
        assert argv[0] == command, argv
        try:
            cli.parser().parse_args(argv)
        except SystemExit:  # pragma: no cover - the failure message is the point
            pytest.fail(f"the example `cspbook {shlex.join(argv)}` in `cspbook {command} --help` does not parse")


def test_the_top_level_help_lists_every_command_and_an_example(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["--help"])
    out = capsys.readouterr().out
    assert caught.value.code == 0
    for command in commands():
        assert re.search(rf"^    {command}\b", out, re.MULTILINE), command
    real = [argv for argv in example_commands(out) if "COMMAND" not in argv]
    assert real == [["build", "--borough", BD, "--year", "2024-25", "--mirror", "../shared/data/edition-2025-11", "--open-mirror", "../shared/data/open"],
                    ["build", "--borough", BD, "--year", "2025-26", "--mirror", "../shared/data/edition-2025-11", "--open-mirror", "../shared/data/open"],
                    ["indicators", "--borough", BD, "--year", "2011-12"]]


def test_version(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == "cspbook 0.1.0\n"


def test_a_missing_required_option_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as caught:
        cli.main(["indicators", "--borough", BD])
    assert caught.value.code == 2
    assert capsys.readouterr().err.endswith("cspbook indicators: error: the following arguments are required: --year\n")


# --- --debug and interrupts ---------------------------------------------------------------------


@pytest.mark.parametrize("where", ["before-the-command", "after-the-command"])
def test_debug_re_raises_with_the_traceback(fetched, where, capsys):
    args = ["indicators", "--borough", "Barking", "--year", "2011-12", "--offline"]
    argv = ["--debug", *args] if where == "before-the-command" else [args[0], "--debug", *args[1:]]
    with pytest.raises(UnknownBoroughError, match="^unknown borough 'Barking'; did you mean 'Barking and Dagenham'\\?$"):
        cli.main(argv)
    with pytest.raises(PeriodError):
        cli.main(["--debug", "indicators", "--borough", BD, "--year", "2031-32", "--offline"])
    assert cli.main(args) == 2  # the same error without --debug: a message, no exception


def test_ctrl_c_is_one_line_and_exit_130(monkeypatch, capsys):
    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "cmd_validate", interrupted)
    assert run_cli(capsys, "validate") == (130, "", "cspbook: interrupted\n")


# --- bad input: one clean message, exit 2, the cache untouched --------------------------------


def set_partner_value(home: Path) -> None:
    path = home / "data" / "partner" / "barking-and-dagenham-2011-12.csv"
    path.write_text(path.read_text().replace("drug_treatment_completion,57,63,", "drug_treatment_completion,57,140,"))


def add_unknown_headline(home: Path) -> None:
    path = home / "data" / "reports" / "barking-and-dagenham-2011-12.yml"
    path.write_text(
        "# Barking and Dagenham, 2011-12\n"
        "borough: Barking and Dagenham\n"
        "year: 2011-12\n"
        "aim: A safer borough.\n"
        "headline:\n"
        "  - violence_with_injury\n"
        "  - burglary  # line 7\n"
    )


def add_foreign_partner_row(home: Path) -> None:
    path = home / "data" / "partner" / "barking-and-dagenham-2011-12.csv"
    path.write_text(path.read_text() + "Barnet,2011-12,asb_calls,,,-1,Barnet Council,Report\n")


def bad_published_figure(home: Path) -> None:
    path = home / "data" / "published" / "barking-and-dagenham-2011-12.csv"
    path.write_text(path.read_text().replace(",7.8,", ",+7.8pp,"))


def remove_cache(home: Path) -> None:
    shutil.rmtree(home / "data" / "raw")


def fetch_data_with_a_missing_year(home: Path) -> None:
    """The cache holds 2010-11 and 2012-13 but nothing in between (every borough listed,
    as in a real borough-level file)."""
    folder = home / "gap-mirror"
    folder.mkdir()
    for name, start, count in (("2010", "201004", 5), ("2012", "201204", 6)):
        rows = [(borough, "Burglary", "Burglary in a Dwelling", [count] * 12) for borough in definitions.boroughs()]
        (folder / f"MPS_Borough_Level_Crime_{name}.csv").write_bytes(crime_csv(rows, months(start, 12)))
    assert cli.main(["fetch", "--mirror", str(folder)]) == 0


INDICATORS = ["indicators", "--borough", BD, "--year", "2011-12", "--offline"]

BAD_ARGUMENTS = [
    pytest.param(
        ["indicators", "--borough", BD, "--year", "2011/12", "--offline"], None,
        "year '2011/12' is not a financial year like 2011-12 (April 2011 to March 2012); write it as 2011-12",
        id="year-with-a-slash",
    ),
    pytest.param(
        ["indicators", "--borough", BD, "--year", "2011-13", "--offline"], None,
        "year '2011-13': the second part must be the year after 2011; write it as 2011-12",
        id="year-parts-disagree",
    ),
    pytest.param(
        ["indicators", "--borough", BD, "--year", "2031-32", "--offline"], None,
        "2031-32 starts April 2031; the data end December 2018, so no month of it is in the data. "
        f"{FETCH_NEWER}",
        id="year-after-the-data",
    ),
    pytest.param(
        ["indicators", "--borough", BD, "--year", "2018-19", "--to", "2019-01", "--offline"], None,
        "--to 2019-01: the data end December 2018; give --to 2018-12 or an earlier month",
        id="to-after-the-data",
    ),
    pytest.param(
        ["indicators", "--borough", BD, "--year", "2018-19", "--to", "2019-04", "--offline"], None,
        "--to 2019-04 is not a month of 2018-19 (April 2018 to March 2019); give a month from 2018-04 to 2019-03",
        id="to-outside-the-year",
    ),
    pytest.param(
        ["reconcile", "--borough", BD, "--year", "2007-08", "--offline"], None,
        "2007-08 needs April 2007 to March 2008; the data starts January 2008 (it covers January 2008 to "
        "December 2018). Choose a later year or add an older file to the data",
        id="year-before-the-data",
    ),
    pytest.param(
        ["indicators", "--borough", "Barking", "--year", "2011-12", "--offline"], None,
        "unknown borough 'Barking'; did you mean 'Barking and Dagenham'?",
        id="borough-prefix",
    ),
    pytest.param(
        ["reconcile", "--borough", "Gotham", "--year", "2011-12", "--offline"], None,
        f"unknown borough 'Gotham'; the boroughs are: {BOROUGHS}",
        id="borough-unknown",
    ),
    pytest.param(
        INDICATORS, set_partner_value,
        "{home}/data/partner/barking-and-dagenham-2011-12.csv, line 5, column 'value': found 140, outside 0 to 100. "
        "'drug_treatment_completion' is a percentage; correct the figure",
        id="partner-percentage-140",
    ),
    pytest.param(
        INDICATORS, add_foreign_partner_row,
        "{home}/data/partner/barking-and-dagenham-2011-12.csv: holds a row for Barnet 2011-12, but the file name "
        "says Barking and Dagenham 2011-12; move the row to its own file",
        id="partner-row-of-another-borough",
    ),
    pytest.param(
        INDICATORS, add_unknown_headline,
        "{home}/data/reports/barking-and-dagenham-2011-12.yml, line 7: headline: unknown indicator id 'burglary' "
        f"(defined in data/indicators.yml: {KNOWN})",
        id="report-unknown-indicator",
    ),
    pytest.param(
        ["reconcile", "--borough", BD, "--year", "2011-12", "--offline"], bad_published_figure,
        "{home}/data/published/barking-and-dagenham-2011-12.csv, line 3, column 'published_change_pct': "
        "found '+7.8pp', which is not a number. Write a plain number such as 12.5",
        id="published-figure-not-a-number",
    ),
    pytest.param(
        INDICATORS, fetch_data_with_a_missing_year,
        "2011-12 needs April 2011 to March 2012; the data has a gap: April 2011 to March 2012 missing "
        "(it covers April 2010 to March 2013). Add a file that covers those months (`cspbook fetch`)",
        id="year-missing-in-the-middle",
    ),
    pytest.param(
        INDICATORS, remove_cache,
        "{home}/data/raw/manifest.json does not exist: the raw data has not been fetched yet; run `cspbook fetch`",
        id="nothing-fetched",
    ),
    pytest.param(
        ["indicators", "--borough", BD, "--year", "2011-12", "--mirror", "no-such-folder"], None,
        "mirror folder 'no-such-folder' does not exist; give an existing folder with --mirror or CSPBOOK_MIRROR, "
        "or omit it to download from the London Datastore",
        id="mirror-missing",
    ),
    pytest.param(
        ["fetch"], None,
        "cannot reach http://127.0.0.1:9/api/3/action/package_show?id=recorded_crime_summary: "
        "[Errno 111] Connection refused; check the network and the Datastore address (CSPBOOK_DATASTORE), "
        "or fetch from a folder with --mirror or CSPBOOK_MIRROR",
        id="datastore-unreachable",
    ),
]


@pytest.mark.parametrize(("argv", "prepare", "message"), BAD_ARGUMENTS)
def test_bad_input_is_one_clean_message_and_the_cache_is_untouched(request, capsys, argv, prepare, message, monkeypatch):
    # a case that edits the project gets a private copy; the others share the real tree (checked unchanged after)
    home = request.getfixturevalue("fetched" if prepare else "real_home")
    monkeypatch.chdir(home)
    if prepare:
        prepare(home)
        capsys.readouterr()
    before = snapshot(home / "data" / "raw")

    code, out, err = run_cli(capsys, *argv)

    assert (code, out, err) == (2, "", f"cspbook: error: {message.format(home=home)}\n")
    assert snapshot(home / "data" / "raw") == before


def test_a_year_whose_previous_year_is_missing_is_shown_without_a_change(fetched, capsys):
    fetch_data_with_a_missing_year(fetched)
    capsys.readouterr()
    code, out, err = run_cli(capsys, "indicators", "--borough", BD, "--year", "2012-13", "--offline", "--format", "json")
    assert (code, err) == (0, "")
    burglary = next(r for r in json.loads(out) if r["indicator"] == "residential_burglary")
    assert (burglary["value"], burglary["previous_value"], burglary["change_pct"]) == (72, None, None)  # 6 x 12
    assert burglary["comparable"] is False
    assert burglary["note"] == "no complete data for 2011-12, so no change is shown"


# --- the installed command in a real process -----------------------------------------------------


def cspbook_command() -> list[str]:
    script = Path(sys.executable).with_name("cspbook")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cspbook.cli"]


@pytest.mark.parametrize(
    ("command", "argv", "message"),
    [
        (cspbook_command(), ["indicators", "--borough", "Barking", "--year", "2011-12", "--offline"],
         "unknown borough 'Barking'; did you mean 'Barking and Dagenham'?"),
        ([sys.executable, "-m", "cspbook.cli"], ["indicators", "--borough", BD, "--year", "2031-32", "--offline"],
         "2031-32 starts April 2031; the data end December 2018, so no month of it is in the data. "
         f"{FETCH_NEWER}"),
        ([sys.executable, "-m", "cspbook.cli"], ["validate", "{home}/bad.csv"],
         "{home}/bad.csv, line 3, column '201104': found '-3', a negative count. "
         "Counts must be whole numbers of offences, 0 or more; correct the cell"),
    ],
    ids=["console-script-unknown-borough", "module-year-after-the-data", "module-negative-count"],
)
def test_a_real_process_exits_2_without_a_traceback(fetched, command, argv, message):
    (fetched / "bad.csv").write_text(
        "Borough,Major Category,Minor Category,201104\n"
        "Barnet,Burglary,Burglary in a Dwelling,4\n"
        "Bexley,Burglary,Burglary in a Dwelling,-3\n"
    )
    before = snapshot(fetched / "data" / "raw")
    done = subprocess.run([*command, *(a.format(home=fetched) for a in argv)], capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr
    assert (done.returncode, done.stdout, done.stderr) == (2, "", f"cspbook: error: {message.format(home=fetched)}\n")
    assert snapshot(fetched / "data" / "raw") == before


def test_a_real_process_with_debug_shows_the_traceback(fetched):
    done = subprocess.run(
        [*cspbook_command(), "--debug", "indicators", "--borough", "Barking", "--year", "2011-12", "--offline"],
        capture_output=True, text=True, timeout=120,
    )
    assert done.returncode == 1
    assert "Traceback" in done.stderr
    assert done.stderr.rstrip().endswith(
        "cspbook.errors.UnknownBoroughError: unknown borough 'Barking'; did you mean 'Barking and Dagenham'?"
    )


# --- output formats --------------------------------------------------------------------------------


def test_json_output_has_every_column_for_every_indicator(real_home, capsys):
    code, out, err = run_cli(capsys, "indicators", "--borough", BD, "--year", "2011-12", "--offline", "--format", "json")
    assert (code, err) == (0, "")
    records = json.loads(out)
    assert len(records) == 15
    assert all(list(r) == table.COLUMNS for r in records)
    burglary = next(r for r in records if r["indicator"] == "residential_burglary")
    assert (burglary["previous_value"], burglary["value"], burglary["change"]) == (1573, 1711, 138)
    # tested with the exact test on counts scaled by the dispersion of the monthly series: not significant
    assert burglary["significant"] is False and burglary["comparable"] is True
    assert burglary["dispersion"] > 1 and 0.05 < burglary["p_value"] < 1


@pytest.mark.parametrize("year", ["2011-12", "2017-18"])
def test_no_change_is_ranked_in_the_table_its_csv_or_the_terminal(real_home, capsys, year):
    """Methodology, *Ranks*: the book ranks no change in per cent (a league table that moves a
    long way by chance). The only ranks published are of rates, with their 95% interval; a rank
    of a change (a column of the table and its CSV, the terminal's "Rank") must not come back."""
    allowed = {"rate_rank", "rate_rank_low", "rate_rank_high"}  # the rank of 32 by rate and its interval
    assert {c for c in table.COLUMNS if "rank" in c} == allowed
    data = dataset.dataset()
    for frame in (data.all_changes, data.changes):
        assert not [c for c in frame.columns if "rank" in c], frame.columns.tolist()
    rows = table.indicator_table(data, reports.load(BD, periods.parse_year(year)))
    assert {c for c in rows.columns if "rank" in c} == allowed

    code, out, err = run_cli(capsys, "indicators", "--borough", BD, "--year", year, "--offline", "--format", "csv")
    assert (code, err) == (0, "")
    header = out.splitlines()[0].split(",")
    assert header == table.COLUMNS and {c for c in header if "rank" in c} == allowed

    code, out, err = run_cli(capsys, "indicators", "--borough", BD, "--year", year, "--offline")
    assert (code, err) == (0, "")
    assert "Rank" not in out.splitlines()[0].split() and "rank" not in out.lower()


def test_fetch_again_from_the_same_mirror_changes_nothing(fetched, mirror, capsys):
    before = snapshot(fetched / "data" / "raw")
    code, out, err = run_cli(capsys, "fetch", "--mirror", mirror)
    assert (code, err) == (0, "")
    assert out.splitlines()[:2] == [
        "MPS_Borough_Level_Crime_Historic.csv: 1,056 rows, 32 boroughs, 2008-01..2016-12, sha256 a09ccd09e533 (unchanged)",
        "MPS_Borough_Level_Crime_most_recent_24_months.csv: 1,050 rows, 32 boroughs, 2017-01..2018-12, "
        "sha256 af3822781bad (unchanged)",
    ]
    after = snapshot(fetched / "data" / "raw")
    assert {k: v for k, v in after.items() if k != "manifest.json"} == {k: v for k, v in before.items() if k != "manifest.json"}


def test_validate_checks_the_defaults_on_their_own(project, capsys):
    defaults = project / "data" / "reports" / "defaults.yml"
    defaults.write_text(defaults.read_text(encoding="utf-8").replace("static_threshold_pct: 1.0", "static_threshold_pct: -3"),
                        encoding="utf-8")
    code, out, err = run_cli(capsys, "validate")
    assert code == 2
    assert err.startswith(f"cspbook: error: {defaults}") and "'static_threshold_pct' must be a number of 0 or more" in err


def test_validate_checks_the_defaults_even_when_every_borough_has_files_for_some_years(project, capsys):
    """The defaults are loaded alone for a year no file covers, whichever years have files."""
    reports_dir = project / "data" / "reports"
    for old in reports_dir.glob("barking*.yml"):
        old.unlink()
    for borough in definitions.boroughs(project / "data" / "boroughs.yml"):
        for year in ("2011-12", "2015-16"):
            (reports_dir / f"{definitions.slug(borough)}-{year}.yml").write_text(
                f"borough: {borough}\nyear: {year}\nstatic_threshold_pct: 1.0\n", encoding="utf-8")
    defaults = reports_dir / "defaults.yml"
    defaults.write_text(defaults.read_text(encoding="utf-8").replace("static_threshold_pct: 1.0", "static_threshold_pct: -3"),
                        encoding="utf-8")
    code, out, err = run_cli(capsys, "validate")
    assert code == 2
    assert err.startswith(f"cspbook: error: {defaults}") and "'static_threshold_pct' must be a number of 0 or more" in err


def test_the_indicator_table_reads_like_a_report(real_home, mirror, capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "94")
    code, out, err = run_cli(capsys, "indicators", "--borough", "Barking and Dagenham", "--year", "2011-12",
                             "--mirror", mirror)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert all(len(line) <= 94 for line in lines), max(map(len, lines))
    for bad in ("NaN", "<NA>", "nan", "None", ".0 "):
        assert bad not in out, bad
    assert lines[0].split() == ["Indicator", "Source", "Previous", "This", "year", "Change", "Significant", "London",
                                "Target"]  # no rank of the change
    # counts as whole numbers with separators, percentages with one decimal, labels left-aligned
    assert re.search(r"^Violence with\s+police\s+1,985\s+1,829\s+-7\.9%\s+yes\s+-7\.5%\s+met$", out, re.M), out
    assert re.search(r"^injury\s*$", out, re.M)  # the label wrapped, left-aligned
    # the Barking and Dagenham 2011-12 configuration sets "reduce by 5%" for residential burglary
    assert re.search(r"^Residential\s+police\s+1,573\s+1,711\s+\+8\.8%\s+no\s+\+5\.0%\s+not met$", out, re.M), out
    assert re.search(r"^Successful\s+partner\s+57%\s+63%\s+\+6 points\s+-\s+-\s", out, re.M), out
