"""What runs inside each warm kernel (see :mod:`cspbook.execute.pool` for the parent side).

:func:`warm` imports :data:`PREWARM`, snapshots the state a fresh notebook would see and
freezes the imported objects out of the garbage collector's full collections; :func:`reset`
runs after every notebook and restores it (:func:`enter` then sets the next notebook's
folder and inputs): the user namespace, ``In``/``Out`` and the execution count (IPython's
``reset``), matplotlib (open figures, rcParams, the backend, the one-letter colour codes
that ``seaborn.set_theme`` rewrites), pandas and numpy options, warnings filters,
``os.environ`` (a notebook sets ``CSPBOOK_HOME``), the working directory, ``sys.path``, the
logging root, IPython display formatters and event callbacks, numpy's floating-point error
handling (``seterr``), the random generators' seeds (numpy's legacy global generator and
:mod:`random`, reseeded from the OS as in a fresh kernel), the attributes of cspbook's
modules and cspbook's in-process caches (:func:`cspbook.caches.clear`), so no notebook
depends on the one that ran before it. Imported modules stay loaded: that is the point. Not
reset: attributes a notebook monkeypatches onto a class or a module other than cspbook's,
threads it starts, files it leaves open."""

from __future__ import annotations

import gc
import importlib
import os
import sys

from cspbook import caches

# What the templates import, in the order they import it. The book's charts are SVG written by
# cspbook.pages.svg, so pyplot and seaborn are not imported; matplotlib itself is (0.1 s), so
# that its settings are in the snapshot and a notebook that draws with pyplot or seaborn
# leaves nothing behind for the next (tests/test_engine.py).
PREWARM = (
    "cspbook.pages.context", "cspbook.pages.markup", "cspbook.pages.views", "cspbook.pages.plots",
    "cspbook.compute.table", "cspbook.compute.dataset", "cspbook.compute.indicators",
    "myst_nb", "IPython.display", "pygments.lexers.python", "pygments.formatters.html",
    "numpy", "pandas", "matplotlib",
    # What the pages import as they run: a module imported after the warm-up is forgotten
    # after each notebook (see _restore_modules), so every page paid these imports again,
    # and the first page of each kernel paid myst-nb's glue, docutils and pyarrow's pandas bridge.
    "cspbook.pages.cover", "cspbook.pages.london", "cspbook.pages.maps", "cspbook.pages.wards",
    "cspbook.compute.london", "cspbook.compute.wards", "cspbook.compute.latest",
    "cspbook.data.boundaries", "cspbook.data.wards",
    "myst_nb.ext.glue", "pyarrow.pandas_compat", "pandas.core.methods.to_dict", "pygments.styles.default",
)



def warm(modules=PREWARM) -> list[str]:
    """Import ``modules`` and snapshot the state every notebook starts from.

    An import that fails is skipped (returned), not raised: the notebook that needs the
    module will fail on it in its own cell, which is where the error belongs.
    """
    global _SNAPSHOT
    failed = []
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - see the docstring
            failed.append(name)
    _SNAPSHOT = _capture()
    # Move everything imported so far out of the garbage collector's sight: IPython's reset
    # runs a full collection (0.1-0.3 s with pandas loaded), which then scans only what
    # the notebooks created.
    gc.collect()
    gc.freeze()
    return failed


def reset(release: bool = True) -> None:
    """Put the kernel back in the state :func:`warm` recorded (after each notebook, so that
    the next starts from it). ``release``: hand the freed heap back to the system; then the
    next notebook takes it again page by page (about 20 ms for a chapter), which the
    preview's kernels, running the same pages edit after edit, do not pay."""
    if _SNAPSHOT is None:
        raise RuntimeError("cspbook.execute.kernel.reset called before warm")
    shell = _shell()
    if shell is not None:
        shell.reset(new_session=True)  # namespace, In/Out, execution count back to 1
    _restore(_SNAPSHOT)
    if release:
        _release_memory()


def enter(cwd: str, env: dict | None = None) -> None:
    """Before a notebook: ``chdir`` to ``cwd`` and add ``env`` to ``os.environ`` (the snapshot
    of the inputs this notebook reads; :func:`reset` takes both back)."""
    os.environ.update(env or {})
    os.chdir(cwd)


