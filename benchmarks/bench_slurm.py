"""Slurm path figures on the running cluster (scripts/slurm-up.sh), printed, measured in one run:

1. seconds from submission to start of a trivial submitit call (no torch), median of N;
2. the same for a trivial `repro run` (1 self-test run): submission to the worker's start, and the wall
   time of `repro run --executor slurm --wait` (both include the job's Python + torch start-up);
3. wall time of a 20-run smoke array (`repro run --executor slurm --cpus 1 --wait`, the 2-core node runs
   two tasks at a time) against the same 20 runs with `--executor local --workers 2`, as a ratio.

The CLI is called in-process, so its own start-up (imports) is not counted.
Usage: python3 benchmarks/bench_slurm.py [--repeats 5] [--job JOB --scale smoke] (default job: a built-in
self-test job of 20 smoke runs).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import submitit

SELFTEST_20 = {
    "id": "bench-slurm", "paper": "004_b5b197064a80ecd0.txt", "title": "Slurm benchmark (self-test task)",
    "kind": "table", "task": "selftest",
    "grid": {"methods": ["selftest-sgd", "selftest-sgd-slow"], "datasets": ["toy"]},
    "config": {"steps": 200, "batch_size": 32, "lr": 0.05, "checkpoint_every": 50},
    "scales": {"smoke": {"seeds": 10}, "cpu": {"seeds": 10}, "paper": {"seeds": 10}},
    "metrics": [{"name": "weight_error", "direction": "lower"}],
    "table": {"rows": "method", "columns": ["metric"]},
}


def _started_at() -> float:
    return time.time()


def submit_to_start(folder: Path, repeats: int) -> list[float]:
    ex = submitit.AutoExecutor(folder=folder / "%j")
    ex.update_parameters(timeout_min=5, cpus_per_task=1, slurm_mem="1G")
    delays = []
    for _ in range(repeats):
        t0 = time.time()
        job = ex.submit(_started_at)
        delays.append(job.result() - t0)
    return delays


def _log_time(log: str, marker: str) -> float:
    """Time stamp of submitit's log line containing ``marker`` ("... INFO (2026-11-22 15:01:03,673) - ...")."""
    line = next(line for line in log.splitlines() if marker in line)
    stamp = line.split("(", 1)[1].split(")", 1)[0]
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def repro(argv: list[str]) -> float:
    from repro.cli import main

    t0 = time.perf_counter()
    code = main(argv)
    if code != 0:
        sys.exit(f"repro {' '.join(argv)} exited with {code}")
    return time.perf_counter() - t0


def project(root: Path, job: str | None) -> str:
    root.mkdir(parents=True)
    if job is None:
        (root / "jobs").mkdir()
        (root / "jobs" / "bench-slurm.yaml").write_text(json.dumps(SELFTEST_20))
        os.environ["REPRO_JOBS"] = str(root / "jobs")
    os.environ["REPRO_RESULTS"] = str(root / "results")
    os.environ["REPRO_TABLES"] = str(root / "tables")
    os.environ["REPRO_SLURM_CONFIG"] = str(root / "no-slurm-config.yaml")
    return job or "bench-slurm"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--job", help="a job id of jobs/ (default: a built-in 20-run self-test job)")
    ap.add_argument("--scale", default="smoke")
    ap.add_argument("--no-local", action="store_true", help="skip the local-executor comparison")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="bench-slurm-"))
    slurm = ["--executor", "slurm", "--cpus", "1", "--mem-gb", "1", "--time-min", "30", "--wait"]

    delays = submit_to_start(tmp / "submitit", args.repeats)
    print(f"submit -> start, trivial submitit call: median {statistics.median(delays):.2f} s "
          f"(min {min(delays):.2f}, max {max(delays):.2f}, n={len(delays)})")

    job = project(tmp / "one", None)
    wall = repro(["run", job, "--scale", args.scale, "--seeds", "1", "--method", "selftest-sgd", *slurm])
    from repro import store
    rec = next(store.iter_records(Path(os.environ["REPRO_RESULTS"]), job))
    sub = json.loads((Path(os.environ["REPRO_RESULTS"]) / job / rec["key"] / "slurm.json").read_text())
    log = next(Path(sub["submitit_folder"]).glob(f"{sub['job_id']}_0_log.out")).read_text()
    started = _log_time(log, "Starting with")
    finished = _log_time(log, "Job completed")
    # submitit writes the submission script right before calling sbatch
    submitted = next(Path(sub["submitit_folder"]).glob("*_submission.sh")).stat().st_mtime
    print(f"trivial repro run (1 self-test run, slurm job {sub['job_id']}): sbatch -> job's Python starts "
          f"{started - submitted:.2f} s; job's run (imports + worker) {finished - started:.1f} s; "
          f"`repro run --wait` wall {wall:.1f} s (from the CLI call, whose parser imports torch, to the table)")

    job = project(tmp / "array", args.job)
    t_slurm = repro(["run", job, "--scale", args.scale, *slurm])
    n = sum(1 for _ in store.iter_records(Path(os.environ["REPRO_RESULTS"]), job))
    print(f"{n}-run {args.scale} array of {job} (--cpus 1: two tasks at a time): slurm {t_slurm:.1f} s")
    if not args.no_local:
        job = project(tmp / "local", args.job)
        t_local = repro(["run", job, "--scale", args.scale, "--executor", "local", "--workers", "2"])
        print(f"same {n} runs, local executor (2 workers): {t_local:.1f} s; slurm/local = {t_slurm / t_local:.2f}")
    print(f"load average during the benchmark: {os.getloadavg()[0]:.1f} (2 cores)")


if __name__ == "__main__":
    main()
