"""AIS throughput: examples per second for the 000 Table 3 decoder (32 → 400 → 784, Bernoulli).

Protocol of 000 §4.2: 10 chains, 1000 intermediate distributions, 10 leapfrog steps. The decoder has
random weights (throughput does not depend on training). Prints examples/second, and the ratio of
batched (all examples and chains in one tensor) to a per-example loop measured in the same run.

    python3 benchmarks/bench_ais.py [--examples 20] [--steps 1000] [--threads 2]
"""
from __future__ import annotations

import argparse
import time

import torch
from torch import nn

from repro.metrics.ais import ais_log_likelihood


def bernoulli_decoder(latent_dim: int = 32, hidden: int = 400, data_dim: int = 784) -> nn.Module:
    return nn.Sequential(nn.Linear(latent_dim, hidden), nn.Tanh(), nn.Linear(hidden, data_dim))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--chains", type=int, default=10)
    parser.add_argument("--leapfrog", type=int, default=10)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--loop-examples", type=int, default=2, help="examples for the per-example loop")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    decoder = bernoulli_decoder().requires_grad_(False)

    def log_likelihood(z, x):
        return -nn.functional.binary_cross_entropy_with_logits(decoder(z), x, reduction="none").sum(-1)

    x = (torch.rand(args.examples, 784) < 0.2).float()
    kw = dict(latent_dim=32, num_chains=args.chains, num_steps=args.steps, leapfrog_steps=args.leapfrog)
    start = time.perf_counter()
    ais_log_likelihood(x, log_likelihood, **kw)
    batched = args.examples / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(args.loop_examples):
        ais_log_likelihood(x[i:i + 1], log_likelihood, **kw)
    looped = args.loop_examples / (time.perf_counter() - start)
    print(f"AIS, decoder 32-400-784, {args.chains} chains x {args.steps} steps x {args.leapfrog} leapfrog, "
          f"{args.threads} threads")
    print(f"batched over {args.examples} examples: {batched:.3f} examples/s "
          f"({args.examples / batched / 60:.1f} min for {args.examples}; 5000 test points: "
          f"{5000 / batched / 3600:.1f} h)")
    if args.steps != 1000:  # cost is linear in the number of intermediate distributions
        print(f"scaled linearly to 1000 steps: {batched * args.steps / 1000:.4f} examples/s "
              f"(measured at {args.steps} steps)")
    print(f"one example at a time:         {looped:.3f} examples/s")
    print(f"batched / looped speed-up:     {batched / looped:.1f}x")


if __name__ == "__main__":
    main()
