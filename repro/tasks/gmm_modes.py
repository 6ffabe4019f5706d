"""Task of 004 Table 1: train toy models on the 5×5 Gaussian grid, then count captured modes.

``run_group(cfgs, ctxs)`` trains runs that differ only in their seed together, as one stacked model
(``repro.core.toy.stacked``: each seed's own initial weights, its own latent-noise and data generators,
its own Adam moments), and returns one result per run; ``run(cfg, ctx)`` is the one-run case. Each run
checkpoints its own seed (weights, Adam moments, generator states, evaluation curve) through its own
``RunContext``, so an interrupted group resumes to the same records.

Config read:
  cfg['method'] / cfg['recipe']['family']  which model (repro.core.toy.FAMILIES)
  cfg['seed']                              the run's seed (initial weights, noise and data streams)
  cfg['std']         component std (the job's grid axis; 004 states none); else cfg['data']['std']
  cfg['data']        {n_per_side, spacing}  (004 states neither)
  cfg['model']       hyper-parameters passed to the model (see repro/core/toy)
  cfg['steps']       training steps: an integer, or a mapping std -> steps
  cfg['lr_decay']    optional {at: 0.9, factor: 0.1}: every learning rate × factor after that fraction
  cfg['converge']    optional {metric, window, tolerance, max_factor}: train until converged. Where the
                     decay would start (or at the end, without one), the seeds' mean ``metric`` is compared
                     with its value ``window`` of the way back (repro.convergence); while it moved by more
                     than ``tolerance``, the run's length doubles at constant lr, up to max_factor × steps.
                     With a decay, the same test is made again at the end, on the final curve (the table
                     footer's test): if the metric still moved, training returns to the state where the
                     decay began and goes on at constant lr for twice the length. Either way a run of
                     final length L is the plain run of L steps. The decision is taken on the seeds
                     trained together (a cell's seeds with batch_seeds).
  cfg['curve_points'] evaluations along training, recorded as the run's curve (default 10)
  cfg['batch_size'], cfg['eval_samples'], cfg['metric'] {threshold: 3, min_count: 1000} (004 §5.2)
  cfg['plot_samples'], cfg['saved_samples']  sizes of samples.png (2,500) and samples.pt (for 004 Fig. 2)
  cfg['compile']     optional, default false: the step's losses through torch.compile (true, or a
                     torch.compile mode such as max-autotune-no-cudagraphs; repro.core.toy.stacked)
and returns {"metrics": {modes, hq, kl}, "steps", "curve", "notes"} per run.
"""
from __future__ import annotations

import ctypes
import math

import torch

from repro.convergence import mean_late_change
from repro.core.toy.stacked import StackedToy
from repro.data.synthetic import gmm_grid_centers, sample_gmm_grid
from repro.metrics.modes import gmm_grid_metrics
from repro.runtime import Diverged

DATA_DEFAULTS = {"n_per_side": 5, "spacing": 2.0, "std": 0.05}
PROGRESS_EVERY = 100
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


def converge_rule(cfg: dict) -> dict | None:
    """``cfg['converge']`` checked, with its defaults (window 0.2, tolerance 1, max_factor 4), or None."""
    rule = cfg.get("converge")
    if not rule:
        return None
    rule = {"window": 0.2, "tolerance": 1.0, "max_factor": 4, **rule}
    if rule.get("metric") not in ("modes", "hq", "kl"):
        raise ValueError(f"gmm_modes: converge.metric must be one of modes, hq, kl; got {rule.get('metric')!r}")
    if not (0 < rule["window"] < 1 and rule["tolerance"] >= 0 and rule["max_factor"] >= 1):
        raise ValueError("gmm_modes: converge needs 0 < window < 1, tolerance >= 0 and max_factor >= 1; "
                         f"got {rule}")
    return rule


def decision_step(length: int, decay: dict | None) -> int:
    """Where a run of ``length`` steps decides whether it has converged: the last step before its lr decay."""
    return int(float(decay.get("at", 0.9)) * length) if decay else length


