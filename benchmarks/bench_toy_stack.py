"""ms per seed-step of one sig-table1 toy model, compiled, at several stack sizes (how many seeds one
stacked model trains at once), idle or beside a busy second worker.

Run: python3 benchmarks/bench_toy_stack.py [--method unrolled-gan] [--stacks 10 2 1] [--busy] [--rounds 3]
One thread, pinned to the first core this process may use, with the task's malloc setting
(keep_freed_memory). ``--busy`` first starts a second process on another core that trains VEEGAN's
10-seed stack in a loop (a worker of `repro run sig-table1` beside it), so the two share the cache and
memory bandwidth as the two local workers do. Each stack size: 20 warm-up steps (compilation), then
``--rounds`` rounds of max(20, 400 / stack) steps on one fixed batch of data; prints each round's ms per
seed-step and the ratio of each stack size's best round to the one-seed stack's.
Figures depend on the machine and its load: compare ratios from one run.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

import torch

from repro.core.toy.stacked import StackedToy
from repro.data.synthetic import sample_gmm_grid
from repro.spec import expand, find_job
from repro.tasks.gmm_modes import keep_freed_memory


def model_and_batch(method: str, seeds: int):
    cfg = next(r.config for r in expand(find_job("sig-table1"), "cpu") if r.method == method)
    std = float(cfg["std"])
    model = StackedToy(method, cfg["model"], std, list(range(seeds)), compile=True)
    rngs = [torch.Generator().manual_seed(s) for s in range(seeds)]
    x = torch.stack([sample_gmm_grid(cfg["batch_size"], generator=torch.Generator().manual_seed(s + 1),
                                     std=std, **cfg["data"]) for s in range(seeds)])
    return model, x, rngs


def per_seed_ms(method: str, stack: int, rounds: int) -> list[float]:
    model, x, rngs = model_and_batch(method, stack)
    for _ in range(20):
        model.train_step(x, rngs)
    steps, out = max(20, 400 // stack), []
    for _ in range(rounds):
        t0 = time.perf_counter()
        for _ in range(steps):
            model.train_step(x, rngs)
        out.append((time.perf_counter() - t0) / steps / stack * 1e3)
    return out


def busy_loop() -> None:
    model, x, rngs = model_and_batch("veegan", 10)
    while True:
        model.train_step(x, rngs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--method", default="unrolled-gan")
    ap.add_argument("--stacks", type=int, nargs="+", default=[10, 2, 1])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--busy", action="store_true", help="beside a second process training VEEGAN's 10-seed stack")
    ap.add_argument("--_busy-loop", dest="busy_loop", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    torch.set_num_threads(1)
    keep_freed_memory()  # as the task does: without it a stack's megabyte temporaries are page-faulted in every step
    cores = sorted(os.sched_getaffinity(0))
    if args.busy_loop:
        busy_loop()
        return
    other = None
    if args.busy:
        if len(cores) < 2:
            raise SystemExit("bench_toy_stack: --busy needs two cores")
        other = subprocess.Popen(["taskset", "-c", str(cores[1]), sys.executable, __file__, "--_busy-loop"])
        time.sleep(10)  # its compilation done, its loop running
    os.sched_setaffinity(0, {cores[0]})
    try:
        results = {s: per_seed_ms(args.method, s, args.rounds) for s in args.stacks}
    finally:
        if other is not None:
            other.kill()
            other.wait()
    where = "beside a busy worker (VEEGAN, 10 seeds)" if args.busy else "idle"
    print(f"{args.method}, compiled, one thread, {where}: ms per seed-step per round")
    base = min(results[1]) if 1 in results else None
    for stack, ms in results.items():
        ratio = f", {min(ms) / base:.2f}x the one-seed stack's" if base else ""
        print(f"  stack {stack:>3}: {' / '.join(f'{m:.2f}' for m in ms)}   best {min(ms):.2f}{ratio}")


if __name__ == "__main__":
    main()
