"""GAN-SI (004 §3, Algorithm 1): a GAN whose generator also minimises λ times the SIG cross-entropy.

Discriminator (004 eq. 11): min_γ -1/N Σ log D(x_i) - 1/M Σ log(1 - D(θ_j)), θ_j = T_φ(z_j).
Generator (004 eq. 12 / Alg. 1): min_φ -1/M Σ log D(θ_j) + λ·H_M, with
H_M = -1/N Σ_i log 1/M Σ_j N(x_i; θ_j, σ² I) (004 eq. 6, ``repro.core.sig.sig_cross_entropy``).

λ: 004 sets it "such that the GAN's generator loss and the cross-entropy term are on the same scale"
without a number. We make that literal and automatic: at every step λ = |L_GAN| / |H_M| computed on
detached values, so λ·H_M has exactly the magnitude of the GAN term (the same rule as
``repro.core.image_gan``'s ``si`` recipes). ``lam`` overrides it with a fixed number.
σ of N(θ, σ²I) is unstated for images: 0.1 on the [-1, 1] pixel scale (also the suite's image-GAN choice).
Adam with lr 2e-4, β = (0.5, 0.999) (DCGAN's optimiser; 004 §5.4 states Adam, lr 2e-4).
"""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .sig import gaussian_log_likelihood, sig_cross_entropy

SIGMA = 0.1


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """004 eq. 11 with D = sigmoid(logit)."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def sig_term(x_real: torch.Tensor, theta: torch.Tensor, sigma: float = SIGMA) -> torch.Tensor:
    """H_M of 004 eq. 6 on flattened images: p(x | θ) = N(x; θ, σ² I)."""
    return sig_cross_entropy(x_real.flatten(1), theta.flatten(1), gaussian_log_likelihood(sigma))


def same_scale_lambda(gan_loss: torch.Tensor, cross_entropy: torch.Tensor) -> float:
    """λ with |λ·H_M| = |L_GAN| (detached; 004 §3 "on the same scale")."""
    return float(gan_loss.detach().abs() / cross_entropy.detach().abs().clamp_min(1e-12))


def generator_loss(fake_logits: torch.Tensor, x_real: torch.Tensor, theta: torch.Tensor, sigma: float = SIGMA,
                   lam: float | None = None, use_sig: bool = True) -> tuple[torch.Tensor, dict]:
    """004 Alg. 1 generator objective; ``use_sig=False`` gives plain DCGAN (non-saturating loss)."""
    gan = F.binary_cross_entropy_with_logits(fake_logits, torch.ones_like(fake_logits))  # -1/M Σ log D(θ_j)
    if not use_sig:
        return gan, {"g_gan": float(gan.detach())}
    h = sig_term(x_real, theta, sigma)
    weight = same_scale_lambda(gan, h) if lam is None else float(lam)
    return gan + weight * h, {"g_gan": float(gan.detach()), "h_m": float(h.detach()), "lambda": weight}


class GANSI:
    """One generator/discriminator pair trained by 004 Algorithm 1 (``use_sig=False``: plain DCGAN)."""

    def __init__(self, generator: nn.Module, discriminator: nn.Module, use_sig: bool = True, sigma: float = SIGMA,
                 lam: float | None = None, lr: float = 2e-4, betas=(0.5, 0.999)):
        if not sigma > 0:
            raise ValueError(f"sigma of p(x|θ) must be positive, got {sigma}")
        self.generator, self.discriminator = generator, discriminator
        self.use_sig, self.sigma, self.lam = use_sig, float(sigma), lam
        self.opt_g = torch.optim.Adam(generator.parameters(), lr=lr, betas=tuple(betas))
        self.opt_d = torch.optim.Adam(discriminator.parameters(), lr=lr, betas=tuple(betas))

    def noise(self, n: int, device, rng: torch.Generator | None = None) -> torch.Tensor:
        """z ~ N(0, I) drawn on the CPU from ``rng`` (default: the global stream), moved to ``device``."""
        return torch.randn(n, self.generator.z_dim, generator=rng).to(device)

    def train_step(self, x_real: torch.Tensor, m: int | None = None) -> dict[str, float]:
        """One Alg. 1 iteration on N real images and M = ``m`` (default N) generated ones."""
        theta = self.generator(self.noise(m or x_real.shape[0], x_real.device))
        d_loss = discriminator_loss(self.discriminator(x_real), self.discriminator(theta.detach()))
        self.opt_d.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt_d.step()
        g_loss, parts = generator_loss(self.discriminator(theta), x_real, theta, self.sigma, self.lam, self.use_sig)
        self.opt_g.zero_grad(set_to_none=True)
        g_loss.backward()
        self.opt_g.step()
        return {"d_loss": float(d_loss.detach()), "g_loss": float(g_loss.detach()), **parts}

    def state(self) -> dict:
        return {"g": self.generator.state_dict(), "d": self.discriminator.state_dict(),
                "opt_g": self.opt_g.state_dict(), "opt_d": self.opt_d.state_dict()}

    def load_state(self, state: dict) -> None:
        self.generator.load_state_dict(state["g"])
        self.discriminator.load_state_dict(state["d"])
        self.opt_g.load_state_dict(state["opt_g"])
        self.opt_d.load_state_dict(state["opt_d"])

    @torch.no_grad()
    def sample(self, n: int, device, batch_size: int = 1000, rng: torch.Generator | None = None) -> torch.Tensor:
        """n images with batch norm in eval mode (running statistics read, not updated); the generator's
        train/eval mode is restored afterwards. ``rng``: the noise stream (default: the global one)."""
        was_training = self.generator.training
        self.generator.eval()
        out = [self.generator(self.noise(min(batch_size, n - i), device, rng)).cpu() for i in range(0, n, batch_size)]
        self.generator.train(was_training)
        return torch.cat(out)
