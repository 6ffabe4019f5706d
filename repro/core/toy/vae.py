"""VAE (Kingma & Welling 2014) with the shared generator as the mean of a Gaussian decoder.

Encoder q(z|x) = N(mu(x), diag s(x)²): two hidden layers of 100 (004 §5.2). Decoder p(x|z) =
N(g(z), sigma² I) with sigma fixed to the mixture's component std, the same explicit likelihood as
SIG's (004 eq. 8-9 compare the two models with the same p(x|z)). Loss = -ELBO per data point,
with the analytic KL(q(z|x) || N(0, I)) and one reparameterised draw of z.
"""
from __future__ import annotations

import math

import torch

from .base import ToyModel, adam
from .nets import mlp, toy_generator

SAMPLE_MODES = ("draw", "mean")


class VAE(ToyModel):
    """``sample_mode='draw'``: x ~ N(g(z), sigma² I) (a draw of the model, as for SIG); ``'mean'``: g(z)."""

    def __init__(self, sigma: float, z_dim: int = 10, x_dim: int = 2, hidden: int = 100, lr: float = 1e-3,
                 betas=(0.9, 0.999), sample_mode: str = "draw", device: torch.device | str = "cpu"):
        super().__init__(z_dim, device)
        if not sigma > 0:
            raise ValueError(f"sigma must be positive, got {sigma}")
        if sample_mode not in SAMPLE_MODES:
            raise ValueError(f"sample_mode must be one of {SAMPLE_MODES}, got '{sample_mode}'")
        self.sigma, self.sample_mode = float(sigma), sample_mode
        self.generator = toy_generator(z_dim, x_dim, hidden)
        self.encoder = mlp(x_dim, [hidden, hidden], 2 * z_dim)
        self.to(self.device)
        self.opt = adam(self.parameters(), lr, betas)

    def negative_elbo(self, x: torch.Tensor) -> torch.Tensor:
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        z = mu + (0.5 * log_var).exp() * self.noise(x.shape[0])
        d = x.shape[1]
        log_px = (-(x - self.generator(z)).pow(2).sum(1) / (2 * self.sigma ** 2)
                  - 0.5 * d * math.log(2 * math.pi * self.sigma ** 2))
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(1)
        return (kl - log_px).mean()

    def train_step(self, x_real: torch.Tensor) -> dict[str, float]:
        loss = self.negative_elbo(x_real.to(self.device, self.dtype))
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return {"loss": float(loss.detach())}

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        mean = self.generator(self.noise(n))
        if self.sample_mode == "mean":
            return mean
        return mean + self.sigma * torch.randn(mean.shape).to(self.device, self.dtype)
