"""Task of the talks' DiracGAN slides (001, 002): trajectories in (θ, ψ) and whether they converge.

``run(cfg, ctx)`` reads cfg['recipe'] = {loss: wgan | wgan-gp | mmd-gan | mmd-gan-gp | smmd, penalty},
cfg['start'] = [θ0, ψ0], cfg['lr'], cfg['steps'] and simulates simultaneous gradient steps
(``repro.core.dynamics.diracgan``). No sampling: the seed does not matter.
Metrics: ``distance`` = |θ_T| (distance to the equilibrium set θ = 0, where Q = P); ``amplitude`` =
max |θ| over the last 20 % of steps (oscillation); ``psi`` = |ψ_T|; ``step_factor`` = |1 + lr·λ| for the
linearised non-zero eigenvalue λ at (0, ψ_T) with the largest |1 + lr·λ| (> 1: a gradient step cannot
settle there; zero eigenvalues, along the line of equilibria θ = 0, are left out).
Artifact ``trajectory.png``: the vector field, the trajectory and the equilibrium line.
"""
from __future__ import annotations

import math

import numpy as np

from repro.core.dynamics import diracgan as dg


def _plot(method, path, penalty, lr, title, out):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    span = max(2.0, float(np.nanmax(np.abs(path))) * 1.1)
    ts = np.linspace(-span, span, 21)
    ps = np.linspace(-span, span, 21)
    u = np.empty((len(ps), len(ts)))
    v = np.empty_like(u)
    for i, p in enumerate(ps):
        for j, t in enumerate(ts):
            u[i, j], v[i, j] = dg.field(method, t, p, penalty)
    fig, axes = plt.subplots(1, 2, figsize=(8, 3.6))
    norm = np.hypot(u, v) + 1e-12
    axes[0].quiver(ts, ps, u / norm, v / norm, np.log10(norm), cmap="Greys", alpha=0.6)
    axes[0].plot(path[:, 0], path[:, 1], color="tab:blue", lw=0.8)
    axes[0].plot(*path[0], "go", ms=5, label="start")
    axes[0].plot(*path[-1], "r*", ms=9, label="end")
    axes[0].axvline(0, color="tab:red", ls=":", lw=1, label="θ = 0 (Q = P)")
    axes[0].set_xlabel("θ (generator)")
    axes[0].set_ylabel("ψ (critic)")
    axes[0].legend(fontsize=6)
    axes[1].plot(path[:, 0], label="θ")
    axes[1].plot(path[:, 1], label="ψ")
    axes[1].set_xlabel(f"step (lr {lr})")
    axes[1].legend(fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)


def run(cfg: dict, ctx) -> dict:
    recipe = cfg.get("recipe") or {}
    method = recipe.get("loss")
    if method not in dg.METHODS:
        raise ValueError(f"diracgan: recipe loss must be one of {dg.METHODS}, got {method!r}")
    penalty = recipe.get("penalty")
    theta0, psi0 = (float(v) for v in cfg.get("start", [1.0, 3.0]))
    lr, steps = float(cfg.get("lr", 0.1)), int(cfg.get("steps", 1500))
    path = dg.simulate(method, theta0, psi0, lr=lr, steps=steps, penalty=penalty)
    ctx.progress(steps, steps)
    tail = path[-max(1, len(path) // 5):]
    metrics = {"distance": float(abs(path[-1, 0])), "amplitude": float(np.abs(tail[:, 0]).max()),
               "psi": float(abs(path[-1, 1]))}
    if all(math.isfinite(v) for v in metrics.values()):
        eig = np.linalg.eigvals(dg.jacobian(method, 0.0, path[-1, 1], penalty))
        eig = eig[np.abs(eig) > 1e-9]  # a zero eigenvalue is the direction along the line of equilibria
        metrics["step_factor"] = float(np.abs(1 + lr * eig).max()) if eig.size else 1.0
    verdict = "converges" if metrics["amplitude"] < 1e-3 else "does not converge"
    name = cfg.get("method", method)
    _plot(method, path, penalty, lr, f"{name}: {verdict} (|θ_T| = {metrics['distance']:.3g})",
          ctx.artifact("trajectory.png"))
    np.save(ctx.artifact("trajectory.npy"), path)
    notes = [f"{name}: {steps} simultaneous gradient steps, lr {lr}, from (θ, ψ) = ({theta0}, {psi0}): {verdict}"]
    return {"metrics": metrics, "steps": steps, "notes": notes}
