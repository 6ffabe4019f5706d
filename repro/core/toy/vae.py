"""VAE (Kingma & Welling 2014) with the shared generator as the mean of a Gaussian decoder.

Encoder q(z|x) = N(mu(x), diag s(x)²): two hidden layers of 100 (004 §5.2). Decoder
p(x|z) = N(g(z), diag(tau²)) with g the shared generator and tau a learned per-coordinate std
(``decoder_std='learned'``, the usual Gaussian decoder; initialised at 1) or a fixed float. 004 does
not say which; a fixed tau = 0.05 (the component std) leaves prior draws decoding between the modes
(holes in the aggregate posterior), so the learned std is the default. Loss = -ELBO per data point
with the analytic KL(q(z|x) || N(0, I)) and one reparameterised draw of z.
Samples: ``sample_mode='mean'`` returns g(z), z ~ N(0, I), the usual way VAE samples are shown
(Kingma & Welling 2014, Fig. 4 shows decoder means); ``'draw'`` adds the decoder noise.
"""
from __future__ import annotations

import math

import torch
from torch import nn

from .base import ToyModel, adam, descend
from .nets import mlp, toy_generator

SAMPLE_MODES = ("mean", "draw")


class VAE(ToyModel):
    def __init__(self, z_dim: int = 10, x_dim: int = 2, hidden: int = 100, lr: float = 1e-3,
                 betas=(0.9, 0.999), decoder_std: float | str = "learned", sample_mode: str = "mean",
                 device: torch.device | str = "cpu"):
        super().__init__(z_dim, device)
        if sample_mode not in SAMPLE_MODES:
            raise ValueError(f"sample_mode must be one of {SAMPLE_MODES}, got '{sample_mode}'")
        learned = decoder_std == "learned"
        if not learned and not (isinstance(decoder_std, (int, float)) and decoder_std > 0):
            raise ValueError(f"decoder_std must be 'learned' or a positive number, got {decoder_std!r}")
        self.sample_mode = sample_mode
        self.generator = toy_generator(z_dim, x_dim, hidden)
        self.encoder = mlp(x_dim, [hidden, hidden], 2 * z_dim)
        log_tau = torch.zeros(x_dim) if learned else torch.full((x_dim,), math.log(float(decoder_std)))
        self.log_tau = nn.Parameter(log_tau, requires_grad=learned)
        self.to(self.device)
        self.opt = adam([p for p in self.parameters() if p.requires_grad], lr, betas)

    def negative_elbo(self, x: torch.Tensor) -> torch.Tensor:
        mu, log_var = self.encoder(x).chunk(2, dim=1)
        z = mu + (0.5 * log_var).exp() * self.noise(x.shape[0])
        residual = (x - self.generator(z)) / self.log_tau.exp()
        log_px = (-0.5 * residual.pow(2) - self.log_tau - 0.5 * math.log(2 * math.pi)).sum(1)
        kl = 0.5 * (mu.pow(2) + log_var.exp() - 1 - log_var).sum(1)
        return (kl - log_px).mean()

    def train_step(self, x_real: torch.Tensor) -> dict[str, float]:
        loss = self.negative_elbo(x_real.to(self.device, self.dtype))
        return {"loss": descend(self.opt, loss)}

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        mean = self.generator(self.noise(n))
        if self.sample_mode == "mean":
            return mean
        return mean + self.log_tau.exp() * torch.randn(mean.shape).to(self.device, self.dtype)
