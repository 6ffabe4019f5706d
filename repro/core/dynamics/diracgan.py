"""DiracGAN (Mescheder et al. 2018) as shown in the talks 001/002: P = δ0, Q_θ = δθ, critic feature φ_ψ(x) = ψx.

Each method is a pair (critic objective to maximise over ψ, generator loss to minimise over θ), both
closed-form functions of the scalars (θ, ψ):

- ``wgan``: E_P φ - E_Q φ = -ψθ, weight clipping |ψ| ≤ 1 (001: "test functions ψx, |ψ| ≤ 1").
- ``wgan-gp``: critic -ψθ - λ(|∇φ| - 1)² = -ψθ - λ(|ψ| - 1)² (Gulrajani et al. 2017, λ = 10); no clipping.
- ``mmd-gan``: MMD² of the features under k_top(a, b) = exp(-(a - b)²/2) (001/002):
  MMD²(θ, ψ) = k(0, 0) + k(ψθ, ψθ) - 2 k(0, ψθ) = 2(1 - exp(-ψ²θ²/2)); critic maximises, generator minimises.
- ``mmd-gan-gp``: MMD² minus λ E_u (|f'(uθ)| - 1)², f the (unnormalised) witness
  f(t) = k(0, ψt) - k(ψθ, ψt), interpolates uθ with u ~ U(0, 1) (Bińkowski et al. 2018, λ = 1);
  the expectation over u is exact up to 16-node Gauss–Legendre quadrature.
- ``smmd``: SMMD² = MMD² / (1 + E_P |∇φ|² + λ) = 2(1 - exp(-ψ²θ²/2)) / (1 + ψ² + λ) (002, "Scaled MMD
  vs MMD with gradient penalty"; λ = 1, unstated in 002); critic maximises, generator minimises.

Training is simultaneous gradient descent/ascent with one step size (the talks state no optimiser);
``simulate`` returns the trajectory. ``jacobian`` gives the linearised field, whose eigenvalues decide
local behaviour: purely imaginary -> rotation (oscillation), negative real parts -> convergence.
``crossings`` counts the sign changes of θ that clear a dead band (oscillation, as opposed to drift);
``d_mmd`` is the optimal-critic distance sup_ψ MMD(φ_ψ(P), φ_ψ(Q_θ)) of 001 (√2 for every θ ≠ 0).
"""
from __future__ import annotations

import math

import numpy as np
import torch

METHODS = ("wgan", "wgan-gp", "mmd-gan", "mmd-gan-gp", "smmd")
DEFAULT_PENALTY = {"wgan-gp": 10.0, "mmd-gan-gp": 1.0, "smmd": 1.0}
_U_NODES, _U_WEIGHTS = np.polynomial.legendre.leggauss(16)


