"""DCGAN-CIFAR training-step throughput at batch 64 on CPU as a fraction of the machine's sgemm FLOP/s.

Prints, from one run on one machine:
  * sgemm FLOP/s: best of several float32 matrix products (n = 1024 and 2048);
  * plain PyTorch step: 003 Table S1 nets, hinge loss, no spectral normalisation, hand-written loop;
  * the suite's step: ``ImageGAN.train_step`` with PICO spectral normalisation and the MMD-rep loss
    (the repulsive-table1 setting);
each with its FLOPs counted by ``torch.utils.flop_counter.FlopCounterMode`` and its achieved fraction
of the sgemm rate. Target: the suite's step at ≥ 65 % of sgemm (issue 6; a plain step reaches ~75 %).
Ratios are only meaningful within one run: other processes on the machine change all three numbers.

    python3 benchmarks/bench_train_step.py [--repeats 5] [--threads N]
"""
from __future__ import annotations

import argparse
import time

import torch
from torch.utils.flop_counter import FlopCounterMode

from repro.core import losses
from repro.core.image_gan import ImageGAN
from repro.core.nets.dcgan import DCGANDiscriminator, DCGANGenerator

BATCH = 64


def sgemm_flops(repeats: int) -> float:
    best = 0.0
    for n in (1024, 2048):
        a, b = torch.randn(n, n), torch.randn(n, n)
        a @ b
        for _ in range(repeats):
            t0 = time.perf_counter()
            a @ b
            best = max(best, 2 * n ** 3 / (time.perf_counter() - t0))
    return best


def plain_step_fn():
    torch.manual_seed(0)
    g, d = DCGANGenerator(32), DCGANDiscriminator(32, out_dim=1)
    opt_g = torch.optim.Adam(g.parameters(), 1e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(d.parameters(), 1e-4, betas=(0.5, 0.999))
    x = torch.rand(BATCH, 3, 32, 32) * 2 - 1

    def step():
        with torch.no_grad():
            y = g(torch.randn(BATCH, 128))
        loss_d = losses.hinge_d(d(x), d(y))
        opt_d.zero_grad()
        loss_d.backward()
        opt_d.step()
        loss_g = losses.hinge_g(d(g(torch.randn(BATCH, 128))))
        opt_g.zero_grad()
        loss_g.backward()
        opt_g.step()

    return step


def suite_step_fn():
    torch.manual_seed(0)
    recipe = {"family": "image-gan", "loss": "mmd", "lambda": 1.0, "kernel": "rbf1", "out_dim": 16,
              "lipschitz": "pico", "noise": "normal", "n_dis": 1, "betas": [0.5, 0.999]}
    x = torch.rand(BATCH, 3, 32, 32) * 2 - 1
    gan = ImageGAN(recipe, "dcgan", 32, 3, 1e-4, 1e-4, "cpu", example_real=x)
    z_gen = torch.Generator().manual_seed(0)
    return lambda: gan.train_step(lambda: x, z_gen)


def measure(step, repeats: int) -> tuple[float, float]:
    """(FLOPs of one step, best seconds per step over ``repeats``) after one warm-up step."""
    step()
    with FlopCounterMode(display=False) as counter:
        step()
    flops = counter.get_total_flops()
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        step()
        best = min(best, time.perf_counter() - t0)
    return flops, best


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=None)
    args = p.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    peak = sgemm_flops(args.repeats)
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, batch {BATCH}")
    print(f"sgemm: {peak / 1e9:.1f} GFLOP/s (best of {args.repeats} at n = 1024, 2048)")
    results = {}
    for name, make in (("plain PyTorch step (hinge, no SN)", plain_step_fn),
                       ("suite step (PICO SN + MMD-rep, ImageGAN.train_step)", suite_step_fn)):
        flops, seconds = measure(make(), args.repeats)
        results[name] = flops / seconds / peak
        print(f"{name}: {flops / 1e9:.2f} GFLOP per step, {seconds * 1e3:.0f} ms per step, "
              f"{flops / seconds / 1e9:.1f} GFLOP/s = {100 * results[name]:.0f}% of sgemm")
    suite = list(results.values())[1]
    print(f"suite step at {100 * suite:.0f}% of sgemm (target >= 65%): {'met' if suite >= 0.65 else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
