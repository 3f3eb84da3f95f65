"""cspbook.pages.views: what each page shows, from the context (real data of the mirror)."""

from __future__ import annotations

from cspbook import definitions
from cspbook.pages import views
from cspbook.pages import context

BD = "Barking and Dagenham"


def test_the_rank_is_out_of_the_boroughs_in_boroughs_yml(real_home, monkeypatch):
    ctx = context.context(BD, "2011-12", str(real_home))
    row = ctx.table.set_index("indicator").loc["residential_burglary"].to_dict() | {"indicator": "residential_burglary"}
    known = definitions.boroughs()
    monkeypatch.setattr(definitions, "boroughs", lambda path=None: (*known, "A 33rd borough"))
    text = "".join(part.markup for part in views.indicator_section(ctx, row, charts=False))
    assert "ranked 21st of 33 London boroughs" in text
