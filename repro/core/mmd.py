"""MMD² estimators and the MMD-GAN losses built from them (003 eqs. 1-7, S1, S4; 000 eq. 14).

All functions take discriminator outputs ``fx`` (real, ``(n, d)``) and ``fy`` (generated, ``(m, d)``)
and a kernel: any object with ``kernel(a, b) -> (n, m)`` Gram matrix, optionally ``kernel.gram(z)``
for the joint Gram of one set (learned kernels use it to share their random features between the
three blocks of one MMD estimate).

Estimator convention (003 eq. S4): with ``unbiased=True`` the diagonals ``i = j`` are excluded from
the XX and YY means and, when ``n == m``, also from the XY mean (Gretton et al. 2012, eq. 3 U-statistic).
When ``n != m`` the XY mean runs over all pairs (the only unbiased choice). ``unbiased=False`` gives
the biased V-statistic (every mean includes its diagonal).
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from repro.core.kernels import squared_distances


@dataclass
class KernelMeans:
    """The three kernel expectations of an MMD estimate: E k(x,x'), E k(y,y'), E k(x,y)."""

    xx: torch.Tensor
    yy: torch.Tensor
    xy: torch.Tensor

    def mmd2(self) -> torch.Tensor:
        return self.xx + self.yy - 2.0 * self.xy  # 003 eq. 1


def _as_features(t: torch.Tensor) -> torch.Tensor:
    if t.dim() == 1:
        return t[:, None]
    return t.flatten(1)


def joint_gram(kernel, z: torch.Tensor) -> torch.Tensor:
    """Gram matrix of one set of points, using ``kernel.gram`` when the kernel has it."""
    gram = getattr(kernel, "gram", None)
    return gram(z) if gram is not None else kernel(z, z)


def gram_blocks(fx: torch.Tensor, fy: torch.Tensor, kernel) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(K_xx, K_yy, K_xy)`` from one joint Gram matrix of ``[fx; fy]``."""
    fx, fy = _as_features(fx), _as_features(fy)
    if fx.shape[1] != fy.shape[1]:
        raise ValueError(f"real and generated features differ in dimension: {fx.shape[1]} vs {fy.shape[1]}.")
    n = fx.shape[0]
    k = joint_gram(kernel, torch.cat([fx, fy], 0))
    return k[:n, :n], k[n:, n:], k[:n, n:]


def _mean_offdiag(k: torch.Tensor) -> torch.Tensor:
    n = k.shape[0]
    if n < 2:
        raise ValueError("the unbiased MMD² estimator needs at least 2 samples per set; got 1.")
    return (k.sum() - k.diagonal().sum()) / (n * (n - 1))


def kernel_means(kxx: torch.Tensor, kyy: torch.Tensor, kxy: torch.Tensor, unbiased: bool = True) -> KernelMeans:
    """Estimates of E k(x,x'), E k(y,y'), E k(x,y) from Gram blocks (003 eq. S4 when unbiased)."""
    if not unbiased:
        return KernelMeans(kxx.mean(), kyy.mean(), kxy.mean())
    square = kxy.shape[0] == kxy.shape[1]
    return KernelMeans(_mean_offdiag(kxx), _mean_offdiag(kyy), _mean_offdiag(kxy) if square else kxy.mean())


def means(fx: torch.Tensor, fy: torch.Tensor, kernel, unbiased: bool = True) -> KernelMeans:
    return kernel_means(*gram_blocks(fx, fy, kernel), unbiased=unbiased)


def mmd2(x: torch.Tensor, y: torch.Tensor, kernel, unbiased: bool = True) -> torch.Tensor:
    """Squared MMD between samples ``x (n, d)`` and ``y (m, d)`` under ``kernel`` (003 eqs. 1 and S4)."""
    return means(x, y, kernel, unbiased).mmd2()


# ---------------------------------------------------------------- losses on kernel means


def loss_g_mmd(m: KernelMeans) -> torch.Tensor:
    """Generator loss L_G^mmd = MMD² (003 eq. 2)."""
    return m.mmd2()


def loss_d_lambda(m: KernelMeans, lam: float) -> torch.Tensor:
    """General discriminator loss L_{D,λ} (003 eq. 5; 000 eq. 14 with η = λ).

    λ = -1 is the attractive loss L_D^att = -MMD² (eq. 3); λ = 1 the repulsive L_D^rep (eq. 4).
    """
    return lam * m.xx - (lam - 1.0) * m.xy - m.yy


def loss_d_att(m: KernelMeans) -> torch.Tensor:
    return loss_d_lambda(m, -1.0)


def loss_d_rep(m: KernelMeans) -> torch.Tensor:
    return loss_d_lambda(m, 1.0)


# ---------------------------------------------------------------- bounded RBF (RBF-B)

RBF_B_LOWER = 0.25  # b_l, 003 §4.1
RBF_B_UPPER = 4.0  # b_u, 003 §4.1


def bounded_rbf_blocks(
    fx: torch.Tensor,
    fy: torch.Tensor,
    lam: float,
    sigma: float = 1.0,
    b_lower: float = RBF_B_LOWER,
    b_upper: float = RBF_B_UPPER,
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Gram blocks of the bounded Gaussian kernel RBF-B for the loss L_{D,λ} (003 eqs. 6-7).

    Pairs the loss *contracts* (negative weight in L_{D,λ}: the discriminator raises their kernel
    value) have squared distances clipped below at ``b_lower``; pairs it *separates* (positive
    weight) are clipped above at ``b_upper``. At λ = -1 this is eq. 6 (XX, YY lower; XY upper), at
    λ = 1 eq. 7 (YY lower; XX upper). Weights: XX ↦ λ, XY ↦ 1 - λ, YY ↦ -1. For other λ the same rule
    is our reading (003 footnote 5 uses eq. 6 for every λ < 0, which this rule reproduces).
    Only for the discriminator: the generator always uses the plain RBF (003 §4.1).
    """
    fx, fy = _as_features(fx), _as_features(fy)

    def clip(d2: torch.Tensor, weight: float) -> torch.Tensor:
        if weight > 0:
            return d2.clamp(max=b_upper)
        if weight < 0:
            return d2.clamp(min=b_lower)
        return d2

    def k(d2: torch.Tensor) -> torch.Tensor:
        return torch.exp(-d2 / (2.0 * sigma * sigma))

    return (
        k(clip(squared_distances(fx, fx), lam)),
        k(clip(squared_distances(fy, fy), -1.0)),
        k(clip(squared_distances(fx, fy), 1.0 - lam)),
    )


def loss_d_lambda_bounded(fx: torch.Tensor, fy: torch.Tensor, lam: float, sigma: float = 1.0,
                          b_lower: float = RBF_B_LOWER, b_upper: float = RBF_B_UPPER,
                          unbiased: bool = True) -> torch.Tensor:
    """L_{D,λ} with the RBF-B kernel (MMD-rbf-b at λ = -1, MMD-rep-b at λ = 1)."""
    blocks = bounded_rbf_blocks(fx, fy, lam, sigma, b_lower, b_upper)
    return loss_d_lambda(kernel_means(*blocks, unbiased=unbiased), lam)
