"""Open sources (data/sources.yml): readers, fetch, figures and rates, against the real open
files of the mirror; every expected value is worked out here with plain pandas from the files."""

from __future__ import annotations

import re
import shutil

import pandas as pd
import pytest
from ckan_server import ckan  # noqa: F401 - a fixture
from conftest import run_cli

from cspbook.data.opendata import readers
from cspbook.definitions.sources import registry
from cspbook.errors import DataFileError

BD = "Barking and Dagenham"


def _fy_sum(frame, area, subgroup, year):
    """A financial year's count from the dashboard parquet, by hand."""
    f = frame[(frame["area_type"] == "Borough") & (frame["area_name"] == area) & (frame["measure"] == "Offences")
              & (frame["crime_subtype"].str.lower() == subgroup.lower())]
    months = pd.PeriodIndex(f["month_year"], freq="M")
    return int(f["count"][(months >= pd.Period(f"{year}-04", "M")) & (months <= pd.Period(f"{year + 1}-03", "M"))].sum())


@pytest.fixture(scope="module")
def indicators_2024(tmp_path_factory, mirror, open_dir):
    """`cspbook indicators --format csv` for two boroughs, 2024-25, from the November 2025
    edition and the open folder (one project tree for the module)."""
    import contextlib
    import io

    from conftest import CLOSED_PORT, clear_caches, make_project

    from cspbook import cli, config

    root = make_project(tmp_path_factory.mktemp("open") / "project")
    out = {}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(config.HOME_ENV, str(root))
        mp.setenv(config.DATASTORE_ENV, CLOSED_PORT)
        mp.setenv(config.MIRROR_ENV, str(mirror / "edition-2025-11"))
        mp.setenv(config.OPEN_MIRROR_ENV, str(open_dir))
        clear_caches()
        for borough, year in ((BD, "2024-25"), ("Barnet", "2024-25"), ("Barnet", "2019-20"), (BD, "2025-26")):
            buf, err = io.StringIO(), io.StringIO()
            with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(err):
                code = cli.main(["indicators", "--borough", borough, "--year", year, "--format", "csv"])
            assert code == 0, err.getvalue()
            out[borough if year == "2024-25" else (borough, year)] = pd.read_csv(io.StringIO(buf.getvalue())).set_index("indicator")
    clear_caches()
    out["_root"] = root
    return out


def test_dashboard_figures_are_the_files_financial_years(indicators_2024, open_dir):
    older = pd.read_parquet(open_dir / "mps-crime-dashboard/refresh-2025-08/monthly-crime-dashboard.parquet")
    newer = pd.read_parquet(open_dir / "mps-crime-dashboard/refresh-2026-03/monthly-crime-dashboard.parquet")
    for borough in (BD, "Barnet"):
        rows = indicators_2024[borough]
        da = rows.loc["domestic_violence_offences"]
        assert (da["previous_value"], da["value"]) == (_fy_sum(older, borough, "Domestic Abuse", 2023),
                                                       _fy_sum(older, borough, "Domestic Abuse", 2024))
        assert da["caution"] and "March 2024" in da["caution"]
        knife = rows.loc["knife_injury_victims_1_24"]  # from the newer refresh, which has every month of both years
        assert (knife["previous_value"], knife["value"]) == (_fy_sum(newer, borough, "Knife Injury Victims (1-24)", 2023),
                                                             _fy_sum(newer, borough, "Knife Injury Victims (1-24)", 2024))
    bd = indicators_2024[BD]
    assert (bd.loc["domestic_violence_offences", "previous_value"], bd.loc["domestic_violence_offences", "value"]) == (3487, 3214)
    assert bd.loc["serious_youth_violence", "beside"] == "knife_injury_victims_1_24"


