"""Learned random-feature kernels: IKL (Li et al. 2019) and KernelNet's data-dependent DK (000 §3.1).

Both kernels act on discriminator outputs ``z`` of dimension ``d`` and are estimated with
``n_features`` random features per call (000 §4.1: 1024), fresh each call:

* IKL, 000 eqs. 4-5: ``ω = g_ψ1(ε)``, ``ε ~ N(0, I)``, ``b ~ U[0, 2π]``,
  ``κ_ψ1(z1, z2) ≈ (2/N) Σ_i cos(ω_iᵀz1 + b_i) cos(ω_iᵀz2 + b_i)``.
* DK, 000 eqs. 6-7: ``κ_ψ = κ_ψ1 + κ_ψ2`` where ``κ_ψ2`` uses the pair-dependent
  ``ω′(z1, z2) = μ(z1, z2) + ε ⊙ σ(z1, z2)`` symmetrised as ``ω = (ω′(z1, z2) + ω′(z2, z1)) / 2``.

Choices the seed leaves open (documented in docs/core.md):
* "3-layer fully-connected network" = Linear-ReLU-Linear-ReLU-Linear; hidden width 16 when the
  discriminator output has 1 dimension, 64 when it has more (000 §4.1 gives 16 and 64 for d = 1, 16).
* IKL noise ε has the dimension of ω (= d). σ(z1, z2) = softplus of the network's second half.
* The symmetrisation reuses the same ε for ω′(z1, z2) and ω′(z2, z1) (one ε per random feature,
  shared by all pairs): then ω = (μ12 + μ21)/2 + ε ⊙ (σ12 + σ21)/2 and each sampled Gram matrix is
  exactly symmetric.
* Ω's expectation over pairs (000 eq. 10) is estimated on ``omega_pairs`` random pairs of the batch
  (default 256) with one ε per pair for the Jacobian term; E‖ω_ψ2‖² uses its closed form
  ‖m‖² + ‖s‖² given the pair (exact expectation over ε).
"""
from __future__ import annotations

import math

import torch
from torch import nn

from repro.core.mmd import _as_features

N_FEATURES = 1024  # 000 §4.1


def default_hidden(dim: int) -> int:
    """000 §4.1: 16 hidden units when the discriminator output is 1-D, 64 when it is 16-D."""
    return 16 if dim == 1 else 64


def mlp3(n_in: int, hidden: int, n_out: int) -> nn.Sequential:
    return nn.Sequential(nn.Linear(n_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, n_out))


def _device_of(module: nn.Module) -> torch.device:
    return next(module.parameters()).device


class ImplicitSpectral(nn.Module):
    """Data-independent implicit spectral distribution ω = g_ψ1(ε) (000 eq. 5)."""

    def __init__(self, dim: int, hidden: int | None = None, noise_dim: int | None = None):
        super().__init__()
        self.dim, self.noise_dim = dim, noise_dim or dim
        self.net = mlp3(self.noise_dim, hidden or default_hidden(dim), dim)

    def sample(self, n: int) -> torch.Tensor:
        eps = torch.randn(n, self.noise_dim, device=_device_of(self))
        return self.net(eps)


