"""Semi-implicit generator (SIG) cross-entropy H_M of 004 eq. 6, with a pluggable explicit likelihood.

SIG draws theta_j = g_phi(z_j) from an implicit distribution and data from an explicit p(x | theta)
(004 eq. 3). Its training loss is the Monte-Carlo estimate of 004 eq. 6,

    H_M ≈ -1/N Σ_i log 1/M Σ_j p(x_i | theta_j),

computed here in log space with ``torch.logsumexp`` so that tiny likelihoods (e.g. sigma = 0.05)
never underflow. A likelihood is any callable ``log_likelihood(x, theta) -> (N, M)`` matrix of
log p(x_i | theta_j); ``gaussian_log_likelihood`` and ``poisson_log_likelihood`` cover 004 §5.
"""
from __future__ import annotations

import math
from typing import Callable

import torch

LogLikelihood = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def _flat(t: torch.Tensor, name: str) -> torch.Tensor:
    if t.dim() == 1:
        return t[:, None]
    if t.dim() != 2:
        raise ValueError(f"{name} must be a vector or an (n, d) matrix, got shape {tuple(t.shape)}")
    return t


def gaussian_log_likelihood(sigma: float) -> LogLikelihood:
    """log N(x_i | theta_j, sigma² I) for every pair: the continuous SIG of 004 §5.1–5.2."""
    if not sigma > 0:
        raise ValueError(f"sigma must be positive, got {sigma}")

    def log_p(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
        x, theta = _flat(x, "x"), _flat(theta, "theta")
        d = x.shape[1]
        # ||x||² + ||θ||² - 2 x·θ: one matmul instead of an N×M×d tensor; clamp guards rounding below 0
        sq = (x.pow(2).sum(1)[:, None] + theta.pow(2).sum(1)[None, :] - 2 * x @ theta.T).clamp_min(0)
        return -sq / (2 * sigma ** 2) - 0.5 * d * math.log(2 * math.pi * sigma ** 2)

    return log_p


def poisson_log_likelihood(x: torch.Tensor, theta: torch.Tensor) -> torch.Tensor:
    """log Pois(x_i | theta_j) summed over coordinates: the discrete SIG of 004 §5.1 (theta = rate > 0)."""
    x, theta = _flat(x, "x").to(theta.dtype), _flat(theta, "theta")
    if (theta <= 0).any():
        raise ValueError("Poisson rates theta must be positive; map the generator output through softplus/exp")
    return (x @ torch.log(theta).T) - theta.sum(1)[None, :] - torch.lgamma(x + 1).sum(1)[:, None]


def sig_cross_entropy(x: torch.Tensor, theta: torch.Tensor, log_likelihood: LogLikelihood) -> torch.Tensor:
    """H_M of 004 eq. 6 (Monte-Carlo form below it): -1/N Σ_i log 1/M Σ_j p(x_i | theta_j).

    ``x``: N data draws; ``theta``: M draws of the implicit distribution (keep them differentiable to
    train the generator); ``log_likelihood``: (x, theta) -> (N, M) matrix of log p(x_i | theta_j).
    """
    log_p = log_likelihood(x, theta)
    n, m = _flat(x, "x").shape[0], _flat(theta, "theta").shape[0]
    if log_p.shape != (n, m):
        raise ValueError(f"log_likelihood returned shape {tuple(log_p.shape)}, expected ({n}, {m})")
    return -(torch.logsumexp(log_p, dim=1) - math.log(m)).mean()
