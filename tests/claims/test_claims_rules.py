"""Each verdict rule on hand-made cells: reproduced, not reproduced, inconclusive (the band between), with the
p-values worked out independently: Welch's t and its Welch-Satterthwaite df by hand, the tail from
scipy.stats.t; the KS critical value from the asymptotic Kolmogorov distribution."""
import math

import pytest
from scipy import stats

from repro.claims import rules
from repro.claims.rules import INCONCLUSIVE, NOT_REPRODUCED, REPRODUCED, CellStats


def cell(name, *values):
    return CellStats(label=name, values=list(values), scale="cpu")


def welch_by_hand(a, b):
    """(t, df) of Welch's test from the textbook formulas (sample variances, ddof 1)."""
    va, vb = stats.tvar(a), stats.tvar(b)  # tvar: ddof 1
    sa, sb = va / len(a), vb / len(b)
    t = (sum(a) / len(a) - sum(b) / len(b)) / math.sqrt(sa + sb)
    df = (sa + sb) ** 2 / (sa ** 2 / (len(a) - 1) + sb ** 2 / (len(b) - 1))
    return t, df


def test_cell_stats_match_numpy():
    np = pytest.importorskip("numpy")
    c = cell("a", 1.0, 2.0, 4.0)
    assert c.mean == pytest.approx(np.mean([1, 2, 4]))
    assert c.std == pytest.approx(np.std([1, 2, 4], ddof=1))
    assert c.se2() == pytest.approx(np.var([1, 2, 4], ddof=1) / 3)


def test_within_error():
    # paper 25 ± 0 over 5 trials; runs all 25 -> Δ 0
    assert rules.within_error(cell("sig", 25, 25, 25), 25, 0.0, 5).status == REPRODUCED
    assert rules.within_error(cell("sig", 0, 0, 0), 25, 0.0, 5).status == NOT_REPRODUCED
    # SE = sqrt(1²/4 + 0.5²/5) = 0.5477; 2 SE = 1.095: Δ = 1.0 inside, Δ = 1.2 outside
    se = math.sqrt(1 / 4 + 0.25 / 5)
    four = [10.0 + math.sqrt(3 / 5) * x for x in (-1.5, -0.5, 0.5, 1.5)]  # mean 10, std exactly 1
    assert cell("x", *four).std == pytest.approx(1.0)
    inside = rules.within_error(cell("x", *[v + 1.0 for v in four]), 10.0, 0.5, 5)
    assert inside.status == REPRODUCED and inside.margin == pytest.approx(2 * se)
    assert rules.within_error(cell("x", *[v + 1.2 for v in four]), 10.0, 0.5, 5).status == NOT_REPRODUCED
    assert 1.0 < 2 * se < 1.2
    # one seed and no tolerance: no error bar -> inconclusive; with a stated tolerance it decides
    assert rules.within_error(cell("x", 16.0), 16.65, None, 5).status == INCONCLUSIVE
    assert rules.within_error(cell("x", 16.0), 16.65, None, 5, tol=1.7).status == REPRODUCED
    assert rules.within_error(cell("x", 19.0), 16.65, None, 5, tol=1.7).status == NOT_REPRODUCED


@pytest.mark.parametrize("op", ["<", ">"])
def test_compare_p_value_is_the_one_sided_welch_p(op):
    a, b = [10.0, 12.5, 11.0], [14.0, 13.0, 17.5, 15.0]
    t, df = welch_by_hand(a, b)
    p = stats.t.cdf(t, df) if op == "<" else stats.t.sf(t, df)  # P(T <= t) for "a < b"
    out = rules.compare(cell("a", *a), cell("b", *b), op)
    assert out.p_value == pytest.approx(p, rel=1e-9)
    assert f"df {df:.3g}" in out.statistic and f"t = {t:.3g}" in out.statistic
    assert p < 0.05 if op == "<" else 1 - p < 0.05  # a is clearly below b
    assert out.status == (REPRODUCED if op == "<" else NOT_REPRODUCED)
    assert out.alpha == 0.05


def test_compare_inconclusive_band():
    """Between the two one-sided tests: neither order significant at 0.05 (p for the claim between 0.05 and
    0.95). Shifting b moves the same data through the three verdicts."""
    a = [10.0, 11.0, 12.0]
    seen = {}
    for shift in [4.0, 2.5, 1.0, 0.0, -1.0, -2.5, -4.0]:
        b = [x + shift for x in (10.5, 11.0, 12.5)]
        t, df = welch_by_hand(a, b)
        p = stats.t.cdf(t, df)
        out = rules.compare(cell("a", *a), cell("b", *b), "<")
        want = REPRODUCED if p < 0.05 else NOT_REPRODUCED if 1 - p < 0.05 else INCONCLUSIVE
        assert out.status == want and out.p_value == pytest.approx(p, rel=1e-9)
        seen[want] = shift
    assert set(seen) == {REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE}
    assert "neither order significant at 0.05" in rules.compare(cell("a", *a), cell("b", 10.5, 11.0, 12.5), "<").reason


