"""Fixed top kernels of MMD-GANs, acting on discriminator outputs (003 §4.1; 001/002).

Every kernel here is radial: ``K(a, b) = g(-||a - b||²)``. Each exposes

* ``kernel(a, b)`` -> Gram matrix ``(n, m)`` for rows of ``a (n, d)`` and ``b (m, d)``;
* ``kernel.of_sqdist(d2)`` -> the kernel as a function of the squared distance;
* ``kernel.value_at_zero`` = ``K(a, a)`` and ``kernel.cross_hessian_coef`` = ``2 g'(0)``, so that
  ``∂²K/∂a∂b`` at ``a = b`` is ``cross_hessian_coef · I`` (what the Scaled MMD needs, 001 slide
  "when K is of the form g(-||a-b||²)").

The bounded RBF of 003 eqs. 6-7 is not a kernel of its own (it depends on which groups a pair
belongs to); it lives in :mod:`repro.core.mmd` as ``bounded_rbf_blocks``.
"""
from __future__ import annotations

import math
from typing import Sequence

import torch

RBF_SIGMAS = (1.0, math.sqrt(2.0), 2.0, 2.0 * math.sqrt(2.0), 4.0)  # 003 §5.1 (MMD-rbf)
RQ_ALPHAS = (0.2, 0.5, 1.0, 2.0, 5.0)  # 003 §5.1 (MMD-rq), Bińkowski et al.


def squared_distances(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """``||a_i - b_j||²`` for all pairs, clamped at 0 against round-off."""
    if a.dim() != 2 or b.dim() != 2 or a.shape[1] != b.shape[1]:
        raise ValueError(
            f"kernels take two 2-D tensors (n, d) and (m, d) with the same d; got {tuple(a.shape)} and "
            f"{tuple(b.shape)}. Flatten discriminator outputs with .flatten(1) first."
        )
    a2 = a.pow(2).sum(1, keepdim=True)
    b2 = b.pow(2).sum(1, keepdim=True)
    return (a2 + b2.T - 2.0 * a @ b.T).clamp_min(0.0)


class RadialKernel:
    """Base class: subclasses implement ``of_sqdist`` and the two constants."""

    name = "radial"
    value_at_zero: float
    cross_hessian_coef: float

    def of_sqdist(self, d2: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def __call__(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return self.of_sqdist(squared_distances(a, b))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._params()})"

    def _params(self) -> str:
        return ""


class GaussianRBF(RadialKernel):
    """``Σ_σ exp(-||a-b||² / (2σ²))`` (003 §4.1). One σ gives the single Gaussian kernel."""

    name = "rbf"

    def __init__(self, sigmas: Sequence[float] = (1.0,)):
        sigmas = tuple(float(s) for s in sigmas)
        if not sigmas or any(s <= 0 for s in sigmas):
            raise ValueError(f"GaussianRBF needs one or more positive bandwidths σ; got {sigmas}.")
        self.sigmas = sigmas
        self.value_at_zero = float(len(sigmas))
        # g(u) = Σ exp(u / 2σ²)  =>  2 g'(0) = Σ 1/σ²
        self.cross_hessian_coef = float(sum(1.0 / s**2 for s in sigmas))

    def of_sqdist(self, d2: torch.Tensor) -> torch.Tensor:
        return sum(torch.exp(-d2 / (2.0 * s * s)) for s in self.sigmas)

    def _params(self) -> str:
        return f"sigmas={self.sigmas}"


class RationalQuadratic(RadialKernel):
    """``Σ_α (1 + ||a-b||² / (2α))^(-α)`` (003 §4.1, Bińkowski et al.)."""

    name = "rq"

    def __init__(self, alphas: Sequence[float] = RQ_ALPHAS):
        alphas = tuple(float(a) for a in alphas)
        if not alphas or any(a <= 0 for a in alphas):
            raise ValueError(f"RationalQuadratic needs one or more positive α; got {alphas}.")
        self.alphas = alphas
        self.value_at_zero = float(len(alphas))
        # g(u) = (1 - u/2α)^(-α)  =>  g'(0) = 1/2 for every α  =>  2 g'(0) summed = len(alphas)
        self.cross_hessian_coef = float(len(alphas))

    def of_sqdist(self, d2: torch.Tensor) -> torch.Tensor:
        return sum((1.0 + d2 / (2.0 * a)).pow(-a) for a in self.alphas)

    def _params(self) -> str:
        return f"alphas={self.alphas}"


def rbf_sum(sigmas: Sequence[float] = RBF_SIGMAS) -> GaussianRBF:
    """MMD-rbf kernel of 003: a sum of five Gaussians, σ ∈ {1, √2, 2, 2√2, 4}."""
    return GaussianRBF(sigmas)


def rbf_single(sigma: float = 1.0) -> GaussianRBF:
    """Single Gaussian, σ = 1 (MMD-rbf-b, MMD-rep, MMD-rep-b of 003; the DiracGAN talk's kernel)."""
    return GaussianRBF((sigma,))


def rq_sum(alphas: Sequence[float] = RQ_ALPHAS) -> RationalQuadratic:
    """MMD-rq kernel of 003: a sum of five rational quadratics, α ∈ {0.2, 0.5, 1, 2, 5}."""
    return RationalQuadratic(alphas)


def make_kernel(name: str, **params) -> RadialKernel:
    """Fixed kernel by recipe name: ``rbf`` (σ sum), ``rbf1`` (σ=1), ``rq`` (α sum).

    Learned kernels (``ikl``, ``dk``) are modules with parameters; build them with
    :func:`repro.core.kernelnet.make_learned_kernel`.
    """
    builders = {"rbf": rbf_sum, "rbf1": rbf_single, "rbf-single": rbf_single, "rq": rq_sum}
    if name not in builders:
        raise ValueError(f"unknown fixed kernel {name!r}; choose one of {sorted(builders)} (or ikl/dk via kernelnet).")
    return builders[name](**params)
