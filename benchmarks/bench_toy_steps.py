"""Per-step cost of the five toy models of 004 Table 1 against their matrix-product bound, and the
projected wall time of `repro run sig-table1` (scale cpu).

Run: python3 benchmarks/bench_toy_steps.py [--steps 200] [--scale cpu] [--std 0.05] [--device cuda]
One thread. For each model (hyper-parameters, batch and std from the job spec; ``--std`` picks one of the
scale's stds, default its first):
  bound     FLOP of one seed's training step in matrix products (torch.utils.flop_counter, forward
            and backward) ÷ the GFLOP/s a 512×100×100 float32 product sustains here (median of rounds)
  one-seed  ms per step of the one-seed model (repro.core.toy, nn.Linear + torch.optim.Adam), data included
  batched   ms per seed-step of the task's loop: the job's seeds as one stacked model
            (repro.core.toy.stacked), data sampling and the per-step divergence check included
  compiled  the same through torch.compile, in the job's ``compile`` mode (its compile time is printed apart: the first
            run on a machine compiles, later runs mostly load inductor's on-disk cache)
and the projected wall time of the cpu table: each method's seeds are one unit of work
(steps × seeds × ms of the job's path (its ``compile`` setting) + compile + one evaluation every ``curve_every``
steps), the steps being the spec's, units taken in the launcher's order (longest first by the spec's ``cost`` hints
× steps, repro.launch.longest_first) by ``--workers`` workers; the measured ms per seed-step are the values those
hints should hold.
Figures depend on the machine and its load: compare ratios from one run.
With ``--device cuda`` the step and the matrix-product rate are measured on the GPU (each timing ends
with a synchronisation; the step's own per-step finiteness check already waits for the GPU), and the
units are those of one worker per GPU process.
"""
from __future__ import annotations

import argparse
import statistics
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from repro.core.toy import build_toy_model
from repro.core.toy.stacked import StackedToy
from repro.data.synthetic import gmm_grid_centers, sample_gmm_grid
from repro.launch import longest_first
from repro.metrics.modes import gmm_grid_metrics
from repro.spec import expand, find_job
from repro.tasks.gmm_modes import data_protocol, keep_freed_memory, training_steps


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def matmul_rate(device: torch.device, rounds: int = 7, reps: int = 300) -> float:
    """GFLOP/s of a 512×100×100 float32 matrix product (one thread on CPU), median over rounds."""
    a, b = torch.randn(512, 100, device=device), torch.randn(100, 100, device=device)
    for _ in range(50):
        a @ b
    rates = []
    for _ in range(rounds):
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(reps):
            a @ b
        _sync(device)
        rates.append(2 * 512 * 100 * 100 * reps / (time.perf_counter() - t0) / 1e9)
    return statistics.median(rates)


