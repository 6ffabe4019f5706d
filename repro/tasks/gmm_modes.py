"""Task of 004 Table 1: train toy models on the 5×5 Gaussian grid, then count captured modes.

``run_group(cfgs, ctxs)`` trains runs that differ only in their seed together, as one stacked model
(``repro.core.toy.stacked``: each seed's own initial weights, its own latent-noise and data generators,
its own Adam moments), and returns one result per run; ``run(cfg, ctx)`` is the one-run case. Each run
checkpoints its own seed (weights, Adam moments, generator states, evaluation curve) through its own
``RunContext``, so an interrupted group resumes to the same records.

The protocol is fixed before running: every run trains exactly ``steps`` steps at a constant learning rate
(so the curve's point at step b is the run of b steps), whatever its curve does.

Config read:
  cfg['method'] / cfg['recipe']['family']  which model (repro.core.toy.FAMILIES)
  cfg['seed']                              the run's seed (initial weights, noise and data streams)
  cfg['std']         component std (the job's grid axis; 004 states none); else cfg['data']['std']
  cfg['data']        {n_per_side, spacing}  (004 states neither)
  cfg['model']       hyper-parameters passed to the model (see repro/core/toy)
  cfg['steps']       training steps: an integer, or a mapping std -> steps
  cfg['curve_every'] evaluate modes / HQ / KL every this many steps, kept in the record's curve (the
                     metrics at every budget up to the run's length; the claims and the table read them)
  cfg['batch_size'], cfg['eval_samples'], cfg['metric'] {threshold: 3, min_count: 1000} (004 §5.2)
  cfg['plot_samples'], cfg['saved_samples']  sizes of samples.png (2,500) and samples.pt (for 004 Fig. 2)
  cfg['compile']     optional, default false: the step's losses through torch.compile (true: inductor's
                     default mode, which picks no kernel by timing; repro.core.toy.stacked)
and returns {"metrics": {modes, hq, kl}, "steps", "curve", "notes"} per run.
"""
from __future__ import annotations

import ctypes
import math

import torch

from repro.core.toy.stacked import StackedToy
from repro.data.synthetic import gmm_grid_centers, sample_gmm_grid
from repro.metrics.modes import gmm_grid_metrics
from repro.runtime import Diverged

DATA_DEFAULTS = {"n_per_side": 5, "spacing": 2.0, "std": 0.05}
PROGRESS_EVERY = 100
RUN_TIME_KEYS = ("converge", "lr_decay")  # what earlier protocols decided while running, refused
DATA_STREAM = 1_000_003  # data generator seed = run seed + this; noise generator seed = run seed


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


def data_protocol(cfg: dict) -> dict:
    """{n_per_side, spacing, std}: the grid axis ``std`` overrides ``data.std``."""
    data = {**DATA_DEFAULTS, **(cfg.get("data") or {})}
    if cfg.get("std") is not None:
        data["std"] = float(cfg["std"])
    if not data["std"] > 0:
        raise ValueError(f"gmm_modes: component std must be positive, got {data['std']!r}")
    return data


def training_steps(cfg: dict, std: float) -> int:
    """``steps`` as an integer, or looked up by the component std in a mapping std -> steps."""
    if "steps" not in cfg:
        _require(cfg, "steps")  # the one-line message naming the missing key
    steps = cfg["steps"]
    if isinstance(steps, dict):
        hits = [v for k, v in steps.items() if math.isclose(float(k), std)]
        if not hits:
            raise ValueError(f"gmm_modes: 'steps' has no entry for std {std} (entries: {', '.join(map(str, steps))})")
        steps = hits[0]
    return _require({"steps": steps}, "steps", minimum=0)


