"""SIG cross-entropy H_M (004 eq. 6) against brute-force double loops and scipy's densities."""
import math

import numpy as np
import pytest
import torch
from scipy import stats

from repro.core.sig import gaussian_log_likelihood, poisson_log_likelihood, sig_cross_entropy


def brute_force_h_m(x, theta, density):
    """-1/N Σ_i log(1/M Σ_j p(x_i | theta_j)) with plain Python loops (no log-space tricks)."""
    total = 0.0
    for xi in x:
        total += math.log(sum(density(xi, tj) for tj in theta) / len(theta))
    return -total / len(x)


def test_gaussian_h_m_matches_double_loop():
    rng = np.random.default_rng(0)
    x, theta, sigma = rng.normal(size=(7, 2)), rng.normal(size=(5, 2)), 0.8
    density = lambda a, b: stats.multivariate_normal(mean=b, cov=sigma ** 2 * np.eye(2)).pdf(a)
    expected = brute_force_h_m(x, theta, density)
    got = sig_cross_entropy(torch.tensor(x), torch.tensor(theta), gaussian_log_likelihood(sigma))
    assert got.item() == pytest.approx(expected, rel=1e-10)


def test_poisson_h_m_matches_double_loop():
    rng = np.random.default_rng(1)
    x = rng.poisson(3.0, size=(6, 3)).astype(float)
    theta = rng.gamma(2.0, 2.0, size=(4, 3))
    density = lambda a, b: float(np.prod(stats.poisson(b).pmf(a)))
    expected = brute_force_h_m(x, theta, density)
    got = sig_cross_entropy(torch.tensor(x), torch.tensor(theta), poisson_log_likelihood)
    assert got.item() == pytest.approx(expected, rel=1e-10)


def test_one_dimensional_inputs_are_columns():
    x, theta = torch.tensor([0.0, 1.0, 2.0], dtype=torch.float64), torch.tensor([0.5, 1.5], dtype=torch.float64)
    density = lambda a, b: stats.norm(b, 0.3).pdf(a)
    expected = brute_force_h_m(x.numpy(), theta.numpy(), density)
    assert sig_cross_entropy(x, theta, gaussian_log_likelihood(0.3)).item() == pytest.approx(expected, rel=1e-10)


def test_tiny_sigma_does_not_underflow():
    # density ratios ~exp(-800) underflow in linear space; log space keeps them finite
    x = torch.tensor([[4.0, 4.0]], dtype=torch.float64)
    theta = torch.tensor([[0.0, 0.0], [2.0, 2.0]], dtype=torch.float64)
    sigma = 0.05
    got = sig_cross_entropy(x, theta, gaussian_log_likelihood(sigma)).item()
    # nearest theta at squared distance 8 dominates; the other is exp(-3200) smaller
    expected = 8 / (2 * sigma ** 2) + math.log(2 * math.pi * sigma ** 2) + math.log(2)
    assert math.isfinite(got) and got == pytest.approx(expected, rel=1e-12)


def test_gradient_flows_to_theta():
    theta = torch.zeros(3, 2, dtype=torch.float64, requires_grad=True)
    x = torch.ones(4, 2, dtype=torch.float64)
    sig_cross_entropy(x, theta, gaussian_log_likelihood(1.0)).backward()
    # every theta is equally responsible: d/dtheta_j = -(1/M) (x - theta_j) / sigma²
    assert torch.allclose(theta.grad, torch.full((3, 2), -1 / 3, dtype=torch.float64))


def test_bad_input_messages():
    with pytest.raises(ValueError, match="sigma must be positive"):
        gaussian_log_likelihood(0.0)
    with pytest.raises(ValueError, match="rates theta must be positive"):
        poisson_log_likelihood(torch.ones(2, 1), torch.tensor([[0.0]]))
    with pytest.raises(ValueError, match="expected \\(2, 3\\)"):
        sig_cross_entropy(torch.ones(2, 1), torch.ones(3, 1), lambda x, t: torch.zeros(3, 2))
    with pytest.raises(ValueError, match="vector or an \\(n, d\\) matrix"):
        sig_cross_entropy(torch.ones(2, 1, 1), torch.ones(3, 1), gaussian_log_likelihood(1.0))