def timed(fn, steps: int, device: torch.device, rounds: int = 3) -> float:
    """Seconds per call, best of ``rounds`` (the least disturbed by other load)."""
    for _ in range(3):
        fn()
    best = float("inf")
    for _ in range(rounds):
        _sync(device)
        t0 = time.perf_counter()
        for _ in range(steps):
            fn()
        _sync(device)
        best = min(best, (time.perf_counter() - t0) / steps)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=100, help="timed training steps per model and round")
    ap.add_argument("--scale", default="cpu")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--std", type=float, default=None, help="component std (default: the scale's first)")
    ap.add_argument("--device", default="cpu", help="torch device, e.g. cuda")
    ap.add_argument("--compile", default=None, help="torch.compile mode for the compiled column instead of the "
                    "job's (e.g. default, reduce-overhead); its time then counts in the projection")
    args = ap.parse_args()
    torch.set_num_threads(1)
    keep_freed_memory()
    device = torch.device(args.device)
    spec = find_job("sig-table1")
    runs = expand(spec, args.scale)
    stds = sorted({float(r.config["std"]) for r in runs}, key=[float(v) for v in spec.grid["axes"]["std"]].index)
    std = stds[0] if args.std is None else args.std
    if std not in stds:
        raise SystemExit(f"bench_toy_steps: std {std} is not in scale '{args.scale}' (its stds: {stds})")
    runs = [r for r in runs if float(r.config["std"]) == std]
    rate = matmul_rate(device)
    print(f"sig-table1 at scale '{args.scale}', std {std}, {device}, one thread; "
          f"512×100×100 matmul: {rate:.1f} GFLOP/s")
    print(f"{'method':<14}{'MFLOP/seed-step':>16}{'bound ms':>10}{'one-seed ms':>13}{'batched ms':>12}"
          f"{'compiled ms':>13}{'compile s':>11}{'× bound':>9}{'speed-up':>10}{'steps':>8}{'unit min':>10}", flush=True)
    rows, units, groups, bounds = [], {}, [], {}
    for method in spec.grid["methods"]:
        group = [r.config for r in runs if r.method == method]
        if not group:
            continue
        groups.append(group)
        cfg = group[0]
        data = data_protocol(cfg)
        grid = {k: data[k] for k in ("n_per_side", "spacing", "std")}
        seeds = [c["seed"] for c in group]
        n = cfg["batch_size"]
        steps = args.steps if method != "unrolled-gan" else max(10, args.steps // 4)

        rngs = [torch.Generator().manual_seed(s) for s in seeds]
        data_rngs = [torch.Generator().manual_seed(s + 1) for s in seeds]

        def stacked_step(stacked):
            def step():
                x = torch.stack([sample_gmm_grid(n, generator=g, **grid) for g in data_rngs])
                losses = stacked.train_step(x, rngs)
                torch.stack(list(losses.values())).isfinite().all(0).tolist()
            return step

        stacked = StackedToy(method, cfg["model"], data["std"], seeds, device=device)
        batched = timed(stacked_step(stacked), steps, device) / len(seeds)
        x = torch.stack([sample_gmm_grid(n, generator=g, **grid) for g in data_rngs])
        with FlopCounterMode(display=False) as counter:
            stacked.train_step(x, rngs)
        flop = counter.get_total_flops() / len(seeds)
        mode = args.compile or cfg.get("compile")  # the job's torch.compile setting; the benchmark compiles either way
        compiled_model = StackedToy(method, cfg["model"], data["std"], seeds, device=device,
                                    compile=True if mode in (None, "default") else mode)
        t0 = time.perf_counter()
        stacked_step(compiled_model)()
        compile_s = time.perf_counter() - t0
        compiled = timed(stacked_step(compiled_model), steps, device) / len(seeds)
        job_path = compiled if mode else batched

        torch.manual_seed(0)
        plain = build_toy_model(method, cfg["model"], data["std"], device)
        g = torch.Generator().manual_seed(0)
        one_seed = timed(lambda: plain.train_step(sample_gmm_grid(n, generator=g, **grid).to(device)), steps, device)

        t0 = time.perf_counter()  # one evaluation of every seed: sampling + metrics
        samples = stacked.sample(cfg["eval_samples"], rngs).cpu()
        centers = gmm_grid_centers(data["n_per_side"], data["spacing"])
        for s in samples:
            gmm_grid_metrics(s, centers, data["std"])
        evaluation = time.perf_counter() - t0
        total_steps = training_steps(cfg, data["std"])
        evals = total_steps // int(cfg["curve_every"]) + 1
        unit = total_steps * len(seeds) * job_path + evals * evaluation + (compile_s if mode else 0)
        units[method] = unit
        bound = flop / (rate * 1e9)
        bounds[method] = bound * total_steps * len(seeds)
        r = (method, flop / 1e6, bound * 1e3, one_seed * 1e3, batched * 1e3, compiled * 1e3,
             compile_s, job_path / bound, one_seed / job_path, total_steps, unit / 60)
        rows.append(r)
        print(f"{r[0]:<14}{r[1]:16.1f}{r[2]:10.3f}{r[3]:13.2f}{r[4]:12.3f}{r[5]:13.3f}{r[6]:11.1f}{r[7]:9.2f}"
              f"{r[8]:10.2f}{r[9]:8d}{r[10]:10.1f}", flush=True)

    loads = [0.0] * max(1, args.workers)
    order = [g[0]["method"] for g in longest_first(groups)]
    for method in order:  # the launcher's order, each unit onto the first free worker
        loads[loads.index(min(loads))] += units[method]
    print("× bound and speed-up (over one-seed) are of the job's path: compiled where the job's config sets compile")
    print(f"projected {args.scale}-scale wall time at std {std}: {max(loads) / 60:.1f} min on {args.workers} worker(s) "
          f"({sum(units.values()) / 60:.1f} min of one core), process start-up and artifacts not included")
    print(f"matrix-product bound of these units: {sum(bounds.values()) / 60:.1f} core-min, "
          f"{sum(bounds.values()) / 60 / args.workers:.1f} min on {args.workers} cores; projected "
          f"{max(loads) / (sum(bounds.values()) / args.workers):.2f}× the bound")
    print(f"launcher order (cost hints × steps): {', '.join(order)}; measured ms per seed-step of the job's path: "
          + ", ".join(f"{r[0]} {r[2] * r[7]:.2f}" for r in rows))


if __name__ == "__main__":
    main()
