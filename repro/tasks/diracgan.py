"""Task of the talks' DiracGAN slides (001, 002): trajectories in (θ, ψ), and whether they converge or oscillate.

``run(cfg, ctx)`` reads cfg['recipe'] = {loss: wgan | wgan-gp | mmd-gan | mmd-gan-gp | smmd, penalty},
cfg['penalty'] (a grid axis; overrides the recipe's), cfg['lr'] (a grid axis), cfg['horizon'] (continuous
time T: the run takes round(T / lr) simultaneous gradient steps, so every step size covers the same time)
and cfg['starts'], a fixed list of (θ0, ψ0): the seed picks starts[seed]. The dynamics are deterministic;
the seeds are the starts. Metrics, over the last 20 % of the steps (the tail):
  ``distance``     |θ_T|, distance to the equilibrium set θ = 0 (where Q = P);
  ``amplitude``    max |θ| over the tail (< 1e-3: "converges");
  ``crossings``    sign changes of θ over the tail that clear a dead band of 1e-3 (``diracgan.crossings``):
                   ≥ 4 (two full periods that persist at amplitude ≥ 1e-3) is "oscillates"; a drift or a
                   stall away from 0 has 0;
  ``psi``          |ψ_T|;
  ``step_factor``  |1 + lr·λ| for the linearised non-zero eigenvalue λ at (0, ψ_T) with the largest
                   |1 + lr·λ| (> 1: a gradient step cannot settle there; zero eigenvalues, along the line
                   of equilibria θ = 0, are left out; none for WGAN-GP resting at the penalty's kink ψ = 0);
  ``d_mmd_gap``    MMD-GAN only: max over θ ∈ {±1e-3, ±0.1, ±1, ±10} of |sup_ψ MMD - √2| (001's "D_MMD = √2").
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


TAIL = 0.2  # the last 20 % of the steps
BAND = 1e-3  # |θ| below this is "at the equilibrium" (converges); crossings must clear it
D_MMD_THETAS = (-10.0, -1.0, -0.1, -1e-3, 1e-3, 0.1, 1.0, 10.0)


def run(cfg: dict, ctx) -> dict:
    recipe = cfg.get("recipe") or {}
    method = recipe.get("loss")
    if method not in dg.METHODS:
        raise ValueError(f"diracgan: recipe loss must be one of {dg.METHODS}, got {method!r}")
    penalty = cfg.get("penalty", recipe.get("penalty"))
    starts, seed = cfg.get("starts") or [[1.0, 3.0]], int(cfg.get("seed", 0))
    if seed >= len(starts):
        raise ValueError(f"diracgan: seed {seed} has no start (config starts lists {len(starts)}); "
                         f"run at most {len(starts)} seeds or add starts")
    theta0, psi0 = (float(v) for v in starts[seed])
    lr = float(cfg.get("lr", 0.1))
    steps = round(float(cfg["horizon"]) / lr) if "horizon" in cfg else int(cfg.get("steps", 1500))
    path = dg.simulate(method, theta0, psi0, lr=lr, steps=steps, penalty=penalty)
    ctx.progress(steps, steps)
    tail = path[-max(1, round(len(path) * TAIL)):]
    metrics = {"distance": float(abs(path[-1, 0])), "amplitude": float(np.abs(tail[:, 0]).max()),
               "crossings": float(dg.crossings(tail[:, 0], BAND)), "psi": float(abs(path[-1, 1]))}
    kink = method == "wgan-gp" and abs(path[-1, 1]) < 1e-5  # λ(|ψ| - 1)² has no derivative at ψ = 0
    if all(math.isfinite(v) for v in metrics.values()) and not kink:
        eig = np.linalg.eigvals(dg.jacobian(method, 0.0, path[-1, 1], penalty))
        eig = eig[np.abs(eig) > 1e-9]  # a zero eigenvalue is the direction along the line of equilibria
        metrics["step_factor"] = float(np.abs(1 + lr * eig).max()) if eig.size else 1.0
    if method == "mmd-gan":
        metrics["d_mmd_gap"] = max(abs(dg.d_mmd(t) - math.sqrt(2)) for t in D_MMD_THETAS)
    verdict = ("converges" if metrics["amplitude"] < BAND else
               "oscillates" if metrics["crossings"] >= 4 else "does not converge, does not oscillate")
    name = cfg.get("method", method)
    setting = f"lr {lr}" + (f", λ {penalty}" if method in dg.DEFAULT_PENALTY else "")
    _plot(method, path, penalty, lr, f"{name} ({setting}): {verdict} (|θ_T| = {metrics['distance']:.3g})",
          ctx.artifact("trajectory.png"))
    np.save(ctx.artifact("trajectory.npy"), path)
    notes = [f"{name}: {steps} simultaneous gradient steps, {setting}, from (θ, ψ) = ({theta0}, {psi0}): {verdict}"]
    return {"metrics": metrics, "steps": steps, "notes": notes}
