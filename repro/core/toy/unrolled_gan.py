"""Unrolled GAN (Metz et al. 2016): the generator descends the loss of a discriminator looked K Adam steps ahead.

f_K(θ_G, θ_D) = f(θ_G, θ_D^K(θ_G, θ_D)), θ_D^{k+1} = θ_D^k + Adam step on f(θ_G, θ_D^k) (Metz et al. eq. 4-6).
The K look-ahead steps are taken functionally (``torch.func.functional_call``) with ``create_graph=True``
so the generator's gradient flows through every unrolled update, including Adam's moment estimates,
as in the authors' reference notebook (poolio/unrolled_gan: same mini-batch for all K steps, Adam
unrolled from the discriminator optimiser's current moments). The real discriminator then takes its
ordinary step from the same starting point (simultaneous update, as in that notebook).
"""
from __future__ import annotations

import torch
from torch.func import functional_call

from .base import descend
from .gan import GAN, discriminator_loss


def _adam_state(opt: torch.optim.Adam, p: torch.Tensor):
    st = opt.state.get(p, {})
    if not st:
        return torch.zeros_like(p), torch.zeros_like(p), 0
    return st["exp_avg"].detach(), st["exp_avg_sq"].detach(), int(st["step"])


class UnrolledGAN(GAN):
    """``unroll_steps`` = K (Metz et al.'s mixture experiment: 5); K = 0 is the GAN with the same loss."""

    def __init__(self, *args, unroll_steps: int = 5, generator_loss: str = "minimax", **kwargs):
        super().__init__(*args, generator_loss=generator_loss, **kwargs)
        if unroll_steps < 0:
            raise ValueError(f"unroll_steps must be >= 0, got {unroll_steps}")
        self.unroll_steps = int(unroll_steps)

    def unrolled_discriminator(self, x_real: torch.Tensor, fake: torch.Tensor) -> dict[str, torch.Tensor]:
        """θ_D^K as a differentiable function of ``fake`` (hence of the generator's parameters)."""
        group = self.opt_d.param_groups[0]
        lr, (b1, b2), eps = group["lr"], group["betas"], group["eps"]
        names = [n for n, _ in self.discriminator.named_parameters()]
        params = [p for _, p in self.discriminator.named_parameters()]
        moments = [_adam_state(self.opt_d, p) for p in params]
        m = [mo[0] for mo in moments]
        v = [mo[1] for mo in moments]
        t = moments[0][2] if moments else 0
        current = [p.detach().requires_grad_(True) for p in params]
        for _ in range(self.unroll_steps):
            d = lambda x: functional_call(self.discriminator, dict(zip(names, current)), (x,))
            loss = discriminator_loss(d(x_real), d(fake))
            grads = torch.autograd.grad(loss, current, create_graph=True)
            t += 1
            new = []
            for i, (p, g) in enumerate(zip(current, grads)):
                m[i] = b1 * m[i] + (1 - b1) * g
                v[i] = b2 * v[i] + (1 - b2) * g * g
                m_hat = m[i] / (1 - b1 ** t)
                v_hat = v[i] / (1 - b2 ** t)
                # clamp keeps d sqrt/dv finite where a gradient is exactly 0 (dead ReLU); value unchanged
                new.append(p - lr * m_hat / (v_hat.clamp_min(1e-30).sqrt() + eps))
            current = new
        return dict(zip(names, current))

    def unrolled_generator_loss(self, x_real: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The generator's objective evaluated with the K-step look-ahead discriminator."""
        fake = self.generator(z)
        params = self.unrolled_discriminator(x_real, fake)
        d = lambda x: functional_call(self.discriminator, params, (x,))
        return self.generator_objective(d(fake), d(x_real))

    def train_step(self, x_real: torch.Tensor) -> dict[str, float]:
        x_real = x_real.to(self.device, self.dtype)
        z = self.noise(x_real.shape[0])
        g_loss = self.unrolled_generator_loss(x_real, z)
        g_params = list(self.generator.parameters())
        g_grads = torch.autograd.grad(g_loss, g_params)

        with torch.no_grad():
            fake = self.generator(z)
        d_loss = discriminator_loss(self.discriminator(x_real), self.discriminator(fake))
        d_value = descend(self.opt_d, d_loss)

        for p, g in zip(g_params, g_grads):
            p.grad = g
        self.opt_g.step()
        return {"loss": float(g_loss.detach()), "d_loss": d_value}
