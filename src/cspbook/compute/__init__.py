"""Stage 3, compute: every figure of the book. The indicators from the validated files
(:mod:`~cspbook.compute.indicators`, with :mod:`~cspbook.compute.stats`), computed once per
data version (:mod:`~cspbook.compute.dataset`); the indicator table of one borough and
year (:mod:`~cspbook.compute.table`) and its reconciliation with the published figures
(:mod:`~cspbook.compute.reconcile`)."""
