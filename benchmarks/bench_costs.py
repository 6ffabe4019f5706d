"""The papers' cost claims as ratios of step times measured in one process, at the papers' shapes.

003 (the repulsive MMD-GAN), DCGAN of 003 Table S1 at CIFAR-10 shapes (32×32×3, batch 64), one
generator + discriminator step of ``ImageGAN.train_step`` (n_dis = 1):
  * §6 "the performance gain of proposed repulsive loss … comes at no additional computational cost":
    MMD-rep over MMD-rbf (both PICO); hinge over MMD-rep for "the cost of MMD over … hinge loss is marginal";
  * App. C.3 "PICO has a higher computational cost which roughly equals the additional cost incurred by
    increasing the batch size by two": (PICO - PIM) at batch 64 over the extra cost of a larger batch with
    PIM, in both readings of "by two": batch 66 (two more samples: a power iteration pushes one vector
    through each layer and back) and batch 128 (doubled) (MMD-rep).
004 Table 1 ("SIG … achieves the shortest running time"): ms per step of each model of sig-table1 at its
cpu-scale shapes (batch 512, MLP 2×100, its seeds stacked as the job trains them, ``StackedToy``,
without torch.compile); SIG's time over each other model's.

Rounds interleave the configurations (one timed call of each per round, after a warm-up call), and each
time is the median over rounds, so a load change on the machine hits all of them alike. Only the ratios
mean something, and only on the device they were measured on: a verdict from a CPU run is a CPU verdict.

    python3 benchmarks/bench_costs.py [--rounds 5] [--threads N] [--device cpu|cuda] [--only 003|004]
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch

BATCH, RES = 64, 32  # 003 §5.1: batch 64; CIFAR-10 32×32

IMAGE_CONFIGS = {  # name: (method of repro/methods.yaml, lipschitz override, batch)
    "mmd-rep": ("mmd-rep", None, BATCH),
    "mmd-rbf": ("mmd-rbf", None, BATCH),
    "hinge": ("hinge", None, BATCH),
    "mmd-rep PIM": ("mmd-rep", "pim", BATCH),
    "mmd-rep PIM, batch 66": ("mmd-rep", "pim", BATCH + 2),
    "mmd-rep PIM, batch 128": ("mmd-rep", "pim", 2 * BATCH),
}
TOY_METHODS = ("gan", "vae", "veegan", "unrolled-gan", "sig")


def cost_ratios(t: dict[str, float]) -> dict[str, float]:
    """The claims' ratios from median step times (seconds); keys absent from ``t`` are skipped."""
    out = {}
    if {"mmd-rep", "mmd-rbf"} <= t.keys():
        out["003 MMD-rep / MMD-rbf step"] = t["mmd-rep"] / t["mmd-rbf"]
    if {"mmd-rep", "hinge"} <= t.keys():
        out["003 MMD-rep / hinge step"] = t["mmd-rep"] / t["hinge"]
    if {"mmd-rep", "mmd-rep PIM", "mmd-rep PIM, batch 128"} <= t.keys():
        out["003 PICO / PIM step"] = t["mmd-rep"] / t["mmd-rep PIM"]
        out["003 batch 128 / batch 64 step (PIM)"] = t["mmd-rep PIM, batch 128"] / t["mmd-rep PIM"]
        out["003 (PICO - PIM) / (batch 128 - batch 64)"] = ((t["mmd-rep"] - t["mmd-rep PIM"])
                                                           / (t["mmd-rep PIM, batch 128"] - t["mmd-rep PIM"]))
    if {"mmd-rep", "mmd-rep PIM", "mmd-rep PIM, batch 66"} <= t.keys():
        out["003 (PICO - PIM) / (batch 66 - batch 64)"] = ((t["mmd-rep"] - t["mmd-rep PIM"])
                                                          / (t["mmd-rep PIM, batch 66"] - t["mmd-rep PIM"]))
    if "sig" in t:
        for m in TOY_METHODS[:-1]:
            if m in t:
                out[f"004 SIG / {m} step"] = t["sig"] / t[m]
    return out


DIFFERENCES = {  # ratio -> the two configurations whose difference is its denominator
    "003 (PICO - PIM) / (batch 128 - batch 64)": ("mmd-rep PIM, batch 128", "mmd-rep PIM"),
    "003 (PICO - PIM) / (batch 66 - batch 64)": ("mmd-rep PIM, batch 66", "mmd-rep PIM"),
}


