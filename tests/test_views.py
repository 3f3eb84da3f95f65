"""cspbook.pages.views: what each page shows, from the context (real data of the mirror)."""

from __future__ import annotations

from cspbook.pages import context, views

BD = "Barking and Dagenham"


def test_no_rank_of_a_percentage_change_is_written(real_home):
    """A rank of a change reads as a league table it is not: the section says no rank."""
    ctx = context.context(BD, "2011-12", str(real_home))
    row = ctx.table.set_index("indicator").loc["residential_burglary"].to_dict() | {"indicator": "residential_burglary"}
    text = "".join(part.markup for part in views.indicator_section(ctx, row, charts=False))
    assert "ranked" not in text and "of 32 London boroughs" not in text


def test_page_functions_read_no_file(real_home, monkeypatch):
    """Load once, render after: everything a page shows is in the context; rendering every
    page with cspbook's file readers made to fail still works."""
    from cspbook.compute import dataset, reconcile
    from cspbook.data import load, manifests, rawcache
    from cspbook.definitions import csvfile, partner, reports, schema
    from cspbook.pages import cover

    ctx = context.context(BD, "2011-12", str(real_home))

    def refuse(*args, **kwargs):
        raise AssertionError(f"a page read a file: {args}")

    for module, name in ((csvfile, "read_rows"), (reconcile, "read_published"), (partner, "for_borough"),
                         (partner, "read"), (reports, "load"), (dataset, "dataset"), (schema, "read_yaml"),
                         (rawcache, "verified_manifest"), (manifests, "read_manifest"), (load, "read_text")):
        monkeypatch.setattr(module, name, refuse)
    views.overview(ctx)
    for prio in ctx.report.priorities:
        view = views.priority(ctx, prio.id)
        views.indicator_sections(ctx, view.indicators)
        views.calculation(ctx, view.indicators)
    for page in (views.next_priorities, views.methodology, views.data_sources, views.reconciliation, cover.paper):
        page(ctx)
