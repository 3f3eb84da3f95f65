"""cspbook.pages.views: what each page shows, from the context (real data of the mirror)."""

from __future__ import annotations

from cspbook import definitions
from cspbook.pages import context, views

BD = "Barking and Dagenham"


def test_the_rank_is_out_of_the_boroughs_in_boroughs_yml(real_home, monkeypatch):
    ctx = context.context(BD, "2011-12", str(real_home))
    row = ctx.table.set_index("indicator").loc["residential_burglary"].to_dict() | {"indicator": "residential_burglary"}
    known = definitions.boroughs()
    monkeypatch.setattr(definitions, "boroughs", lambda path=None: (*known, "A 33rd borough"))
    text = "".join(part.markup for part in views.indicator_section(ctx, row, charts=False))
    assert "ranked 21st of 33 London boroughs" in text


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
