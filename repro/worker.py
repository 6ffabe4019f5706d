"""Execute one run end to end: lock, resume, call the task, write the record.

Called in whichever process the executor chose (in-process, a local subprocess, a Slurm task).
Tasks live in ``repro/tasks/<task>.py`` and expose ``run(cfg, ctx) -> {"metrics", "steps", "notes"}``.
"""
from __future__ import annotations

import contextlib
import importlib
import os
import time
import traceback
from datetime import datetime, timezone
from pathlib import Path

from . import store
from .runtime import Diverged, RunContext
from .spec import run_key

DEFAULT_CHECKPOINT_EVERY = 500


def _data_source(cfg: dict) -> tuple[str, bool]:
    """The data actually used, and whether it is an offline stand-in for the paper's dataset.

    A job's scale may name a substitute (``dataset_substitutes``); it is used only when the paper's
    dataset is absent here, and the record then says so.
    """
    from .data import DATASETS

    dataset, substitute = cfg["dataset"], cfg.get("dataset_substitute")
    spec = DATASETS.get(dataset)
    source = substitute if substitute and spec is not None and not spec.present() else dataset
    used = DATASETS.get(source)
    return source, bool(source != dataset or (used is not None and used.stand_in))


def _progress_bar(label: str, folders: list[Path] = (), every_s: float = 2.0):
    """A tqdm bar (when there is a terminal) that also keeps each run folder's ``progress.json``
    (step, total; at most every ``every_s`` seconds) for the launcher's bar across processes."""
    from tqdm.auto import tqdm

    bar = None
    written = -float("inf")

    def progress(step: int, total: int, **scalars) -> None:
        nonlocal bar, written
        if folders and (time.monotonic() - written >= every_s or step >= total):
            written = time.monotonic()
            for folder in folders:
                store.write_json_atomic(folder / store.PROGRESS, {"step": step, "total": total})
        if bar is None:
            bar = tqdm(total=total, desc=label, leave=False, mininterval=1.0, disable=None, unit="step")
        bar.n = step
        bar.set_postfix({k: f"{v:.4g}" for k, v in scalars.items()}, refresh=False)
        bar.refresh()
        if step >= total:
            bar.close()

    return progress


def execute(cfg: dict, results: str, device: str = "cpu", force: bool = False,
            stop_after_checkpoint: int | None = None, num_threads: int | None = None,
            visible_gpus: str | None = None) -> dict:
    """Run ``cfg`` unless its record exists. Returns {"key", "status", ...}; status `skipped` when done.

    ``num_threads`` caps torch's intra-op threads (the local executor splits the cores among its workers).
    ``visible_gpus``: this worker process's CUDA_VISIBLE_DEVICES (the local executor's GPU share), set
    before CUDA starts in the process; the record's provenance keeps it.
    """
    return execute_group([cfg], results, device, force, stop_after_checkpoint, num_threads, visible_gpus)[0]


def execute_group(cfgs: list[dict], results: str, device: str = "cpu", force: bool = False,
                  stop_after_checkpoint: int | None = None, num_threads: int | None = None,
                  visible_gpus: str | None = None) -> list[dict]:
    """Run the configs of ``cfgs`` that have no record; one outcome per config, in order.

    Runs that differ only in their seed go to the task's ``run_group(cfgs, ctxs)`` together when the
    task has one (trained as one batched model); each still gets its own folder, lock, checkpoint and
    record. Otherwise each run goes to ``run(cfg, ctx)`` in turn. Options as :func:`execute`.
    """
    if visible_gpus is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(visible_gpus)
    if num_threads:
        import torch

        torch.set_num_threads(num_threads)
    outs: list[dict | None] = [None] * len(cfgs)
    with contextlib.ExitStack() as stack:
        todo = []
        for i, cfg in enumerate(cfgs):
            key = run_key(cfg)
            folder = store.run_dir(Path(results), cfg["job"], key)
            try:
                stack.enter_context(store.run_lock(folder))
            except store.RunLocked as err:
                outs[i] = {"key": key, "status": "locked", "error": str(err)}
                continue
            early = _check_existing(cfg, key, folder, force)
            if early is not None:
                outs[i] = early
            else:
                todo.append((i, cfg, key, folder))
        if todo:
            for (i, *_), out in zip(todo, _execute_locked(todo, device, stop_after_checkpoint)):
                outs[i] = out
    return outs


def _check_existing(cfg, key, folder, force) -> dict | None:
    record_file = folder / store.RECORD
    if record_file.exists():
        status = store.run_status(folder.parent.parent, cfg["job"], key)
        if status in store.DONE and not force:
            return {"key": key, "status": "skipped"}
        if status == "corrupt" and not force:
            return {"key": key, "status": "corrupt",
                    "error": f"{record_file} is corrupt: inspect it, then delete it or rerun with --force"}
        kept = store.set_aside(record_file, "replaced" if force else "failed")
        if force:
            ckpt = folder / "checkpoint.pt"
            if ckpt.exists():
                store.set_aside(ckpt, "replaced")
        print(f"kept the previous record as {kept.name}")
    return None


