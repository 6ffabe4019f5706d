"""Vanilla GAN (Goodfellow et al. 2014) with the discriminator of 004 §5.2 (one hidden layer of 100 ReLU)."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import ToyModel, adam, descend
from .nets import mlp, toy_generator

GENERATOR_LOSSES = ("non_saturating", "minimax")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-E log D(x) - E log(1 - D(G(z))) with D = sigmoid(logit) (004 App. B, Alg. 1, line g_gamma)."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def check_generator_loss(name: str) -> str:
    if name not in GENERATOR_LOSSES:
        raise ValueError(f"generator_loss must be one of {GENERATOR_LOSSES}, got '{name}'")
    return name


class GAN(ToyModel):
    """Alternating updates: one discriminator step, then one generator step, per ``train_step``.

    ``generator_loss='non_saturating'`` minimises -E log D(G(z)) (004 App. B, Alg. 1);
    ``'minimax'`` maximises the discriminator's loss instead (Goodfellow et al. 2014, eq. 1).
    """

    def __init__(self, z_dim: int = 10, x_dim: int = 2, hidden: int = 100, lr_g: float = 1e-3,
                 lr_d: float = 1e-4, betas=(0.5, 0.999), generator_loss: str = "non_saturating",
                 device: torch.device | str = "cpu"):
        super().__init__(z_dim, device)
        self.generator_loss = check_generator_loss(generator_loss)
        self.generator = toy_generator(z_dim, x_dim, hidden)
        self.discriminator = mlp(x_dim, [hidden], 1)  # 004 §5.2: one hidden layer of 100
        self.to(self.device)
        self.opt_g = adam(self.generator.parameters(), lr_g, betas)
        self.opt_d = adam(self.discriminator.parameters(), lr_d, betas)

    def generator_objective(self, fake_logits: torch.Tensor, real_logits: torch.Tensor) -> torch.Tensor:
        if self.generator_loss == "non_saturating":
            return F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))
        return -discriminator_loss(real_logits, fake_logits)

    def train_step(self, x_real: torch.Tensor) -> dict[str, float]:
        x_real = x_real.to(self.device, self.dtype)
        z = self.noise(x_real.shape[0])
        fake = self.generator(z)
        d_loss = discriminator_loss(self.discriminator(x_real), self.discriminator(fake.detach()))
        d_value = descend(self.opt_d, d_loss)

        g_loss = self.generator_objective(self.discriminator(fake), self.discriminator(x_real))
        return {"loss": descend(self.opt_g, g_loss), "d_loss": d_value}

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        return self.generator(self.noise(n))
