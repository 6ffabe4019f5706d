"""Synthetic data sets with exact generative processes from the seeds.

Every sampler takes a ``torch.Generator`` so draws are reproducible and independent of the global RNG.
"""
from __future__ import annotations

import torch


def gmm_grid_centers(n_per_side: int = 5, spacing: float = 2.0) -> torch.Tensor:
    """Centres of the n×n grid mixture, centred on the origin: {-4, -2, 0, 2, 4}² for the defaults.

    004 §5.2 gives neither spacing nor std; the defaults are PacGAN's protocol (Lin et al. 2018).
    """
    half = (n_per_side - 1) / 2
    axis = (torch.arange(n_per_side, dtype=torch.float32) - half) * spacing
    xx, yy = torch.meshgrid(axis, axis, indexing="ij")
    return torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)


def sample_gmm(n: int, centers: torch.Tensor, std: float, generator: torch.Generator | None = None,
               weights: torch.Tensor | None = None) -> torch.Tensor:
    """n draws from the mixture Σ_k w_k N(centers_k, std² I); uniform weights when none are given."""
    k = centers.shape[0]
    if weights is None:
        idx = torch.randint(k, (n,), generator=generator)
    else:
        idx = torch.multinomial(weights / weights.sum(), n, replacement=True, generator=generator)
    noise = torch.randn(n, centers.shape[1], generator=generator)
    return centers[idx] + std * noise


def sample_gmm_grid(n: int, generator: torch.Generator | None = None, n_per_side: int = 5,
                    spacing: float = 2.0, std: float = 0.05) -> torch.Tensor:
    """The 5×5 grid of Gaussians of 004 Table 1 (uniform weights)."""
    return sample_gmm(n, gmm_grid_centers(n_per_side, spacing), std, generator)