def test_fte_rates_and_the_england_row_refused(indicators_2024, open_dir, project):
    lait = pd.read_parquet(open_dir / "lait/edition-2026-04/bds_long_0.parquet")
    fte = lait[lait["Short Desc"] == "FirstYJS"].set_index(["LA and Regions", "Years"])["Values"]
    for borough in (BD, "Barnet"):
        row = indicators_2024[borough].loc["first_time_entrants"]
        assert (row["previous_value"], row["value"]) == (float(fte[(borough, "2023")]), float(fte[(borough, "2024")]))
        assert row["period"] == "2024, calendar year" and row["source"] == "open"
        assert "no significance test" in row["test_note"]
    london = (float(fte[("London", "2024")]) - float(fte[("London", "2023")])) / float(fte[("London", "2023")]) * 100
    assert indicators_2024[BD].loc["first_time_entrants", "london_change_pct"] == pytest.approx(london, abs=0.01)
    reg = registry()
    from cspbook.compute import opendata

    frame = readers.read(open_dir / "lait/edition-2026-04/bds_long_0.parquet", reg.sources["lait_fte"], reg)
    kept, refused = opendata.plausible({"lait_fte": frame}, reg)
    assert set(refused["area"]) == {"England"} and "ten times" in refused["reason"].iloc[0]
    assert "England" not in set(kept["lait_fte"]["area"])


def test_rates_per_1000_use_the_mid_year_estimate(indicators_2024, open_dir):
    mye = pd.read_csv(open_dir / "ons-mye/mye24tablesew.csv", thousands=",", encoding="utf-8-sig").set_index("Name")
    for borough in (BD, "Barnet"):
        row = indicators_2024[borough].loc["violence_with_injury"]
        assert row["rate_per_1000"] == pytest.approx(row["value"] / mye.loc[borough, "All ages"] * 1000)
        assert 1 <= row["rate_rank_low"] <= row["rate_rank"] <= row["rate_rank_high"] <= 32
    assert indicators_2024[BD].loc["violence_with_injury", "rate_per_1000"] == pytest.approx(1774 / 232747 * 1000)
    # 1 = the highest rate, as on the London page (13th highest of 32 = 20th lowest)
    vwi = indicators_2024[BD].loc["violence_with_injury"]
    assert vwi["rate_rank"] == 13 and vwi["rate_rank_low"] < 13 < vwi["rate_rank_high"]


def test_pas_says_its_latest_period_and_drug_treatment_its_absence(indicators_2024, open_dir):
    pas = pd.read_csv(open_dir / "mopac-pas/PAS_Dashboard_Borough.csv", dtype=str)
    mine = pas[(pas["Borough"] == BD) & (pas["Measure"] == "Trust MPS") & (pas["Date"] == "31/12/2023")]
    row = indicators_2024[BD].loc["pas_trust"]
    assert row["value"] == pytest.approx(float(mine["Proportion"].iloc[0].replace(",", ".")) * 100)
    assert row["period"] == "latest published: 12 months to December 2023"
    # London's share (the file's MPS column) over the same two periods, in the CSV and in words
    london = {date: float(pas[(pas["Borough"] == BD) & (pas["Measure"] == "Trust MPS") & (pas["Date"] == date)]["MPS"]
                          .iloc[0].replace(",", ".")) * 100 for date in ("31/12/2023", "31/12/2022")}
    assert (row["london_value"], row["london_previous"]) == (pytest.approx(london["31/12/2023"]), pytest.approx(london["31/12/2022"]))
    from cspbook.pages import narrative

    said = narrative.sentence(dict(row, label="Trust", source="open", unit="percent"))
    points = round(london["31/12/2023"] - london["31/12/2022"], 1)
    assert (f"across London it {'fell' if points < 0 else 'rose'} from {london['31/12/2022']:g}% to "
            f"{london['31/12/2023']:g}% ({'down' if points < 0 else 'up'} {abs(points):g} percentage point") in said
    drug = indicators_2024[BD].loc["drug_treatment_completion"]
    assert pd.isna(drug["value"]) and "no NDTMS ViewIt export for Barking and Dagenham" in drug["test_note"]


def test_mid_2011_comes_from_the_mid_2022_workbook(open_dir, project):
    reg = registry()
    frame = readers.read(open_dir / "ons-mye/mye22final.xlsx", reg.sources["ons_mye"], reg)
    got = frame[(frame["area"] == BD) & (frame["period"] == "2011") & (frame["measure"] == "all ages")]["value"]
    assert got.tolist() == [187029.0]


