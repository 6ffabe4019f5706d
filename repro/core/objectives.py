"""Recipe -> discriminator and generator losses: one object a GAN trainer calls each step.

A recipe (a method of ``repro/methods.yaml``) names its loss and kernel; everything else has the
seed's default. Keys read here:

``loss``   nonsaturating | minimax | hinge | wgan-gp | mmd | mmd-gp | smmd | mmd-rep-gp | mmd-dk | smmd-dk
``kernel`` rbf (σ sum) | rbf1 (σ = 1) | rq | rbf-b (bounded, D only) | ikl | dk   (MMD losses only)
``lam``    λ of L_{D,λ} for ``mmd`` (-1 attractive, 1 repulsive; default -1); η of Rep-GAN for ``mmd-dk``
           (``mmd-dk`` with ``lam`` set is Rep-GAN-DK/IKL, without it SN-MMD-GAN-DK/IKL, eq. 9)
``cr``     consistency-regularisation weight (CR-GAN; 10 in Zhang et al.), default 0
``alpha2``, ``zeta``, ``gp_weight``, ``smmd_lambda``, ``omega_pairs``: overrides of the seed constants.

Lipschitz control and the networks are separate components (:mod:`repro.core.spectral`,
:mod:`repro.core.nets`); the trainer applies them to the discriminator.

Usage::

    obj = GanObjective(recipe, out_dim=16).to(device)
    opt_d = Adam(list(D.parameters()) + list(obj.parameters()), ...)   # KernelNet trains with D
    loss_d = obj.d_loss(D, x, fake.detach()); loss_g = obj.g_loss(D, x, fake)
"""
from __future__ import annotations

import torch
from torch import nn

from repro.core import losses as L
from repro.core import kernelnet_losses as KL
from repro.core import mmd_gradient as MG
from repro.core.kernelnet import make_learned_kernel
from repro.core.kernels import make_kernel, rbf_single
from repro.core.mmd import loss_d_lambda, loss_d_lambda_bounded, loss_g_mmd, means

CLASSIC = ("nonsaturating", "minimax", "hinge", "wgan-gp")
MMD_LOSSES = ("mmd", "mmd-gp", "smmd", "mmd-rep-gp", "mmd-dk", "smmd-dk")
FIXED_KERNELS = ("rbf", "rbf1", "rq", "rbf-b")
LEARNED_KERNELS = ("ikl", "dk")