def _groups(cfgs: list[dict]) -> list[list[int]]:
    """Indices of configs equal but for the seed, in first-seen order."""
    groups: dict[str, list[int]] = {}
    for i, cfg in enumerate(cfgs):
        groups.setdefault(run_key({k: v for k, v in cfg.items() if k != "seed"}), []).append(i)
    return list(groups.values())


def _execute_locked(todo, device, stop_after_checkpoint) -> list[dict]:
    import torch

    entries = []
    for _, cfg, key, folder in todo:
        source, stand_in = _data_source(cfg)
        run_cfg = dict(cfg, data_source=source)
        ctx = RunContext(run_dir=folder, device=torch.device(device),
                         checkpoint_every=int(cfg.get("checkpoint_every", DEFAULT_CHECKPOINT_EVERY)),
                         progress=lambda *a, **k: None, stop_after_checkpoint=stop_after_checkpoint)
        record = {
            "key": key, "job": cfg["job"], "method": cfg["method"], "dataset": cfg["dataset"],
            "data_source": source, "stand_in": stand_in, "seed": cfg["seed"], "scale": cfg["scale"],
            "axes": cfg.get("axes", {}), "config": cfg, "started_at": _now(),
            "resumed": ctx.checkpoint_path.exists(),
        }
        entries.append((run_cfg, ctx, record, folder))
    outs = [None] * len(entries)
    for idx in _groups([e[0] for e in entries]):
        group = [entries[i] for i in idx]
        cfg0 = group[0][0]
        ax = "".join(f" {k}={v}" for k, v in (cfg0.get("axes") or {}).items())
        seeds = ",".join(str(e[0]["seed"]) for e in group)
        progress = _progress_bar(f"{cfg0['method']} · {cfg0['dataset']}{ax} · seed{'s' if len(group) > 1 else ''} {seeds}",
                                 [e[3] for e in group])
        for e in group:
            e[1].progress = progress
        t0 = time.perf_counter()
        try:
            task = importlib.import_module(f"repro.tasks.{cfg0['task']}")
            if hasattr(task, "run_group"):
                results = task.run_group([e[0] for e in group], [e[1] for e in group])
            else:
                results = []
                for e in group:
                    try:
                        results.append(task.run(e[0], e[1]) or {})
                    except Exception as err:  # noqa: BLE001 - recorded below
                        results.append(err)
        except Exception as err:  # the whole group failed
            results = [err] * len(group)
            trace = traceback.format_exc()
        else:
            trace = None
        wall = (time.perf_counter() - t0) / len(group)
        for i, e, result in zip(idx, group, results):
            outs[i] = _finish(e[2], e[3], result, wall, device, trace)
    return outs


def _finish(record: dict, folder: Path, result, wall: float, device: str, trace: str | None) -> dict:
    from .provenance import provenance

    if isinstance(result, Diverged):
        record.update(status="diverged", error=str(result), metrics=getattr(result, "metrics", {}) or {},
                      steps=getattr(result, "step", None))
    elif isinstance(result, Exception):  # recorded, never raised: one failing run must not stop the others
        tb = trace or "".join(traceback.format_exception(type(result), result, result.__traceback__))
        record.update(status="failed", error=f"{type(result).__name__}: {result}", traceback=tb, metrics={})
    else:
        record.update(status="ok", metrics=result.get("metrics", {}), steps=result.get("steps"),
                      notes=result.get("notes", []), uncalibrated=bool(result.get("uncalibrated", False)))
        if "curve" in result:
            record["curve"] = result["curve"]
        for field in ("footnotes", "uncalibrated_metrics", "feature_network"):  # table footer / per-metric ‡
            if result.get(field):
                record[field] = result[field]
    (folder / store.PROGRESS).unlink(missing_ok=True)
    record["wall_time"] = wall  # a batched group's wall time, shared equally among its runs
    record["finished_at"] = _now()
    record["provenance"] = provenance(device)
    record["artifacts"] = sorted(p.name for p in folder.iterdir()
                                 if p.is_file() and not p.name.startswith(".") and p.suffix in (".png", ".pdf", ".pt", ".npz", ".json")
                                 and p.name not in (store.RECORD, "checkpoint.pt"))
    store.write_json_atomic(folder / store.RECORD, record)
    return {"key": record["key"], "status": record["status"], "error": record.get("error"), "wall_time": record["wall_time"]}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


if __name__ == "__main__":  # `python -m repro.worker CONFIG.json RESULTS` (used by tests that kill a run)
    import json
    import sys

    stop = os.environ.get("REPRO_STOP_AFTER_CHECKPOINT")
    loaded = json.loads(Path(sys.argv[1]).read_text())  # one config, or a list of them (one group)
    run = execute_group if isinstance(loaded, list) else execute
    out = run(loaded, sys.argv[2], stop_after_checkpoint=int(stop) if stop else None)
    print(json.dumps(out))
