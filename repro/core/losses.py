"""Classic GAN losses (003 App. B.1), WGAN-GP (Gulrajani et al. 2017) and consistency
regularisation (CR-GAN, Zhang et al. 2020; a row of 000 Table 2).

``d_real`` / ``d_fake`` are discriminator outputs with a linear last layer (003 App. B.1), shape
``(n,)`` or ``(n, 1)``. Each ``*_d`` returns the discriminator loss, each ``*_g`` the generator loss,
both to be minimised. SN-GAN is the hinge loss with spectral normalisation (Miyato et al. 2018):
pair :func:`hinge_d`/:func:`hinge_g` with :mod:`repro.core.spectral`.
"""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F

WGAN_GP_WEIGHT = 10.0  # Gulrajani et al. 2017
CR_WEIGHT = 10.0  # Zhang et al. 2020 (CIFAR-10); issue 4
CR_MAX_SHIFT = 4  # pixels; Zhang et al. 2020 translate by "a few pixels": our choice, 1/8 of 32


def minimax_d(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """L_D = E softplus(-D(x)) + E softplus(D(G(z))) (003 App. B.1)."""
    return F.softplus(-d_real).mean() + F.softplus(d_fake).mean()


def minimax_g(d_fake: torch.Tensor, d_real: torch.Tensor | None = None) -> torch.Tensor:
    """L_G = -L_D; only the fake term depends on G, so the real term is added only when given."""
    loss = -F.softplus(d_fake).mean()
    if d_real is not None:
        loss = loss - F.softplus(-d_real).mean()
    return loss


def nonsaturating_g(d_fake: torch.Tensor) -> torch.Tensor:
    """L_G = E softplus(-D(G(z))) (003 App. B.1); L_D is :func:`minimax_d`."""
    return F.softplus(-d_fake).mean()


nonsaturating_d = minimax_d


def hinge_d(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """L_D = E ReLU(1 - D(x)) + E ReLU(1 + D(G(z))) (003 App. B.1)."""
    return F.relu(1.0 - d_real).mean() + F.relu(1.0 + d_fake).mean()


def hinge_g(d_fake: torch.Tensor) -> torch.Tensor:
    """L_G = -E D(G(z))."""
    return -d_fake.mean()


def wasserstein_d(d_real: torch.Tensor, d_fake: torch.Tensor) -> torch.Tensor:
    """L_D = E D(G(z)) - E D(x) (003 App. B.1)."""
    return d_fake.mean() - d_real.mean()


def wasserstein_g(d_fake: torch.Tensor) -> torch.Tensor:
    return -d_fake.mean()


def interpolate(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """u x + (1 - u) y with one u ~ U(0, 1) per sample (Gulrajani et al.; Bińkowski et al.)."""
    if x.shape != y.shape:
        raise ValueError(f"interpolation needs real and fake batches of equal shape; got {tuple(x.shape)} "
                         f"and {tuple(y.shape)}.")
    u = torch.rand(x.shape[0], *([1] * (x.dim() - 1)), device=x.device, dtype=x.dtype)
    return u * x + (1.0 - u) * y


def gradient_penalty(discriminator: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor,
                     y: torch.Tensor) -> torch.Tensor:
    """E (‖∇D(x̂)‖ - 1)² on interpolates x̂ (WGAN-GP, Gulrajani et al. 2017); multiply by the weight."""
    xhat = interpolate(x.detach(), y.detach()).requires_grad_(True)
    out = discriminator(xhat)
    (grad,) = torch.autograd.grad(out.sum(), xhat, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1.0).pow(2).mean()


def wgan_gp_d(discriminator, x: torch.Tensor, y: torch.Tensor, d_real: torch.Tensor, d_fake: torch.Tensor,
              weight: float = WGAN_GP_WEIGHT) -> torch.Tensor:
    return wasserstein_d(d_real, d_fake) + weight * gradient_penalty(discriminator, x, y)


# ---------------------------------------------------------------- consistency regularisation


def flip_and_translate(x: torch.Tensor, max_shift: int = CR_MAX_SHIFT) -> torch.Tensor:
    """CR-GAN augmentation: random horizontal flip, then a random shift of up to ``max_shift`` pixels
    in each direction with reflection padding (Zhang et al. 2020; the padding mode is our choice)."""
    if x.dim() != 4:
        raise ValueError(f"flip_and_translate expects images (n, c, h, w); got shape {tuple(x.shape)}.")
    n, _, h, w = x.shape
    flip = torch.rand(n, device=x.device) < 0.5
    x = torch.where(flip[:, None, None, None], x.flip(3), x)
    if max_shift <= 0:
        return x
    padded = F.pad(x, (max_shift,) * 4, mode="reflect")
    dx = torch.randint(0, 2 * max_shift + 1, (n,), device=x.device)
    dy = torch.randint(0, 2 * max_shift + 1, (n,), device=x.device)
    rows = (dy[:, None] + torch.arange(h, device=x.device)[None, :])  # (n, h)
    cols = (dx[:, None] + torch.arange(w, device=x.device)[None, :])  # (n, w)
    idx_n = torch.arange(n, device=x.device)[:, None, None]
    out = padded.permute(0, 2, 3, 1)[idx_n, rows[:, :, None], cols[:, None, :]]  # (n, h, w, c)
    return out.permute(0, 3, 1, 2).contiguous()


def consistency_penalty(discriminator, x: torch.Tensor, d_real: torch.Tensor | None = None,
                        augment: Callable[[torch.Tensor], torch.Tensor] = flip_and_translate) -> torch.Tensor:
    """E ‖D(x) - D(T(x))‖² over real images x (Zhang et al. 2020); multiply by the weight (10)."""
    if d_real is None:
        d_real = discriminator(x)
    d_aug = discriminator(augment(x))
    return (d_real - d_aug).flatten(1).pow(2).sum(1).mean()
