""""Among London's boroughs" in a real browser: the maps and the side-by-side tables at 1280 and
390 px in light and dark mode (no console message, no axe finding, no request leaving the
loopback server), and every column of a table sorted with the keyboard."""

from __future__ import annotations

import pytest
from browser import (  # noqa: F401
    DESKTOP,
    MOBILE,
    animations_done,
    axe_violations,
    open_page,
    overflow,
    screenshot,
    watch,
)

pytestmark = pytest.mark.browser

PAGE = "book/{year}/london.html"


def _context(chromium, viewport, scheme="light"):
    extra = {"device_scale_factor": 2, "is_mobile": True, "has_touch": True} if viewport == MOBILE else {}
    return chromium.new_context(viewport=viewport, color_scheme=scheme, **extra)


@pytest.mark.parametrize("viewport", [DESKTOP, MOBILE], ids=["1280px", "390px"])
@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_the_london_page_reads_cleanly_at_both_widths_in_both_modes(chromium, built_book, book_server, viewport, scheme):
    from axe_playwright_python.sync_playwright import Axe

    context = _context(chromium, viewport, scheme)
    traffic = watch(context, book_server)
    page = context.new_page()
    try:
        open_page(page, book_server + PAGE.format(year=built_book.year), traffic)
        maps = page.locator("figure.cspbook-chart img")
        assert maps.count() == 6  # three headline police measures, a map of the year and one of the change each
        for i in range(maps.count()):
            alt = maps.nth(i).get_attribute("alt")
            assert alt.startswith("Map of London's 32 boroughs") and built_book.borough in alt
            assert maps.nth(i).evaluate("img => img.naturalWidth") > 0
        tables = page.locator("table.cspbook-sortable")
        assert tables.count() == 3
        for i in range(3):
            assert tables.nth(i).locator("tbody tr").count() == 32
            mine = tables.nth(i).locator("tr.cspbook-this-borough")
            assert mine.count() == 1 and mine.locator("th").inner_text() == f"{built_book.borough} (this report)"
        scroll, width = overflow(page)
        assert scroll <= width, f"the page scrolls sideways at {viewport['width']} px"
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        animations_done(page)
        found = axe_violations(Axe(), page, traffic)
        screenshot(page, f"london-{viewport['width']}-{scheme}")
        assert not found, "\n".join(found)
        assert not traffic.problems(), "\n".join(traffic.problems())
    finally:
        context.close()


def _column(table, index: int) -> list[str]:
    return table.evaluate(
        "(t, i) => Array.from(t.tBodies[0].rows, r => r.cells[i].getAttribute('data-sort'))", index)


def _ordered(keys: list[str], direction: str) -> bool:
    """Filled keys in the direction (numbers as numbers), empty keys last."""
    filled = [k for k in keys if k != ""]
    assert keys[:len(filled)] == filled, f"an empty value sorted before a filled one: {keys}"
    numeric = all(_is_number(k) for k in filled)
    values = [float(k) for k in filled] if numeric else [k.lower() for k in filled]
    return values == sorted(values, reverse=direction == "descending")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_every_column_sorts_with_the_keyboard(chromium, built_book, book_server):
    context = _context(chromium, DESKTOP)
    traffic = watch(context, book_server)
    page = context.new_page()
    try:
        open_page(page, book_server + PAGE.format(year=built_book.year), traffic)
        table = page.locator("table.cspbook-sortable").first
        headers = table.locator("thead th")
        served = [headers.nth(j).get_attribute("aria-sort") for j in range(headers.count())]
        assert served.count("descending") == 1 and served.count(None) == headers.count() - 1
        first = served.index("descending")  # the rate per 1,000 (the count where the data have no population)
        assert headers.nth(first).inner_text().startswith(("Per 1,000", "Offences")) and _ordered(_column(table, first), "descending")
        for index in range(headers.count()):
            button = headers.nth(index).locator("button")
            for key in ("Enter", "Space"):
                button.focus()
                assert page.evaluate("document.activeElement.classList.contains('cspbook-sort')")
                page.keyboard.press(key)
                direction = headers.nth(index).get_attribute("aria-sort")
                assert direction in ("ascending", "descending")
                assert [headers.nth(j).get_attribute("aria-sort") for j in range(headers.count()) if j != index] == [None] * (headers.count() - 1)
                assert _ordered(_column(table, index), direction), (index, key, direction, _column(table, index))
            assert table.locator("tbody tr").count() == 32
        assert not traffic.problems(), "\n".join(traffic.problems())
    finally:
        context.close()


def test_the_table_is_the_csv_download(chromium, built_book, book_server, monkeypatch):
    """The page links london.csv, and its rows are the library's side-by-side table."""
    import io

    import pandas as pd
    from conftest import use_home

    from cspbook.compute import dataset, london, table
    from cspbook.definitions import periods, reports

    context = _context(chromium, DESKTOP)
    traffic = watch(context, book_server)
    page = context.new_page()
    try:
        open_page(page, book_server + PAGE.format(year=built_book.year), traffic)
        href = page.locator("a.download", has_text="london.csv").get_attribute("href")
        text = page.evaluate("async (u) => (await fetch(u)).text()", href)
    finally:
        context.close()
    use_home(monkeypatch, built_book.home)
    year = periods.parse_year(built_book.year)
    data = dataset.dataset()
    # the book's period: the whole year, or this year to date (the same months of every borough)
    expected = london.side_by_side_for(data, table.period_of(data, year), reports.load(built_book.borough, year).headline)
    got = pd.read_csv(io.StringIO(text))
    assert list(got.columns) == london.COLUMNS and len(got) == len(expected) == 3 * 32
    assert got["borough"].tolist() == expected["borough"].tolist() and got["value"].tolist() == expected["value"].tolist()
    assert not traffic.problems(), "\n".join(traffic.problems())
