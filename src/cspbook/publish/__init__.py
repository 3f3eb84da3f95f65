"""Stage 6, publish: the book from its executed notebooks. The recipe
(:mod:`~cspbook.publish.build`), Jupyter Book run strictly and swapped in whole
(:mod:`~cspbook.publish.book`, with :mod:`~cspbook.publish.sphinx_ext`), the PDFs
(:mod:`~cspbook.publish.pdf`), one build at a time (:mod:`~cspbook.publish.lock`)."""