@pytest.mark.parametrize(("relative", "edit", "column"), [
    ("mopac-pas/PAS_Dashboard_Borough.csv", lambda t: t.replace("Proportion", "Share", 1), "Proportion"),
    ("mopac-pas/PAS_Dashboard_Borough.csv", lambda t: t.replace('"0,56"', '"0,5x"', 1), "Proportion"),
    ("mopac-pas/PAS_Dashboard_Borough.csv", lambda t: t.replace('Listen to concerns', 'Listen to us', 1), "Measure"),
    ("ndtms-viewit/ViewIt Export Data_LAs.csv", lambda t: t.replace(",Total,Total,Opiate,", ",Total,Total,Cannabis,", 1), "drug_group"),
    ("ons-mye/mye24tablesew.csv", lambda t: t.replace(",232747,", ",23x747,", 1), "All ages"),
    ("dfe-children-population/ons_mid-year_population_estimates_2012_to_2024.csv",
     lambda t: t.replace("population_estimate", "estimate", 1), "population_estimate"),
])
def test_a_bad_file_names_file_row_and_column(open_dir, tmp_path, relative, edit, column, project):
    reg = registry()
    path = tmp_path / relative.split("/")[-1]
    path.write_text(edit((open_dir / relative).read_text(encoding="utf-8-sig")), encoding="utf-8")
    with pytest.raises(DataFileError) as caught:
        readers.read(path, reg.source_of(path.name), reg)
    assert caught.value.column == column and str(path) in str(caught.value)


