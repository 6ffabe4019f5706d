"""Each verdict rule on hand-made cell statistics: reproduced, not reproduced, inconclusive."""
import math

import pytest

from repro.claims import rules
from repro.claims.rules import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, CellStats


def cell(name, *values):
    return CellStats(label=name, values=list(values), scale="cpu")


def test_cell_stats_match_numpy():
    np = pytest.importorskip("numpy")
    c = cell("a", 1.0, 2.0, 4.0)
    assert c.mean == pytest.approx(np.mean([1, 2, 4]))
    assert c.std == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert c.se2() == pytest.approx(np.var([1, 2, 4], ddof=1) / 3)


def test_within_error():
    # paper 25 ± 0 over 5 trials; runs all 25 -> Δ 0
    assert rules.within_error(cell("sig", 25, 25, 25), 25, 0.0, 5)[0] == REPRODUCED
    assert rules.within_error(cell("sig", 0, 0, 0), 25, 0.0, 5)[0] == NOT_REPRODUCED
    # SE = sqrt(1²/4 + 0.5²/5) = 0.5477; 2 SE = 1.095: Δ = 1.0 inside, Δ = 1.2 outside
    se = math.sqrt(1 / 4 + 0.25 / 5)
    four = [10.0 + math.sqrt(3 / 5) * x for x in (-1.5, -0.5, 0.5, 1.5)]  # mean 10, std exactly 1
    assert cell("x", *four).std == pytest.approx(1.0)
    assert rules.within_error(cell("x", *[v + 1.0 for v in four]), 10.0, 0.5, 5)[0] == REPRODUCED
    assert rules.within_error(cell("x", *[v + 1.2 for v in four]), 10.0, 0.5, 5)[0] == NOT_REPRODUCED
    assert 1.0 < 2 * se < 1.2
    # one seed and no tolerance: no error bar -> inconclusive; with a stated tolerance it decides
    assert rules.within_error(cell("x", 16.0), 16.65, None, 5)[0] == INCONCLUSIVE
    assert rules.within_error(cell("x", 16.0), 16.65, None, 5, tol=1.7)[0] == REPRODUCED
    assert rules.within_error(cell("x", 19.0), 16.65, None, 5, tol=1.7)[0] == NOT_REPRODUCED


def test_compare_margins():
    a, b = cell("a", 10.0, 12.0), cell("b", 20.0, 22.0)  # d = -10, SE = sqrt(2/2 + 2/2) = 1.414
    assert rules.compare(a, b, "<")[0] == REPRODUCED
    assert rules.compare(b, a, "<")[0] == NOT_REPRODUCED
    assert rules.compare(a, b, ">")[0] == NOT_REPRODUCED
    close = cell("c", 11.0, 13.0)  # d = -1 < 1 SE: overlapping errors
    status, why = rules.compare(a, close, "<")
    assert status == INCONCLUSIVE and "overlapping" in why
    assert rules.compare(cell("a", 1.0), cell("b", 2.0), "<")[0] == INCONCLUSIVE  # one seed each
    assert rules.compare(cell("a", 1.0), cell("b", 2.0), "<", min_n=1)[0] == REPRODUCED  # deterministic task


def test_ordering_and_best_of():
    lo, mid, hi = cell("lo", 1.0, 1.1), cell("mid", 5.0, 5.1), cell("hi", 9.0, 9.1)
    assert rules.ordering([lo, mid, hi], "lower")[0] == REPRODUCED
    assert rules.ordering([hi, mid, lo], "higher")[0] == REPRODUCED
    assert rules.ordering([lo, hi, mid], "lower")[0] == NOT_REPRODUCED
    assert rules.best_of([lo, mid, hi], "lower")[0] == REPRODUCED
    assert rules.best_of([mid, lo, hi], "lower")[0] == NOT_REPRODUCED
    assert rules.best_of([lo, cell("near", 1.05, 1.15), hi], "lower")[0] == INCONCLUSIVE


def test_thresholds():
    assert rules.threshold([cell("sig", 25, 25, 25)], 25, ">=", every_run=True)[0] == REPRODUCED
    status, why = rules.threshold([cell("sig", 25, 24, 25)], 25, ">=", every_run=True)
    assert status == NOT_REPRODUCED and "2 of 3" in why
    assert rules.threshold([cell("ks", 0.01, 0.02)], 0.05, "<=", every_run=True)[0] == REPRODUCED
    # on the mean with a margin
    assert rules.threshold([cell("m", 24.0, 26.0)], 25, ">=")[0] == REPRODUCED
    assert rules.threshold([cell("m", 23.0, 25.0)], 25, ">=")[0] == INCONCLUSIVE  # 24 + 1 SE = 25
    assert rules.threshold([cell("m", 10.0, 11.0)], 25, ">=")[0] == NOT_REPRODUCED


def test_near_and_label():
    assert rules.near([cell("w1", 1.554), cell("w2", 0.307)], [1.55, 0.32], 0.03)[0] == REPRODUCED
    assert rules.near([cell("w1", 1.484), cell("w2", 0.796)], [1.55, 0.74], 0.03)[0] == NOT_REPRODUCED
    args = (1e-3, "converges", "oscillates")
    assert rules.label([cell("smmd", 0.0)], *args, "converges")[0] == REPRODUCED
    assert rules.label([cell("wgan", 1.08)], *args, "converges")[0] == NOT_REPRODUCED
    assert rules.label([cell("mixed", 0.0, 1.0)], *args, "converges")[0] == INCONCLUSIVE


def test_compare_margin_is_welchs_standard_error():
    """The ordering margin is the combined SE of Welch's t-test: checked against scipy's statistic."""
    stats = pytest.importorskip("scipy.stats")
    a, b = cell("a", 10.0, 12.5, 11.0), cell("b", 14.0, 13.0, 17.5, 15.0)
    t = stats.ttest_ind_from_stats(a.mean, a.std, a.n, b.mean, b.std, b.n, equal_var=False).statistic
    se = (a.mean - b.mean) / t
    _, why = rules.compare(a, b, "<")
    assert f"SE {rules.fmt(se)}" in why
    # exactly at k·SE the claim is not yet reproduced; just past it, it is
    d = abs(a.mean - b.mean)
    assert rules.compare(a, b, "<", k=d / se + 1e-9)[0] == INCONCLUSIVE
    assert rules.compare(a, b, "<", k=d / se - 1e-9)[0] == REPRODUCED
