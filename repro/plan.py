"""``repro plan JOB --scale paper [--gpu-speedup X]``: what a job costs before launching it.

Prints the number of runs, the seconds per training step measured on this machine for each
(architecture, resolution) the job uses, and an estimate of total CPU-hours and GPU-hours.

Cost model (stated, not measured per method): one generator step costs ``n_dis × t_D + t_G``, where t_D
is one discriminator update and t_G one generator update, timed here with the hinge loss after one
warm-up step, on a CPU at a batch of at most 8 and scaled linearly to the job's batch size, cached on
disk per architecture, resolution, batch, width and device (repro/steptime.py: re-planning takes
seconds; `repro preflight` reads the same cache); loss-specific extras (MMD kernels, gradient
penalties, KernelNet) are not included. Evaluation costs ``t_F`` per image passed through the job's feature extractor (timed here on
a batch of 16), for every real and generated image a run scores (real images once per run; generated
images at every evaluation and at the end). GPU-hours = CPU-hours / speed-up; the default speed-up of 50
is an assumption (a single modern GPU against 2 CPU cores), give your own with ``--gpu-speedup``.
"""
from __future__ import annotations

import argparse
import time

DEFAULT_GPU_SPEEDUP = 50.0


def measure_step(arch: str, resolution: int, batch_size: int, device: str = "cpu", repeats: int = 2,
                 width: int | None = None) -> dict[str, float]:
    """Seconds of one discriminator update (t_d) and one generator update (t_g) for ``arch``, timed now."""
    from repro.steptime import time_step

    return time_step(arch, resolution, batch_size, device, repeats=repeats, width=width)


def measure_extractor(name: str, resolution: int, device: str = "cpu", batch: int = 16) -> float:
    """Seconds per image of the feature extractor ``name`` (auto, inception, random-inception)."""
    import torch

    from repro.metrics.evaluator import resolve_extractor

    extractor = resolve_extractor(name, device)
    images = torch.rand(batch, 3, resolution, resolution) * 2 - 1
    extractor(images[:2])  # warm-up
    t0 = time.perf_counter()
    extractor(images)
    return (time.perf_counter() - t0) / batch


def scored_images(cfg: dict, steps: int, real_data: bool) -> tuple[int, int]:
    """(generated, real reference) images one run passes through the feature extractor (tasks/image_gan.py)."""
    from repro.tasks.image_gan import eval_settings

    ev = eval_settings(cfg)
    if real_data:
        return 0, 2 * ev["real_samples"]
    evals = steps // ev["every"] if ev["every"] else 0
    return evals * ev["samples"] + ev["final_samples"], ev["real_samples"]


def _reference_cached(extractor: str) -> bool:
    """Real features of a calibrated network are cached on disk (repro/metrics/evaluator.py): computed once."""
    if extractor == "random-inception":
        return False
    from repro.metrics import InceptionWeightsMissing, find_inception_weights

    try:
        find_inception_weights()
    except InceptionWeightsMissing:
        return False
    return True


def plan_rows(spec, scale: str) -> list[dict]:
    """One row per run: architecture, resolution, steps, n_dis, batch size, extractor and images scored."""
    from repro.core.image_gan import choose_architecture, resolve_recipe
    from repro.data import DATASETS
    from repro.spec import expand
    from repro.tasks.image_gan import _per_method

    rows = []
    for run in expand(spec, scale):
        cfg = run.config
        recipe = resolve_recipe(cfg)
        real_data = recipe.get("loss") == "real-data"
        dataset = cfg["dataset"]
        if scale != "paper" and cfg.get("dataset_substitute") and not DATASETS[dataset].present():
            dataset = cfg["dataset_substitute"]
        resolution = DATASETS[dataset].shape[-1]
        arch = choose_architecture(cfg.get("architecture", "dcgan"), cfg["dataset"])  # as the task: by paper dataset
        steps = 0 if real_data else int(_per_method(cfg, "steps")["steps"])  # per method and dataset, as the task
        extractor = (cfg.get("eval") or {}).get("extractor", "auto")
        generated, real = scored_images(cfg, steps, real_data)
        rows.append({"arch": arch, "resolution": resolution, "steps": steps,
                     "n_dis": int(recipe.get("n_dis", 1)), "batch_size": int(cfg["batch_size"]),
                     "width": cfg.get("width"), "extractor": extractor, "generated": generated,
                     "reference": (dataset, real_data, real), "reference_images": real})
    cached = {r["extractor"]: _reference_cached(r["extractor"]) for r in rows}
    seen = set()
    for r in rows:  # a cached reference set is scored once per (dataset, count); else once per run
        key = (r["extractor"], r["reference"])
        once = cached[r["extractor"]] and key in seen
        seen.add(key)
        r["images"] = r["generated"] + (0 if once else r["reference_images"])
    return rows


