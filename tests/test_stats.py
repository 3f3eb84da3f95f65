"""cspbook.compute.stats: % change, the Poisson interval on the log rate ratio, significance.

Expected values are worked out here from the formula in the module docstring,
``exp(log(c / p) +/- 1.96 * sqrt(1/c + 1/p))``, with :mod:`math`, never by the code under test.
"""

from __future__ import annotations

import math

import numpy as np
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