def _k_top(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.exp(-0.5 * (a - b) ** 2)


def mmd2(theta: torch.Tensor, psi: torch.Tensor) -> torch.Tensor:
    """MMD² between δ0 and δθ under k_ψ(x, y) = k_top(ψx, ψy): 2(1 - exp(-ψ²θ²/2))."""
    zero = torch.zeros_like(theta)
    return _k_top(zero, zero) + _k_top(psi * theta, psi * theta) - 2 * _k_top(zero, psi * theta)


def witness_slope(t: torch.Tensor, theta: torch.Tensor, psi: torch.Tensor) -> torch.Tensor:
    """d/dt of f(t) = k_top(0, ψt) - k_top(ψθ, ψt) (closed form)."""
    return -psi ** 2 * t * torch.exp(-0.5 * (psi * t) ** 2) + psi ** 2 * (t - theta) * torch.exp(-0.5 * (psi * (t - theta)) ** 2)


def objectives(method: str, theta: torch.Tensor, psi: torch.Tensor, penalty: float | None = None):
    """(critic objective to maximise, generator loss to minimise) at (θ, ψ)."""
    if method not in METHODS:
        raise ValueError(f"unknown DiracGAN method '{method}'; choose one of {', '.join(METHODS)}")
    lam = DEFAULT_PENALTY.get(method, 0.0) if penalty is None else float(penalty)
    if method in ("wgan", "wgan-gp"):
        value = -psi * theta  # E_P ψx - E_Q ψx
        critic = value - lam * (psi.abs() - 1) ** 2 if method == "wgan-gp" else value
        return critic, value
    value = mmd2(theta, psi)
    if method == "mmd-gan":
        return value, value
    if method == "mmd-gan-gp":
        u = torch.as_tensor((_U_NODES + 1) / 2, dtype=theta.dtype)
        w = torch.as_tensor(_U_WEIGHTS / 2, dtype=theta.dtype)
        slope = witness_slope(u * theta, theta, psi)
        return value - lam * (w * (slope.abs() - 1) ** 2).sum(), value
    scaled = value / (1 + psi ** 2 + lam)  # smmd
    return scaled, scaled


def field(method: str, theta: float, psi: float, penalty: float | None = None) -> np.ndarray:
    """(θ', ψ') = (-∂ generator loss/∂θ, +∂ critic objective/∂ψ)."""
    t = torch.tensor(float(theta), dtype=torch.float64, requires_grad=True)
    p = torch.tensor(float(psi), dtype=torch.float64, requires_grad=True)
    critic, gen = objectives(method, t, p, penalty)
    (g_theta,) = torch.autograd.grad(gen, t, retain_graph=True)
    (g_psi,) = torch.autograd.grad(critic, p)
    return np.array([-float(g_theta), float(g_psi)])


def jacobian(method: str, theta: float, psi: float, penalty: float | None = None, eps: float = 1e-6) -> np.ndarray:
    """Linearised field ∂(θ', ψ')/∂(θ, ψ) by central differences."""
    jac = np.empty((2, 2))
    for k, step in enumerate(np.eye(2) * eps):
        jac[:, k] = (field(method, theta + step[0], psi + step[1], penalty)
                     - field(method, theta - step[0], psi - step[1], penalty)) / (2 * eps)
    return jac


def simulate(method: str, theta0: float = 1.0, psi0: float = 1.0, lr: float = 0.05, steps: int = 2000,
             penalty: float | None = None) -> np.ndarray:
    """Simultaneous gradient steps from (θ0, ψ0); returns the (steps + 1, 2) trajectory of (θ, ψ).

    WGAN projects ψ back to [-1, 1] after every step (weight clipping).
    """
    if steps < 0 or not lr > 0:
        raise ValueError(f"simulate needs steps >= 0 and lr > 0, got steps={steps}, lr={lr}")
    path = np.empty((steps + 1, 2))
    path[0] = theta0, psi0
    for i in range(steps):
        state = path[i] + lr * field(method, *path[i], penalty)
        if method == "wgan":
            state[1] = min(max(state[1], -1.0), 1.0)
        if not np.all(np.isfinite(state)):
            path[i + 1:] = math.nan
            break
        path[i + 1] = state
    return path


def crossings(theta: np.ndarray, band: float = 1e-3) -> int:
    """Sign changes of θ that clear the dead band: θ goes from ≥ band to ≤ -band or back.

    A Schmitt trigger: values inside (-band, band) keep the last side, so round-off around 0 and a
    trajectory that settles at 0 count nothing, and a drift through 0 counts once.
    """
    side, count = 0, 0
    for value in np.asarray(theta, dtype=float):
        now = 1 if value >= band else -1 if value <= -band else 0
        if now and side and now != side:
            count += 1
        side = now or side
    return count


def d_mmd(theta: float, psis: np.ndarray | None = None) -> float:
    """sup_ψ MMD(φ_ψ(δ0), φ_ψ(δθ)) over a log grid of |ψ| (10^-3 to 10^12) from the suite's ``mmd2``.

    MMD² = 2(1 - exp(-ψ²θ²/2)) grows with |ψ|, so for θ ≠ 0 the sup is its limit √2 (001, DiracGAN slide:
    "D_MMD = sup_ψ MMD(...) = √2"), reached on the grid to float64 precision once |ψθ| > 9;
    at θ = 0 it is 0: the distance jumps, it gives the generator no gradient.
    """
    psis = np.logspace(-3, 12, 301) if psis is None else psis
    values = mmd2(torch.full((len(psis),), float(theta), dtype=torch.float64), torch.as_tensor(psis, dtype=torch.float64))
    return float(values.clamp(min=0).max().sqrt())
