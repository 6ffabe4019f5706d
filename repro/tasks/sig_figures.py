"""Tasks of 004 Figs. 2 and 3: scatter plots from the sig-table1 runs; SIG on the uneven grid and on digits.

cfg['panel'] selects what one run does (default: ``uneven`` for dataset gmm-uneven, else ``digits``):
  ``table1-samples`` (Fig. 2): no training. Reads the saved samples of the sig-table1 run with the same
      method, seed and scale (``<results>/sig-table1/<key>/samples.pt``; run that job first), plots them,
      and copies that run's metrics (modes, hq, kl on its 50,000 samples).
  ``uneven`` (Fig. 3a): trains the toy SIG of 004 §5.2 on the uneven 5×5 grid (columns 1, 3, 5 twice as
      likely as 2, 4) and compares captured proportions with the truth: ``tv_modes`` = total variation
      between the share of high-quality samples per component and the true weights, ``tv_columns`` the
      same per column, plus modes / hq / kl of ``repro.metrics.modes.gmm_grid_metrics`` with the weights.
  ``digits`` (Fig. 3b; options cfg['digits'] = {z_dim, hidden, lr, m, sigma}): SIG on digit images, x ~ N(θ, σ² I) with θ from an MLP generator; ``test_h_m`` =
      H_M (004 eq. 6) on held-out images. Saves a sample grid.
"""
from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import nn

from repro.core.sig import gaussian_log_likelihood, sig_cross_entropy
from repro.runtime import Diverged, seed_everything

PANELS = ("table1-samples", "uneven", "digits")


def _scatter(samples, centers, path, title, weights=None):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    s, c = np.asarray(samples), np.asarray(centers)
    ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.4, color="tab:blue")
    sizes = 20 if weights is None else 400 * np.asarray(weights)
    ax.scatter(c[:, 0], c[:, 1], s=sizes, marker="x", color="tab:red")
    lim = float(np.abs(c).max()) + 2
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _table1_samples(cfg, ctx) -> dict:
    """cfg['std']: the component std of the sig-table1 runs to show (sig-table1 grids it), of the same scale."""
    results = Path(ctx.run_dir).parent.parent
    wanted = (cfg["method"], int(cfg["seed"]), cfg["scale"])
    scales = {cfg["scale"]}
    std = cfg.get("std")
    for record_file in sorted((results / "sig-table1").glob("*/record.json")):
        rec = json.loads(record_file.read_text())
        rec_std = (rec.get("axes") or {}).get("std", (rec.get("config") or {}).get("data", {}).get("std"))
        if ((rec.get("method"), int(rec.get("seed", -1))) == wanted[:2] and rec.get("scale") in scales
                and (std is None or rec_std is not None and math.isclose(float(rec_std), float(std)))
                and rec.get("status") == "ok"):
            blob = torch.load(record_file.parent / "samples.pt", map_location="cpu", weights_only=False)
            m = rec.get("metrics", {})
            _scatter(blob["samples"], blob["centers"], ctx.artifact("samples.png"),
                     f"{cfg['method']} · seed {cfg['seed']} · {m.get('modes', float('nan')):.0f} modes")
            return {"metrics": {k: float(v) for k, v in m.items()}, "steps": 0,
                    "notes": [f"samples and metrics of sig-table1 run {rec['key']} (no retraining)"]}
    raise FileNotFoundError(f"no finished sig-table1 run for method {wanted[0]}, seed {wanted[1]}, scale "
                            f"{wanted[2]}" + (f", std {std}" if std is not None else "") + f" under {results}: "
                            f"run `repro run sig-table1 --scale {wanted[2]}` first")


def _train(model_step, steps, ctx, state_fn, load_fn, rng):
    start = ctx.resume_training(load_fn, rng)
    for step in range(start + 1, steps + 1):
        loss = model_step()
        if not math.isfinite(loss):
            raise Diverged(f"non-finite loss at step {step}", step=step)
        if step % 100 == 0 or step == steps:
            ctx.progress(step, steps, loss=loss)
        if ctx.checkpoint_every and step % ctx.checkpoint_every == 0 and step < steps:
            ctx.save_training(step, state_fn(), rng)
    return start


