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


def uneven_gmm_grid_weights(n_per_side: int = 5) -> torch.Tensor:
    """Component weights of the uneven 5×5 grid of 004 Fig. 3(a), in the order of :func:`gmm_grid_centers`.

    004 Fig. 3: "the components in the 1st, 3rd, and 5th columns has twice more data than the 2nd and 4th".
    A column is a fixed x coordinate (first coordinate); odd columns (1-based) weigh 2, even ones 1.
    """
    column = torch.arange(n_per_side).repeat_interleave(n_per_side)  # first index of the meshgrid = x = column
    column_weight = torch.where(column % 2 == 0, 2.0, 1.0)
    return column_weight / column_weight.sum()


def sample_gmm_uneven(n: int, generator: torch.Generator | None = None, n_per_side: int = 5,
                      spacing: float = 2.0, std: float = 0.05) -> torch.Tensor:
    """The unevenly weighted 5×5 grid of 004 Fig. 3(a); same centres and std as :func:`sample_gmm_grid`."""
    return sample_gmm(n, gmm_grid_centers(n_per_side, spacing), std, generator,
                      weights=uneven_gmm_grid_weights(n_per_side))


def gmm_ring_centers(n_components: int = 8, radius: float = 2.0) -> torch.Tensor:
    """Centres equally spaced on a circle, the first on the positive x axis."""
    angle = torch.arange(n_components, dtype=torch.float32) * (2 * torch.pi / n_components)
    return radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)


def sample_gmm_ring(n: int, generator: torch.Generator | None = None, n_components: int = 8,
                    radius: float = 2.0, std: float = 0.02) -> torch.Tensor:
    """Gaussian mixture arranged in a ring (004 Fig. 1 h-j).

    004 gives no parameters; the defaults (8 components, radius 2, std 0.02, uniform weights) are the
    ring of the Unrolled-GAN paper (Metz et al. 2017), the standard form of this toy set.
    """
    return sample_gmm(n, gmm_ring_centers(n_components, radius), std, generator)


def sample_ring_noise(n: int, generator: torch.Generator | None = None, radius: float = 2.0,
                      std: float = 0.1) -> torch.Tensor:
    """Ring + Gaussian noise (004 Fig. 1 c-e): angle ~ U[0, 2π), x = radius·(cos, sin) + N(0, std² I).

    004 gives no parameters; std 0.1 matches the observation noise of SIG's continuous model
    x ~ N(θ, 0.1² I) (004 §5.1), radius 2 matches :func:`sample_gmm_ring`.
    """
    angle = 2 * torch.pi * torch.rand(n, generator=generator)
    on_ring = radius * torch.stack([torch.cos(angle), torch.sin(angle)], dim=1)
    return on_ring + std * torch.randn(n, 2, generator=generator)


def sample_laplace(n: int, generator: torch.Generator | None = None, loc: float = 0.0,
                   scale: float = 2.0) -> torch.Tensor:
    """Laplace(0, 2) of 000 Fig. 4 (location 0, scale b = 2, density exp(-|x|/b)/(2b)); shape (n, 1).

    Inverse-CDF draw from u ~ U(-1/2, 1/2): x = loc - b·sign(u)·log(1 - 2|u|).
    """
    u = torch.rand(n, 1, generator=generator) - 0.5
    return loc - scale * torch.sign(u) * torch.log1p(-2 * u.abs())


def sample_gmm_1d(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """0.3 N(-2, 1) + 0.7 N(2, 1) of 000 Fig. 4; shape (n, 1)."""
    return sample_gmm(n, torch.tensor([[-2.0], [2.0]]), 1.0, generator, weights=torch.tensor([0.3, 0.7]))


def sample_negative_binomial_counts(n: int, r: float, p: float,
                                    generator: torch.Generator | None = None) -> torch.Tensor:
    """NB(r, p) counts drawn as the Poisson–Gamma mixture Poisson(θ), θ ~ Gamma(shape r, scale p/(1-p)).

    This is the parameterisation 004 §5.1 states: NB(r=2, p=0.5) = ∫ Poisson(θ) Gamma(θ; 2, 1) dθ, i.e.
    pmf Γ(k+r)/(k! Γ(r)) p^k (1-p)^r with mean r·p/(1-p) (Zhou's convention; numpy's p is our 1-p).
    Returns float counts of shape (n, 1).
    """
    if not (r > 0 and 0 < p < 1):
        raise ValueError(f"negative binomial needs r > 0 and 0 < p < 1, got r={r}, p={p}")
    shape = torch.full((n,), float(r))
    # torch's Gamma sampler takes no generator: draw standard-gamma through the generator-aware path below
    theta = _standard_gamma(shape, generator) * (p / (1 - p))
    return torch.poisson(theta, generator=generator).unsqueeze(1)


def _standard_gamma(shape: torch.Tensor, generator: torch.Generator | None) -> torch.Tensor:
    """Gamma(shape, 1) draws reproducible under ``generator`` (Marsaglia–Tsang, boosted for shape < 1)."""
    boost = shape < 1
    a = torch.where(boost, shape + 1, shape)
    d = a - 1 / 3
    c = 1 / torch.sqrt(9 * d)
    out = torch.empty_like(a)
    todo = torch.ones_like(a, dtype=torch.bool)
    while todo.any():
        idx = todo.nonzero().squeeze(1)
        x = torch.randn(idx.numel(), generator=generator)
        u = torch.rand(idx.numel(), generator=generator)
        v = (1 + c[idx] * x) ** 3
        ok = (v > 0) & (torch.log(u) < 0.5 * x**2 + d[idx] - d[idx] * v + d[idx] * torch.log(v.clamp_min(1e-30)))
        out[idx[ok]] = d[idx[ok]] * v[ok]
        todo[idx[ok]] = False
    u = torch.rand(a.shape, generator=generator)
    return torch.where(boost, out * u ** (1 / shape), out)


def sample_negative_binomial(n: int, generator: torch.Generator | None = None, r: float = 2.0,
                             p: float = 0.5) -> torch.Tensor:
    """NegativeBinomial(r=2, p=0.5) of 004 §5.1 (mixing distribution Gamma(2, 1)); shape (n, 1)."""
    return sample_negative_binomial_counts(n, r, p, generator)


def sample_poisson_nb_mixture(n: int, generator: torch.Generator | None = None) -> torch.Tensor:
    """½ Poisson(10) + ½ NegativeBinomial(r=0.2, p=0.9) of 004 §5.1; shape (n, 1).

    Same NB convention as :func:`sample_negative_binomial_counts` (mean r·p/(1-p) = 1.8).
    """
    pick_poisson = torch.rand(n, 1, generator=generator) < 0.5
    poisson = torch.poisson(torch.full((n, 1), 10.0), generator=generator)
    nb = sample_negative_binomial_counts(n, 0.2, 0.9, generator)
    return torch.where(pick_poisson, poisson, nb)


# name -> sampler(n, generator) for every synthetic set of the seeds
SAMPLERS = {
    "gmm-grid": sample_gmm_grid,
    "gmm-uneven": sample_gmm_uneven,
    "gmm-ring": sample_gmm_ring,
    "ring-noise": sample_ring_noise,
    "laplace": sample_laplace,
    "gmm-1d": sample_gmm_1d,
    "negative-binomial": sample_negative_binomial,
    "poisson-nb-mixture": sample_poisson_nb_mixture,
}
