"""SIG on R^d (004 §2, §5.2): theta = g(z) implicit, x ~ N(theta, sigma² I), trained on H_M (004 eq. 6)."""
from __future__ import annotations

import torch

from ..sig import gaussian_log_likelihood, sig_cross_entropy
from .base import ToyModel, adam, descend
from .nets import toy_generator


class SIG(ToyModel):
    """Each ``train_step`` draws M implicit thetas and minimises -1/N Σ_i log 1/M Σ_j N(x_i | theta_j, sigma² I).

    ``m``: number of theta draws per step (None: as many as data points in the batch).
    """

    def __init__(self, sigma: float, z_dim: int = 10, x_dim: int = 2, hidden: int = 100, lr: float = 1e-3,
                 betas=(0.9, 0.999), m: int | None = None, device: torch.device | str = "cpu"):
        super().__init__(z_dim, device)
        if m is not None and m < 1:
            raise ValueError(f"m (theta draws per step) must be >= 1, got {m}")
        self.sigma, self.m = float(sigma), m
        self.log_likelihood = gaussian_log_likelihood(sigma)
        self.generator = toy_generator(z_dim, x_dim, hidden)
        self.to(self.device)
        self.opt = adam(self.generator.parameters(), lr, betas)

    def train_step(self, x_real: torch.Tensor) -> dict[str, float]:
        x_real = x_real.to(self.device, self.dtype)
        theta = self.generator(self.noise(self.m or x_real.shape[0]))
        loss = sig_cross_entropy(x_real, theta, self.log_likelihood)
        return {"loss": descend(self.opt, loss)}

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        theta = self.generator(self.noise(n))
        return theta + self.sigma * torch.randn(theta.shape).to(self.device, self.dtype)