def captured_shares(samples: torch.Tensor, centers: torch.Tensor, weights: torch.Tensor, std: float,
                    threshold: float = 3.0) -> dict:
    """Share of high-quality samples (within ``threshold`` std, 004 §5.2) per component and per column,
    and their total variation from the true weights. Columns: first coordinate (``gmm_grid_centers`` order)."""
    d = torch.cdist(samples.double(), centers.double())
    good = d.min(1).values <= threshold * std
    share = torch.bincount(d.argmin(1)[good], minlength=len(centers)).double()
    share = share / share.sum().clamp_min(1)
    w = weights.double() / weights.double().sum()
    side = int(round(math.sqrt(len(centers))))
    columns, true_columns = share.view(side, side).sum(1), w.view(side, side).sum(1)
    return {"share": share, "columns": columns, "true_columns": true_columns,
            "tv_modes": float(0.5 * (share - w).abs().sum()),
            "tv_columns": float(0.5 * (columns - true_columns).abs().sum())}


def _uneven(cfg, ctx) -> dict:
    from repro.core.toy import build_toy_model
    from repro.data.synthetic import gmm_grid_centers, sample_gmm_uneven, uneven_gmm_grid_weights
    from repro.metrics.modes import gmm_grid_metrics

    # cfg['uneven'] = {std, steps, lr_decay}: the protocol of sig-table1 at its leading std (004 states none)
    protocol = cfg.get("uneven") or {}
    std = float(protocol.get("std", 0.05))
    steps = int(protocol.get("steps", cfg["steps"]))
    decay = protocol.get("lr_decay")
    seed = int(cfg["seed"])
    seed_everything(seed)
    rng = torch.Generator().manual_seed(seed + 1_000_003)
    model = build_toy_model("sig", cfg.get("model"), sigma=std, device=ctx.device)
    batch = int(cfg["batch_size"])
    base_lr = [g["lr"] for g in model.opt.param_groups]
    step_no = [0]

    def step():
        step_no[0] += 1
        late = decay and step_no[0] > float(decay.get("at", 0.9)) * steps
        for g, lr in zip(model.opt.param_groups, base_lr):  # lr × factor for the last steps (as sig-table1)
            g["lr"] = lr * (float(decay.get("factor", 0.1)) if late else 1.0)
        return model.train_step(sample_gmm_uneven(batch, generator=rng, std=std).to(ctx.device))["loss"]

    def load(state):
        model.load_state(state)
        step_no[0] = int(ctx.load_checkpoint()["step"]) if ctx.checkpoint_path.exists() else 0

    start = _train(step, steps, ctx, model.state, load, rng)
    model.eval()
    samples = model.sample(int(cfg["eval_samples"])).cpu()
    if not torch.isfinite(samples).all():
        raise Diverged("samples contain NaN or inf")
    centers, weights = gmm_grid_centers(), uneven_gmm_grid_weights()
    metrics = {k: float(v) for k, v in gmm_grid_metrics(samples, centers, std, weights=weights).items()}
    shares = captured_shares(samples, centers, weights, std)
    metrics.update(tv_modes=shares["tv_modes"], tv_columns=shares["tv_columns"])
    col_share, col_true = shares["columns"], shares["true_columns"]
    _scatter(samples[:2500], centers, ctx.artifact("samples.png"),
             f"SIG, uneven grid · column shares {np.round(col_share.numpy(), 3).tolist()} "
             f"(truth {np.round(col_true.numpy(), 3).tolist()})", weights=weights)
    notes = [f"SIG on gmm-uneven: std {std}, {steps} steps"
             + (f", lr × {decay.get('factor', 0.1)} after {decay.get('at', 0.9):.0%}" if decay else "")
             + f"; captured column shares {col_share.numpy().round(3).tolist()}, true {col_true.numpy().round(3).tolist()}"]
    if start:
        notes.append(f"resumed from checkpoint at step {start}")
    return {"metrics": metrics, "steps": steps, "notes": notes}