def test_compare_needs_three_runs_per_cell():
    """The old rule passed at one standard error with two seeds; now two runs per cell decide nothing."""
    two = rules.compare(cell("a", 1.0, 1.1), cell("b", 9.0, 9.1), "<")
    assert two.status == INCONCLUSIVE and "a n=2, b n=2" in two.reason and "needs 3 per cell" in two.reason
    assert rules.compare(cell("a", 1.0, 1.1, 1.05), cell("b", 9.0, 9.1, 9.05), "<").status == REPRODUCED


def test_compare_without_spread_is_the_exact_order():
    assert rules.compare(cell("a", 1.0, 1.0, 1.0), cell("b", 2.0, 2.0, 2.0), "<").p_value == 0.0
    assert rules.compare(cell("a", 1.0, 1.0, 1.0), cell("b", 2.0, 2.0, 2.0), ">").status == NOT_REPRODUCED
    assert rules.compare(cell("a", 2.0, 2.0, 2.0), cell("b", 2.0, 2.0, 2.0), "<").status == INCONCLUSIVE


def test_ordering_and_best_of_are_intersection_union_tests():
    lo, mid, hi = cell("lo", 1.0, 1.1, 1.2), cell("mid", 5.0, 5.1, 5.3), cell("hi", 9.0, 9.1, 9.4)
    assert rules.ordering([lo, mid, hi], "lower").status == REPRODUCED
    assert rules.ordering([hi, mid, lo], "higher").status == REPRODUCED
    assert rules.ordering([lo, hi, mid], "lower").status == NOT_REPRODUCED
    assert rules.best_of([lo, mid, hi], "lower").status == REPRODUCED
    assert rules.best_of([mid, lo, hi], "lower").status == NOT_REPRODUCED
    near = cell("near", 1.05, 1.15, 1.3)
    out = rules.best_of([lo, near, hi], "lower")
    assert out.status == INCONCLUSIVE
    # the p-value shown is the largest pair's: lo against near
    t, df = welch_by_hand(lo.values, near.values)
    assert out.p_value == pytest.approx(stats.t.cdf(t, df), rel=1e-9)


def test_thresholds_every_run():
    assert rules.threshold([cell("sig", 25, 25, 25)], 25, ">=", every_run=True).status == REPRODUCED
    out = rules.threshold([cell("sig", 25, 24, 25)], 25, ">=", every_run=True)
    assert out.status == NOT_REPRODUCED and "2 of 3" in out.reason
    assert rules.threshold([cell("ks", 0.01, 0.02)], 0.05, "<=", every_run=True).status == REPRODUCED


def test_thresholds_on_the_mean_are_one_sample_t_tests():
    values = [25.6, 26.0, 25.9, 26.4]
    t = (sum(values) / 4 - 25) / math.sqrt(stats.tvar(values) / 4)
    p = stats.t.sf(t, 3)  # H1: mean > 25
    out = rules.threshold([cell("m", *values)], 25, ">=")
    assert out.p_value == pytest.approx(p, rel=1e-9) and p < 0.05 and out.status == REPRODUCED
    assert rules.threshold([cell("m", 24.0, 26.0, 25.5)], 25, ">=").status == INCONCLUSIVE
    assert rules.threshold([cell("m", 10.0, 11.0, 10.5)], 25, ">=").status == NOT_REPRODUCED
    assert rules.threshold([cell("m", 30.0, 31.0)], 25, ">=").status == INCONCLUSIVE  # n = 2


def test_ks_critical_value_and_test():
    # large n: the critical value tends to K_{1-α}/√n, K the Kolmogorov distribution (scipy.stats.kstwobign)
    for n in (10000, 40000):
        asymptotic = stats.kstwobign.ppf(0.95) / math.sqrt(n)
        assert rules.ks_critical(n) == pytest.approx(asymptotic, rel=0.01)
    assert rules.ks_critical(10000) == pytest.approx(0.01356, abs=5e-5)  # 000-f4-laplace: 0.027 is far above
    ok = rules.ks_test([cell("laplace", 0.0127, 0.0112)], 10000)
    assert ok.status == REPRODUCED and ok.margin == pytest.approx(rules.ks_critical(10000))
    bad = rules.ks_test([cell("laplace", 0.0127, 0.0270)], 10000)
    assert bad.status == NOT_REPRODUCED and "1 of 2 runs above it" in bad.reason
    assert bad.p_value == pytest.approx(stats.kstwo.sf(0.0270, 10000))


def test_near_and_label():
    assert rules.near([cell("w1", 1.554), cell("w2", 0.307)], [1.55, 0.32], 0.03).status == REPRODUCED
    assert rules.near([cell("w1", 1.484), cell("w2", 0.796)], [1.55, 0.74], 0.03).status == NOT_REPRODUCED
    args = (1e-3, "converges", "oscillates")
    assert rules.label([cell("smmd", 0.0)], *args, "converges").status == REPRODUCED
    assert rules.label([cell("wgan", 1.08)], *args, "converges").status == NOT_REPRODUCED
    assert rules.label([cell("mixed", 0.0, 1.0)], *args, "converges").status == INCONCLUSIVE
