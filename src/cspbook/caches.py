"""cspbook's in-process caches, in one place: the definitions read from YAML (the lru
caches of :mod:`cspbook.definitions` and :mod:`cspbook.definitions.reports`) and the
computed dataset (:mod:`cspbook.compute.dataset`). :func:`clear` forgets them all: the
warm kernels call it between notebooks, and the tests when they switch project trees.
"""

from __future__ import annotations

import sys


def clear(keep_dataset: bool = False) -> None:
    """Forget every cached definition and the computed dataset of this process (but the
    dataset with ``keep_dataset``: the preview, when no input it is computed from changed)."""
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "cspbook" or name.startswith("cspbook.")):
            continue
        for value in list(vars(module).values()):
            if callable(getattr(value, "cache_clear", None)) and callable(value):
                value.cache_clear()
    dataset = sys.modules.get("cspbook.compute.dataset")
    if dataset is not None and not keep_dataset:
        dataset.forget()
