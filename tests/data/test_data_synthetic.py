"""Synthetic samplers against closed forms and scipy's reference distributions (fixed seeds: deterministic)."""
import numpy as np
import pytest
import torch
from scipy import stats

from repro.data import get_sampler
from repro.data.synthetic import (SAMPLERS, _standard_gamma, gmm_grid_centers, gmm_ring_centers,
                                  uneven_gmm_grid_weights)

N = 40000


def draw(name, n=N, seed=0):
    return get_sampler(name)(n, generator=torch.Generator().manual_seed(seed))


def nearest(x, centers):
    return torch.cdist(x, centers).argmin(1)


@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_seeded_and_reproducible(name):
    a, b, c = draw(name, 500, 1), draw(name, 500, 1), draw(name, 500, 2)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.dtype == torch.float32 and a.shape[0] == 500 and torch.isfinite(a).all()


def chi2_pvalue(observed_counts, expected_probs):
    expected = np.asarray(expected_probs) * np.sum(observed_counts)
    return stats.chisquare(observed_counts, expected).pvalue


def test_gmm_grid_uniform_weights_and_std():
    x = draw("gmm-grid")
    centers = gmm_grid_centers()
    assert sorted(set(centers[:, 0].tolist())) == [-4.0, -2.0, 0.0, 2.0, 4.0]
    k = nearest(x, centers)
    assert chi2_pvalue(np.bincount(k.numpy(), minlength=25), np.full(25, 1 / 25)) > 1e-3
    resid = x - centers[k]
    assert abs(resid.std().item() - 0.05) < 0.002


def test_uneven_gmm_odd_columns_twice_as_likely():
    x = draw("gmm-uneven")
    k = nearest(x, gmm_grid_centers())
    by_x = {v: 0 for v in (-4.0, -2.0, 0.0, 2.0, 4.0)}
    for xi, n in zip(gmm_grid_centers()[:, 0].tolist(), np.bincount(k.numpy(), minlength=25)):
        by_x[xi] += n
    # 004 Fig. 3: columns 1, 3, 5 carry twice the data of columns 2, 4 -> weights 2:1:2:1:2 over 8
    assert chi2_pvalue(list(by_x.values()), [2 / 8, 1 / 8, 2 / 8, 1 / 8, 2 / 8]) > 1e-3
    assert torch.isclose(uneven_gmm_grid_weights().sum(), torch.tensor(1.0))


def test_gmm_ring_eight_equal_components_on_radius_two():
    x = draw("gmm-ring")
    centers = gmm_ring_centers()
    assert torch.allclose(centers.norm(dim=1), torch.full((8,), 2.0))
    k = nearest(x, centers)
    assert chi2_pvalue(np.bincount(k.numpy(), minlength=8), np.full(8, 1 / 8)) > 1e-3
    assert abs((x - centers[k]).std().item() - 0.02) < 0.001


def test_ring_noise_uniform_angle_and_radial_noise():
    x = draw("ring-noise").double()
    angle = torch.atan2(x[:, 1], x[:, 0]).numpy()
    assert stats.kstest(angle, stats.uniform(-np.pi, 2 * np.pi).cdf).pvalue > 1e-3
    radius = x.norm(dim=1)
    assert abs(radius.mean().item() - 2.0) < 0.01 and abs(radius.std().item() - 0.1) < 0.005


def test_laplace_matches_scipy():
    x = draw("laplace").squeeze(1).double().numpy()
    assert stats.kstest(x, stats.laplace(loc=0, scale=2).cdf).pvalue > 1e-3


def test_gmm_1d_matches_mixture_cdf():
    x = draw("gmm-1d").squeeze(1).double().numpy()
    cdf = lambda t: 0.3 * stats.norm.cdf(t, -2, 1) + 0.7 * stats.norm.cdf(t, 2, 1)
    assert stats.kstest(x, cdf).pvalue > 1e-3


def counts_vs_pmf(x, pmf, k_max):
    """Chi-square p-value of integer samples against a pmf on {0..k_max-1} plus a tail bin."""
    k = x.squeeze(1).long().numpy()
    assert (x == x.round()).all() and k.min() >= 0
    observed = np.bincount(np.minimum(k, k_max), minlength=k_max + 1)
    probs = np.array([pmf(i) for i in range(k_max)])
    return chi2_pvalue(observed, np.append(probs, 1 - probs.sum()))


def test_negative_binomial_is_poisson_gamma_2_1():
    # 004 §5.1: NB(r=2, p=0.5) = ∫ Poisson(θ) Gamma(θ; 2, 1) dθ; scipy's nbinom(n, p) has p_scipy = 1 - p
    x = draw("negative-binomial")
    assert counts_vs_pmf(x, lambda k: stats.nbinom.pmf(k, 2, 0.5), 12) > 1e-3


def test_poisson_nb_mixture():
    x = draw("poisson-nb-mixture")
    pmf = lambda k: 0.5 * stats.poisson.pmf(k, 10) + 0.5 * stats.nbinom.pmf(k, 0.2, 1 - 0.9)
    assert counts_vs_pmf(x, pmf, 25) > 1e-3
    assert abs(x.mean().item() - 0.5 * (10 + 0.2 * 0.9 / 0.1)) < 0.1


@pytest.mark.parametrize("shape", [0.2, 1.0, 2.0, 7.5])
def test_standard_gamma_matches_scipy(shape):
    x = _standard_gamma(torch.full((20000,), shape), torch.Generator().manual_seed(3)).double().numpy()
    assert stats.kstest(x, stats.gamma(shape).cdf).pvalue > 1e-3


def test_bad_negative_binomial_parameters():
    from repro.data.synthetic import sample_negative_binomial_counts

    with pytest.raises(ValueError, match="0 < p < 1"):
        sample_negative_binomial_counts(5, 2.0, 1.5)
