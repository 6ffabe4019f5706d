"""Inception Score (Salimans et al. 2016; 004 eq. 13): IS = exp(E_x KL(p(y|x) ‖ p(y))).

Computed as in the original code and torch-fidelity: float64 softmax of the logits, the N samples cut
in order into ``splits`` consecutive chunks (chunk i = rows [i·N//splits, (i+1)·N//splits)), p(y)
the chunk's mean, and the mean and standard deviation (divisor n) of the per-chunk scores. No
shuffling: shuffle beforehand if the samples are ordered. With the Inception extractor, pass its
``logits_unbiased`` output (pool3 · W without the bias), which is what the original TF code fed to
the softmax.
"""
from __future__ import annotations

import numpy as np
import torch

from ._checks import feature_matrix


def class_probabilities(logits) -> torch.Tensor:
    """Softmax of N×K logits in float64 (validated: finite, 2-D)."""
    arr = feature_matrix(logits, "logits", min_rows=1)
    return torch.from_numpy(arr).softmax(dim=1)


def score_from_probabilities(p: torch.Tensor) -> float:
    """exp(mean_x KL(p(y|x) ‖ p̄(y))) for one chunk of probabilities (0·log 0 = 0)."""
    marginal = p.mean(dim=0, keepdim=True)
    kl = torch.where(p > 0, p * (p.log() - marginal.log()), torch.zeros_like(p)).sum(dim=1)
    return float(kl.mean().exp())


def inception_score(logits, splits: int = 10) -> tuple[float, float]:
    """(mean, std) of the Inception Score over ``splits`` consecutive chunks of the N×K logits."""
    p = class_probabilities(logits)
    n = p.shape[0]
    if splits < 1 or n < splits:
        raise ValueError(f"inception_score needs 1 ≤ splits ≤ number of samples; got splits={splits}, N={n}.")
    scores = [score_from_probabilities(p[i * n // splits:(i + 1) * n // splits]) for i in range(splits)]
    return float(np.mean(scores)), float(np.std(scores))
