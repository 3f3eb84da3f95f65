"""Statistics for year-on-year changes in counts.

Counts of offences in a year are treated as Poisson, with more variation than Poisson allows
for by a dispersion factor (quasi-Poisson). The book's test is :func:`exact_test`: the exact
conditional binomial test of two Poisson counts, with its exact (Clopper-Pearson based)
interval for the rate ratio (:func:`exact_interval`), on the counts divided by the dispersion
factor. :func:`poisson_change_interval`, the large-sample (Wald) interval on the log scale,

    exp( log(current / previous) +/- 1.96 * sqrt(1/current + 1/previous) ),

is kept for comparison only; it has no answer when a count is zero and is too narrow for
small counts. :func:`rank_interval` gives the uncertainty of a rank of rates.
"""

from __future__ import annotations

import numpy as np

Z95 = 1.959963984540054


def change_pct(current, previous):
    """Percentage change; a previous count of 0 gives NaN, not inf.

    >>> float(change_pct(110, 100))
    10.0
    >>> float(change_pct(5, 0))
    nan
    """
    current = np.asarray(current, dtype="float64")
    previous = np.asarray(previous, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (current - previous) / previous * 100.0
    return np.where(previous > 0, out, np.nan)


def poisson_change_interval(current, previous, z: float = Z95):
    """95% interval for the % change between two Poisson counts (log rate-ratio method).

    Returns ``(low_pct, high_pct)`` arrays; NaN where either count is zero or missing.

    >>> low, high = poisson_change_interval(1711, 1573)
    >>> round(float(low), 1), round(float(high), 1)
    (1.6, 16.5)
    >>> poisson_change_interval(0, 10)
    (array(nan), array(nan))
    """
    current = np.asarray(current, dtype="float64")
    previous = np.asarray(previous, dtype="float64")
    ok = (current > 0) & (previous > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_ratio = np.log(current / previous)
        se = np.sqrt(1.0 / current + 1.0 / previous)
        low = (np.exp(log_ratio - z * se) - 1.0) * 100.0
        high = (np.exp(log_ratio + z * se) - 1.0) * 100.0
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def significant(low_pct, high_pct):
    """True where the interval excludes 0% (no change); False where it includes it or is NaN.

    >>> significant([2.0, -1.0, float("nan")], [15.8, 3.0, float("nan")]).tolist()
    [True, False, False]
    """
    low = np.asarray(low_pct, dtype="float64")
    high = np.asarray(high_pct, dtype="float64")
    return ((low > 0) | (high < 0)) & ~np.isnan(low)


# --- the exact test (what the book uses) ----------------------------------------------------
#
# Two years' counts c (this year) and p (last year), each Poisson over the same exposure (one
# year). Conditional on their total n = c + p, c ~ Binomial(n, 0.5) when the rate did not
# change (and Binomial(n, R / (1 + R)) for a rate ratio R): the exact conditional binomial
# test. Its two-sided p-value doubles the smaller tail; its 95% interval for R comes from the
# Clopper-Pearson interval of the proportion c / n, pi -> pi / (1 - pi). Monthly counts vary
# more than Poisson (overdispersion): the counts are divided by the dispersion factor phi
# (quasi-Poisson, :func:`dispersion`) before the test, which widens the interval by about
# sqrt(phi); the binomial tails are evaluated on the scaled (non-integer) counts through the
# regularised incomplete beta function, its continuous extension.

ALPHA = 0.05


def _tails(x, n, share):
    """P(X <= x) and P(X >= x) for X ~ Binomial(n, share), continuous in x and n (beta form)."""
    from scipy import special

    with np.errstate(invalid="ignore", divide="ignore"):
        low = np.where(x >= n, 1.0, special.betainc(np.maximum(n - x, 1e-300), x + 1.0, 1.0 - share))
        high = np.where(x <= 0, 1.0, special.betainc(np.maximum(x, 1e-300), n - x + 1.0, share))
    return low, high


def exact_test(current, previous, phi=1.0, share=0.5):
    """Two-sided p-value of the conditional binomial test that ``current`` and ``previous``
    (Poisson counts, each divided by the dispersion factor ``phi``) have the same rate;
    ``share`` is the expected share of the current year under no change (0.5 for equal
    exposure). NaN where a count is missing or both are zero.

    >>> round(float(exact_test(30, 20)), 4)    # 2 x P(X >= 30), X ~ Binomial(50, 0.5)
    0.2026
    >>> float(exact_test(15, 0)), float(exact_test(0, 15))   # 2 x 0.5 ** 15
    (6.103515625e-05, 6.103515625e-05)
    >>> float(exact_test(0, 0))
    nan
    >>> round(float(exact_test(60, 40, phi=2.0)), 4)  # the same as 30 against 20
    0.2026
    """
    c = np.asarray(current, dtype="float64") / np.asarray(phi, dtype="float64")
    p = np.asarray(previous, dtype="float64") / np.asarray(phi, dtype="float64")
    n = c + p
    low, high = _tails(c, n, np.asarray(share, dtype="float64"))
    out = np.minimum(1.0, 2.0 * np.minimum(low, high))
    return np.where((n > 0) & ~np.isnan(n), out, np.nan)


def exact_interval(current, previous, phi=1.0, alpha: float = ALPHA):
    """The exact (Clopper-Pearson based) 1 - ``alpha`` interval of the % change (rate ratio
    minus one, times 100) between two Poisson counts, each divided by ``phi``. A current count
    of 0 gives a low end of -100%; a previous count of 0 an open high end (NaN).

    >>> low, high = exact_interval(30, 20)     # pi in (0.4518, 0.7359): R in (0.8242, 2.7869)
    >>> round(float(low), 1), round(float(high), 1)
    (-17.6, 178.7)
    >>> [round(float(v), 1) for v in exact_interval(0, 15)]  # pi < 1 - 0.025 ** (1/15) = 0.2181
    [-100.0, -72.1]
    """
    from scipy import special

    c = np.asarray(current, dtype="float64") / np.asarray(phi, dtype="float64")
    p = np.asarray(previous, dtype="float64") / np.asarray(phi, dtype="float64")
    ok = (c + p > 0) & ~np.isnan(c + p)
    with np.errstate(invalid="ignore", divide="ignore"):
        lo = np.where(c > 0, special.betaincinv(np.maximum(c, 1e-300), p + 1.0, alpha / 2), 0.0)
        hi = np.where(p > 0, special.betaincinv(c + 1.0, np.maximum(p, 1e-300), 1 - alpha / 2), 1.0)
        low = (lo / (1.0 - lo) - 1.0) * 100.0
        high = np.where(hi < 1.0, (hi / (1.0 - hi) - 1.0) * 100.0, np.nan)
    return np.where(ok, low, np.nan), np.where(ok, high, np.nan)


def significant_p(p_value, alpha: float = ALPHA):
    """True where ``p_value`` < ``alpha``, False where not, NA where the test was not made.

    >>> significant_p([0.01, 0.2, float("nan")]).tolist()
    [True, False, <NA>]
    """
    import pandas as pd

    p = np.asarray(p_value, dtype="float64")
    return pd.array(np.where(np.isnan(p), None, p < alpha), dtype="boolean")


def dispersion(counts, groups) -> np.ndarray:
    """The quasi-Poisson dispersion factor of monthly ``counts``: the Pearson chi-square of the
    counts about the mean of their group (each financial year), over its degrees of freedom
    (months minus groups); never below 1 (a series is at least as variable as Poisson). With
    fewer than 2 degrees of freedom or a zero mean throughout, 1.

    >>> round(float(dispersion([10, 12, 8, 10, 30, 30, 30, 30], [1, 1, 1, 1, 2, 2, 2, 2])), 3)
    1.0
    >>> round(float(dispersion([5, 15, 5, 15], [1, 1, 1, 1])), 3)  # (25+25+25+25)/10 / 3
    3.333
    """
    counts = np.asarray(counts, dtype="float64")
    groups = np.asarray(groups)
    chi2, df = 0.0, -len(np.unique(groups))
    for g in np.unique(groups):
        x = counts[groups == g]
        mean = x.mean()
        df += len(x)
        if mean > 0:
            chi2 += float(((x - mean) ** 2).sum() / mean)
    return np.float64(max(1.0, chi2 / df)) if df >= 2 else np.float64(1.0)


def rank_interval(counts, populations, draws: int = 2000, seed: int = 17, level: float = 0.95, higher_first: bool = True):
    """Each area's rank by rate (``counts`` / ``populations``; 1 = the highest rate when
    ``higher_first``) and the ``level`` interval of that rank, by a Poisson parametric
    bootstrap: each draw replaces every count by a Poisson count with that mean and ranks the
    rates again. Seeded, so the same inputs always give the same intervals.

    Returns a frame with ``rank, rank_low, rank_high`` in the order of the inputs.

    >>> r = rank_interval([1000, 500, 100], [100, 100, 100])
    >>> r.to_dict("list")
    {'rank': [1, 2, 3], 'rank_low': [1, 2, 3], 'rank_high': [1, 2, 3]}
    >>> r = rank_interval([100, 101, 5], [100, 100, 100])
    >>> r["rank_low"].tolist(), r["rank_high"].tolist()
    ([1, 1, 3], [2, 2, 3])
    """
    import pandas as pd

    counts = np.asarray(counts, dtype="float64")
    pops = np.asarray(populations, dtype="float64")
    key = (counts.tobytes(), pops.tobytes(), draws, seed, level, higher_first)
    if key not in _RANKS:  # a pure function of its inputs: kept across rebuilds of the preview
        if len(_RANKS) >= 1024:
            _RANKS.clear()
        _RANKS[key] = _rank_interval(counts, pops, draws, seed, level, higher_first)
    low, high, observed = _RANKS[key]
    return pd.DataFrame({"rank": observed, "rank_low": low, "rank_high": high})


_RANKS: dict = {}


def _rank_interval(counts, pops, draws, seed, level, higher_first) -> tuple:
    sign = -1.0 if higher_first else 1.0
    observed = _min_ranks(sign * counts / pops)
    rng = np.random.default_rng(seed)
    ranks = _min_ranks(sign * rng.poisson(counts, size=(draws, len(counts))) / pops)
    tail = (1 - level) / 2
    low = np.floor(np.quantile(ranks, tail, axis=0, method="lower")).astype("int64")
    high = np.ceil(np.quantile(ranks, 1 - tail, axis=0, method="higher")).astype("int64")
    return low, high, observed


def _min_ranks(values):
    """Ranks along the last axis, 1 for the smallest, ties sharing the best ("min") rank: one
    more than the number of values below. For 32 areas, comparing every pair in every draw at
    once is faster than ranking draw by draw.

    >>> _min_ranks(np.array([[3.0, 1.0, 3.0, 2.0]])).tolist()
    [[3, 1, 3, 2]]
    """
    values = np.asarray(values, dtype="float64")
    return (values[..., None, :] < values[..., :, None]).sum(axis=-1) + 1
