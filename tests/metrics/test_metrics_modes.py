"""gmm_grid_metrics (004 §5.2) against brute-force loops and closed forms."""
import math

import numpy as np
import pytest
import torch
from scipy.stats import chi2

from repro.data.synthetic import gmm_grid_centers, sample_gmm_grid
from repro.metrics import gmm_grid_metrics


def _brute_force(x, centers, std, threshold, min_count):
    k = len(centers)
    counts, low = [0] * k, 0
    for p in x:
        near = [j for j in range(k) if math.dist(p, centers[j]) <= threshold * std]
        if near:
            counts[min(near, key=lambda j: math.dist(p, centers[j]))] += 1
        else:
            low += 1
    inside = chi2.cdf(threshold ** 2, df=len(x[0]))
    p_d = [inside / k] * k + [1 - inside]
    p_g = [c / len(x) for c in counts] + [low / len(x)]
    kl = sum(pg * math.log(pg / pd) for pg, pd in zip(p_g, p_d) if pg > 0)
    return sum(c > min_count for c in counts), 1 - low / len(x), kl


def test_matches_brute_force_on_a_perturbed_sample():
    g = torch.Generator().manual_seed(0)
    centers = gmm_grid_centers()
    x = sample_gmm_grid(3000, generator=g)
    x[:1000] += 0.3 * torch.randn(1000, 2, generator=g)  # a third of the samples of low quality
    got = gmm_grid_metrics(x, centers, std=0.05, threshold=3.0, min_count=60)
    modes, hq, kl = _brute_force(x.tolist(), centers.tolist(), 0.05, 3.0, 60)
    assert got["modes"] == modes
    assert got["hq"] == pytest.approx(hq, abs=1e-12)
    assert got["kl"] == pytest.approx(kl, rel=1e-10)


def test_true_mixture_captures_every_mode_with_kl_near_zero():
    x = sample_gmm_grid(50_000, generator=torch.Generator().manual_seed(1))
    got = gmm_grid_metrics(x, gmm_grid_centers(), std=0.05)
    assert got["modes"] == 25
    assert got["hq"] == pytest.approx(chi2.cdf(9, df=2), abs=0.003)  # P(‖z‖ ≤ 3) in 2-D = 1 − e^{-4.5}
    assert 0 <= got["kl"] < 0.002


def test_collapse_onto_one_centre_has_closed_form_kl():
    centers = gmm_grid_centers()
    x = centers[7].repeat(5000, 1)
    got = gmm_grid_metrics(x, centers, std=0.05)
    assert (got["modes"], got["hq"]) == (1, 1.0)
    assert got["kl"] == pytest.approx(math.log(25 / (1 - math.exp(-4.5))), rel=1e-12)


def test_bad_input_errors():
    c = gmm_grid_centers()
    with pytest.raises(ValueError, match="same d"):
        gmm_grid_metrics(np.zeros((5, 3)), c, 0.05)
    with pytest.raises(ValueError, match="NaN or inf"):
        gmm_grid_metrics(np.full((5, 2), np.nan), c, 0.05)
    with pytest.raises(ValueError, match="std > 0"):
        gmm_grid_metrics(np.zeros((5, 2)), c, 0.0)
