"""VEEGAN (Srivastava et al. 2017): a reconstructor F: x -> z and a discriminator on (z, x) pairs.

Per ``train_step`` (Srivastava et al., Algorithm 1; checked line by line against the authors' 2-D mixture
notebook, github.com/akashgit/VEEGAN ``VEEGAN_2D_RING.ipynb`` at 97f07b77f350114c7c0fffd1c80a88008b687b86),
with D a logit and the reconstructor a Gaussian p(z | x) = N(F(x), I), d(z, x) = -log N(z; F(x), I)
= ½||z - F(x)||² + const:
  data pair:      (z_g, x) with z_g ~ N(F(x), I) *sampled* (Alg. 1 line 6; the notebook's ``p_x.sample()``)
  discriminator:  minimise -E log σ(D(z, G(z))) - E log(1 - σ(D(z_g, x)))
  reconstructor:  minimise E d(z, G(z))
  generator:      minimise E D(z, G(z)) + E d(z, G(z))
All three gradients are taken at the same weights, then all three networks step (Alg. 1 line 10).
The reconstructor is the encoder of 004 §5.2 (two hidden layers of 100); the (z, x) discriminator has one
hidden layer of 100, like the GAN's (004 §5.2 sizes only the GAN's).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .base import ToyModel, adam
from .nets import mlp, toy_generator


def reconstruction_loss(z: torch.Tensor, z_mean: torch.Tensor) -> torch.Tensor:
    """-log N(z; z_mean, I) per point, without the constant: ½||z - z_mean||² summed over z's coordinates."""
    return 0.5 * (z - z_mean).pow(2).sum(-1)


class VEEGAN(ToyModel):
    def __init__(self, z_dim: int = 10, x_dim: int = 2, hidden: int = 100, lr_g: float = 1e-3,
                 lr_d: float = 1e-3, betas=(0.5, 0.999), device: torch.device | str = "cpu"):
        super().__init__(z_dim, device)
        self.generator = toy_generator(z_dim, x_dim, hidden)
        self.reconstructor = mlp(x_dim, [hidden, hidden], z_dim)
        self.discriminator = mlp(z_dim + x_dim, [hidden], 1)
        self.to(self.device)
        self.opt_g = adam(list(self.generator.parameters()) + list(self.reconstructor.parameters()), lr_g, betas)
        self.opt_d = adam(self.discriminator.parameters(), lr_d, betas)

    def joint_logit(self, z: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        return self.discriminator(torch.cat([z, x], dim=1))

    def data_pair_codes(self, x_real: torch.Tensor) -> torch.Tensor:
        """z_g ~ N(F(x), I): the data pair's code, sampled (Alg. 1 line 6)."""
        with torch.no_grad():
            return self.reconstructor(x_real) + self.noise(x_real.shape[0])

    def train_step(self, x_real: torch.Tensor) -> dict[str, float]:
        x_real = x_real.to(self.device, self.dtype)
        z = self.noise(x_real.shape[0])
        fake = self.generator(z)
        z_data = self.data_pair_codes(x_real)

        gen_logit = self.joint_logit(z, fake.detach())
        data_logit = self.joint_logit(z_data, x_real)
        d_loss = (F.binary_cross_entropy_with_logits(gen_logit, torch.ones_like(gen_logit))
                  + F.binary_cross_entropy_with_logits(data_logit, torch.zeros_like(data_logit)))
        rec = reconstruction_loss(z, self.reconstructor(fake)).mean()
        adv = self.joint_logit(z, fake).mean()
        g_loss = adv + rec  # the generator gets adv + rec; the reconstructor only rec (adv does not depend on it)

        # every gradient at the current weights, then every network steps (Alg. 1 lines 7-10)
        self.opt_d.zero_grad(set_to_none=True)
        self.opt_g.zero_grad(set_to_none=True)
        d_grads = torch.autograd.grad(d_loss, list(self.discriminator.parameters()))
        g_params = self.opt_g.param_groups[0]["params"]
        g_grads = torch.autograd.grad(g_loss, g_params)
        for p, g in zip(self.discriminator.parameters(), d_grads):
            p.grad = g
        for p, g in zip(g_params, g_grads):
            p.grad = g
        self.opt_d.step()
        self.opt_g.step()
        return {"loss": float(g_loss.detach()), "d_loss": float(d_loss.detach()), "rec": float(rec.detach())}

    @torch.no_grad()
    def sample(self, n: int) -> torch.Tensor:
        return self.generator(self.noise(n))
