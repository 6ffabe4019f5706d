"""The five models of 004 Table 1 (mode capture on a 5×5 Gaussian mixture), behind one builder.

``build_toy_model(family, params, sigma, device)``: ``family`` in ``FAMILIES``; ``params`` holds the
model's hyper-parameters (z_dim, hidden, learning rates, ...); ``sigma`` is the mixture's component
std, used as the std of SIG's explicit likelihood N(theta, sigma² I).
"""
from __future__ import annotations

import torch

from .base import ToyModel
from .gan import GAN
from .semi_implicit import SIG
from .unrolled_gan import UnrolledGAN
from .vae import VAE
from .veegan import VEEGAN

FAMILIES = {"gan": GAN, "unrolled-gan": UnrolledGAN, "veegan": VEEGAN, "vae": VAE, "sig": SIG}
_NEEDS_SIGMA = {"sig"}


def build_toy_model(family: str, params: dict | None, sigma: float, device: torch.device | str = "cpu") -> ToyModel:
    if family not in FAMILIES:
        raise ValueError(f"unknown toy model '{family}'; choose one of {', '.join(FAMILIES)}")
    kwargs = dict(params or {})
    if family in _NEEDS_SIGMA:
        kwargs.setdefault("sigma", sigma)
    try:
        return FAMILIES[family](device=device, **kwargs)
    except TypeError as err:
        raise ValueError(f"bad hyper-parameters for toy model '{family}': {err}") from None


__all__ = ["FAMILIES", "GAN", "SIG", "ToyModel", "UnrolledGAN", "VAE", "VEEGAN", "build_toy_model"]