def _release_memory() -> None:
    """Hand the heap freed by the previous notebook back to the system (glibc), so a kernel
    kept for many notebooks (the preview's) does not keep each one's peak."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _shell():
    try:
        from IPython import get_ipython
    except ImportError:
        return None
    return get_ipython()


def _capture() -> dict:
    import logging
    import warnings

    state = {
        "environ": dict(os.environ),
        "sys.path": list(sys.path),
        "warnings": list(warnings.filters),
        "logging": (logging.root.level, list(logging.root.handlers)),
    }
    if "numpy" in sys.modules:
        import numpy as np

        state["numpy"] = (np.get_printoptions(), np.geterr())
    if "pandas" in sys.modules:
        state["pandas"] = _pandas_options()
    if "matplotlib" in sys.modules:
        import matplotlib as mpl

        state["matplotlib"] = (
            {key: mpl.rcParams._get(key) for key in dict.keys(mpl.rcParams)},
            mpl.rcParams._get("backend"),
            {code: mpl.colors._colors_full_map[code] for code in "bgrcmykw"},
        )
    state["modules"] = {name: dict(vars(module)) for name, module in _own_modules()}
    shell = _shell()
    if shell is not None:
        formatters = shell.display_formatter.formatters.values()
        state["formatters"] = [(f, dict(f.type_printers), dict(f.deferred_printers)) for f in formatters]
        state["events"] = {name: list(cbs) for name, cbs in shell.events.callbacks.items()}
    return state


def _restore(state: dict) -> None:
    import logging
    import random
    import warnings

    if "matplotlib" in sys.modules and "matplotlib" in state:
        import matplotlib as mpl

        params, backend, colours = state["matplotlib"]
        if "matplotlib.pyplot" in sys.modules:
            import matplotlib.pyplot as plt

            plt.close("all")
            if mpl.rcParams._get("backend") != backend:
                plt.switch_backend(backend)
        mpl.rcParams._update_raw(params)
        for code, value in colours.items():
            mpl.colors._colors_full_map[code] = value  # its __setitem__ also clears the colour cache
    if "pandas" in state:
        _set_pandas_options(state["pandas"])
    if "numpy" in state:
        import numpy as np

        printoptions, errors = state["numpy"]
        np.set_printoptions(**printoptions)
        np.seterr(**errors)
        np.random.seed(None)  # a fresh kernel's legacy global generator is seeded from the OS
    random.seed(None)
    warnings.filters[:] = state["warnings"]
    if hasattr(warnings, "_filters_mutated"):  # CPython caches the filters; tell it they changed
        warnings._filters_mutated()
    level, handlers = state["logging"]
    logging.root.setLevel(level)
    logging.root.handlers[:] = handlers
    os.environ.clear()
    os.environ.update(state["environ"])
    sys.path[:] = state["sys.path"]
    shell = _shell()
    if shell is not None and "formatters" in state:
        for formatter, types, deferred in state["formatters"]:
            formatter.type_printers.clear()
            formatter.type_printers.update(types)
            formatter.deferred_printers.clear()
            formatter.deferred_printers.update(deferred)
        for name, callbacks in state["events"].items():
            shell.events.callbacks[name][:] = callbacks
    if "modules" in state:
        _restore_modules(state["modules"])
    caches.clear()


def _own_modules():
    """cspbook's modules that are loaded, but this one (it holds the snapshot): (name, module)."""
    return [(name, module) for name, module in list(sys.modules.items())
            if module is not None and (name == "cspbook" or name.startswith("cspbook.")) and name != __name__]


def _restore_modules(saved: dict) -> None:
    """Put back the attributes of cspbook's modules as :func:`warm` found them (a notebook
    may set ``cspbook.pages.narrative.X = ...``); a cspbook module imported since is forgotten,
    so the next notebook that needs it imports it afresh."""
    for name, module in _own_modules():
        attrs = saved.get(name)
        if attrs is None:
            del sys.modules[name]
            parent, _, child = name.rpartition(".")
            if parent in sys.modules and getattr(sys.modules[parent], child, None) is module:
                delattr(sys.modules[parent], child)
            continue
        current = vars(module)
        for key in [key for key in current if key not in attrs]:
            del current[key]
        for key, value in attrs.items():
            if current.get(key, _MISSING) is not value:
                current[key] = value


_MISSING = object()


def _pandas_options() -> dict:
    import warnings

    import pandas as pd
    from pandas._config import config as pd_config

    deprecated = set(getattr(pd_config, "_deprecated_options", ()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return {key: pd.get_option(key) for key in pd_config._registered_options if key not in deprecated}


def _set_pandas_options(saved: dict) -> None:
    import warnings

    import pandas as pd

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for key, value in saved.items():
            if pd.get_option(key) != value:
                pd.set_option(key, value)