class DigitSIG(nn.Module):
    """θ = tanh(MLP(z)) ∈ [-1, 1]^784, x ~ N(θ, σ² I) (004 eq. 3 on images; MLP sizes are our choice)."""

    def __init__(self, z_dim: int = 10, hidden: int = 256, side: int = 28):
        super().__init__()
        self.z_dim, self.side = z_dim, side
        self.net = nn.Sequential(nn.Linear(z_dim, hidden), nn.ReLU(), nn.Linear(hidden, 2 * hidden), nn.ReLU(),
                                 nn.Linear(2 * hidden, side * side), nn.Tanh())

    def forward(self, n: int, device) -> torch.Tensor:
        return self.net(torch.randn(n, self.z_dim).to(device)).view(n, 1, self.side, self.side)


def _digits(cfg, ctx) -> dict:
    from repro.data import get_dataset

    source = cfg.get("data_source") or cfg["dataset"]
    seed = int(cfg["seed"])
    seed_everything(seed)

    def images(split):
        ds = get_dataset(source, split=split)
        return torch.cat([x for x, _ in torch.utils.data.DataLoader(ds, batch_size=4096)])

    train, test = images("train"), images("test")
    opts = {"z_dim": 10, "hidden": 256, "lr": 1e-3, "m": 100, "sigma": 0.1, **(cfg.get("digits") or {})}
    sigma, m, batch = float(opts["sigma"]), int(opts["m"]), int(cfg["batch_size"])
    model = DigitSIG(int(opts["z_dim"]), int(opts["hidden"])).to(ctx.device)
    opt = torch.optim.Adam(model.parameters(), lr=float(opts["lr"]))
    log_p = gaussian_log_likelihood(sigma)
    rng = torch.Generator().manual_seed(seed + 1_000_003)

    def step():
        x = train[torch.randint(len(train), (batch,), generator=rng)].to(ctx.device)
        loss = sig_cross_entropy(x.flatten(1), model(m, ctx.device).flatten(1), log_p)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return float(loss.detach())

    def state():
        return {"net": model.state_dict(), "opt": opt.state_dict()}

    def load(s):
        model.load_state_dict(s["net"])
        opt.load_state_dict(s["opt"])

    start = _train(step, int(cfg["steps"]), ctx, state, load, rng)
    with torch.no_grad():
        theta = model(1000, ctx.device)
        test_h = float(sig_cross_entropy(test[:1000].flatten(1).to(ctx.device), theta.flatten(1), log_p))
        shown = (theta[:64] + sigma * torch.randn(64, 1, model.side, model.side).to(ctx.device)).cpu()
    from repro.tasks.stacked_mnist import save_grid

    save_grid(shown.repeat(1, 3, 1, 1), ctx.artifact("samples.png"), f"SIG on {source} · seed {seed}")
    notes = [f"SIG on {source}: {cfg['steps']} steps, batch {batch}, M = {m}, σ = {sigma}; test H_M on 1,000 images"]
    if start:
        notes.append(f"resumed from checkpoint at step {start}")
    return {"metrics": {"test_h_m": test_h}, "steps": int(cfg["steps"]), "notes": notes}


def run(cfg: dict, ctx) -> dict:
    panel = cfg.get("panel") or ("uneven" if cfg.get("dataset") == "gmm-uneven" else "digits")
    if panel not in PANELS:
        raise ValueError(f"sig_figures: cfg 'panel' must be one of {PANELS}, got {panel!r}")
    if panel == "table1-samples":
        return _table1_samples(cfg, ctx)
    for key in ("steps", "batch_size") + (("eval_samples",) if panel == "uneven" else ()):
        if not isinstance(cfg.get(key), int) or cfg[key] < (0 if key == "steps" else 1):
            raise ValueError(f"sig_figures/{panel}: '{key}' must be a positive integer in the job config")
    return _uneven(cfg, ctx) if panel == "uneven" else _digits(cfg, ctx)
