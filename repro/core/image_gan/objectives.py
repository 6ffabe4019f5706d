"""Recipe → discriminator and generator losses for image GANs.

An :class:`Objective` has ``d_loss(D, x, y)`` (``y`` generated images, detached) and ``g_loss(D, x, y)``
(``y`` with its graph to G), and an optional ``kernel`` module whose parameters the discriminator's
side trains (KernelNet). Losses, by the recipe's ``loss``:

* ``non-saturating`` / ``hinge`` / ``wgan-gp``: 003 App. B.1; Gulrajani et al. (GP weight 10).
* ``mmd``: L_{D,λ} (003 eq. 5; λ = -1 attractive, 1 repulsive) with kernel ``rbf`` (five σ), ``rq``
  (five α) or ``rbf1`` (σ = 1); ``bounded: true`` uses RBF-B for D only (003 eqs. 6-7); G: L_G^mmd with
  the plain kernel (003 eq. 2).
* ``rep-gp``: 003 eq. S8 (λ = 0.1), no spectral normalisation; G: L_G^mmd.
* ``smmd``: Scaled MMD, 003 eq. S7 with the Gaussian kernel σ = 1 and λ = 10 (Arbel et al.).
* ``kernelnet``: 000 eqs. 9/11/13 with a learned IKL or DK kernel (``variant`` mmd | smmd | rep).
* ``cr: true`` adds Zhang et al.'s consistency penalty (weight 10) to D's loss (CR-GAN).
* ``si: true`` adds the semi-implicit term λ_SI·H_M (004 eq. 12, Gaussian p(x|θ) with ``si_sigma``) to G's
  loss; λ_SI = |L_G| / |H_M| (detached) each step, so both terms are "on the same scale" (004 §3).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import nn

from repro.core import kernelnet_losses as kl
from repro.core import losses as classic
from repro.core.kernelnet import make_learned_kernel
from repro.core.kernels import make_kernel
from repro.core.mmd import loss_d_lambda, loss_d_lambda_bounded, loss_g_mmd, means
from repro.core.mmd_gradient import REP_GP_LAMBDA, SMMD_LAMBDA, features_with_input_grad, rep_gp_d, smmd_losses
from repro.core.sig import gaussian_log_likelihood, sig_cross_entropy

LOSSES = ("non-saturating", "hinge", "wgan-gp", "mmd", "rep-gp", "smmd", "kernelnet")
SI_SIGMA = 0.1  # 004 leaves σ of p(x|θ) = N(θ, σ²I) open for images; our choice (pixel scale [-1, 1])


@dataclass
class Objective:
    d_loss: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
    g_loss: Callable[[nn.Module, torch.Tensor, torch.Tensor], torch.Tensor]
    kernel: nn.Module | None = None
    name: str = ""


def _fixed_kernel(name: str):
    return make_kernel(name)


def both(D, x, y):
    """(D(x), D(y)) from one forward pass of [x; y]: D has no batch statistics, and a spectrally
    normalised D then does one power iteration per loss evaluation (Miyato et al.)."""
    out = D(torch.cat([x, y], 0))
    return out[: x.shape[0]], out[x.shape[0]:]


def _mmd(recipe: dict) -> Objective:
    lam = float(recipe.get("lambda", -1.0))
    kernel = _fixed_kernel(recipe.get("kernel", "rbf"))
    bounded = bool(recipe.get("bounded", False))
    if bounded and recipe.get("kernel", "rbf1") != "rbf1":
        raise ValueError("RBF-B (bounded: true) is a single Gaussian with σ = 1 (003 §4.1); use kernel: rbf1.")

    def d_loss(D, x, y):
        fx, fy = both(D, x, y)
        return loss_d_lambda_bounded(fx, fy, lam) if bounded else loss_d_lambda(means(fx, fy, kernel), lam)

    def g_loss(D, x, y):
        return loss_g_mmd(means(*both(D, x, y), kernel))

    return Objective(d_loss, g_loss, name=f"mmd(λ={lam}, {kernel!r}{', RBF-B' if bounded else ''})")


def _rep_gp(recipe: dict) -> Objective:
    kernel = _fixed_kernel(recipe.get("kernel", "rbf1"))
    lam = float(recipe.get("gp_lambda", REP_GP_LAMBDA))

    def d_loss(D, x, y):
        xg, fx = features_with_input_grad(D, x)
        return rep_gp_d(kernel, xg, fx, D(y), lam)

    def g_loss(D, x, y):
        return loss_g_mmd(means(*both(D, x, y), kernel))

    return Objective(d_loss, g_loss, name="rep-gp")


def _smmd(recipe: dict) -> Objective:
    kernel = _fixed_kernel(recipe.get("kernel", "rbf1"))
    lam = float(recipe.get("gp_lambda", SMMD_LAMBDA))

    def d_loss(D, x, y):
        xg, fx = features_with_input_grad(D, x)
        return smmd_losses(kernel, xg, fx, D(y), lam)

    def g_loss(D, x, y):
        xg, fx = features_with_input_grad(D, x)
        return smmd_losses(kernel, xg, fx, D(y), lam, for_generator=True)

    return Objective(d_loss, g_loss, name="smmd")


def _kernelnet(recipe: dict, out_dim: int) -> Objective:
    kernel = make_learned_kernel(recipe.get("kernel", "dk"), out_dim)
    variant = recipe.get("variant", "mmd")
    alpha2 = float(recipe.get("alpha2", kl.ALPHA2.get(variant, 0.0)))
    alpha1 = float(recipe.get("alpha1", kl.ALPHA1))
    zeta, eta = float(recipe.get("zeta", kl.ZETA)), float(recipe.get("eta", kl.ETA))
    if variant == "mmd":
        def d_loss(D, x, y):
            return kl.mmd_dk_d(kernel, *both(D, x, y), alpha2)

        def g_loss(D, x, y):
            return kl.mmd_dk_g(kernel, *both(D, x, y), alpha1)
    elif variant == "smmd":
        def d_loss(D, x, y):
            xg, fx = features_with_input_grad(D, x)
            return kl.smmd_dk_d(kernel, xg, fx, D(y), zeta, alpha2)

        def g_loss(D, x, y):
            xg, fx = features_with_input_grad(D, x)
            return kl.smmd_dk_g(kernel, xg, fx, D(y), zeta, alpha1)
    elif variant == "rep":
        def d_loss(D, x, y):
            return kl.rep_dk_d(kernel, *both(D, x, y), eta, alpha2)

        def g_loss(D, x, y):
            return kl.mmd_dk_g(kernel, *both(D, x, y), alpha1)
    else:
        raise ValueError(f"kernelnet variant must be mmd, smmd or rep; got {variant!r}.")
    return Objective(d_loss, g_loss, kernel=kernel, name=f"kernelnet-{variant}-{kernel.name}")


def _classic(loss: str, recipe: dict) -> Objective:
    if loss == "non-saturating":
        def d_loss(D, x, y):
            return classic.minimax_d(*both(D, x, y))

        def g_loss(D, x, y):
            return classic.nonsaturating_g(D(y))
    elif loss == "hinge":
        def d_loss(D, x, y):
            return classic.hinge_d(*both(D, x, y))

        def g_loss(D, x, y):
            return classic.hinge_g(D(y))
    else:  # wgan-gp
        weight = float(recipe.get("gp_weight", classic.WGAN_GP_WEIGHT))

        def d_loss(D, x, y):
            return classic.wgan_gp_d(D, x, y, *both(D, x, y), weight)

        def g_loss(D, x, y):
            return classic.wasserstein_g(D(y))
    return Objective(d_loss, g_loss, name=loss)


def _with_consistency(obj: Objective, weight: float) -> Objective:
    base = obj.d_loss

    def d_loss(D, x, y):
        return base(D, x, y) + weight * classic.consistency_penalty(D, x)

    return Objective(d_loss, obj.g_loss, obj.kernel, obj.name + "+cr")


def _with_semi_implicit(obj: Objective, sigma: float) -> Objective:
    base = obj.g_loss
    log_p = gaussian_log_likelihood(sigma)

    def g_loss(D, x, y):
        gan = base(D, x, y)
        h = sig_cross_entropy(x.flatten(1), y.flatten(1), log_p)  # 004 eq. 12, θ = G(z)
        scale = (gan.detach().abs() / h.detach().abs().clamp_min(1e-12))
        return gan + scale * h

    return Objective(obj.d_loss, g_loss, obj.kernel, obj.name + "+si")


def build_objective(recipe: dict, out_dim: int) -> Objective:
    loss = recipe.get("loss")
    if loss not in LOSSES:
        raise ValueError(f"image-gan recipe needs 'loss' in {LOSSES}; got {loss!r}.")
    if loss == "mmd":
        obj = _mmd(recipe)
    elif loss == "rep-gp":
        obj = _rep_gp(recipe)
    elif loss == "smmd":
        obj = _smmd(recipe)
    elif loss == "kernelnet":
        obj = _kernelnet(recipe, out_dim)
    else:
        obj = _classic(loss, recipe)
    if recipe.get("cr"):
        obj = _with_consistency(obj, float(recipe.get("cr_weight", classic.CR_WEIGHT)))
    if recipe.get("si"):
        obj = _with_semi_implicit(obj, float(recipe.get("si_sigma", SI_SIGMA)))
    return obj
