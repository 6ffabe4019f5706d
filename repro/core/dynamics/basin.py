"""Where gradient descent ends from a grid of starts: the basin of 003 App. A.2's trivial solution w2 = 0.

003 App. A.2: "initialization of (w1, w2) in some regions may lead to the trivial solution w2 = 0 …
by decreasing the learning rate for G, the area of such regions decreased". The area becomes a number:
the fraction of starts whose simultaneous gradient steps end at w2 ≈ 0. Starts are stratified: one
uniform draw in each cell of an n × n grid over a window (the seed draws them), so the fraction is an
unbiased estimate of the basin's share of the window's area with a seed-to-seed spread.

``field`` is any function (w1, w2) -> (B, 2) array of (w1', w2') at B points, e.g.
``TwoParamMMDGAN.field_batch``.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

Field = Callable[[np.ndarray, np.ndarray], np.ndarray]


def stratified_starts(w1_range, w2_range, n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """n² starts, one uniform draw in each cell of an n × n grid over the window (row-major in w2, w1)."""
    if n < 1:
        raise ValueError(f"stratified_starts needs n >= 1 cells per axis, got {n}")
    rng = np.random.default_rng(seed)
    cells = np.arange(n)
    c1, c2 = np.meshgrid(cells, cells)
    u = rng.uniform(size=(2, n * n))
    w1 = w1_range[0] + (c1.ravel() + u[0]) * (w1_range[1] - w1_range[0]) / n
    w2 = w2_range[0] + (c2.ravel() + u[1]) * (w2_range[1] - w2_range[0]) / n
    return w1, w2


def descend(field: Field, w1: np.ndarray, w2: np.ndarray, lr_g: float, lr_d: float,
            steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Simultaneous gradient steps of both players from every start: w1 += lr_g·w1', w2 += lr_d·w2'."""
    if steps < 0 or not (lr_g > 0 and lr_d > 0):
        raise ValueError(f"descend needs steps >= 0 and positive step sizes, got steps={steps}, lr_g={lr_g}, lr_d={lr_d}")
    w1, w2 = np.array(w1, dtype=float), np.array(w2, dtype=float)
    for _ in range(steps):
        f = field(w1, w2)
        w1, w2 = w1 + lr_g * f[:, 0], w2 + lr_d * f[:, 1]
    return w1, w2


def outcome_fractions(field: Field, w1: np.ndarray, w2: np.ndarray, trivial_tol: float = 1e-2,
                      rest_tol: float = 1e-4) -> dict[str, float]:
    """Fractions of end points that are trivial (|w2| < trivial_tol), at a non-trivial rest point
    (max |field| < rest_tol) or neither ("unsettled": still moving, or not finite)."""
    finite = np.isfinite(w1) & np.isfinite(w2)
    trivial = finite & (np.abs(np.where(finite, w2, 1.0)) < trivial_tol)
    speed = np.full(len(w1), np.inf)
    speed[finite] = np.abs(field(w1[finite], w2[finite])).max(axis=1) if finite.any() else []
    rest = ~trivial & (speed < rest_tol)
    n = len(w1)
    return {"trivial": float(trivial.sum() / n), "nontrivial": float(rest.sum() / n),
            "unsettled": float((~trivial & ~rest).sum() / n)}