class GanObjective(nn.Module):
    """Holds the (possibly learned) kernel and computes the two losses of one method."""

    def __init__(self, recipe: dict, out_dim: int):
        super().__init__()
        self.recipe = dict(recipe)
        self.loss = recipe.get("loss")
        if self.loss not in CLASSIC + MMD_LOSSES:
            raise ValueError(f"recipe loss {self.loss!r} is unknown; choose one of {CLASSIC + MMD_LOSSES}.")
        self.kernel_name = recipe.get("kernel")
        self.cr_weight = float(recipe.get("cr", 0.0))
        self.learned: nn.Module | None = None  # a learned kernel's parameters train with D
        self._fixed = None
        if self.loss in MMD_LOSSES:
            self._build_kernel(out_dim)

    def _build_kernel(self, out_dim: int) -> None:
        name = self.kernel_name
        dk_loss = self.loss in ("mmd-dk", "smmd-dk")
        if dk_loss != (name in LEARNED_KERNELS):
            raise ValueError(f"loss {self.loss!r} needs a {'learned (ikl/dk)' if dk_loss else 'fixed'} kernel; "
                             f"got kernel {name!r}.")
        if name in LEARNED_KERNELS:
            self.learned = make_learned_kernel(name, out_dim)
        elif name == "rbf-b":
            if self.loss != "mmd":
                raise ValueError("the bounded RBF kernel (rbf-b) pairs with loss 'mmd' only (003 §4.1).")
            self._fixed = rbf_single()  # the generator's plain RBF; D uses the bounded blocks
        elif name in FIXED_KERNELS:
            self._fixed = make_kernel(name)
        else:
            raise ValueError(f"recipe kernel {name!r} is unknown; choose one of {FIXED_KERNELS + LEARNED_KERNELS}.")

    @property
    def kernel(self):
        """The kernel of the MMD losses (None for the classic losses)."""
        return self.learned if self.learned is not None else self._fixed

    def _get(self, key: str, default):
        value = self.recipe.get(key)
        return default if value is None else value

    # ------------------------------------------------------------ discriminator
    def d_loss(self, disc, x: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        fake = fake.detach()
        needs_input_grad = self.loss in ("smmd", "mmd-rep-gp", "smmd-dk")
        if needs_input_grad:
            x, fx = MG.features_with_input_grad(disc, x)
        else:
            fx = disc(x)
        fy = disc(fake)
        loss = self._d_main(disc, x, fake, fx, fy)
        if self.cr_weight:
            loss = loss + self.cr_weight * L.consistency_penalty(disc, x.detach(), fx)
        return loss

    def _d_main(self, disc, x, fake, fx, fy) -> torch.Tensor:
        lo, k = self.loss, self.kernel
        if lo in ("nonsaturating", "minimax"):
            return L.minimax_d(fx, fy)
        if lo == "hinge":
            return L.hinge_d(fx, fy)
        if lo == "wgan-gp":
            return L.wgan_gp_d(disc, x, fake, fx, fy, self._get("gp_weight", L.WGAN_GP_WEIGHT))
        if lo == "mmd":
            lam = float(self._get("lam", -1.0))
            if self.kernel_name == "rbf-b":
                return loss_d_lambda_bounded(fx, fy, lam)
            return loss_d_lambda(means(fx, fy, k), lam)
        if lo == "mmd-gp":
            return MG.mmd_gp_d(disc, k, x, fake, fx, fy, self._get("gp_weight", MG.WITNESS_GP_WEIGHT))
        if lo == "smmd":
            return MG.smmd_losses(k, x, fx, fy, self._get("smmd_lambda", MG.SMMD_LAMBDA))
        if lo == "mmd-rep-gp":
            return MG.rep_gp_d(k, x, fx, fy, self._get("smmd_lambda", MG.REP_GP_LAMBDA))
        pairs = int(self._get("omega_pairs", 256))
        if lo == "mmd-dk":
            if self.recipe.get("lam") is not None:  # Rep-GAN-DK / -IKL, 000 eq. 13
                return KL.rep_dk_d(k, fx, fy, float(self.recipe["lam"]), self._get("alpha2", KL.ALPHA2["rep"]), pairs)
            return KL.mmd_dk_d(k, fx, fy, self._get("alpha2", KL.ALPHA2["mmd"]), pairs)
        # smmd-dk, 000 eqs. 11-12
        return KL.smmd_dk_d(k, x, fx, fy, self._get("zeta", KL.ZETA), self._get("alpha2", KL.ALPHA2["smmd"]), pairs)

    # ------------------------------------------------------------ generator
    def g_loss(self, disc, x: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
        lo = self.loss
        if lo in CLASSIC:
            fy = disc(fake)
            if lo == "nonsaturating":
                return L.nonsaturating_g(fy)
            if lo == "minimax":
                return L.minimax_g(fy)
            return L.hinge_g(fy) if lo == "hinge" else L.wasserstein_g(fy)
        if lo == "smmd":
            xg, fx = MG.features_with_input_grad(disc, x)
            return MG.smmd_losses(self.kernel, xg, fx, disc(fake), self._get("smmd_lambda", MG.SMMD_LAMBDA),
                                  for_generator=True)
        if lo == "smmd-dk":
            xg, fx = MG.features_with_input_grad(disc, x)
            return KL.smmd_dk_g(self.kernel, xg, fx, disc(fake), self._get("zeta", KL.ZETA))
        fx, fy = disc(x), disc(fake)
        if lo == "mmd-dk":
            return KL.mmd_dk_g(self.kernel, fx, fy)
        return loss_g_mmd(means(fx, fy, self.kernel))  # L_G^mmd, plain kernel (003 eq. 2)
