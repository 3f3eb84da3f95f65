"""Stage 4, pages: what a notebook shows, rendered from the figures. The context a page is
made from (:mod:`~cspbook.pages.context`), the sentences (:mod:`~cspbook.pages.narrative`),
the charts (:mod:`~cspbook.pages.plots`), the shared HTML pieces
(:mod:`~cspbook.pages.markup`), one function per page (:mod:`~cspbook.pages.views`,
:mod:`~cspbook.pages.cover`), and the same tables for a terminal
(:mod:`~cspbook.pages.terminal`)."""
