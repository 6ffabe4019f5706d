"""Relative KID three-sample test: brute-force formulas, Monte Carlo variance, decay rule."""
import math

import numpy as np
import pytest
from scipy.stats import norm

from repro.metrics import RelativeKIDDecay, relative_kid_test


def _k(a, b):
    return (float(np.dot(a, b)) / len(a) + 1.0) ** 3


def _brute_force(x, y, z):
    """The docstring's statistic and plug-in variance, written with explicit loops."""
    def mmd(x, y):
        nx, ny = len(x), len(y)
        xx = sum(_k(x[i], x[j]) for i in range(nx) for j in range(nx) if i != j) / (nx * (nx - 1))
        yy = sum(_k(y[i], y[j]) for i in range(ny) for j in range(ny) if i != j) / (ny * (ny - 1))
        xy = sum(_k(a, b) for a in x for b in y) / (nx * ny)
        return xx + yy - 2 * xy

    def own(v, i):
        return sum(_k(v[i], v[j]) for j in range(len(v)) if j != i) / (len(v) - 1)

    g_y = [2 * (own(y, i) - np.mean([_k(a, y[i]) for a in x])) for i in range(len(y))]
    g_z = [-2 * (own(z, i) - np.mean([_k(a, z[i]) for a in x])) for i in range(len(z))]
    g_x = [2 * (np.mean([_k(a, c) for c in z]) - np.mean([_k(a, b) for b in y])) for a in x]
    var = sum(np.var(g, ddof=1) / len(g) for g in (g_x, g_y, g_z))
    t = mmd(x, y) - mmd(x, z)
    return t, math.sqrt(var), norm.cdf(t / math.sqrt(var))


def test_matches_brute_force():
    rng = np.random.default_rng(0)
    x, y, z = rng.standard_normal((9, 3)), rng.standard_normal((7, 3)) + 0.3, rng.standard_normal((8, 3)) * 1.5
    got = relative_kid_test(x, y, z)
    t, std, p = _brute_force(x, y, z)
    assert got["statistic"] == pytest.approx(t, rel=1e-10)
    assert got["std"] == pytest.approx(std, rel=1e-10)
    assert got["p_value"] == pytest.approx(p, rel=1e-8)


def test_std_estimate_against_monte_carlo():
    rng = np.random.default_rng(1)
    stats, stds = [], []
    for _ in range(60):
        x = rng.standard_normal((200, 8))
        out = relative_kid_test(x, rng.standard_normal((200, 8)) * 1.1, rng.standard_normal((200, 8)) * 1.2)
        stats.append(out["statistic"])
        stds.append(out["std"])
    ratio = np.mean(stds) / np.std(stats)
    assert 0.9 < ratio < 1.6  # conservative by design (module docstring)


def test_p_value_small_when_new_samples_are_clearly_better_and_large_when_worse():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((300, 4))
    good, bad = rng.standard_normal((300, 4)), rng.standard_normal((300, 4)) + 0.7
    assert relative_kid_test(x, good, bad)["p_value"] < 1e-3
    assert relative_kid_test(x, bad, good)["p_value"] > 0.999


def test_decay_after_three_consecutive_failures_then_restart():
    rule = RelativeKIDDecay()
    assert [rule.update(p) for p in [0.5, 0.2, 0.01, 0.3, 0.4, 0.9, 0.5, 0.5, 0.6]] == \
        [False, False, False, False, False, True, False, False, True]


def test_step_keeps_previous_features_and_state_round_trips():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((100, 4))
    rule = RelativeKIDDecay(patience=1)
    assert rule.step(x, rng.standard_normal((100, 4))) is False  # first call only stores
    assert rule.step(x, rng.standard_normal((100, 4)) + 1.0) is True  # clearly worse → p > 0.1
    clone = RelativeKIDDecay(patience=1)
    clone.load_state_dict(rule.state_dict())
    assert np.array_equal(clone.previous, rule.previous) and clone.history == rule.history


def test_bad_input_errors():
    x = np.zeros((10, 3))
    with pytest.raises(ValueError, match="dimension"):
        relative_kid_test(x, np.zeros((10, 4)), x)
    with pytest.raises(ValueError, match="at least 3"):
        relative_kid_test(x, x[:2], x)


def _dense_reference(x, y, z):
    """The former implementation: every Gram matrix in full (O(n²) memory)."""
    import torch

    x, y, z = (torch.from_numpy(np.asarray(v, dtype=np.float64)) for v in (x, y, z))

    def k(a, b):
        return (a @ b.T / a.shape[1] + 1.0) ** 3

    def offdiag_rows(m):
        return (m.sum(1) - m.diagonal()) / (m.shape[0] - 1)

    kxy, kxz = k(x, y), k(x, z)
    xx = float(offdiag_rows(k(x, x)).mean())
    yy, zz = offdiag_rows(k(y, y)), offdiag_rows(k(z, z))
    new, old = xx + float(yy.mean()) - 2 * float(kxy.mean()), xx + float(zz.mean()) - 2 * float(kxz.mean())
    g = [2 * (kxz.mean(1) - kxy.mean(1)), 2 * (yy - kxy.mean(0)), -2 * (zz - kxz.mean(0))]
    return {"statistic": new - old, "std": math.sqrt(sum(float(v.var()) / len(v) for v in g)),
            "mmd2_new": new, "mmd2_old": old}


@pytest.mark.parametrize("block_elements", [1, 7, 64, 1 << 22])  # one row per block … everything in one block
def test_blocked_sums_equal_the_dense_matrices(block_elements):
    rng = np.random.default_rng(5)
    x, y, z = rng.standard_normal((61, 6)), rng.standard_normal((37, 6)) + 0.2, rng.standard_normal((45, 6)) * 1.3
    got = relative_kid_test(x, y, z, block_elements=block_elements)
    ref = _dense_reference(x, y, z)
    for key in ref:  # float64 sums of ≤ 61² terms in another order: relative error ≪ 1e-10
        assert got[key] == pytest.approx(ref[key], rel=1e-10, abs=1e-12), key
    without = relative_kid_test(x, y, z, data_term=False, block_elements=block_elements)
    assert without["p_value"] == pytest.approx(got["p_value"], rel=1e-10)  # K_XX cancels in the test


def test_peak_memory_at_20000_data_features_is_blockwise():
    """n_X = 20,000: one dense K_XX would be 20,000² float64 = 3.2 GB. The blocked test's extra peak RSS
    (a fresh process, after its inputs exist) must stay under 128 MiB: a few 8 MiB blocks and their
    temporaries (measured ≈ 25 MiB). ru_maxrss is in KiB on Linux."""
    import subprocess
    import sys

    code = (
        "import resource, numpy as np\n"
        "from repro.metrics import relative_kid_test\n"
        "rng = np.random.default_rng(0)\n"
        "x, y, z = rng.standard_normal((20000, 16)), rng.standard_normal((2000, 16)), rng.standard_normal((2000, 16))\n"
        "relative_kid_test(x[:10], y[:10], z[:10])\n"
        "before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "out = relative_kid_test(x, y, z)\n"
        "after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print((after - before) / 1024, out['mmd2_new'])\n")
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600,
                         env={**__import__("os").environ, "OMP_NUM_THREADS": "1"})
    assert res.returncode == 0, res.stderr
    extra_mib, mmd = map(float, res.stdout.split())
    assert math.isfinite(mmd)
    assert extra_mib < 128, f"relative KID at n = 20,000 grew the RSS by {extra_mib:.0f} MiB"
