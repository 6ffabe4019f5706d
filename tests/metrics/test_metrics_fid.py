"""FID against clean-fid's scipy-sqrtm formula, closed forms, rank-deficient sets and bad input."""
import numpy as np
import pytest
import scipy.linalg
import torch
from cleanfid.fid import frechet_distance as cleanfid_frechet

from repro.metrics import feature_statistics, fid_from_features, frechet_distance


def _random_spd(d, rng, scale=1.0):
    a = rng.standard_normal((d, 2 * d))
    return scale * a @ a.T / (2 * d) + 0.1 * np.eye(d)


def _sqrtm_reference(mu1, s1, mu2, s2):
    covmean = scipy.linalg.sqrtm(s1 @ s2).real
    return float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2 * np.trace(covmean))


@pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")  # inside clean-fid
def test_matches_cleanfid_and_scipy_sqrtm_on_well_conditioned_covariances():
    rng = np.random.default_rng(0)
    d = 96
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d) * 0.5
    s1, s2 = _random_spd(d, rng), _random_spd(d, rng, scale=2.0)
    ours = frechet_distance(mu1, s1, mu2, s2)
    assert ours == pytest.approx(cleanfid_frechet(mu1, s1, mu2, s2), rel=1e-6)
    assert ours == pytest.approx(_sqrtm_reference(mu1, s1, mu2, s2), rel=1e-6)


@pytest.mark.filterwarnings("ignore:The `disp` argument is deprecated:DeprecationWarning")  # inside clean-fid
def test_fid_from_features_matches_numpy_cov_plus_cleanfid():
    rng = np.random.default_rng(1)
    f1 = rng.standard_normal((400, 32)).astype(np.float32)
    f2 = (rng.standard_normal((300, 32)) @ rng.standard_normal((32, 32)) * 0.4 + 0.2).astype(np.float32)
    mu1, s1 = f1.astype(np.float64).mean(0), np.cov(f1.astype(np.float64), rowvar=False)
    mu2, s2 = f2.astype(np.float64).mean(0), np.cov(f2.astype(np.float64), rowvar=False)
    expected = cleanfid_frechet(mu1, s1, mu2, s2)
    assert fid_from_features(f1, f2) == pytest.approx(expected, rel=1e-6)
    assert fid_from_features(torch.from_numpy(f1), torch.from_numpy(f2)) == pytest.approx(expected, rel=1e-6)
    mu, sigma = feature_statistics(f1)
    np.testing.assert_allclose(sigma, s1, rtol=1e-10, atol=1e-12)


def test_identical_sets_give_zero():
    f = np.random.default_rng(2).standard_normal((200, 16))
    assert abs(fid_from_features(f, f)) < 1e-9


def test_analytic_gaussians_with_shared_eigenvectors():
    # Σ1 = Q diag(a) Qᵀ, Σ2 = Q diag(b) Qᵀ: tr (Σ1Σ2)^½ = Σ √(a b), FID = ‖Δμ‖² + Σ (√a − √b)².
    rng = np.random.default_rng(3)
    d = 50
    q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    a, b = rng.uniform(0.1, 3, d), rng.uniform(0.1, 3, d)
    mu1, mu2 = rng.standard_normal(d), rng.standard_normal(d)
    expected = np.sum((mu1 - mu2) ** 2) + np.sum((np.sqrt(a) - np.sqrt(b)) ** 2)
    got = frechet_distance(mu1, q @ np.diag(a) @ q.T, mu2, q @ np.diag(b) @ q.T)
    assert got == pytest.approx(expected, rel=1e-9)


def test_analytic_value_for_identity_versus_general_covariance():
    rng = np.random.default_rng(4)
    d = 40
    s2 = _random_spd(d, rng)
    expected = d + np.trace(s2) - 2 * np.sum(np.sqrt(np.linalg.eigvalsh(s2)))
    assert frechet_distance(np.zeros(d), np.eye(d), np.zeros(d), s2) == pytest.approx(expected, rel=1e-9)


@pytest.mark.parametrize("n1,n2", [(20, 30), (64, 64), (10, 50)])
def test_rank_deficient_features_scaled_and_shifted(n1, n2):
    # f2 = s·f1 + c (same rows): Σ2 = s² Σ1, so tr (Σ1Σ2)^½ = s tr Σ1 and
    # FID = ‖(s−1) μ1 + c‖² + (1 − s)² tr Σ1, whatever the rank.
    rng = np.random.default_rng(5)
    d, s = 128, 1.7
    f1 = rng.standard_normal((n1, d))
    c = rng.standard_normal(d)
    f2 = s * f1 + c
    mu1 = f1.mean(0)
    tr1 = np.trace(np.cov(f1, rowvar=False))
    expected = np.sum(((s - 1) * mu1 + c) ** 2) + (1 - s) ** 2 * tr1
    got = fid_from_features(f1, f2)
    assert np.isfinite(got)
    assert got == pytest.approx(expected, rel=1e-9)
    # The covariance route on the singular matrices stays finite and close (no ε added).
    m1, c1 = feature_statistics(f1)
    m2, c2 = feature_statistics(f2)
    assert frechet_distance(m1, c1, m2, c2) == pytest.approx(expected, rel=1e-5)
    # ...and with different rows (n2 samples) both routes agree.
    g = rng.standard_normal((n2, d)) * 0.5
    mg, cg = feature_statistics(g)
    assert fid_from_features(f1, g) == pytest.approx(frechet_distance(m1, c1, mg, cg), rel=1e-5)


def test_bad_input_errors():
    rng = np.random.default_rng(6)
    f = rng.standard_normal((10, 4))
    with pytest.raises(ValueError, match="dimension 4 .* dimension 5"):
        fid_from_features(f, rng.standard_normal((10, 5)))
    bad = f.copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN or inf"):
        fid_from_features(bad, f)
    with pytest.raises(ValueError, match="at least 2"):
        fid_from_features(f[:1], f)
    with pytest.raises(ValueError, match="N×d"):
        fid_from_features(f[0], f)
    with pytest.raises(ValueError, match="dimensions 4 and 3"):
        frechet_distance(np.zeros(4), np.eye(4), np.zeros(3), np.eye(3))
    with pytest.raises(ValueError, match="NaN or inf"):
        frechet_distance(np.zeros(2), np.array([[1, 0], [0, np.inf]]), np.zeros(2), np.eye(2))
