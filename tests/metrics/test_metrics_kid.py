"""KID against torch-fidelity (same seeded subsets), clean-fid (same subsets), brute force, closed forms."""
import numpy as np
import pytest
import torch
from cleanfid.fid import kernel_distance as cleanfid_kid
from torch_fidelity.metric_kid import kid_features_to_metric

from repro.metrics import kid, kid_from_subsets


def _features(n, d, scale, seed):
    rng = np.random.default_rng(seed)
    return (np.abs(rng.standard_normal((n, d))) * scale).astype(np.float32)


def _mmd2_brute_force(x, y):
    """Unbiased MMD² with k(a, b) = (aᵀb/d + 1)³, by explicit loops in float64."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    m, d = x.shape
    k = lambda a, b: (float(np.dot(a, b)) / d + 1.0) ** 3  # noqa: E731
    xx = sum(k(x[i], x[j]) for i in range(m) for j in range(m) if i != j)
    yy = sum(k(y[i], y[j]) for i in range(m) for j in range(m) if i != j)
    xy = sum(k(x[i], y[j]) for i in range(m) for j in range(m))
    return xx / (m * (m - 1)) + yy / (m * (m - 1)) - 2 * xy / (m * m)


def test_matches_torch_fidelity_with_the_same_seed():
    f1, f2 = _features(300, 48, 1.0, 0), _features(260, 48, 1.15, 1)
    ours = kid(f1, f2, num_subsets=12, subset_size=200, seed=7)
    ref = kid_features_to_metric(torch.from_numpy(f1), torch.from_numpy(f2), kid_subsets=12,
                                 kid_subset_size=200, rng_seed=7, verbose=False)
    assert ours.mean == pytest.approx(ref["kernel_inception_distance_mean"], rel=1e-4)
    assert ours.std == pytest.approx(ref["kernel_inception_distance_std"], rel=1e-3)


def test_matches_cleanfid_on_the_same_subsets():
    f1, f2 = _features(250, 32, 1.0, 2), _features(240, 32, 1.2, 3)
    m, s = 150, 6
    np.random.seed(11)  # clean-fid draws from numpy's global RNG: set 2 first, then set 1
    subsets = []
    for _ in range(s):
        idx2 = np.random.choice(240, m, replace=False)
        idx1 = np.random.choice(250, m, replace=False)
        subsets.append((idx1, idx2))
    np.random.seed(11)
    ref = cleanfid_kid(f1, f2, num_subsets=s, max_subset_size=m)
    assert kid_from_subsets(f1, f2, subsets).mean() == pytest.approx(ref, rel=1e-4)


def test_one_subset_with_all_samples_equals_brute_force():
    f1, f2 = _features(24, 5, 1.0, 4), _features(24, 5, 1.3, 5)
    result = kid(f1.astype(np.float64), f2.astype(np.float64), num_subsets=1, subset_size=24)
    assert result.mean == pytest.approx(_mmd2_brute_force(f1, f2), rel=1e-10)
    assert result.std == 0.0


def test_identical_sets_give_the_closed_form_near_zero():
    # X = Y as sets (full subsets are permutations): MMD²_u = 2 [(S − D) / (m(m−1)) − S / m²]
    # = 2 (mean of all k − mean of diagonal k) / (m − 1): zero up to O(1/m).
    f = _features(30, 6, 1.0, 6).astype(np.float64)
    k = (f @ f.T / 6 + 1) ** 3
    m = 30
    expected = 2 * ((k.sum() - np.trace(k)) / (m * (m - 1)) - k.sum() / m ** 2)
    result = kid(f, f, num_subsets=3, subset_size=m, seed=1)
    assert result.mean == pytest.approx(expected, rel=1e-10)
    assert abs(result.mean) <= 2 * np.abs(k).max() / (m - 1)


def test_smaller_set_reduces_the_subset_size_and_records_it(caplog):
    f1, f2 = _features(50, 8, 1.0, 7), _features(400, 8, 1.0, 8)
    result = kid(f1, f2, num_subsets=4, subset_size=1000)
    mean, std = result
    assert (result.subset_size, result.reduced, result.n1, result.n2) == (50, True, 50, 400)
    assert np.isfinite(mean) and np.isfinite(std)
    assert result.as_record()["kid_subset_size"] == 50.0
    assert "subset_size=1000" in caplog.text


def test_seed_makes_subsets_reproducible_and_different_seeds_differ():
    f1, f2 = _features(120, 8, 1.0, 9), _features(120, 8, 1.2, 10)
    assert kid(f1, f2, 5, 60, seed=3) == kid(f1, f2, 5, 60, seed=3)
    assert kid(f1, f2, 5, 60, seed=3) != kid(f1, f2, 5, 60, seed=4)


def test_bad_input_errors():
    f = _features(20, 4, 1.0, 11)
    with pytest.raises(ValueError, match="dimension 4 but .* dimension 3"):
        kid(f, f[:, :3])
    bad = f.copy()
    bad[0, 0] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        kid(bad, f)
    with pytest.raises(ValueError, match="at least 2"):
        kid(f[:1], f)
    with pytest.raises(ValueError, match="num_subsets"):
        kid(f, f, num_subsets=0)


@pytest.mark.parametrize("m", [9, 10])
def test_device_path_and_symmetric_halves_match_brute_force(m):
    # The torch (GPU-style) element-wise path, run on CPU tensors, and the split symmetric block.
    from repro.metrics.kid import _KernelSums

    f = torch.from_numpy(_features(m, 4, 1.0, 12).astype(np.float64))
    g = torch.from_numpy(_features(m, 4, 1.0, 13).astype(np.float64))
    kff = (f @ f.T / 4 + 1) ** 3
    kfg = (f @ g.T / 4 + 1) ** 3
    for on_cpu in (True, False):
        sums = _KernelSums(torch.float64, "cpu")
        sums.on_cpu = on_cpu
        total, diag = sums.within(f)
        assert total == pytest.approx(float(kff.sum()), rel=1e-12)
        assert diag == pytest.approx(float(kff.diagonal().sum()), rel=1e-12)
        assert sums.cross(f, g)[0] == pytest.approx(float(kfg.sum()), rel=1e-12)
