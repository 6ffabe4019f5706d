"""Loading rate of 32×32 batches of 64 vs the time a DCGAN-CIFAR training step takes to consume one.

Target (issue 5): batches come >= 20× faster than a training step, so loading never bounds training.
Loading goes through the public path (get_dataset + torch DataLoader, shuffle, num_workers=0: the
main process alone, the worst case). Data: real CIFAR-10 when present under the data root, else a
full-size (50,000 images) CIFAR-10 copy of random pixels written in the real pickle format to a temp
folder; plus the digits32 stand-in. Step: one discriminator + one generator Adam update of the
003 Table S1 DCGAN (repro.core.nets.dcgan) with the non-saturating loss, batch 64, on CPU.

    python3 benchmarks/bench_data.py [--steps 5] [--batches 200]
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import tempfile
import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from repro.core.nets.dcgan import dcgan_pair
from repro.data import DatasetMissing, get_dataset

BATCH = 64


def seconds_per_batch(dataset, n_batches: int) -> float:
    loader = DataLoader(dataset, batch_size=BATCH, shuffle=True, drop_last=True, num_workers=0)
    it = iter(loader)
    next(it)  # warm-up
    start, done = time.perf_counter(), 0
    while done < n_batches:
        try:
            images, _ = next(it)
        except StopIteration:
            it = iter(loader)
            continue
        assert images.shape == (BATCH, 3, 32, 32)
        done += 1
    return (time.perf_counter() - start) / n_batches


def seconds_per_train_step(n_steps: int) -> float:
    torch.manual_seed(0)
    gen, disc = dcgan_pair(32, out_dim=1)
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-4, betas=(0.5, 0.999))
    real = torch.rand(BATCH, 3, 32, 32) * 2 - 1

    def step():
        fake = gen(torch.randn(BATCH, 128))
        loss_d = F.softplus(-disc(real)).mean() + F.softplus(disc(fake.detach())).mean()
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = F.softplus(-disc(fake)).mean()
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    step()  # warm-up
    times = []
    for _ in range(n_steps):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def cifar10_for_benchmark(tmp: Path):
    try:
        return get_dataset("cifar10"), "real CIFAR-10"
    except DatasetMissing:
        path = Path(__file__).resolve().parents[1] / "tests" / "data" / "fixtures.py"
        spec = importlib.util.spec_from_file_location("repro_bench_fixtures", path)
        fixtures = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(fixtures)
        fixtures.make_cifar10(tmp, n_per_batch=10000, n_test=10)
        return get_dataset("cifar10", root=tmp), "CIFAR-10 format, 50,000 random-pixel images"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batches", type=int, default=200)
    args = parser.parse_args()
    load_avg = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, load average {load_avg:.1f}, batch {BATCH}, 32×32")
    # On a busy machine torch's thread pool can slow the step by an order of magnitude; the ratio uses the
    # faster of the default and the single-thread step, so it is never flattered by contention.
    default_threads = torch.get_num_threads()
    steps = {}
    for threads in sorted({default_threads, 1}, reverse=True):
        torch.set_num_threads(threads)
        steps[threads] = seconds_per_train_step(args.steps)
        print(f"DCGAN-CIFAR training step (D + G update, median of {args.steps}, {threads} thread(s)): "
              f"{steps[threads] * 1e3:.1f} ms")
    torch.set_num_threads(default_threads)
    step = min(steps.values())
    with tempfile.TemporaryDirectory() as tmp:
        cifar, label = cifar10_for_benchmark(Path(tmp))
        for name, dataset in ((label, cifar), ("digits32 stand-in", get_dataset("digits32"))):
            load = seconds_per_batch(dataset, args.batches)
            ratio = step / load
            print(f"{name}: {load * 1e3:.2f} ms per batch ({BATCH / load:,.0f} images/s); "
                  f"ratio step/load = {ratio:.1f}× (target >= 20×: {'PASS' if ratio >= 20 else 'FAIL'})")


if __name__ == "__main__":
    main()
