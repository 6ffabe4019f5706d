"""VEEGAN (Srivastava et al. 2017): a reconstructor F: x -> z and a discriminator on (z, x) pairs.

Per ``train_step`` (Srivastava et al., Algorithm 1), with D a logit and d(z, x) = ||z - F(x)||²:
  discriminator: minimise -E log σ(D(z, G(z))) - E log(1 - σ(D(F(x), x)))
  reconstructor: minimise E d(z, G(z))
  generator:     minimise E D(z, G(z)) + E d(z, G(z))
The reconstructor is the encoder of 004 §5.2 (two hidden layers of 100); the (z, x) discriminator
has one hidden layer of 100, like the GAN's (004 §5.2 sizes only the GAN's).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import ToyModel, adam, descend
from .nets import mlp, toy_generator


class VEEGAN(ToyModel):
    def __init__(self, z_dim: int = 10, x_dim: int = 2, hidden: int = 100, lr_g: float = 1e-3,
                 lr_d: float = 1e-4, betas=(0.5, 0.999), device: torch.device | str = "cpu"):
        super().__init__(z_dim, device)
        self.generator = toy_generator(z_dim, x_dim, hidden)
        self.reconstructor = mlp(x_dim, [hidden, hidden], z_dim)
        self.discriminator = mlp(z_dim + x_dim, [hidden], 1)
        self.to(self.device)
        self.opt_g = adam(list(self.generator.parameters()) + list(self.reconstructor.parameters()), lr_g, betas)
        self.opt_d = adam(self.discriminator.parameters(), lr_d, betas)

    def joint_logit(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(torch.cat([z, x], dim=1))

    def train_step(self, x_real: torch.Tensor) -> dict[str, float]:
        x_real = x_real.to(self.device, self.dtype)
        z = self.noise(x_real.shape[0])
        fake = self.generator(z)
        z_rec = self.reconstructor(x_real)

        gen_logit = self.joint_logit(z, fake.detach())
        data_logit = self.joint_logit(z_rec.detach(), x_real)
        d_loss = (F.binary_cross_entropy_with_logits(gen_logit, torch.ones_like(gen_logit))
                  + F.binary_cross_entropy_with_logits(data_logit, torch.zeros_like(data_logit)))
        d_value = descend(self.opt_d, d_loss)

        rec = (z - self.reconstructor(fake)).pow(2).sum(1).mean()
        adv = self.joint_logit(z, fake).mean()
        # generator gets adv + rec; the reconstructor only rec (adv does not depend on it)
        g_loss = adv + rec
        return {"loss": descend(self.opt_g, g_loss), "d_loss": d_value, "rec": float(rec.detach())}

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        return self.generator(self.noise(n))
