"""Two-parameter MMD-GAN of 003 App. A.2 (after Nagarajan & Kolter 2017): exact gradient field in (w1, w2).

Generator G(z) = w1·z with z ~ U(-1, 1); discriminator D(x) = w2·x²; Gaussian kernel k_σ (σ = 0.5,
003 App. A.2) on discriminator outputs, k_D(a, b) = exp(-(D(a) - D(b))² / (2σ²)) (003 §3 RBF form).

    L_G  = E_XX' k_D(x, x') - 2 E_XY k_D(x, y) + E_YY' k_D(y, y')       (003 eq. S1a)
    MMD-rbf: L_D = -L_G                                                  (003 eq. S1b)
    MMD-rep: L_D = E_XX' k_D(x, x') - E_YY' k_D(y, y')                   (003 eq. S1c)

Gradient descent on both players gives the field (w1', w2') = (-∂L_G/∂w1, -∂L_D/∂w2).

Expectations are computed by quadrature, not sampling. D depends on x² only and both laws are
symmetric, so each variable is folded onto [0, ∞). The kernel has a sharp ridge along |x| = |x'|
(width ~ σ / (2 w2 |x|)), which global Gauss–Hermite nodes do not resolve; composite Gauss–Legendre
(``panels`` panels of 8 nodes, N(0, 1) truncated at 9 std) does, converging to ~1e-10 (tests check
it against Monte Carlo with finite differences). Derivatives are closed-form (chain rule below).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

KERNEL_SIGMA = 0.5  # 003 App. A.2: "Gaussian kernel k_0.5^rbf"
LOSSES = ("rbf", "rep")
TARGETS = ("uniform", "normal")
NORMAL_CUTOFF = 9.0  # mass beyond 9 std is ~2e-19


def folded_quadrature(kind: str, panels: int = 40, order: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """Nodes t ≥ 0 and probability weights for E f(|X|), X ~ U(-1, 1) ("uniform") or N(0, 1) ("normal")."""
    if kind not in TARGETS:
        raise ValueError(f"unknown distribution '{kind}'; choose one of {TARGETS}")
    if panels < 1 or order < 1:
        raise ValueError(f"quadrature needs panels >= 1 and order >= 1, got {panels}, {order}")
    upper = 1.0 if kind == "uniform" else NORMAL_CUTOFF
    base, base_w = np.polynomial.legendre.leggauss(order)
    edges = np.linspace(0.0, upper, panels + 1)
    half = np.diff(edges)[:, None] / 2
    nodes = (edges[:-1, None] + half * (base[None, :] + 1)).ravel()
    weights = (half * base_w[None, :]).ravel()
    density = np.ones_like(nodes) if kind == "uniform" else 2 * np.exp(-nodes ** 2 / 2) / np.sqrt(2 * np.pi)
    weights = weights * density
    return nodes, weights / weights.sum()


@dataclass
class TwoParamMMDGAN:
    """The game for one target ("uniform": realizable, "normal": not) and one discriminator loss ("rbf"/"rep")."""

    target: str = "uniform"
    loss: str = "rbf"
    sigma: float = KERNEL_SIGMA
    panels: int = 40
    _q: dict = field(default_factory=dict, repr=False)

    def __post_init__(self):
        if self.loss not in LOSSES:
            raise ValueError(f"unknown discriminator loss '{self.loss}'; choose one of {LOSSES}")
        if self.target not in TARGETS:
            raise ValueError(f"unknown target '{self.target}'; choose one of {TARGETS}")
        if not self.sigma > 0:
            raise ValueError(f"kernel sigma must be positive, got {self.sigma}")
        x, px = folded_quadrature(self.target, self.panels)
        z, pz = folded_quadrature("uniform", self.panels)
        self._q = {"x2": x ** 2, "px": px, "z2": z ** 2, "pz": pz}

    def _pair(self, ca, base_a, pa, cb, base_b, pb, dca, dcb):
        """E k(a, b) and its gradient in (w1, w2), for a = ca·base_a, b = cb·base_b, at B points at once.

        ``ca``, ``cb``: (B,) coefficients; ``dca``, ``dcb``: (B, 2) their gradients in (w1, w2);
        ∂k/∂a = -∂k/∂b = -k·(a-b)/σ².
        """
        diff = ca[:, None, None] * base_a[None, :, None] - cb[:, None, None] * base_b[None, None, :]
        k = np.exp(-diff ** 2 / (2 * self.sigma ** 2))
        dk = -(k * diff) / self.sigma ** 2
        ea = (dk @ pb) @ (pa * base_a)  # E ∂k/∂a · base_a
        eb = (dk @ (pb * base_b)) @ pa  # E ∂k/∂a · base_b
        return (k @ pb) @ pa, ea[:, None] * dca - eb[:, None] * dcb

    def terms_and_grads(self, w1, w2) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Each kernel mean (E_XX', E_XY, E_YY' of k_D) with its gradient in (w1, w2), at points (w1, w2) of shape (B,).

        D(x) = w2·x², D(y) = D(w1 z) = w2·w1²·z²; coefficient gradients: ∇w2 = (0, 1), ∇(w2·w1²) = (2·w1·w2, w1²).
        """
        q = self._q
        w1, w2 = np.atleast_1d(np.asarray(w1, dtype=float)), np.atleast_1d(np.asarray(w2, dtype=float))
        cx, cy = w2, w2 * w1 ** 2
        dx = np.stack([np.zeros_like(w2), np.ones_like(w2)], axis=1)
        dy = np.stack([2 * w1 * w2, w1 ** 2], axis=1)
        return {
            "xx": self._pair(cx, q["x2"], q["px"], cx, q["x2"], q["px"], dx, dx),
            "xy": self._pair(cx, q["x2"], q["px"], cy, q["z2"], q["pz"], dx, dy),
            "yy": self._pair(cy, q["z2"], q["pz"], cy, q["z2"], q["pz"], dy, dy),
        }

    def losses(self, w1: float, w2: float) -> tuple[float, float]:
        t = self.terms_and_grads(w1, w2)
        loss_g = t["xx"][0] - 2 * t["xy"][0] + t["yy"][0]  # 003 eq. S1a
        loss_d = -loss_g if self.loss == "rbf" else t["xx"][0] - t["yy"][0]  # 003 eq. S1b / S1c
        return float(loss_g[0]), float(loss_d[0])

    def field_batch(self, w1: np.ndarray, w2: np.ndarray) -> np.ndarray:
        """(w1', w2') = (-∂L_G/∂w1, -∂L_D/∂w2) at B points: shape (B, 2)."""
        t = self.terms_and_grads(w1, w2)
        grad_g = t["xx"][1] - 2 * t["xy"][1] + t["yy"][1]
        grad_d = -grad_g if self.loss == "rbf" else t["xx"][1] - t["yy"][1]
        return -np.stack([grad_g[:, 0], grad_d[:, 1]], axis=1)

    def field(self, w1: float, w2: float) -> np.ndarray:
        """(w1', w2') at one point."""
        return self.field_batch(np.array([float(w1)]), np.array([float(w2)]))[0]

    def field_grid(self, w1s: np.ndarray, w2s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """U, V arrays of shape (len(w2s), len(w1s)) (matplotlib's streamplot layout)."""
        u = np.empty((len(w2s), len(w1s)))
        v = np.empty_like(u)
        for i, b in enumerate(w2s):
            for j, a in enumerate(w1s):
                u[i, j], v[i, j] = self.field(a, b)
        return u, v

    def jacobian(self, w1: float, w2: float, eps: float = 1e-6) -> np.ndarray:
        """∂(w1', w2')/∂(w1, w2) by central differences of the exact field."""
        jac = np.empty((2, 2))
        for k, step in enumerate(np.eye(2) * eps):
            jac[:, k] = (self.field(w1 + step[0], w2 + step[1]) - self.field(w1 - step[0], w2 - step[1])) / (2 * eps)
        return jac


@dataclass
class Equilibrium:
    w1: float
    w2: float
    eigenvalues: np.ndarray  # of the Jacobian of the field there

    @property
    def stable(self) -> bool:
        """Locally stable when no eigenvalue has a positive real part (a zero one: a line of equilibria)."""
        return bool(np.all(self.eigenvalues.real < 1e-6))


def find_equilibria(game: TwoParamMMDGAN, w1_range=(0.2, 2.5), w2_range=(0.05, 2.0), starts: int = 5,
                    tol: float = 1e-10, min_w2: float = 1e-3) -> list[Equilibrium]:
    """Non-trivial zeros of the field by root finding from a ``starts``×``starts`` grid of initial points.

    Zeros with |w2| < ``min_w2`` are dropped: the whole line w2 = 0 is a trivial equilibrium (D constant,
    003 App. A.2 "trivial solution w2 = 0"). Duplicates (within 1e-4) are merged. Points outside
    |w| ≤ 10 are dropped (the root finder wandered off).
    """
    from scipy.optimize import root

    found: list[Equilibrium] = []
    for a in np.linspace(*w1_range, starts):
        for b in np.linspace(*w2_range, starts):
            sol = root(lambda w: game.field(*w), [a, b], tol=tol)
            w = sol.x
            if not np.all(np.isfinite(w)) or abs(w[1]) < min_w2 or np.abs(w).max() > 10:
                continue
            if np.abs(game.field(*w)).max() > 1e-8:
                continue
            if any(abs(e.w1 - w[0]) < 1e-4 and abs(e.w2 - w[1]) < 1e-4 for e in found):
                continue
            found.append(Equilibrium(float(w[0]), float(w[1]), np.linalg.eigvals(game.jacobian(*w))))
    return found
