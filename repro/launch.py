"""Send runs to an executor through submitit: `debug` (in-process), `local` (subprocesses), `slurm` (job array).

The launcher knows run configurations and executors only. The work itself is named, not imported:
the submitted callable imports ``repro.worker`` inside the process that executes it.
"""
from __future__ import annotations

import importlib
import json
import os
import shutil
import subprocess
import sys
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import submitit
import yaml

from . import store
from .spec import run_key

EXECUTORS = ("debug", "local", "slurm")
SLURM_CONFIG_DEFAULT = "~/.config/repro/slurm.yaml"  # $REPRO_SLURM_CONFIG overrides
SLURM_DEFAULTS = {"partition": None, "time_min": 240, "cpus_per_task": 2, "gpus_per_node": 0, "mem_gb": 16,
                  "array_parallelism": 64, "signal_delay_s": 90, "max_num_timeout": 20}


class WorkerCall(submitit.helpers.Checkpointable):
    """``repro.worker.execute(cfg, results, ...)``, imported by name where it runs.

    Checkpointable: on a Slurm time limit or preemption submitit calls ``checkpoint`` and requeues the
    same call; the run then resumes from the checkpoint its task wrote.
    """

    target = "repro.worker:execute"

    def __call__(self, cfg: dict | list[dict], results: str, **options) -> dict | list[dict]:
        module, name = (self.group_target if isinstance(cfg, list) else self.target).split(":")
        return getattr(importlib.import_module(module), name)(cfg, results, **options)

    group_target = "repro.worker:execute_group"


def seed_groups(cfgs: list[dict]) -> list[list[dict]]:
    """Units of work: runs whose config says ``batch_seeds: true`` and that differ only in their seed
    form one unit (the worker trains them together); every other run is a unit of its own."""
    units: dict[str, list[dict]] = {}
    for i, cfg in enumerate(cfgs):
        ident = run_key({k: v for k, v in cfg.items() if k != "seed"}) if cfg.get("batch_seeds") else f"run {i}"
        units.setdefault(ident, []).append(cfg)
    return list(units.values())


def _config_steps(cfg: dict) -> float:
    """A config's ``steps``: a number, or a mapping from a value of one of the run's grid axes to a number
    (sig-table1: steps per component std); 1 where neither."""
    steps = cfg.get("steps")
    if isinstance(steps, dict):
        values = {str(v) for v in (cfg.get("axes") or {}).values()}
        steps = next((n for k, n in steps.items() if str(k) in values), None)
    return float(steps) if isinstance(steps, (int, float)) and not isinstance(steps, bool) else 1.0


def expected_cost(cfg: dict) -> float:
    """A run's expected wall time: its ``cost`` (time per training step) × its config's ``steps``; 1 for a
    run without ``cost``."""
    if "cost" not in cfg:
        return 1.0
    return float(cfg["cost"]) * _config_steps(cfg)


def longest_first(units: list[list[dict]]) -> list[list[dict]]:
    """Units ordered by their runs' summed :func:`expected_cost`, the longest first, ties in their given
    order: free local workers take the next unit, and starting the long ones first shortens the launch
    (longest-processing-time scheduling)."""
    return sorted(units, key=lambda unit: -sum(expected_cost(cfg) for cfg in unit))


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
    config_file = Path(config_file or os.environ.get("REPRO_SLURM_CONFIG", SLURM_CONFIG_DEFAULT)).expanduser()
    if config_file.exists():
        loaded = yaml.safe_load(config_file.read_text()) or {}
        unknown = set(loaded) - set(SLURM_DEFAULTS)
        if unknown:
            raise ValueError(f"{config_file}: unknown Slurm setting(s) {', '.join(sorted(unknown))} "
                             f"(allowed: {', '.join(SLURM_DEFAULTS)})")
        params.update(loaded)
    params.update({k: v for k, v in (options or {}).items() if v is not None})
    if params["time_min"] * 60 <= params["signal_delay_s"]:
        raise ValueError(f"Slurm time limit {params['time_min']} min is not longer than signal_delay_s="
                         f"{params['signal_delay_s']} s: the checkpoint signal would come before the job starts; "
                         "raise --time-min or lower signal_delay_s in the Slurm config file")
    if params["time_min"] * 60 < params["signal_delay_s"] + 30:
        # Slurm checks time limits every 30 s: a shorter margin may kill the job before it checkpoints.
        warnings.warn(f"Slurm time limit {params['time_min']} min leaves less than 30 s after the checkpoint "
                      f"signal (signal_delay_s={params['signal_delay_s']}); runs may be killed before they requeue",
                      stacklevel=2)
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


