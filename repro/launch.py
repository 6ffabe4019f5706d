"""Send runs to an executor through submitit: `debug` (in-process), `local` (subprocesses), `slurm` (job array).

The launcher knows run configurations and executors only. The work itself is named, not imported:
the submitted callable imports ``repro.worker`` inside the process that executes it.
"""
from __future__ import annotations

import importlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import submitit
import yaml

EXECUTORS = ("debug", "local", "slurm")
SLURM_CONFIG = Path(os.environ.get("REPRO_SLURM_CONFIG", "~/.config/repro/slurm.yaml")).expanduser()
SLURM_DEFAULTS = {"partition": None, "time_min": 240, "cpus_per_task": 2, "gpus_per_node": 0, "mem_gb": 16,
                  "array_parallelism": 64, "signal_delay_s": 90, "max_num_timeout": 20}


class WorkerCall(submitit.helpers.Checkpointable):
    """``repro.worker.execute(cfg, results, ...)``, imported by name where it runs.

    Checkpointable: on a Slurm time limit or preemption submitit calls ``checkpoint`` and requeues the
    same call; the run then resumes from the checkpoint its task wrote.
    """

    target = "repro.worker:execute"

    def __call__(self, cfg: dict, results: str, **options) -> dict:
        module, name = self.target.split(":")
        return getattr(importlib.import_module(module), name)(cfg, results, **options)


@dataclass
class Outcome:
    cfg: dict
    status: str  # ok | diverged | failed | skipped | locked | corrupt | submitted
    error: str | None = None
    wall_time: float | None = None
    extra: dict = field(default_factory=dict)


def slurm_parameters(options: dict | None = None, config_file: Path | None = None) -> dict:
    """Slurm settings: defaults < ``~/.config/repro/slurm.yaml`` < command-line options."""
    params = dict(SLURM_DEFAULTS)
    config_file = Path(config_file) if config_file else SLURM_CONFIG
    if config_file.exists():
        loaded = yaml.safe_load(config_file.read_text()) or {}
        unknown = set(loaded) - set(SLURM_DEFAULTS)
        if unknown:
            raise ValueError(f"{config_file}: unknown Slurm setting(s) {', '.join(sorted(unknown))} "
                             f"(allowed: {', '.join(SLURM_DEFAULTS)})")
        params.update(loaded)
    params.update({k: v for k, v in (options or {}).items() if v is not None})
    return params


def make_executor(kind: str, folder: Path, workers: int = 1, slurm: dict | None = None) -> submitit.Executor:
    if kind == "debug":
        return submitit.DebugExecutor(folder)
    if kind == "local":
        ex = submitit.LocalExecutor(folder)
        ex.update_parameters(timeout_min=60 * 24 * 7)
        return ex
    if kind == "slurm":
        p = slurm_parameters(slurm)
        ex = submitit.SlurmExecutor(folder, max_num_timeout=p["max_num_timeout"])
        params = dict(time=p["time_min"], cpus_per_task=p["cpus_per_task"], mem=f"{p['mem_gb']}G",
                      array_parallelism=p["array_parallelism"], signal_delay_s=p["signal_delay_s"],
                      job_name="repro")
        if p["partition"]:
            params["partition"] = p["partition"]
        if p["gpus_per_node"]:
            params["gpus_per_node"] = p["gpus_per_node"]
        ex.update_parameters(**params)
        return ex
    raise ValueError(f"unknown executor '{kind}' (executors: {', '.join(EXECUTORS)})")


def launch(cfgs: list[dict], results: Path, executor: str = "debug", workers: int = 1,
           slurm: dict | None = None, wait: bool = True, poll_s: float = 0.5, **worker_options) -> Iterator[Outcome]:
    """Execute ``cfgs``; yields one Outcome per run as runs finish (or as they are submitted, for
    Slurm without ``wait``). ``worker_options`` go to ``repro.worker.execute`` (device, force)."""
    if not cfgs:
        return
    folder = Path(results) / ".submitit" / time.strftime("%Y%m%d-%H%M%S")
    ex = make_executor(executor, folder, workers, slurm)
    call = WorkerCall()
    results = str(results)
    if executor == "debug":
        for cfg in cfgs:
            yield _outcome(cfg, ex.submit(call, cfg, results, **worker_options))
        return
    if executor == "slurm":
        with ex.batch():
            jobs = [ex.submit(call, cfg, results, **worker_options) for cfg in cfgs]
        if not wait:
            for cfg, job in zip(cfgs, jobs):
                yield Outcome(cfg, "submitted", extra={"job_id": job.job_id})
            return
        pending = list(zip(cfgs, jobs))
    else:  # local: at most `workers` subprocesses at a time, sharing the cores
        worker_options.setdefault("num_threads", max(1, (os.cpu_count() or 1) // max(1, workers)))
        queue, pending = list(cfgs), []
        while queue or pending:
            while queue and len(pending) < max(1, workers):
                cfg = queue.pop(0)
                pending.append((cfg, ex.submit(call, cfg, results, **worker_options)))
            yield from _drain(pending, poll_s, first_only=True)
        return
    while pending:
        yield from _drain(pending, poll_s, first_only=False)


def _drain(pending: list, poll_s: float, first_only: bool) -> Iterator[Outcome]:
    while True:
        done = [(c, j) for c, j in pending if j.done()]
        if done:
            for item in done:
                pending.remove(item)
                yield _outcome(*item)
            return
        time.sleep(poll_s)


def _outcome(cfg: dict, job) -> Outcome:
    try:
        out = job.result()
    except Exception as err:  # the worker records its own failures; this is a crash of the process itself
        return Outcome(cfg, "failed", error=f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}")
    return Outcome(cfg, out["status"], out.get("error"), out.get("wall_time"))


def progress_iter(outcomes: Iterator[Outcome], total: int, desc: str, on_outcome: Callable[[Outcome], None]) -> None:
    from tqdm.auto import tqdm

    with tqdm(total=total, desc=desc, unit="run", disable=None) as bar:
        for outcome in outcomes:
            on_outcome(outcome)
            bar.update(1)