def keep_freed_memory() -> None:
    """glibc: keep freed blocks in the heap instead of returning them to the OS, so the step's
    megabyte-sized temporaries are not page-faulted in afresh every step (thousands of faults per
    Unrolled GAN step otherwise). No effect elsewhere."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
    except (OSError, AttributeError):
        pass


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
    out = run_group([cfg], [ctx])[0]
    if isinstance(out, Exception):
        raise out
    return out


def _without_seed(cfg: dict) -> dict:
    return {k: v for k, v in cfg.items() if k != "seed"}


def run_group(cfgs: list[dict], ctxs: list) -> list:
    """Train runs that differ only in their seed together; one result (or a :class:`Diverged`) per run."""
    if len(cfgs) != len(ctxs) or not cfgs:
        raise ValueError("gmm_modes.run_group: one RunContext per config, at least one")
    if any(_without_seed(c) != _without_seed(cfgs[0]) for c in cfgs):
        raise ValueError("gmm_modes.run_group: the configs of a group may differ only in 'seed'")
    seeds = [int(c.get("seed", 0)) for c in cfgs]
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"gmm_modes.run_group: seeds repeat in {seeds}")
    cfg = cfgs[0]
    for key in RUN_TIME_KEYS:
        if key in cfg:
            raise ValueError(f"gmm_modes: '{key}' is not supported: every run trains exactly 'steps' steps at a constant "
                             "learning rate, fixed in the spec (the curve gives the metrics at every shorter budget)")
    data = data_protocol(cfg)
    steps = training_steps(cfg, data["std"])
    _require(cfg, "batch_size")
    _require(cfg, "eval_samples")
    keep_freed_memory()
    states = [ctx.load_checkpoint() for ctx in ctxs]
    at = [int(st["step"]) if st else 0 for st in states]
    if len(set(at)) > 1:  # seeds checkpointed at different steps (a kill between their writes): apart
        out: list = [None] * len(cfgs)
        for step in sorted(set(at)):
            idx = [i for i, a in enumerate(at) if a == step]
            for i, res in zip(idx, _train(cfg, [cfgs[i] for i in idx], [ctxs[i] for i in idx],
                                          [states[i] for i in idx], data, steps)):
                out[i] = res
        return out
    return _train(cfg, cfgs, ctxs, states, data, steps)


def _evaluate(model: StackedToy, seeds: list[int], step: int, n: int, centers, data, metric) -> tuple:
    """Metrics of every seed on ``n`` fresh samples (generator seeded by (seed, step): no training stream used)."""
    rngs = [torch.Generator().manual_seed(7_919 * (seed + 1) + step) for seed in seeds]
    was = model.training
    model.eval()
    samples = model.sample(n, rngs).cpu()
    model.train(was)
    out = []
    for s in samples:
        if not torch.isfinite(s).all():
            out.append(None)
            continue
        m = gmm_grid_metrics(s, centers, data["std"], threshold=metric["threshold"], min_count=metric["min_count"])
        out.append({k: float(v) for k, v in m.items()})
    return samples, out


def _train(cfg, cfgs, ctxs, states, data, steps) -> list:
    family = _family(cfg)
    seeds = [int(c.get("seed", 0)) for c in cfgs]
    batch_size, eval_samples = cfg["batch_size"], cfg["eval_samples"]
    metric = {"threshold": 3.0, "min_count": 1000, **(cfg.get("metric") or {})}
    every = _require(cfg, "curve_every")
    centers = gmm_grid_centers(data["n_per_side"], data["spacing"])
    grid = {k: data[k] for k in ("n_per_side", "spacing", "std")}

    device = ctxs[0].device
    model = StackedToy(family, cfg.get("model"), sigma=data["std"], seeds=seeds, device=device,
                       compile=cfg.get("compile"))
    noise_rngs = [torch.Generator().manual_seed(seed) for seed in seeds]
    data_rngs = [torch.Generator().manual_seed(seed + DATA_STREAM) for seed in seeds]
    curves: list[list[dict]] = [[] for _ in seeds]
    diverged: list[int | None] = [None] * len(seeds)
    start = 0
    if states[0] is not None:
        model.load_seed_states([st["model"] for st in states])
        for i, st in enumerate(states):
            noise_rngs[i].set_state(st["noise_rng"])
            data_rngs[i].set_state(st["data_rng"])
            curves[i], diverged[i] = list(st["curve"]), st["diverged"]
        start = int(states[0]["step"])
    progress = ctxs[0].progress
    checkpoint_every = ctxs[0].checkpoint_every

    for step in range(start + 1, steps + 1):
        x = torch.stack([sample_gmm_grid(batch_size, generator=g, **grid) for g in data_rngs])
        losses = model.train_step(x, noise_rngs)
        finite = torch.stack(list(losses.values())).isfinite().all(0).tolist()
        for i, ok in enumerate(finite):
            if not ok and diverged[i] is None:
                diverged[i] = step
        if step % every == 0 and step != steps:
            _, ms = _evaluate(model, seeds, step, eval_samples, centers, data, metric)
            for i, m in enumerate(ms):
                if m is not None and diverged[i] is None:
                    curves[i].append({"step": step, **m})
        if step % PROGRESS_EVERY == 0 or step == steps:
            alive = [i for i in range(len(seeds)) if diverged[i] is None]
            progress(step, steps, **{k: float(v[alive].mean()) if alive else float("nan") for k, v in losses.items()})
        if checkpoint_every and step % checkpoint_every == 0 and step < steps:
            for i, ctx in enumerate(ctxs):
                ctx.save_checkpoint({"model": model.seed_state(i), "noise_rng": noise_rngs[i].get_state(),
                                     "data_rng": data_rngs[i].get_state(), "curve": list(curves[i]),
                                     "diverged": diverged[i], "step": step})
    samples, final = _evaluate(model, seeds, steps, eval_samples, centers, data, metric)
    results: list = []
    for i, (c, ctx) in enumerate(zip(cfgs, ctxs)):
        if diverged[i] is not None:
            results.append(Diverged(f"{family}: non-finite loss at step {diverged[i]}", step=diverged[i]))
            continue
        if final[i] is None:
            results.append(Diverged(f"{family}: generated samples contain NaN or inf", step=steps))
            continue
        metrics = final[i]
        n_plot = min(int(c.get("plot_samples", 2500)), eval_samples)
        n_saved = min(int(c.get("saved_samples", 5000)), eval_samples)
        save_scatter(samples[i][:n_plot], centers, ctx.artifact("samples.png"),
                     f"{c.get('method', family)} · std {data['std']} · seed {seeds[i]} · {int(metrics['modes'])} modes")
        torch.save({"samples": samples[i][:n_saved].clone(), "centers": centers, "method": c.get("method", family),
                    "seed": seeds[i], "std": data["std"]}, ctx.artifact("samples.pt"))
        notes = [f"{family}: {steps} steps of batch {batch_size} at a constant learning rate, std {data['std']}; "
                 f"trained with {len(seeds)} seed(s) batched" + (f", compiled ({model.compile})" if model.compile else "")
                 + f"; metrics on {eval_samples} samples every {every} steps "
                 f"(threshold {metric['threshold']} std, mode when > {metric['min_count']} high-quality samples)"]
        if start:
            notes.append(f"resumed from checkpoint at step {start}")
        results.append({"metrics": metrics, "steps": steps, "curve": curves[i] + [{"step": steps, **metrics}],
                        "notes": notes})
    return results
