"""cspbook.compute.stats: % change, the Poisson interval on the log rate ratio, significance.

Expected values are worked out here from the formula in the module docstring,
``exp(log(c / p) +/- 1.96 * sqrt(1/c + 1/p))``, with :mod:`math`, never by the code under test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from cspbook.compute import stats


def interval_by_hand(current: int, previous: int, z: float = 1.959963984540054) -> tuple[float, float]:
    half_width = z * math.sqrt(1 / current + 1 / previous)
    log_ratio = math.log(current / previous)
    return (math.exp(log_ratio - half_width) - 1) * 100, (math.exp(log_ratio + half_width) - 1) * 100


@pytest.mark.parametrize(
    ("current", "previous", "expected"),
    [
        (110, 100, 10.0),  # (110 - 100) / 100
        (90, 100, -10.0),
        (1711, 1573, 138 / 1573 * 100),  # 8.773...
        (0, 50, -100.0),  # everything gone is -100%, not an error
        (7, 7, 0.0),
    ],
)
def test_change_pct(current, previous, expected):
    assert float(stats.change_pct(current, previous)) == pytest.approx(expected)


def test_change_from_zero_is_nan_not_inf():
    result = stats.change_pct([5, 0], [0, 0])
    assert np.isnan(result).all()


def test_interval_of_equal_counts_is_symmetric_on_the_log_scale():
    # 100 vs 100: ratio 1, se = sqrt(1/100 + 1/100) = 0.141421; 1.96 * se = 0.277181;
    # exp(-0.277181) = 0.757917 and exp(0.277181) = 1.319405, i.e. -24.21% to +31.94%.
    low, high = stats.poisson_change_interval(100, 100)
    assert float(low) == pytest.approx(-24.2083, abs=1e-3)
    assert float(high) == pytest.approx(31.9405, abs=1e-3)
    assert (1 + float(low) / 100) * (1 + float(high) / 100) == pytest.approx(1.0)


@pytest.mark.parametrize(("current", "previous"), [(1711, 1573), (1829, 1985), (2758, 2860), (3, 1), (121, 100)])
def test_interval_matches_the_documented_formula(current, previous):
    low, high = stats.poisson_change_interval(current, previous)
    want_low, want_high = interval_by_hand(current, previous)
    assert float(low) == pytest.approx(want_low, rel=1e-12)
    assert float(high) == pytest.approx(want_high, rel=1e-12)
    assert float(low) < float(stats.change_pct(current, previous)) < float(high)


def test_interval_works_on_arrays_and_is_nan_where_a_count_is_zero():
    low, high = stats.poisson_change_interval([1711, 0, 10], [1573, 10, 0])
    want_low, want_high = interval_by_hand(1711, 1573)
    assert low[0] == pytest.approx(want_low) and high[0] == pytest.approx(want_high)
    assert np.isnan(low[1:]).all() and np.isnan(high[1:]).all()


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [
        (1.6, 16.5, True),  # interval above 0: a significant rise
        (-13.5, -1.8, True),  # below 0: a significant fall
        (-8.5, 1.6, False),  # includes 0
        (0.0, 5.0, False),  # touches 0: not excluded
        (float("nan"), float("nan"), False),  # no interval, no claim
    ],
)
def test_significant(low, high, expected):
    assert stats.significant([low], [high]).tolist() == [expected]


def test_burglary_rise_of_1573_to_1711_is_significant_and_vehicle_fall_is_not():
    # 1573 -> 1711: interval by hand +1.58% .. +16.48%, above 0.
    # 2860 -> 2758: interval by hand -8.48% .. +1.61%, includes 0.
    low, high = stats.poisson_change_interval([1711, 2758], [1573, 2860])
    assert stats.significant(low, high).tolist() == [True, False]
    assert [round(float(x), 2) for x in low] == [1.58, -8.48]
    assert [round(float(x), 2) for x in high] == [16.48, 1.61]


# --- the exact test: hand values from the binomial distribution with math.comb ------------------


def binomial_two_sided(current: int, previous: int) -> float:
    """2 x the smaller tail of Binomial(n, 1/2) at ``current``, by summing math.comb terms."""
    n = current + previous
    upper = sum(math.comb(n, k) for k in range(current, n + 1)) / 2 ** n
    lower = sum(math.comb(n, k) for k in range(0, current + 1)) / 2 ** n
    return min(1.0, 2 * min(upper, lower))


@pytest.mark.parametrize(("current", "previous", "about"), [(30, 20, 0.20), (15, 0, 6.1e-5), (0, 15, 6.1e-5), (7, 7, 1.0)])
def test_exact_test_by_hand(current, previous, about):
    p = float(stats.exact_test(current, previous))
    assert p == pytest.approx(binomial_two_sided(current, previous), rel=1e-9)
    assert p == pytest.approx(about, rel=0.05)


def test_zero_counts_are_tested_and_significant_is_na_where_untested():
    p = stats.exact_test([0, 15, 0], [15, 0, 0])
    assert p[0] == p[1] == pytest.approx(2 * 0.5 ** 15) and np.isnan(p[2])
    assert stats.significant_p(p).tolist() == [True, True, pd.NA]


def test_overdispersion_divides_the_counts_before_the_test():
    # phi = 2: 60 against 40 is tested as 30 against 20
    assert float(stats.exact_test(60, 40, phi=2.0)) == pytest.approx(binomial_two_sided(30, 20))
    low1, high1 = stats.exact_interval(600, 400)
    low2, high2 = stats.exact_interval(600, 400, phi=4.0)
    assert low2 < low1 < high1 < high2  # wider, by about sqrt(phi) on the log scale


def test_exact_interval_is_clopper_pearson_by_bisection():
    """The interval's ends solve P(X >= c) = 0.025 and P(X <= c) = 0.025 for the share pi."""
    c, n = 30, 50

    def solve(f):
        lo, hi = 0.0, 1.0
        for _ in range(100):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if f(mid) < 0 else (lo, mid)
        return (lo + hi) / 2

    def upper_tail(pi):
        return sum(math.comb(n, k) * pi ** k * (1 - pi) ** (n - k) for k in range(c, n + 1)) - 0.025

    def lower_tail(pi):
        return 0.025 - sum(math.comb(n, k) * pi ** k * (1 - pi) ** (n - k) for k in range(0, c + 1))

    lo, hi = solve(upper_tail), solve(lower_tail)
    low, high = stats.exact_interval(c, n - c)
    assert float(low) == pytest.approx((lo / (1 - lo) - 1) * 100, rel=1e-6)
    assert float(high) == pytest.approx((hi / (1 - hi) - 1) * 100, rel=1e-6)


def test_rank_interval_is_seeded_deterministic_and_contains_the_rank():
    counts, pops = [120, 100, 95, 40, 400], [10, 10, 10, 10, 50]
    first = stats.rank_interval(counts, pops)
    assert first.equals(stats.rank_interval(counts, pops))
    assert (first["rank_low"] <= first["rank"]).all() and (first["rank"] <= first["rank_high"]).all()
    assert first["rank"].tolist() == [1, 2, 3, 5, 4]  # rates 12, 10, 9.5, 4, 8: 1 = the highest
    assert first.loc[3, ["rank_low", "rank_high"]].tolist() == [5, 5]  # far below the rest
    assert first.loc[1, "rank_high"] > first.loc[1, "rank_low"]  # 10 against 9.5: could be either
