"""Fréchet (Inception) Distance, Heusel et al. 2017, computed in float64.

FID = ‖μ₁ − μ₂‖² + tr Σ₁ + tr Σ₂ − 2 tr (Σ₁ Σ₂)^{1/2}.

The trace term needs no matrix square root: with any factor Σ₁ = F Fᵀ, the matrices Σ₁Σ₂ and
Fᵀ Σ₂ F have the same eigenvalues, and Fᵀ Σ₂ F is symmetric positive semi-definite, so
tr (Σ₁Σ₂)^{1/2} = Σᵢ √λᵢ(Fᵀ Σ₂ F). F is the Cholesky factor of Σ₁ (or V·diag(√max(λ, 0)) from its
eigendecomposition when Σ₁ is singular). This costs one Cholesky, two matrix products and one
symmetric eigenvalue solve, against the Schur-based ``scipy.linalg.sqrtm`` of a non-symmetric
product that pytorch-fid and clean-fid use; the two agree to ~1e-10 relative on well-conditioned
covariances (tests/metrics/test_metrics_fid.py).

From features, when both sets have no more samples than dimensions (rank-deficient covariances),
``fid_from_features`` uses the thin form instead: with Aᵢ the centred features scaled by
1/√(nᵢ−1) (Σᵢ = AᵢᵀAᵢ), tr (Σ₁Σ₂)^{1/2} is the sum of singular values (nuclear norm) of A₁A₂ᵀ,
an n₁×n₂ matrix, so no d×d matrix is formed and no regularising ε is added.
"""
from __future__ import annotations

import numpy as np
import scipy.linalg
import torch

from ._checks import feature_matrix, same_dimension, to_numpy


def _symmetric_eigenvalues(m: np.ndarray) -> np.ndarray:
    # LAPACK divide-and-conquer (syevd): several times faster here than numpy.linalg.eigvalsh.
    return scipy.linalg.eigh(m, eigvals_only=True, driver="evd", check_finite=False)


def _psd_factor(sigma: torch.Tensor) -> torch.Tensor:
    """F with F Fᵀ = sigma (Cholesky when positive definite, else from the clipped eigendecomposition)."""
    factor, info = torch.linalg.cholesky_ex(sigma)
    if int(info) == 0:
        return factor
    evals, evecs = torch.linalg.eigh(sigma)
    return evecs * evals.clamp(min=0).sqrt()


def trace_sqrt_product(sigma1, sigma2) -> float:
    """tr (Σ₁ Σ₂)^{1/2} for symmetric PSD Σ₁, Σ₂ (float64)."""
    s1 = torch.from_numpy(to_numpy(sigma1))
    s2 = torch.from_numpy(to_numpy(sigma2))
    s1 = (s1 + s1.T) / 2
    s2 = (s2 + s2.T) / 2
    f = _psd_factor(s1)
    m = f.T @ s2 @ f
    m = ((m + m.T) / 2).numpy()
    evals = _symmetric_eigenvalues(m)
    return float(np.sqrt(np.clip(evals, 0.0, None)).sum())


def _check_statistics(mu, sigma, name: str) -> tuple[np.ndarray, np.ndarray]:
    mu = to_numpy(mu)
    sigma = to_numpy(sigma)
    if mu.ndim != 1 or sigma.shape != (mu.shape[0], mu.shape[0]):
        raise ValueError(f"{name}: mean must have shape (d,) and covariance (d, d); got {mu.shape} and {sigma.shape}.")
    if not (np.isfinite(mu).all() and np.isfinite(sigma).all()):
        raise ValueError(f"{name}: mean or covariance contains NaN or inf; check the features they came from.")
    return mu, sigma


def frechet_distance(mu1, sigma1, mu2, sigma2) -> float:
    """Fréchet distance between N(mu1, sigma1) and N(mu2, sigma2), in float64."""
    mu1, sigma1 = _check_statistics(mu1, sigma1, "first distribution")
    mu2, sigma2 = _check_statistics(mu2, sigma2, "second distribution")
    if mu1.shape != mu2.shape:
        raise ValueError(f"the two distributions have dimensions {mu1.shape[0]} and {mu2.shape[0]}; "
                         "both must come from the same feature extractor layer.")
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2.0 * trace_sqrt_product(sigma1, sigma2))


def feature_statistics(features) -> tuple[np.ndarray, np.ndarray]:
    """Mean and unbiased covariance (divisor n−1, as numpy.cov) of N×d features, in float64."""
    f = feature_matrix(features, "features", min_rows=2)
    return _mean_and_covariance(f)


def _mean_and_covariance(f: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    mu = f.mean(axis=0)
    centred = f - mu
    # centred.T @ centred on one buffer lets numpy call BLAS syrk (half the multiplications).
    return mu, (centred.T @ centred) / (f.shape[0] - 1)


def fid_from_features(features1, features2) -> float:
    """FID between two N×d feature sets (arrays or tensors; NaN/inf, mismatched d and N < 2 are errors)."""
    f1 = feature_matrix(features1, "first feature set", min_rows=2)
    f2 = feature_matrix(features2, "second feature set", min_rows=2)
    same_dimension(f1, f2, "first feature set", "second feature set")
    d = f1.shape[1]
    if max(f1.shape[0], f2.shape[0]) <= d:
        return _fid_thin(f1, f2)
    mu1, s1 = _mean_and_covariance(f1)
    mu2, s2 = _mean_and_covariance(f2)
    return frechet_distance(mu1, s1, mu2, s2)


def _fid_thin(f1: np.ndarray, f2: np.ndarray) -> float:
    """FID through the n₁×n₂ cross matrix (exact for rank-deficient covariances, see module docstring)."""
    mu1, mu2 = f1.mean(axis=0), f2.mean(axis=0)
    a1 = (f1 - mu1) / np.sqrt(f1.shape[0] - 1)
    a2 = (f2 - mu2) / np.sqrt(f2.shape[0] - 1)
    nuclear = scipy.linalg.svdvals(a1 @ a2.T, check_finite=False).sum()
    diff = mu1 - mu2
    return float(diff @ diff + np.sum(a1 * a1) + np.sum(a2 * a2) - 2.0 * nuclear)
