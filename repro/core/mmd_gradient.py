"""Gradient-controlled MMD losses: witness-function gradient penalty (Bińkowski et al. 2018, talk 001),
Scaled MMD (Arbel et al. 2018; talks 001/002; 003 eq. S7) and MMD-rep-gp (003 eq. S8).

``x`` are real images, ``fx = D(x)`` their discriminator outputs. Functions that need ∇D(x) require
``fx`` to have been computed from an ``x`` with ``requires_grad=True`` (use :func:`features_with_input_grad`).
The discriminator must treat samples independently (no batch norm in training mode), which holds
for the DCGAN discriminator of 003 Table S1.
"""
from __future__ import annotations

from typing import Callable

import torch

from repro.core.losses import interpolate
from repro.core.mmd import KernelMeans, _as_features, loss_d_att, loss_d_rep, means

WITNESS_GP_WEIGHT = 1.0  # Bińkowski et al. 2018 (their MMD GAN-GP uses weight 1)
SMMD_LAMBDA = 10.0  # 003 App. D.1: "λ = 10 in Arbel et al. (2018)"
REP_GP_LAMBDA = 0.1  # 003 App. D.1


def features_with_input_grad(discriminator: Callable, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """``(x', D(x'))`` with ``x'`` a leaf copy of ``x`` that requires grad, ready for ∇D(x)."""
    xg = x.detach().requires_grad_(True)
    return xg, discriminator(xg)


def jacobian_sq_norms(outputs: torch.Tensor, inputs: torch.Tensor, create_graph: bool = True) -> torch.Tensor:
    """‖∂D(x_n)/∂x_n‖_F² for each sample n (one backward pass per output dimension)."""
    out = _as_features(outputs)
    total = torch.zeros(out.shape[0], device=out.device, dtype=out.dtype)
    for c in range(out.shape[1]):
        (g,) = torch.autograd.grad(out[:, c].sum(), inputs, create_graph=create_graph, retain_graph=True)
        total = total + g.flatten(1).pow(2).sum(1)
    return total


def jacobian_grams(outputs: torch.Tensor, inputs: torch.Tensor, create_graph: bool = True) -> torch.Tensor:
    """J_n J_nᵀ (``(n, k, k)``) of the per-sample Jacobians J_n = ∂D(x_n)/∂x_n."""
    out = _as_features(outputs)
    grads = []
    for c in range(out.shape[1]):
        (g,) = torch.autograd.grad(out[:, c].sum(), inputs, create_graph=create_graph, retain_graph=True)
        grads.append(g.flatten(1))
    jac = torch.stack(grads, 1)  # (n, k, D)
    return jac @ jac.transpose(1, 2)


# ---------------------------------------------------------------- witness gradient penalty


def witness_gradient_penalty(discriminator: Callable, kernel, x: torch.Tensor, y: torch.Tensor,
                             fx: torch.Tensor, fy: torch.Tensor) -> torch.Tensor:
    """E (‖∇_t f(t)‖ - 1)² at interpolates t = u x + (1 - u) y (talk 001, Bińkowski et al. 2018).

    Witness f(t) = mean_i K(D(x_i), D(t)) - mean_j K(D(y_j), D(t)), gradient taken in image space.
    """
    t = interpolate(x.detach(), y.detach()).requires_grad_(True)
    ft = _as_features(discriminator(t))
    witness = kernel(_as_features(fx), ft).mean(0) - kernel(_as_features(fy), ft).mean(0)
    (grad,) = torch.autograd.grad(witness.sum(), t, create_graph=True)
    return (grad.flatten(1).norm(dim=1) - 1.0).pow(2).mean()


def mmd_gp_d(discriminator, kernel, x, y, fx, fy, weight: float = WITNESS_GP_WEIGHT) -> torch.Tensor:
    """Discriminator loss -MMD² + weight · witness GP (MMD GAN-GP of Bińkowski et al.)."""
    return -means(fx, fy, kernel).mmd2() + weight * witness_gradient_penalty(discriminator, kernel, x, y, fx, fy)


# ---------------------------------------------------------------- Scaled MMD


def smmd_scale(grad_sq: torch.Tensor, lam: float = SMMD_LAMBDA) -> torch.Tensor:
    """Gaussian-kernel SMMD scale 1 / (1 + λ E‖∇D(x)‖_F²) (003 eq. S7); ``grad_sq`` per real sample."""
    return 1.0 / (1.0 + lam * grad_sq.mean())


def cross_hessian_at_diagonal(kernel, z: torch.Tensor) -> torch.Tensor:
    """H_n = ∂²K(a, b)/∂a∂b at a = b = z_n, shape ``(n, d, d)``.

    Radial kernels give ``cross_hessian_coef · I`` in closed form; any other kernel that maps two
    ``(1, d)`` tensors to a ``(1, 1)`` Gram matrix is differentiated with torch.func.
    """
    z = _as_features(z)
    n, d = z.shape
    coef = getattr(kernel, "cross_hessian_coef", None)
    if coef is not None:
        return coef * torch.eye(d, device=z.device, dtype=z.dtype).expand(n, d, d)

    from torch.func import jacfwd, jacrev, vmap  # imported on use: torch.func's first import is slow

    from .forward_ad import ready

    ready()
    def k(a, b):
        return kernel(a[None], b[None])[0, 0]

    return vmap(jacfwd(jacrev(k, argnums=0), argnums=1))(z, z)


def smmd_sigma2(kernel, x: torch.Tensor, fx: torch.Tensor, lam: float = 1.0, create_graph: bool = True) -> torch.Tensor:
    """σ² of the general Scaled MMD (talk 001; Arbel et al. 2018):

    σ^{-2} = λ + E_x K(D(x), D(x)) + E_x Σ_i ∂_{x_i} ∂_{y_i} K(D(x), D(y))|_{y=x}
           = λ + E_x K(z, z) + E_x tr(H(z) J(x) J(x)ᵀ),   z = D(x), J = ∂D/∂x, H = ∂²K/∂a∂b at (z, z).

    For radial kernels H = 2g'(0) I, so the last term is 2g'(0) E‖J‖_F² (talk 001).
    """
    z = _as_features(fx)
    coef = getattr(kernel, "cross_hessian_coef", None)
    if coef is not None:
        diag = torch.full((), float(kernel.value_at_zero), device=z.device, dtype=z.dtype)
        grad_term = coef * jacobian_sq_norms(z, x, create_graph).mean()
    else:
        diag = torch.stack([kernel(zi[None], zi[None])[0, 0] for zi in z]).mean()
        hess = cross_hessian_at_diagonal(kernel, z)
        grad_term = (hess * jacobian_grams(z, x, create_graph)).sum((-2, -1)).mean()
    return 1.0 / (lam + diag + grad_term)


def smmd_losses(kernel, x: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor, lam: float = SMMD_LAMBDA,
                general: bool = False, for_generator: bool = False) -> torch.Tensor:
    """Scaled MMD losses: discriminator ``-σ² MMD²`` (003 eq. S7), generator ``σ² MMD²`` (talk 001).

    ``general=False`` uses the S7 scale 1/(1 + λ E‖∇D‖²); ``general=True`` the σ² of
    :func:`smmd_sigma2` with the kernel's second derivative. For the generator the scale carries no
    gradient to G (it depends on real data only) and is computed without a double-backward graph.
    """
    grad_graph = not for_generator
    if general:
        scale = smmd_sigma2(kernel, x, fx, lam, create_graph=grad_graph)
    else:
        scale = smmd_scale(jacobian_sq_norms(fx, x, create_graph=grad_graph), lam)
    if for_generator:
        scale = scale.detach()
    m = means(fx, fy, kernel)
    return scale * m.mmd2() if for_generator else scale * loss_d_att(m)


def rep_gp_d(kernel, x: torch.Tensor, fx: torch.Tensor, fy: torch.Tensor, lam: float = REP_GP_LAMBDA) -> torch.Tensor:
    """MMD-rep-gp discriminator loss (L_D^rep - 1) / (1 + λ E‖∇D(x)‖_F²) (003 eq. S8).

    The numerator is ≤ 0 for a kernel bounded by 1 (the single Gaussian of 003); generator: L_G^mmd.
    """
    m: KernelMeans = means(fx, fy, kernel)
    return (loss_d_rep(m) - 1.0) * smmd_scale(jacobian_sq_norms(fx, x), lam)