def estimate(rows: list[dict], timings: dict, feature_seconds: dict, gpu_speedup: float) -> dict:
    """Seconds of training and of evaluation over all runs, and the hours they make."""
    train = sum(r["steps"] * (r["n_dis"] * timings[_net(r)]["t_d"] + timings[_net(r)]["t_g"]) for r in rows if r["steps"])
    evaluate = sum(r["images"] * feature_seconds[(r["extractor"], r["resolution"])] for r in rows)
    hours = (train + evaluate) / 3600
    return {"runs": len(rows), "train_seconds": train, "eval_seconds": evaluate, "cpu_hours": hours,
            "gpu_hours": hours / gpu_speedup}


def job_step_times(rows: list[dict], device: str = "cpu") -> dict[tuple, dict]:
    """Step times per (arch, resolution, batch) of the rows that train, from the shared on-disk cache."""
    from repro.steptime import step_table

    widths = {}
    for r in rows:
        if r["steps"]:
            widths.setdefault(_net(r), r.get("width"))
    table = step_table([(*key, width) for key, width in widths.items()], device, desc="repro plan")
    return {key: table[(*key, width)] for key, width in widths.items()}


def _net(row: dict) -> tuple:
    return row["arch"], row["resolution"], row["batch_size"]


def cmd_plan(args) -> int:
    from repro.spec import expand, find_job

    if args.gpu_speedup <= 0:
        raise ValueError(f"--gpu-speedup must be positive (got {args.gpu_speedup}).")
    spec = find_job(args.job)
    n_all = len(expand(spec, args.scale))
    if spec.task != "image_gan":
        print(f"{spec.id}: {n_all} runs at scale {args.scale} (step timing is implemented for image_gan jobs only)")
        return 0
    rows = plan_rows(spec, args.scale)
    timings = job_step_times(rows, args.device)
    from repro.steptime import remember

    feature_seconds = {key: remember(f"extractor|{key[0]}|{key[1]}|{args.device}",
                                     lambda key=key: measure_extractor(*key, args.device))[0]
                       for key in {(r["extractor"], r["resolution"]) for r in rows}}
    est = estimate(rows, timings, feature_seconds, args.gpu_speedup)
    n_train = sum(1 for r in rows if r["steps"])
    print(f"{spec.id} at scale {args.scale}: {n_all} runs ({n_all - n_train} without training)")
    print("seconds per training step here (hinge loss, one warm-up, fastest of 2; repro/steptime.py):")
    for key, t in sorted(timings.items()):
        arch, res, bs = key
        n = sum(1 for r in rows if r["steps"] and _net(r) == key)
        how = f"timed at batch {t['measured_batch']}" + (" (cached)" if t.get("cached") else "")
        print(f"  {arch:12s} {res:4d}×{res:<4d} batch {bs:3d}: D update {t['t_d']:.3f} s, G update {t['t_g']:.3f} s"
              f"  ({n} runs; {how})")
    for (name, res), t in sorted(feature_seconds.items()):
        images = sum(r["images"] for r in rows if (r["extractor"], r["resolution"]) == (name, res))
        print(f"  features ({name}, {res}×{res} input): {1e3 * t:.1f} ms per image, {images:,} images scored")
    print(f"estimate: training {est['train_seconds'] / 60:.1f} min + evaluation {est['eval_seconds'] / 60:.1f} min = "
          f"{est['cpu_hours']:.2f} CPU-hours here, run one after another; {est['gpu_hours']:.2f} GPU-hours at an "
          f"assumed {args.gpu_speedup:g}× GPU speed-up (--gpu-speedup; default {DEFAULT_GPU_SPEEDUP:g})")
    return 0


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Add ``plan`` to the ``repro`` CLI's subparsers; the lead hooks this into repro/cli.py."""
    p = subparsers.add_parser("plan", help="runs, measured seconds per step and GPU-hours of a job")
    p.add_argument("job")
    p.add_argument("--scale", default="paper", choices=["smoke", "cpu", "paper"])
    p.add_argument("--gpu-speedup", type=float, default=DEFAULT_GPU_SPEEDUP,
                   help=f"GPU speed over this machine's CPU (default {DEFAULT_GPU_SPEEDUP:g}, an assumption)")
    p.add_argument("--device", default="cpu")
    p.set_defaults(func=cmd_plan)
    return p


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="repro")
    add_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    raise SystemExit(main())