def unresolved(t: dict[str, float], spread: dict[str, float]) -> list[str]:
    """Difference ratios whose denominator is smaller than the rounds' spread of either time in it: noise."""
    return [name for name, (a, b) in DIFFERENCES.items()
            if {a, b} <= t.keys() and abs(t[a] - t[b]) < max(spread[a], spread[b])]


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def image_steps(device: torch.device) -> dict[str, callable]:
    from repro.core.image_gan import ImageGAN
    from repro.core.image_gan.recipes import resolve_recipe
    from repro.spec import method_recipes

    recipes, steps = method_recipes(), {}
    for name, (method, lipschitz, batch) in IMAGE_CONFIGS.items():
        recipe = resolve_recipe({"method": method, "recipe": recipes[method],
                                 "model": {"lipschitz": lipschitz} if lipschitz else {}})
        torch.manual_seed(0)
        x = (torch.rand(batch, 3, RES, RES) * 2 - 1).to(device)
        gan = ImageGAN(recipe, "dcgan", RES, 3, 1e-4, 1e-4, device, example_real=x)
        z_gen = torch.Generator().manual_seed(0)
        steps[name] = (lambda g=gan, xb=x, zg=z_gen: g.train_step(lambda: xb, zg))
    return steps


def toy_steps(device: torch.device) -> dict[str, callable]:
    from repro.core.toy.stacked import StackedToy
    from repro.data.synthetic import sample_gmm_grid
    from repro.spec import expand, find_job
    from repro.tasks.gmm_modes import data_protocol

    runs = expand(find_job("sig-table1"), "cpu")
    std = runs[0].config["std"]
    steps = {}
    for method in TOY_METHODS:
        group = [r.config for r in runs if r.method == method and r.config["std"] == std]
        cfg, seeds = group[0], [c["seed"] for c in group]
        data = data_protocol(cfg)
        grid = {k: data[k] for k in ("n_per_side", "spacing", "std")}
        model = StackedToy(method, cfg["model"], data["std"], seeds, device=device)
        rngs = [torch.Generator().manual_seed(s) for s in seeds]
        data_rngs = [torch.Generator().manual_seed(s + 1) for s in seeds]
        n = cfg["batch_size"]

        def step(model=model, rngs=rngs, data_rngs=data_rngs, n=n, grid=grid):
            x = torch.stack([sample_gmm_grid(n, generator=g, **grid) for g in data_rngs]).to(device)
            model.train_step(x, rngs)
        steps[method] = step
    return steps, len(seeds), std


def median_times(steps: dict[str, callable], rounds: int, device: torch.device,
                 repeat: dict[str, int]) -> tuple[dict[str, float], dict[str, float]]:
    """Median and spread (max - min) over interleaved rounds of each step's time (a round times
    ``repeat[name]`` calls of it)."""
    for fn in steps.values():  # warm-up
        fn()
    times = {k: [] for k in steps}
    for _ in range(rounds):
        for name, fn in steps.items():
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(repeat.get(name, 1)):
                fn()
            _sync(device)
            times[name].append((time.perf_counter() - t0) / repeat.get(name, 1))
    return {k: statistics.median(v) for k, v in times.items()}, {k: max(v) - min(v) for k, v in times.items()}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--device", default="cpu")
    p.add_argument("--only", choices=("003", "004"), default=None)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else f"CPU, {torch.get_num_threads()} threads"
    print(f"torch {torch.__version__}, {where}, median of {args.rounds} interleaved rounds after one warm-up call")
    times, spread = {}, {}
    if args.only in (None, "003"):
        for out, part in zip((times, spread), median_times(image_steps(device), args.rounds, device, {})):
            out.update(part)
    if args.only in (None, "004"):
        steps, n_seeds, std = toy_steps(device)
        for out, part in zip((times, spread), median_times(steps, args.rounds, device, {m: 20 for m in steps})):
            out.update({m: v / n_seeds for m, v in part.items()})  # per seed-step
        print(f"004 toys: sig-table1 cpu shapes at std {std}, {n_seeds} seeds stacked, times per seed-step")
    print(f"\n{'configuration':<28}{'ms per step':>12}{'spread ms':>11}")
    for name, t in times.items():
        print(f"{name:<28}{t * 1e3:12.2f}{spread[name] * 1e3:11.2f}")
    noise = unresolved(times, spread)
    print(f"\n{'ratio':<46}{'value':>8}")
    for name, r in cost_ratios(times).items():
        print(f"{name:<46}{r:8.3f}" + ("  (denominator below the rounds' spread: not resolved)" if name in noise else ""))
    print(f"\nMeasured on {device.type}: a cost verdict from these numbers holds for {where}, not for the papers' GPUs.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
