"""Task of 004 Table 1: train one toy model on the 5×5 Gaussian grid, then count captured modes.

``run(cfg, ctx)`` reads:
  cfg['method'] / cfg['recipe']['family']  which model (repro.core.toy.FAMILIES)
  cfg['seed']                              seeds torch/numpy/random and the data stream
  cfg['data']        {n_per_side, spacing, std}  (004 gives neither spacing nor std; PacGAN's defaults)
  cfg['model']       hyper-parameters passed to the model (see repro/core/toy)
  cfg['steps'], cfg['batch_size']          training length and data batch size
  cfg['eval_samples']                      samples for the metrics (004 §5.2: 50,000)
  cfg['metric']      optional {threshold: 3, min_count: 1000} (004 §5.2)
  cfg['plot_samples'], cfg['saved_samples']  sizes of samples.png (2,500) and samples.pt (for 004 Fig. 2)
and returns {"metrics": {modes, hq, kl}, "steps", "notes"}. Checkpoints hold the model, its
optimisers, the step and the data generator's state; ``RunContext`` adds every global RNG state,
so an interrupted run resumes to the same final numbers.
"""
from __future__ import annotations


import torch

from repro.core.toy import build_toy_model
from repro.data.synthetic import gmm_grid_centers, sample_gmm_grid
from repro.metrics.modes import gmm_grid_metrics
from repro.runtime import Diverged, seed_everything

DATA_DEFAULTS = {"n_per_side": 5, "spacing": 2.0, "std": 0.05}
PROGRESS_EVERY = 100


def _family(cfg: dict) -> str:
    recipe = cfg.get("recipe") or {}
    return recipe.get("family", cfg.get("method"))


def _require(cfg: dict, key: str, kind=int, minimum: int = 1):
    if key not in cfg:
        raise ValueError(f"gmm_modes: config needs '{key}' (set it in the job spec's config or scale config)")
    value = cfg[key]
    if not isinstance(value, kind) or value < minimum:
        raise ValueError(f"gmm_modes: '{key}' must be an integer >= {minimum}, got {value!r}")
    return value


def save_scatter(samples: torch.Tensor, centers: torch.Tensor, path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4, 4))
    s = samples.cpu().numpy()
    c = centers.cpu().numpy()
    ax.scatter(s[:, 0], s[:, 1], s=2, alpha=0.5, color="tab:blue", label="samples")
    ax.scatter(c[:, 0], c[:, 1], s=12, marker="x", color="tab:red", label="centres")
    lim = float(abs(c).max()) + 2
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def run(cfg: dict, ctx) -> dict:
    steps = _require(cfg, "steps", minimum=0)
    batch_size = _require(cfg, "batch_size")
    eval_samples = _require(cfg, "eval_samples")
    data = {**DATA_DEFAULTS, **(cfg.get("data") or {})}
    metric = {"threshold": 3.0, "min_count": 1000, **(cfg.get("metric") or {})}
    family = _family(cfg)
    seed = int(cfg.get("seed", 0))

    seed_everything(seed)
    data_rng = torch.Generator().manual_seed(seed + 1_000_003)  # data stream separate from model noise
    model = build_toy_model(family, cfg.get("model"), sigma=data["std"], device=ctx.device)
    start = ctx.resume_training(model.load_state, data_rng)

    for step in range(start + 1, steps + 1):
        x = sample_gmm_grid(batch_size, generator=data_rng, **data)
        losses = model.train_step(x.to(ctx.device))
        ctx.after_step(step, steps, losses, model.state, data_rng, PROGRESS_EVERY, label=f"{family}: ")

    model.eval()
    samples = model.sample(eval_samples).cpu()
    if not torch.isfinite(samples).all():
        raise Diverged(f"{family}: generated samples contain NaN or inf")
    centers = gmm_grid_centers(data["n_per_side"], data["spacing"])
    metrics = gmm_grid_metrics(samples, centers, data["std"], threshold=metric["threshold"],
                               min_count=metric["min_count"])
    metrics = {k: float(v) for k, v in metrics.items()}

    n_plot = min(int(cfg.get("plot_samples", 2500)), eval_samples)
    n_saved = min(int(cfg.get("saved_samples", 5000)), eval_samples)
    save_scatter(samples[:n_plot], centers, ctx.artifact("samples.png"),
                 f"{cfg.get('method', family)} · seed {seed} · {int(metrics['modes'])} modes")
    torch.save({"samples": samples[:n_saved].clone(), "centers": centers, "method": cfg.get("method", family),
                "seed": seed, "std": data["std"]}, ctx.artifact("samples.pt"))
    notes = [f"{family}: {steps} steps of batch {batch_size}; metrics on {eval_samples} samples "
             f"(threshold {metric['threshold']} std, mode when > {metric['min_count']} high-quality samples)"]
    if start:
        notes.append(f"resumed from checkpoint at step {start}")
    return {"metrics": metrics, "steps": steps, "notes": notes}
