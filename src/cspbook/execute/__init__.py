"""Stage 5, execute: the notebooks of a book, one per page per year, planned and keyed on
their inputs (:mod:`~cspbook.execute.plan`) and run on a pool of warm kernels
(:mod:`~cspbook.execute.pool`; what runs inside each kernel: :mod:`~cspbook.execute.kernel`;
their settings: :mod:`~cspbook.execute.kernels`)."""