@pytest.mark.parametrize("age", ["12", "3", "17"])  # the ages the bands sum
def test_a_bad_age_count_of_a_mid_year_estimate_names_its_row_and_column(open_dir, tmp_path, project, age):
    """The ages of the MYE2 table are checked in one pass; the message still names the row
    (the file's line) and the column of the first bad value."""
    import csv
    import io

    rows = list(csv.reader(io.StringIO((open_dir / "ons-mye/mye24tablesew.csv").read_text(encoding="utf-8-sig"))))
    line = 6  # the fifth area
    rows[line - 1][rows[0].index(age)] = "12x"
    path = tmp_path / "mye24tablesew.csv"
    with open(path, "w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    reg = registry()
    with pytest.raises(DataFileError) as caught:
        readers.read(path, reg.source_of(path.name), reg)
    assert (caught.value.column, caught.value.line) == (age, line)
    assert "'12x' is not a whole number of people" in str(caught.value)


def test_duplicate_and_bad_rows_of_a_parquet_file(open_dir, tmp_path, project):
    reg = registry()
    frame = pd.read_parquet(open_dir / "mps-crime-dashboard/refresh-2026-03/monthly-crime-dashboard.parquet")
    dup = pd.concat([frame, frame.iloc[[0]]], ignore_index=True)
    dup.to_parquet(tmp_path / "monthly-crime-dashboard.parquet")
    with pytest.raises(DataFileError, match="duplicate row") as caught:
        readers.read(tmp_path / "monthly-crime-dashboard.parquet", reg.sources["mps_crime_dashboard"], reg)
    assert caught.value.line == len(frame) + 1
    bad = frame.copy()
    bad.loc[5, "crime_subtype"] = "Knife Crime (new)"
    bad.to_parquet(tmp_path / "monthly-crime-dashboard.parquet")
    with pytest.raises(DataFileError, match="unknown") as caught:
        readers.read(tmp_path / "monthly-crime-dashboard.parquet", reg.sources["mps_crime_dashboard"], reg)
    assert (caught.value.line, caught.value.column) == (6, "crime_subtype")
    lait = pd.read_parquet(open_dir / "lait/edition-2026-04/bds_long_0.parquet")
    row = lait.index[lait["Short Desc"] == "FirstYJS"][3]
    lait.loc[row, "Values"] = "n/a"
    lait.to_parquet(tmp_path / "bds_long_0.parquet")
    with pytest.raises(DataFileError) as caught:
        readers.read(tmp_path / "bds_long_0.parquet", reg.sources["lait_fte"], reg)
    assert (caught.value.line, caught.value.column) == (row + 1, "Values")


def test_a_bad_open_file_stops_the_command_with_exit_2(project, mirror, open_dir, tmp_path, capsys, monkeypatch):
    folder = tmp_path / "open"
    shutil.copytree(open_dir / "mopac-pas", folder / "mopac-pas")
    text = (folder / "mopac-pas/PAS_Dashboard_Borough.csv").read_text(encoding="utf-8")
    (folder / "mopac-pas/PAS_Dashboard_Borough.csv").chmod(0o644)
    (folder / "mopac-pas/PAS_Dashboard_Borough.csv").write_text(text.replace('"0,56"', '"zero"', 1), encoding="utf-8")
    code, out, err = run_cli(capsys, "fetch", "--mirror", str(mirror), "--open-mirror", str(folder))
    assert code == 2 and "PAS_Dashboard_Borough.csv, line 2, column 'Proportion'" in err and "Traceback" not in err


def test_fetch_every_source_from_the_loopback_server(ckan, project, open_dir, tmp_path):
    """Datastore sources through CKAN's package_show, the others from their addresses (moved
    to the loopback server); sources with no online address are notices."""
    from urllib.parse import quote, urlsplit

    from cspbook.data.opendata import fetch as open_fetch

    reg = registry()
    served = {}
    dash = (open_dir / "mps-crime-dashboard/refresh-2026-03/monthly-crime-dashboard.parquet").read_bytes()
    ckan.add_dataset_file("mps-monthly-crime-dahboard-data", "monthly-crime-dashboard.parquet", dash)
    served["mps_crime_dashboard/monthly-crime-dashboard.parquet"] = dash
    pas = (open_dir / "mopac-pas/PAS_Dashboard_Borough.csv").read_bytes()
    ckan.add_dataset_file("mopac-surveys", "PAS_Dashboard_Borough.csv", pas)
    served["mopac_pas/PAS_Dashboard_Borough.csv"] = pas
    outlines = (open_dir / "boundaries/bng/London_Borough_Excluding_MHW.geojson").read_bytes()
    ckan.add_dataset_file("statistical-gis-boundary-files-london", "London_Borough_Excluding_MHW.geojson", outlines)
    served["london_boundaries/London_Borough_Excluding_MHW.geojson"] = outlines
    ward = open_dir / "mps-ward/MPS Ward Level Crime (most recent 24 months).csv"  # the crime summary dataset itself
    ckan.add_file(quote(ward.name), ward.read_bytes())
    served[f"mps_ward/{ward.name}"] = ward.read_bytes()
    for sid in ("lait_fte", "ons_mye"):
        for url in reg.sources[sid].online["urls"]:
            local = next(p for p in open_dir.rglob("*") if p.name == open_fetch._name(url))
            parts = urlsplit(url)
            ckan.serve(parts.path + (f"?{parts.query}" if parts.query else ""), local.read_bytes())
            served[f"{sid}/{local.name}"] = local.read_bytes()
    result = open_fetch.fetch(online=True, datastore=ckan.url, publisher=ckan.url, cache=tmp_path / "raw")
    import hashlib

    got = {f["name"]: f["sha256"] for f in result.files}
    assert got == {name: hashlib.sha256(body).hexdigest() for name, body in served.items()}
    assert {line.split(":")[0] for line in result.notices} == {"dfe_children_population", "ndtms_viewit"}
    # every source of the registry: fetched, or said to have no online address
    offline = {sid for sid, source in reg.sources.items() if "none" in source.online}
    assert {name.split("/")[0] for name in got} == set(reg.sources) - offline
    assert open_fetch.verified_manifest(tmp_path / "raw")["origin"] == ckan.url


def test_barnet_2019_20_shows_drug_treatment_from_its_viewit_export(indicators_2024, open_dir):
    view = pd.read_csv(open_dir / "ndtms-viewit/ViewIt Export Data_LAs.csv", dtype=str)
    total = view[(view["sex"] == "Total") & (view["age_group"] == "Total") & (view["drug_group"] == "Total")]
    total = total.set_index("ReportingPeriod")
    share = lambda p: int(total.loc[p, "scnr_scrn_allintx"]) / int(total.loc[p, "scnr_intreatment_allintx"]) * 100  # noqa: E731
    row = indicators_2024[("Barnet", "2019-20")].loc["drug_treatment_completion"]
    assert row["source"] == "open" and row["value"] == pytest.approx(share("2019/20"))
    assert row["previous_value"] == pytest.approx(share("2018/19"))
    assert "scnr_scrn_allintx / scnr_intreatment_allintx" in row["note"] and "nearest 5" in row["note"]


def test_the_2011_12_rates_use_mid_2011(real_home, capsys, open_dir):
    import io

    code, out, err = run_cli(capsys, "indicators", "--borough", BD, "--year", "2011-12", "--offline", "--format", "csv")
    rows = pd.read_csv(io.StringIO(out)).set_index("indicator")
    vwi = rows.loc["violence_with_injury"]
    assert vwi["rate_per_1000"] == pytest.approx(vwi["value"] / 187029 * 1000)
    assert vwi["population"] == 187029
    assert "domestic_abuse_vwi" not in rows.index  # no open source has 2011-12: the book is the book it was


def test_the_headline_lists_say_not_supplied_only_where_no_open_source_fills(indicators_2024, monkeypatch):
    from conftest import use_home

    from cspbook.pages import context, cover, views

    use_home(monkeypatch, indicators_2024["_root"])
    ctx = context.context(BD, "2024-25")
    head = views._rows(ctx, ctx.report.headline)
    for lines in (views.headline_bullets(ctx, head), [cover.headline(ctx, head, None)]):
        import html

        text = html.unescape(" ".join(lines))
        missing = [label for label in head["label"] if f"{label}: the partner agency has not supplied" in text]
        assert missing == ["Serious youth violence", "Calls to the council's ASB team",
                           "Successful completion of drug treatment",
                           "Residents who agree police and partners deal with the issues that matter"]
        assert "Beside it, from open data (a different measure): Knife injury victims aged 1-24 rose" in text
        assert "(latest published: 12 months to December 2023)" in text
        assert "Domestic violence offences fell by 7.8% (3,487 to 3,214)" in text
        assert "(189 to 236 per 100,000 aged 10-17)" in text and "(2024, calendar year)" in text


def test_the_headline_count_tests_open_counts_and_judges_open_rates_by_size(indicators_2024, monkeypatch):
    """The 2024-25 headline count: domestic abuse (open, across the March 2024 break) is 'across a
    break', not 'not available'; first-time entrants (a rate published without counts) cannot be
    tested, so the count must not say it moved 'by more than chance'."""
    from conftest import use_home

    from cspbook.pages import context, narrative, views

    use_home(monkeypatch, indicators_2024["_root"])
    ctx = context.context(BD, "2024-25")
    head = views._rows(ctx, ctx.report.headline)
    verdicts = {r["indicator"]: narrative.verdict(r) for _, r in head.iterrows()}
    assert verdicts["domestic_violence_offences"] == "across a break"
    assert verdicts["first_time_entrants"] == "worse"  # 189 -> 236 per 100,000, judged by its size
    said = narrative.headline_count([r for _, r in head.iterrows()])
    assert said == ("Of the 1 headline measure that can be judged this year, none moved in the right direction and 1 in "
                    "the wrong direction by more than 1% (these figures cannot be tested for chance: they come from "
                    "partners or are published without counts). 8 cannot be judged: 4 not available, 4 across a break.")


def test_how_an_open_figure_is_calculated_names_its_source_not_a_partner(indicators_2024, monkeypatch):
    from conftest import use_home

    from cspbook.pages import context, views

    use_home(monkeypatch, indicators_2024["_root"])
    ctx = context.context(BD, "2024-25")
    rows = views._rows(ctx, ["domestic_violence_offences", "knife_injury_victims_1_24", "first_time_entrants",
                             "pas_trust", "asb_calls"])
    html = views.calculation(ctx, rows).markup
    blocks = dict(re.findall(r'id="calc-([a-z0-9_]+)">(.*?)</div>', html))
    for iid in ("domestic_violence_offences", "knife_injury_victims_1_24", "first_time_entrants", "pas_trust"):
        assert "Computed from open data" in blocks[iid] and "Supplied by a partner" not in blocks[iid], iid
    assert "MPS Monthly Crime Dashboard Data" in blocks["knife_injury_victims_1_24"]
    assert "exact test of two counts" in blocks["knife_injury_victims_1_24"]  # counts: tested
    assert "No significance test: the source publishes rates or shares without counts" in blocks["first_time_entrants"]
    assert "percentage points" in blocks["pas_trust"]
    assert "No figure was supplied by a partner agency" in blocks["domestic_violence_offences"]
    assert "Supplied by a partner agency" in blocks["asb_calls"]


def test_the_cover_paper_says_which_open_sources_its_figures_come_from(indicators_2024, monkeypatch):
    from conftest import use_home

    from cspbook.pages import context, cover

    use_home(monkeypatch, indicators_2024["_root"])
    paper = cover.paper(context.context(BD, "2024-25"))
    for key in ("introduction", "consultation"):
        said = paper.sections[key].markup
        assert "computed from open data: police recorded crime, MPS Monthly Crime Dashboard Data, MOPAC Surveys and " \
               "Local Authority Interactive Tool (LAIT)" in said, key
        assert "computed from police recorded crime published as open data" not in said


def test_the_knife_victims_decision_at_march_2024_holds_in_the_file(indicators_2024, open_dir, monkeypatch):
    """data/sources.yml decides that knife injury victims are comparable across the new recording
    system of March 2024; its evidence, worked out here from the March 2026 refresh by hand."""
    frame = pd.read_parquet(open_dir / "mps-crime-dashboard/refresh-2026-03/monthly-crime-dashboard.parquet")
    frame = frame[(frame["area_type"] == "Borough") & (frame["measure"] == "Offences")]
    for subtype, sums in (("Knife Injury Victims (1-24)", [1419, 1435, 1318]),
                          ("Knife Injury Victims (non DA 1-24)", [1280, 1302, 1214])):
        rows = frame[frame["crime_subtype"].str.lower() == subtype.lower()]
        months = pd.PeriodIndex(rows["month_year"], freq="M")
        got = [int(rows["count"][(months >= pd.Period(f"{y}-03", "M")) & (months <= pd.Period(f"{y + 1}-02", "M"))].sum())
               for y in (2022, 2023, 2024)]
        assert got == sums, subtype
    from conftest import use_home

    from cspbook.definitions.sources import registry

    use_home(monkeypatch, indicators_2024["_root"])
    decided = {b.id: b for b in registry().breaks}["dashboard-knife-victims-2024-03"]
    assert decided.decision == "comparable" and "1,419, 1,435 and 1,318" in " ".join(decided.evidence.split())
    knife = indicators_2024[BD].loc["knife_injury_victims_1_24"]
    assert knife["caution"] != knife["caution"] or not knife["caution"]  # no caution: compared and tested
    assert knife["significant"] in (True, False) and 0 <= knife["p_value"] <= 1


def test_barnet_drug_treatment_has_its_chart_from_the_export_and_says_why_no_london(indicators_2024, open_dir, monkeypatch):
    import html
    import re

    from conftest import use_home

    from cspbook.pages import context, views

    view = pd.read_csv(open_dir / "ndtms-viewit/ViewIt Export Data_LAs.csv", dtype=str)
    total = view[(view["sex"] == "Total") & (view["age_group"] == "Total") & (view["drug_group"] == "Total")]
    total = total.set_index("ReportingPeriod")
    share = {p.replace("/", "-"): int(total.loc[p, "scnr_scrn_allintx"]) / int(total.loc[p, "scnr_intreatment_allintx"]) * 100
             for p in total.index if p <= "2019/20"}
    use_home(monkeypatch, indicators_2024["_root"])
    ctx = context.context("Barnet", "2019-20")
    row = ctx.table[ctx.table["indicator"] == "drug_treatment_completion"].iloc[0]
    markup = html.unescape("".join(p.markup for p in views.indicator_section(ctx, row)))
    assert 'id="fig-drug_treatment_completion-periods"' in markup and "cspbook-chart-data" in markup
    assert "covers one area, so there is no London figure" in markup
    cells = re.findall(r"<tr><th[^>]*>(\d{4}-\d{2})</th><td>([^<]*)</td></tr>", markup)
    assert cells and [p for p, _ in cells] == sorted(share)[-len(cells):]
    assert all(got == f"{share[p]:.1f}" for p, got in cells), cells
    assert f"fell from {share['2018-19']:.1f}% to {share['2019-20']:.1f}%" in markup
    assert "No test of significance is possible for this change: the publisher rounds the counts to the nearest 5." in markup


def test_many_years_at_once_give_each_year_s_figures(real_data):
    """open_indicators.tables works out every year of an indicator together (one lookup) and
    concatenates the years whose blocks are alike together; each year's table must be the one
    that year gives alone, for years of every kind (no open data yet, the PAS and LAIT
    figures only, the dashboard's whole years, its last part year, past every source's end)."""
    from cspbook import definitions
    from cspbook.compute import open_indicators

    defs, boroughs = definitions.indicators(), definitions.boroughs()
    years = [2026, 2008, 2014, 2016, 2021, 2022, 2023, 2024, 2025, 2014]
    many = open_indicators.tables(real_data.open, defs, years, boroughs)
    assert list(many) == list(dict.fromkeys(years))
    for year in many:
        alone = open_indicators.table(real_data.open, defs, year, boroughs)
        pd.testing.assert_frame_equal(many[year], alone, obj=str(year))
    filled = {y: set(t.loc[t["value"].notna(), "indicator"]) for y, t in many.items()}
    assert "domestic_violence_offences" in filled[2023] and "domestic_violence_offences" not in filled[2021]
    assert "pas_good_job" in filled[2014] and "pas_good_job" not in filled[2008]


def test_this_year_to_date_takes_the_monthly_open_sources_over_the_same_months(indicators_2024, open_dir):
    """2025-26 to date (April to November 2025): knife injury victims from the dashboard over the
    same eight months of each year, worked out here from the March 2026 refresh; domestic abuse
    (to July 2025 only) has none; first-time entrants and the PAS give their latest published."""
    rows = indicators_2024[(BD, "2025-26")]
    frame = pd.read_parquet(open_dir / "mps-crime-dashboard/refresh-2026-03/monthly-crime-dashboard.parquet")
    frame = frame[(frame["area_type"] == "Borough") & (frame["measure"] == "Offences") & (frame["area_name"] == BD)]
    for indicator, subtype in (("knife_injury_victims_1_24", "Knife Injury Victims (1-24)"),
                               ("knife_injury_victims_non_da_1_24", "Knife Injury Victims (non DA 1-24)")):
        mine = frame[frame["crime_subtype"].str.lower() == subtype.lower()]
        months = pd.PeriodIndex(mine["month_year"], freq="M")
        count = [int(mine["count"][(months >= pd.Period(f"{y}-04", "M")) & (months <= pd.Period(f"{y}-11", "M"))].sum())
                 for y in (2025, 2024)]
        row = rows.loc[indicator]
        assert (row["value"], row["previous_value"]) == tuple(count), indicator
        assert row["period"] == "2025-26 to date (April to November 2025)"
        assert row["significant"] in (True, False) and 0 <= row["p_value"] <= 1  # tested on the part year
        assert pd.isna(row["rate_per_1000"])  # a part year has no rate
    assert pd.isna(rows.loc["domestic_violence_offences", "value"])  # the dashboard's domestic abuse ends in July 2025
    assert rows.loc["first_time_entrants", "period"] == "latest published: 2024, calendar year"
    assert rows.loc["pas_trust", "period"] == "latest published: 12 months to December 2023"