def lr_scale(step: int, steps: int, decay: dict | None) -> float:
    """Learning-rate factor at ``step`` (1-based): 1, then ``factor`` for steps after ``at``·steps."""
    if not decay:
        return 1.0
    return float(decay.get("factor", 0.1)) if step > float(decay.get("at", 0.9)) * steps else 1.0


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
    data = data_protocol(cfg)
    steps = training_steps(cfg, data["std"])
    _require(cfg, "batch_size")
    _require(cfg, "eval_samples")
    keep_freed_memory()
    states = [ctx.load_checkpoint() for ctx in ctxs]
    at = [(int(st["step"]), int(st.get("length", steps))) if st else (0, steps) for st in states]
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
    decay, rule = cfg.get("lr_decay"), converge_rule(cfg)
    points = int(cfg.get("curve_points", 10))
    every = max(1, steps // points) if points > 0 and steps > 0 else 0  # curve spacing: from the base length
    centers = gmm_grid_centers(data["n_per_side"], data["spacing"])
    grid = {k: data[k] for k in ("n_per_side", "spacing", "std")}

    device = ctxs[0].device
    model = StackedToy(family, cfg.get("model"), sigma=data["std"], seeds=seeds, device=device,
                       compile=cfg.get("compile"))
    noise_rngs = [torch.Generator().manual_seed(seed) for seed in seeds]
    data_rngs = [torch.Generator().manual_seed(seed + DATA_STREAM) for seed in seeds]
    curves: list[list[dict]] = [[] for _ in seeds]
    diverged: list[int | None] = [None] * len(seeds)
    start, length, decisions = 0, steps, []  # length: the run's current length (converge doubles it)
    before_decay: list[dict] | None = None  # each seed's state where the decay began: converge's way back

    def seed_state(i: int) -> dict:
        return {"model": model.seed_state(i), "noise_rng": noise_rngs[i].get_state(),
                "data_rng": data_rngs[i].get_state(), "curve": list(curves[i]), "diverged": diverged[i]}

    def load(states_: list[dict]) -> None:
        model.load_seed_states([st["model"] for st in states_])
        for i, st in enumerate(states_):
            noise_rngs[i].set_state(st["noise_rng"])
            data_rngs[i].set_state(st["data_rng"])
            curves[i], diverged[i] = list(st["curve"]), st["diverged"]

    if states[0] is not None:
        load(states)
        start = int(states[0]["step"])
        length, decisions = int(states[0].get("length", steps)), list(states[0].get("decisions", []))
        if all(st.get("before_decay") for st in states):
            before_decay = [st["before_decay"] for st in states]
    progress = ctxs[0].progress
    checkpoint_every = ctxs[0].checkpoint_every
    cap = rule["max_factor"] * steps if rule else 0

    def moving(step: int, extra: list[dict | None] | None = None) -> tuple[bool, float | None]:
        """The rule's test on the live seeds' curves (with ``extra`` points appended): (extend?, change)."""
        alive = [curves[i] + ([extra[i]] if extra else []) for i in range(len(seeds)) if diverged[i] is None]
        change = mean_late_change(alive, rule["metric"], rule["window"])
        return change is not None and abs(change) > rule["tolerance"], change

    def record_curve_point(step: int) -> None:
        if any(c and c[-1]["step"] == step for c in curves):
            return
        _, ms = _evaluate(model, seeds, step, eval_samples, centers, data, metric)
        for i, m in enumerate(ms):
            if m is not None and diverged[i] is None:
                curves[i].append({"step": step, **m})

    step = start
    while True:
        while step < length:
            step += 1
            x = torch.stack([sample_gmm_grid(batch_size, generator=g, **grid) for g in data_rngs])
            losses = model.train_step(x, noise_rngs, lr_scale(step, length, decay))
            finite = torch.stack(list(losses.values())).isfinite().all(0).tolist()
            for i, ok in enumerate(finite):
                if not ok and diverged[i] is None:
                    diverged[i] = step
            if every and step % every == 0 and step != length:
                record_curve_point(step)
            if rule and step == decision_step(length, decay) and 2 * length <= cap:
                record_curve_point(step)
                extend, change = moving(step)
                decisions.append({"step": step, "change": change, "extended": extend})
                if extend:  # still moving: twice the length, the lr stays constant until its decay
                    length *= 2
                elif decay:  # the way back, should the decay itself still move the metric
                    before_decay = [{"step": step, **seed_state(i)} for i in range(len(seeds))]
            if step % PROGRESS_EVERY == 0 or step == length:
                alive = [i for i in range(len(seeds)) if diverged[i] is None]
                progress(step, length, **{k: float(v[alive].mean()) if alive else float("nan") for k, v in losses.items()})
            if checkpoint_every and step % checkpoint_every == 0 and step < length:
                for i, ctx in enumerate(ctxs):
                    ctx.save_checkpoint({**seed_state(i), "step": step, "length": length, "decisions": decisions,
                                         "before_decay": before_decay[i] if before_decay else None})
        samples, final = _evaluate(model, seeds, length, eval_samples, centers, data, metric)
        at_cap = rule and 2 * length > cap  # no way back from here: the test is made for the notes only
        if not (decay and (before_decay is not None or at_cap)):
            break
        extend, change = moving(length, [{"step": length, **m} if m else None for m in final])
        extend = extend and not at_cap
        decisions.append({"step": length, "change": change, "extended": extend, "after_decay": True})
        if not extend:
            break
        # the decay moved the metric: back to where it began, then on at constant lr to twice the length
        load(before_decay)
        step, length, before_decay = before_decay[0]["step"], 2 * length, None
    steps = length
    results: list = []
    for i, (c, ctx) in enumerate(zip(cfgs, ctxs)):
        if diverged[i] is not None:
            results.append(Diverged(f"{family}: non-finite loss at step {diverged[i]}", step=diverged[i]))
            continue
        if final[i] is None:
            results.append(Diverged(f"{family}: generated samples contain NaN or inf", step=steps))
            continue
        metrics = final[i]
        curve = [p for p in curves[i] if p["step"] != steps] + [{"step": steps, **metrics}]
        n_plot = min(int(c.get("plot_samples", 2500)), eval_samples)
        n_saved = min(int(c.get("saved_samples", 5000)), eval_samples)
        save_scatter(samples[i][:n_plot], centers, ctx.artifact("samples.png"),
                     f"{c.get('method', family)} · std {data['std']} · seed {seeds[i]} · {int(metrics['modes'])} modes")
        torch.save({"samples": samples[i][:n_saved].clone(), "centers": centers, "method": c.get("method", family),
                    "seed": seeds[i], "std": data["std"]}, ctx.artifact("samples.pt"))
        notes = [f"{family}: {steps} steps of batch {batch_size}, std {data['std']}"
                 + (f", lr × {decay.get('factor', 0.1)} after {decay.get('at', 0.9):.0%} of the steps" if decay else "")
                 + f"; trained with {len(seeds)} seed(s) batched" + (f", compiled ({model.compile})" if model.compile else "")
                 + f"; metrics on {eval_samples} samples "
                 f"(threshold {metric['threshold']} std, mode when > {metric['min_count']} high-quality samples)"]
        if rule:
            notes.append(_convergence_note(rule, decisions, length, 2 * length > cap, len(seeds)))
        if start:
            notes.append(f"resumed from checkpoint at step {start}")
        results.append({"metrics": metrics, "steps": steps, "curve": curve, "notes": notes})
    return results


def _convergence_note(rule: dict, decisions: list[dict], length: int, at_cap: bool, n_seeds: int) -> str:
    """What the ``converge`` rule decided, for the record's notes."""
    def said(d: dict) -> str:
        where = f"after the decay at step {d['step']}" if d.get("after_decay") else f"at step {d['step']}"
        return f"{d['change']:+.1f} {where}" if d["change"] is not None else f"no curve {where}"

    head = (f"trained until converged: mean {rule['metric']} of {n_seeds} seed(s) over the last {rule['window']:.0%}, "
            f"tolerance ±{rule['tolerance']:g}, at most {rule['max_factor']:g}× the base steps")
    last = decisions[-1]["change"] if decisions else None
    still = last is not None and abs(last) > rule["tolerance"]
    return (f"{head}: {'; '.join(map(said, decisions)) or 'no decision'} -> {length} steps"
            + ((" (the cap; still moving)" if still else " (the cap)") if at_cap else ""))