def usable_cores() -> int:
    """Cores this process may run on: its CPU affinity (``taskset``, Slurm's cgroup), else the machine's."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # no sched_getaffinity (macOS)
        return max(1, os.cpu_count() or 1)


def threads_per_worker(workers: int) -> int:
    """Torch threads per local worker: the usable cores shared evenly, at least one. More threads than
    cores slow small steps badly (two 2-thread launches side by side on 2 cores: toy steps ~7× slower),
    so a launch sharing the machine should be pinned (``taskset -c 1 repro run ...``) to get its share."""
    return max(1, usable_cores() // max(1, workers))


def launch(cfgs: list[dict], results: Path, executor: str = "debug", workers: int = 1,
           slurm: dict | None = None, wait: bool = True, poll_s: float = 0.5, **worker_options) -> Iterator[Outcome]:
    """Execute ``cfgs``; yields one Outcome per run as runs finish (or as they are submitted, for
    Slurm without ``wait``); local units start longest first (:func:`longest_first`). ``worker_options`` go to ``repro.worker.execute`` (device, force)."""
    if not cfgs:
        return
    # Unique per launch: Slurm job ids restart at 1 on a fresh cluster, so an old folder could hold a
    # result file with the same job id.
    folder = Path(results) / ".submitit" / f"{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}"
    ex = make_executor(executor, folder, workers, slurm)
    call = WorkerCall()
    results = str(results)
    if executor == "slurm":
        yield from _launch_slurm(ex, call, cfgs, Path(results), wait, poll_s, worker_options)
        return
    units = [u if len(u) > 1 else u[0] for u in longest_first(seed_groups(cfgs))]
    if executor == "debug":
        for unit in units:
            yield from _outcomes(unit, ex.submit(call, unit, results, **worker_options))
        return
    else:  # local: at most `workers` subprocesses at a time, sharing the cores (and the GPUs)
        worker_options.setdefault("num_threads", threads_per_worker(workers))
        gpus = local_gpus(worker_options.get("device", "cpu"), worker_options.pop("gpus", None))
        if gpus:
            print(gpu_sharing_note(gpus, workers, len(units)), file=sys.stderr, flush=True)
        queue, pending, free = units, [], list(range(max(1, workers)))
        while queue or pending:
            while queue and free:
                unit, slot = queue.pop(0), free.pop(0)
                options = dict(worker_options)
                if gpus:  # worker slot i always gets GPU i mod #GPUs: round-robin, one process per slot
                    options.update(visible_gpus=gpus[slot % len(gpus)], device="cuda")
                pending.append((unit, ex.submit(call, unit, results, **options), slot))
            while not any(job.done() for _, job, _ in pending):
                time.sleep(poll_s)
            for item in [p for p in pending if p[1].done()]:
                pending.remove(item)
                free.append(item[2])
                free.sort()
                yield from _outcomes(item[0], item[1])
        return


def local_gpus(device: str, chosen: list[str] | None = None) -> list[str]:
    """GPU ids the local workers share: ``chosen`` (--gpus 0,2,3), else, with ``--device cuda`` (no index),
    every visible device ($CUDA_VISIBLE_DEVICES's entries, or 0..n-1); none for a CPU or a pinned cuda:N."""
    if chosen:
        return [str(g).strip() for g in chosen]
    if str(device) != "cuda":
        return []
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is not None:
        ids = [v.strip() for v in visible.split(",") if v.strip()]
    else:
        import torch

        ids = [str(i) for i in range(torch.cuda.device_count())]
    if not ids:
        raise ValueError("--device cuda but no GPU is visible here (CUDA_VISIBLE_DEVICES, torch.cuda.device_count()); "
                         "run on a GPU machine, or choose GPUs with --gpus 0,1")
    return ids


def gpu_sharing_note(gpus: list[str], workers: int, runs: int) -> str:
    busy = max(1, min(workers, runs))
    note = f"local GPUs: {busy} worker(s) over GPU(s) {', '.join(gpus)} (CUDA_VISIBLE_DEVICES per worker, round-robin)"
    if busy > len(gpus):
        per = -(-busy // len(gpus))
        note += f"; {busy} workers > {len(gpus)} GPUs: up to {per} runs share each GPU"
    return note


def _outcomes(unit: dict | list[dict], job) -> Iterator[Outcome]:
    """One Outcome per run of a unit (a single config, or a group run together)."""
    if not isinstance(unit, list):
        yield _outcome(unit, job)
        return
    try:
        outs = job.result()
    except Exception:  # the process itself crashed: every run of the group gets the crash's outcome
        for cfg in unit:
            yield _outcome(cfg, job)
        return
    for cfg, out in zip(unit, outs):
        yield Outcome(cfg, out["status"], out.get("error"), out.get("wall_time"))


def _outcome(cfg: dict, job) -> Outcome:
    try:
        out = job.result()
    except Exception as err:  # the worker records its own failures; this is a crash of the process itself
        error = f"{type(err).__name__}: {str(err).strip().splitlines()[-1] if str(err).strip() else ''}"
        if isinstance(job, submitit.SlurmJob):
            error = f"Slurm job {job.job_id} ended {job.state} without a result (log: {job.paths.stderr})"
        return Outcome(cfg, "failed", error=error, extra={"crashed": True, "job_id": job.job_id})
    return Outcome(cfg, out["status"], out.get("error"), out.get("wall_time"))


def run_fraction(folder: Path) -> tuple[float, int | None]:
    """How far an unfinished run is, from the ``progress.json`` its worker keeps, and the total steps it
    reports (0 when there is none; 1 once its record is written, before the launcher hears of it)."""
    if (Path(folder) / store.RECORD).exists():
        return 1.0, None
    try:
        p = json.loads((Path(folder) / store.PROGRESS).read_text())
        total = p.get("total")
        return (min(1.0, max(0.0, p["step"] / total)) if total else 0.0), total
    except (OSError, ValueError, KeyError, TypeError):
        return 0.0, None


def shown_progress(old: tuple[float, int | None] | None, now: tuple[float, int | None]) -> tuple[float, int | None]:
    """A run's (fraction, total) on the bar: never backwards while its total stays; measured afresh against
    a new total (a run whose length grew: gmm_modes' ``converge`` rule)."""
    if old is None or (now[1] is not None and now[1] != old[1]):
        return now
    return max(old[0], now[0]), old[1]


def progress_iter(outcomes: Iterator[Outcome], total: int, desc: str, on_outcome: Callable[[Outcome], None],
                  folders: dict[str, Path] | None = None, every_s: float = 1.0) -> None:
    """A tqdm bar on a terminal; one line per finished run otherwise (logs, CI, Slurm).

    ``folders`` (run key -> run folder): the bar also moves while runs train, by the fraction of its
    steps each unfinished run has done (its worker's ``progress.json``); without a terminal a line
    with that count is printed every minute."""
    import threading

    from tqdm.auto import tqdm

    tty = sys.stderr.isatty()
    finished: set[str] = set()
    lock, stop = threading.Lock(), threading.Event()
    t0 = time.monotonic()

    seen: dict[str, tuple[float, int | None]] = {}  # per run: (fraction, total); never backwards for one total

    def partial() -> float:
        for k, f in (folders or {}).items():
            if k not in finished:
                seen[k] = shown_progress(seen.get(k), run_fraction(f))
        return sum(v for k, (v, _) in seen.items() if k not in finished)

    with tqdm(total=total, desc=desc, unit="run", disable=not tty,
              bar_format="{l_bar}{bar}| {n:.1f}/{total} runs [{elapsed}<{remaining}]") as bar:
        def tick() -> None:
            last_line = time.monotonic()
            while not stop.wait(every_s):
                with lock:
                    bar.n = len(finished) + partial()
                    bar.refresh()
                    if not tty and time.monotonic() - last_line >= 60:
                        last_line = time.monotonic()
                        print(f"[{bar.n:.1f}/{total} runs, {time.monotonic() - t0:.0f} s]", file=sys.stderr, flush=True)

        ticker = threading.Thread(target=tick, daemon=True) if folders else None
        if ticker:
            ticker.start()
        try:
            for i, outcome in enumerate(outcomes, 1):
                on_outcome(outcome)
                with lock:
                    finished.add(run_key(outcome.cfg))
                    bar.n = len(finished) + partial()
                    bar.refresh()
                if not tty:
                    took = f" ({outcome.wall_time:.0f} s)" if outcome.wall_time else ""
                    cfg = outcome.cfg
                    print(f"[{i}/{total}] {outcome.status}: {cfg['method']} · {cfg['dataset']} · seed {cfg['seed']}{took}",
                          file=sys.stderr, flush=True)
        finally:
            stop.set()


# ----------------------------------------------------------------------------- Slurm (issue 9)
SUBMISSION = "slurm.json"  # beside a run's record: the Slurm job that runs (or last ran) it
# Slurm states in which a job may still run: such a run is not submitted a second time.
ACTIVE_STATES = frozenset({"PENDING", "CONFIGURING", "RUNNING", "REQUEUED", "REQUEUE_FED",
                           "REQUEUE_HOLD", "RESIZING", "SUSPENDED", "SIGNALING", "STAGE_OUT"})
SACCT_EVERY_S = 5.0  # while waiting: one sacct call for all jobs, to notice jobs that died without a result


def _launch_slurm(ex, call, cfgs: list[dict], results: Path, wait: bool, poll_s: float,
                  worker_options: dict) -> Iterator[Outcome]:
    """One submitit job array for every run not already pending or running in Slurm."""
    queued = active_submissions(results, cfgs)
    for cfg in cfgs:
        if run_key(cfg) in queued:
            yield Outcome(cfg, "queued", extra={"job_id": queued[run_key(cfg)]["job_id"]})
    cfgs = [c for c in cfgs if run_key(c) not in queued]
    if not cfgs:
        return
    with ex.batch():  # sbatch --array, throttled by array_parallelism
        jobs = [ex.submit(call, cfg, str(results), **worker_options) for cfg in cfgs]
    for cfg, job in zip(cfgs, jobs):
        save_submission(results, cfg, job.job_id, ex.folder)
    if not wait:
        for cfg, job in zip(cfgs, jobs):
            yield Outcome(cfg, "submitted", extra={"job_id": job.job_id})
        return
    pending, last_sacct = list(zip(cfgs, jobs)), 0.0
    while pending:
        if time.monotonic() - last_sacct > SACCT_EVERY_S:
            submitit.SlurmJob.watcher.update()  # one sacct for all; done() below reads its cache
            last_sacct = time.monotonic()
        done = [(c, j) for c, j in pending if j.done()]
        for item in done:
            pending.remove(item)
            outcome = _outcome(*item)
            if outcome.status == "failed" and outcome.extra.get("crashed"):
                record_crash(results, *item, outcome.error)
            yield outcome
        if not done:
            time.sleep(poll_s)


def save_submission(results: Path, cfg: dict, job_id: str, folder: Path) -> None:
    path = store.run_dir(results, cfg["job"], run_key(cfg)) / SUBMISSION
    store.write_json_atomic(path, {"job_id": str(job_id), "submitit_folder": str(folder),
                                   "submitted_at": time.strftime("%Y-%m-%dT%H:%M:%S%z")})


def read_submission(results: Path, job: str, key: str) -> dict | None:
    path = store.run_dir(results, job, key) / SUBMISSION
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def job_submissions(results: Path, job: str) -> dict[str, dict]:
    """Run key -> submission, for every run of ``job`` ever submitted to Slurm (any scale)."""
    out = {}
    for path in sorted((Path(results) / job).glob(f"*/{SUBMISSION}")):
        info = read_submission(results, job, path.parent.name)
        if info:
            out[path.parent.name] = info
    return out


def slurm_states(job_ids: list[str]) -> dict[str, str]:
    """Slurm state of each job id (``"12_3"`` for an array task): the controller's live state (squeue)
    for jobs it still holds, else the accounting record (sacct, read the way submitit reads it);
    ``UNKNOWN`` when neither knows the id (or the Slurm client is absent)."""
    ids = sorted({str(j) for j in job_ids})
    states = {j: "UNKNOWN" for j in ids}
    if ids and shutil.which("sacct"):
        watcher = submitit.slurm.slurm.SlurmInfoWatcher(delay_s=0)
        for j in ids:
            watcher.register_job(j)
        watcher.update()
        states.update({j: watcher.get_state(j, mode="cache").split()[0] for j in ids})  # "CANCELLED by 0"
    if ids and shutil.which("squeue"):
        # Accounting lags a job's submission by a moment; the controller knows it at once.
        out = subprocess.run(["squeue", "-h", "-r", "-o", "%i %T"], capture_output=True, text=True).stdout
        live = dict(line.split()[:2] for line in out.splitlines() if len(line.split()) >= 2)
        states.update({j: live[j] for j in ids if j in live})
    return states


def active_submissions(results: Path, cfgs: list[dict]) -> dict[str, dict]:
    """Run key -> submission, for the runs of ``cfgs`` without a record whose Slurm job is still pending
    or running (a run with a record, even a failed one, is finished by its job)."""
    subs = {}
    for cfg in cfgs:
        info = read_submission(results, cfg["job"], run_key(cfg))
        if info and not store.record_path(results, cfg["job"], run_key(cfg)).exists():
            subs[run_key(cfg)] = info
    states = slurm_states([i["job_id"] for i in subs.values()])
    return {k: i for k, i in subs.items() if states.get(i["job_id"]) in ACTIVE_STATES}


def cancel(results: Path, job: str) -> list[str]:
    """``scancel`` every pending or running Slurm job of ``job``'s runs; returns the cancelled job ids.
    Checkpoints stay: a later ``repro run`` resumes those runs."""
    subs = job_submissions(results, job)
    states = slurm_states([i["job_id"] for i in subs.values()])
    ids = sorted({i["job_id"] for i in subs.values() if states.get(i["job_id"]) in ACTIVE_STATES})
    if ids:
        if shutil.which("scancel") is None:
            raise FileNotFoundError("scancel not found: run `repro cancel` on a machine with the Slurm client")
        subprocess.run(["scancel", *ids], check=True)
    return ids


def record_crash(results: Path, cfg: dict, job, error: str) -> None:
    """A Slurm job that died without a result (SIGKILL, scancel, node failure) leaves no record: write a
    `failed` one with its error, unless a record exists or another process holds the run."""
    key = run_key(cfg)
    folder = store.run_dir(results, cfg["job"], key)
    try:
        with store.run_lock(folder):
            if (folder / store.RECORD).exists():
                return
            store.write_json_atomic(folder / store.RECORD, {
                "key": key, "job": cfg["job"], "method": cfg["method"], "dataset": cfg["dataset"],
                "seed": cfg["seed"], "scale": cfg["scale"], "axes": cfg.get("axes", {}), "config": cfg,
                "status": "failed", "error": error, "metrics": {}, "slurm_job_id": str(job.job_id),
                "finished_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            })
    except store.RunLocked:
        pass
