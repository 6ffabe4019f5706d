"""Per-step cost of the five toy models of 004 Table 1 and the projected wall time of `sig-table1`.

Run: python3 benchmarks/bench_toy_steps.py [--steps 200] [--scale cpu]
Prints ms per training step for each model (one thread, batch and hyper-parameters from the job
spec), the cost of one evaluation (sampling + metrics + artifacts), each cost relative to the
plain GAN, and the projected wall time of the whole table at the chosen scale with 2 workers.
Figures depend on the machine and on its load; compare ratios from one run.
"""
from __future__ import annotations

import argparse
import copy
import tempfile
import time
from pathlib import Path

import torch
import yaml

from repro.core.toy import build_toy_model
from repro.data.synthetic import sample_gmm_grid
from repro.runtime import RunContext
from repro.tasks import gmm_modes

SPEC = Path(__file__).resolve().parents[1] / "jobs" / "sig-table1.yaml"


def merged_config(spec: dict, method: str, scale: str) -> dict:
    def merge(a, b):
        out = copy.deepcopy(a)
        for k, v in (b or {}).items():
            out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
        return out

    cfg = merge(spec.get("config", {}), spec["scales"][scale].get("config", {}))
    return merge(cfg, spec.get("method_config", {}).get(method, {}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=200, help="timed training steps per model")
    ap.add_argument("--scale", default="cpu")
    ap.add_argument("--workers", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(1)
    spec = yaml.safe_load(SPEC.read_text())
    seeds = spec["scales"][args.scale]["seeds"]
    rows, total = [], 0.0
    for method in spec["grid"]["methods"]:
        cfg = merged_config(spec, method, args.scale)
        torch.manual_seed(0)
        gen = torch.Generator().manual_seed(0)
        model = build_toy_model(method, cfg["model"], sigma=cfg["data"]["std"])
        for _ in range(5):  # warm-up
            model.train_step(sample_gmm_grid(cfg["batch_size"], generator=gen))
        t0 = time.perf_counter()
        for _ in range(args.steps):
            model.train_step(sample_gmm_grid(cfg["batch_size"], generator=gen))
        per_step = (time.perf_counter() - t0) / args.steps
        eval_cfg = {**cfg, "method": method, "seed": 0, "steps": 0}
        with tempfile.TemporaryDirectory() as d:
            t0 = time.perf_counter()
            gmm_modes.run(eval_cfg, RunContext(Path(d)))
            evaluation = time.perf_counter() - t0
        run_time = per_step * cfg["steps"] + evaluation
        total += run_time * seeds
        rows.append((method, per_step * 1e3, evaluation, run_time))
    gan_ms = rows[0][1]
    print(f"sig-table1 at scale '{args.scale}': batch {cfg['batch_size']}, one thread, {args.steps} timed steps")
    print(f"{'method':<14}{'ms/step':>9}{'x GAN':>8}{'eval s':>8}{'run s':>8}")
    for method, ms, ev, rt in rows:
        print(f"{method:<14}{ms:9.2f}{ms / gan_ms:8.2f}{ev:8.1f}{rt:8.1f}")
    print(f"projected table wall time: {total / args.workers / 60:.1f} min "
          f"({seeds} seeds, {args.workers} workers, no queueing overhead)")


if __name__ == "__main__":
    main()
