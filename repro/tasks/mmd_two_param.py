"""Task of 003 Fig. S1 (App. A.2): streamlines and equilibria of the two-parameter MMD-GAN.

The field is exact up to quadrature (``repro.core.dynamics.two_param_mmd``); nothing is sampled, so the
seed does not matter. ``run(cfg, ctx)`` reads:
  cfg['recipe']['loss']   'rbf' (L_D^att, eq. S1b) or 'rep' (L_D^rep, eq. S1c)
  cfg['dataset']          'px-uniform' (P_X = U(-1, 1), realizable) or 'px-normal' (P_X = N(0, 1))
  cfg['panels']           quadrature panels (8 Gauss–Legendre nodes each)
  cfg['grid']             streamline grid {w1: [lo, hi], w2: [lo, hi], n: points per axis}
  cfg['starts']           root-finding starts per axis over cfg['search'] {w1: [lo, hi], w2: [lo, hi]}
Metrics: ``w1``, ``w2`` of the stable non-trivial equilibrium (realizable case: a whole line of
equilibria, so only ``w1`` of the one closest to w1 = 1), ``w1_offset`` = max |w1 - 1| over the equilibria found (realizable
case), ``n_equilibria``, ``max_real_eig`` = largest real part of the Jacobian's eigenvalues there.
Artifact ``streamlines.png``: the field, its equilibria (stars) and the trivial line w2 = 0.
"""
from __future__ import annotations

import numpy as np

from repro.core.dynamics import TwoParamMMDGAN, find_equilibria

TARGETS = {"px-uniform": "uniform", "px-normal": "normal"}


def _plot(game, grid, eqs, path, title):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w1s = np.linspace(*grid["w1"], grid["n"])
    w2s = np.linspace(*grid["w2"], grid["n"])
    u, v = game.field_grid(w1s, w2s)
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    speed = np.hypot(u, v)
    ax.streamplot(w1s, w2s, u, v, color=np.log10(speed + 1e-12), cmap="viridis", density=1.1, linewidth=0.8)
    ax.axhline(0, color="grey", lw=1, ls="--", label="trivial w2 = 0")
    if game.target == "uniform":
        ax.axvline(1, color="tab:red", lw=1, ls=":", label="P_G = P_X (w1 = 1)")
    for e in eqs:
        ax.plot(e.w1, e.w2, marker="*", ms=11, color="tab:red" if e.stable else "tab:orange", mec="k")
    ax.set_xlabel("w1 (generator)")
    ax.set_ylabel("w2 (discriminator)")
    ax.set_xlim(*grid["w1"])
    ax.set_ylim(*grid["w2"])
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def game_for(cfg: dict, task: str, panels: int = 40) -> TwoParamMMDGAN:
    """The game of cfg['dataset'] and cfg['recipe']['loss'] (with cfg['panels'], default ``panels``)."""
    dataset = cfg["dataset"]
    if dataset not in TARGETS:
        raise ValueError(f"{task}: dataset must be one of {list(TARGETS)} (003 App. A.2), got '{dataset}'")
    return TwoParamMMDGAN(TARGETS[dataset], (cfg.get("recipe") or {}).get("loss"), panels=int(cfg.get("panels", panels)))


def run(cfg: dict, ctx) -> dict:
    dataset = cfg["dataset"]
    game = game_for(cfg, "mmd_two_param")
    loss = game.loss
    grid = {"w1": [0.0, 2.5], "w2": [-0.5, 2.0], "n": 25, **(cfg.get("grid") or {})}
    search = {"w1": [0.5, 2.0], "w2": [0.1, 1.8], **(cfg.get("search") or {})}
    eqs = find_equilibria(game, tuple(search["w1"]), tuple(search["w2"]), starts=int(cfg.get("starts", 4)))
    # L depends on w2 only through w2² (kernel of w2·(x² - y²)), so zeros come in pairs ±w2: report w2 > 0
    stable = [e for e in eqs if e.stable and e.w2 > 0]
    metrics: dict[str, float] = {"n_equilibria": float(len(eqs))}
    if stable and game.target == "uniform":  # a line of equilibria: w2 is arbitrary, so only w1 is reported
        best = min(stable, key=lambda e: abs(e.w1 - 1))
        metrics.update(w1=best.w1, max_real_eig=float(best.eigenvalues.real.max()))
    elif stable:
        best = stable[0]
        metrics.update(w1=best.w1, w2=best.w2, max_real_eig=float(best.eigenvalues.real.max()))
    if game.target == "uniform" and eqs:
        metrics["w1_offset"] = float(max(abs(abs(e.w1) - 1) for e in eqs))
    name = cfg.get("method", f"mmd-{loss}")
    found = "; ".join(f"({e.w1:.3f}, {e.w2:.3f}){'' if e.stable else ' unstable'}" for e in eqs) or "none"
    _plot(game, grid, eqs, ctx.artifact("streamlines.png"), f"{name}, {dataset}: equilibria {found}"[:120])
    notes = [f"{name} on {dataset}: non-trivial equilibria found {found} (root finding from "
             f"{cfg.get('starts', 4)}² starts; quadrature {game.panels} panels × 8 nodes)"]
    return {"metrics": metrics, "steps": 0, "notes": notes}