class DataDependentSpectral(nn.Module):
    """Pair-dependent Gaussian ω′(z1, z2) = μ + ε ⊙ σ, symmetrised (000 eq. 6 and below)."""

    def __init__(self, dim: int, hidden: int | None = None):
        super().__init__()
        self.dim = dim
        self.net = mlp3(2 * dim, hidden or default_hidden(dim), 2 * dim)

    def _mu_sigma(self, z1: torch.Tensor, z2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        out = self.net(torch.cat([z1, z2], -1))
        return out[..., : self.dim], nn.functional.softplus(out[..., self.dim:])

    def symmetric_params(self, z1: torch.Tensor, z2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(m, s) with ω = m + ε ⊙ s for each pair; symmetric in (z1, z2)."""
        mu12, s12 = self._mu_sigma(z1, z2)
        mu21, s21 = self._mu_sigma(z2, z1)
        return 0.5 * (mu12 + mu21), 0.5 * (s12 + s21)

    def difference_jacobian(self, z1: torch.Tensor, z2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``∂m/∂z1 - ∂m/∂z2`` and ``∂s/∂z1 - ∂s/∂z2`` per pair, each ``(P, d, d)``.

        ``(∂f/∂z1 - ∂f/∂z2) e_k`` is the derivative of ``h ↦ f(z1 + h e_k, z2 - h e_k)`` at 0,
        so one forward-mode product per basis direction gives the whole matrix.
        """
        from torch.func import jvp, vmap  # imported on use: torch.func's first import is slow

        from .forward_ad import ready

        ready()
        d = self.dim
        eye = torch.eye(d, device=z1.device, dtype=z1.dtype)

        def params_at(p1, p2, h):
            m, s = self.symmetric_params(p1 + h, p2 - h)
            return torch.cat([m, s], -1)

        def one_pair(p1, p2):
            zero = torch.zeros(d, device=p1.device, dtype=p1.dtype)
            cols = vmap(lambda t: jvp(lambda h: params_at(p1, p2, h), (zero,), (t,))[1])(eye)  # (d_in, 2d)
            return cols.T  # (2d, d_in)

        jac = vmap(one_pair)(z1, z2)
        return jac[:, :d], jac[:, d:]


def _random_phases(n: int, device, dtype) -> torch.Tensor:
    return torch.rand(n, device=device, dtype=dtype) * (2.0 * math.pi)


class RandomFeatureKernel(nn.Module):
    """IKL (``data_dependent=False``) or KernelNet DK (``data_dependent=True``) kernel on ``R^dim``.

    ``kernel(a, b)`` gives the ``(n, m)`` Gram matrix; ``kernel.gram(z)`` the symmetric Gram matrix of
    one set, computed on the ``n(n+1)/2`` pairs ``i <= j`` only (all pairs vectorised, no Python loop).
    """

    def __init__(self, dim: int, data_dependent: bool = True, hidden: int | None = None,
                 n_features: int = N_FEATURES, noise_dim: int | None = None):
        super().__init__()
        if dim < 1 or n_features < 1:
            raise ValueError(f"RandomFeatureKernel needs dim >= 1 and n_features >= 1; got {dim}, {n_features}.")
        self.dim, self.n_features = dim, n_features
        self.psi1 = ImplicitSpectral(dim, hidden, noise_dim)
        self.psi2 = DataDependentSpectral(dim, hidden) if data_dependent else None

    @property
    def name(self) -> str:
        return "dk" if self.psi2 is not None else "ikl"

    # ------------------------------------------------------------ kernel values
    def _k1(self, a: torch.Tensor, b: torch.Tensor | None) -> torch.Tensor:
        """κ_ψ1 by random features (000 eq. 4): (2/N) Φ(a) Φ(b)ᵀ with Φ = cos(ωᵀz + b)."""
        omega = self.psi1.sample(self.n_features)
        phase = _random_phases(self.n_features, a.device, a.dtype)
        fa = torch.cos(a @ omega.T + phase)
        fb = fa if b is None else torch.cos(b @ omega.T + phase)
        return (2.0 / self.n_features) * fa @ fb.T

    def _k2_pairs(self, z1: torch.Tensor, z2: torch.Tensor) -> torch.Tensor:
        """κ_ψ2 for P explicit pairs (rows of z1, z2), one shared ε and b per random feature."""
        m, s = self.psi2.symmetric_params(z1, z2)
        eps = torch.randn(self.n_features, self.dim, device=z1.device, dtype=z1.dtype)
        phase = _random_phases(self.n_features, z1.device, z1.dtype)
        # ωᵢᵀz = mᵀz + εᵢᵀ(s ⊙ z): one (P, d) @ (d, N) product per side
        arg1 = (m * z1).sum(-1, keepdim=True) + (s * z1) @ eps.T + phase
        arg2 = (m * z2).sum(-1, keepdim=True) + (s * z2) @ eps.T + phase
        return (2.0 / self.n_features) * (torch.cos(arg1) * torch.cos(arg2)).sum(-1)

    def gram(self, z: torch.Tensor) -> torch.Tensor:
        z = _as_features(z)
        self._check(z)
        k = self._k1(z, None)
        if self.psi2 is not None:
            n = z.shape[0]
            i, j = torch.triu_indices(n, n, 0, device=z.device)
            vals = self._k2_pairs(z[i], z[j])
            upper = torch.zeros(n, n, device=z.device, dtype=z.dtype).index_put((i, j), vals)
            k = k + upper + upper.T - torch.diag(upper.diagonal())
        return k

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        a, b = _as_features(a), _as_features(b)
        self._check(a), self._check(b)
        k = self._k1(a, b)
        if self.psi2 is not None:
            n, m = a.shape[0], b.shape[0]
            z1 = a[:, None, :].expand(n, m, self.dim).reshape(-1, self.dim)
            z2 = b[None, :, :].expand(n, m, self.dim).reshape(-1, self.dim)
            k = k + self._k2_pairs(z1, z2).view(n, m)
        return k

    def _check(self, z: torch.Tensor) -> None:
        if z.shape[1] != self.dim:
            raise ValueError(f"this {self.name} kernel was built for {self.dim}-D inputs; got {z.shape[1]}-D.")

    # ------------------------------------------------------------ regularisers (000 eqs. 10, 12)
    def omega1_sq_norm(self) -> torch.Tensor:
        """Monte-Carlo E‖ω_ψ1‖² from ``n_features`` samples."""
        return self.psi1.sample(self.n_features).pow(2).sum(-1).mean()

    def omega2_sq_norm_diag(self, z: torch.Tensor) -> torch.Tensor:
        """E_ε‖ω_ψ2(z, z)‖² = ‖m‖² + ‖s‖² for each row of z (closed form; 000 Prop. 5)."""
        if self.psi2 is None:
            return torch.zeros(z.shape[0], device=z.device, dtype=z.dtype)
        m, s = self.psi2.symmetric_params(z, z)
        return m.pow(2).sum(-1) + s.pow(2).sum(-1)

    def omega(self, z: torch.Tensor, n_pairs: int = 256) -> torch.Tensor:
        """Ω of 000 eq. 10 on the batch ``z`` (usually ``[D(x); D(G(u))]``).

        Ω = E‖ω_ψ1‖² + E‖ω_ψ2,z1,z2‖² + E‖∂ω/∂z1 - ∂ω/∂z2‖_F, pairs drawn uniformly among the
        ``i < j`` pairs of the batch; without ψ2 (IKL) only the first term remains.
        """
        z = _as_features(z)
        total = self.omega1_sq_norm()
        if self.psi2 is None:
            return total
        n = z.shape[0]
        i, j = torch.triu_indices(n, n, 1, device=z.device)
        if n_pairs and i.numel() > n_pairs:
            pick = torch.randperm(i.numel(), device=z.device)[:n_pairs]
            i, j = i[pick], j[pick]
        z1, z2 = z[i], z[j]
        m, s = self.psi2.symmetric_params(z1, z2)
        total = total + (m.pow(2).sum(-1) + s.pow(2).sum(-1)).mean()
        jm, js = self.psi2.difference_jacobian(z1, z2)
        eps = torch.randn(z1.shape[0], self.dim, 1, device=z.device, dtype=z.dtype)
        diff = jm + eps * js  # row k of ∂ω/∂z is ∂m_k + ε_k ∂s_k
        return total + (diff.pow(2).sum((-2, -1)) + 1e-12).sqrt().mean()


def ikl_kernel(dim: int, **kw) -> RandomFeatureKernel:
    return RandomFeatureKernel(dim, data_dependent=False, **kw)


def dk_kernel(dim: int, **kw) -> RandomFeatureKernel:
    return RandomFeatureKernel(dim, data_dependent=True, **kw)


def make_learned_kernel(name: str, dim: int, **kw) -> RandomFeatureKernel:
    """``ikl`` or ``dk`` kernel module (has parameters: give them to the discriminator's optimiser)."""
    if name == "ikl":
        return ikl_kernel(dim, **kw)
    if name == "dk":
        return dk_kernel(dim, **kw)
    raise ValueError(f"unknown learned kernel {name!r}; choose 'ikl' or 'dk'.")
