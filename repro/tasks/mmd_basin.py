"""Task of 003 App. A.2's trivial-solution basin: where simultaneous gradient steps of the two-parameter
MMD-GAN end, from a stratified grid of starts.

``run(cfg, ctx)`` reads:
  cfg['recipe']['loss']   'rbf' (eq. S1b) or 'rep' (eq. S1c);  cfg['dataset']  'px-uniform' | 'px-normal'
  cfg['window']           {w1: [lo, hi], w2: [lo, hi]}: the starts' window
  cfg['cells']            n: one start drawn uniformly in each of n × n cells (the seed draws them)
  cfg['lr_d'], cfg['lr_g'] step sizes of the discriminator (w2) and the generator (w1); lr_g is a grid axis
  cfg['horizon']          time T of the slower player: round(T / min(lr_g, lr_d)) simultaneous gradient steps
  cfg['panels']           quadrature panels of the field
Metrics (``repro.core.dynamics.basin.outcome_fractions``): ``trivial_fraction`` (|w2_T| < 0.01),
``nontrivial_fraction`` (at rest elsewhere: max |field| < 1e-4), ``unsettled_fraction`` (neither).
Artifact ``basin.png``: the starts coloured by where they end.
"""
from __future__ import annotations

import numpy as np

from repro.core.dynamics.basin import descend, outcome_fractions, stratified_starts
from repro.tasks.mmd_two_param import game_for


def _plot(w1, w2, end_w2, title, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    trivial = np.abs(np.nan_to_num(end_w2, nan=1.0)) < 1e-2
    fig, ax = plt.subplots(figsize=(4.2, 3.8))
    ax.scatter(w1[~trivial], w2[~trivial], s=10, color="tab:blue", label="ends elsewhere")
    ax.scatter(w1[trivial], w2[trivial], s=10, color="tab:red", label="ends at w2 = 0 (trivial)")
    ax.set_xlabel("w1 (generator) at start")
    ax.set_ylabel("w2 (discriminator) at start")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=6, loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=130)
    plt.close(fig)


def run(cfg: dict, ctx) -> dict:
    dataset = cfg["dataset"]
    game = game_for(cfg, "mmd_basin")
    window, cells = cfg["window"], int(cfg["cells"])
    lr_g, lr_d = float(cfg["lr_g"]), float(cfg["lr_d"])
    steps = round(float(cfg["horizon"]) / min(lr_g, lr_d))
    w1, w2 = stratified_starts(window["w1"], window["w2"], cells, int(cfg.get("seed", 0)))
    end1, end2 = descend(game.field_batch, w1, w2, lr_g, lr_d, steps)
    ctx.progress(steps, steps)
    fractions = outcome_fractions(game.field_batch, end1, end2)
    metrics = {f"{k}_fraction": v for k, v in fractions.items()}
    name = cfg.get("method", f"mmd-{game.loss}")
    _plot(w1, w2, end2, f"{name}, {dataset}, lr_g {lr_g}, lr_d {lr_d}: trivial {fractions['trivial']:.3f}",
          ctx.artifact("basin.png"))
    notes = [f"{name} on {dataset}: {cells}×{cells} stratified starts in w1 {window['w1']}, w2 {window['w2']}, "
             f"{steps} simultaneous steps (lr_g {lr_g}, lr_d {lr_d}): trivial {fractions['trivial']:.3f}, "
             f"non-trivial rest {fractions['nontrivial']:.3f}, unsettled {fractions['unsettled']:.3f}"]
    return {"metrics": metrics, "steps": steps, "notes": notes}
