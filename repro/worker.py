"""Execute one run end to end: lock, resume, call the task, write the record.

Called in whichever process the executor chose (in-process, a local subprocess, a Slurm task).
Tasks live in ``repro/tasks/<task>.py`` and expose ``run(cfg, ctx) -> {"metrics", "steps", "notes"}``.
"""
from __future__ import annotations

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


def _progress_bar(label: str):
    from tqdm.auto import tqdm

    bar = None

    def progress(step: int, total: int, **scalars) -> None:
        nonlocal bar
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
    if visible_gpus is not None:
        os.environ["CUDA_VISIBLE_DEVICES"] = str(visible_gpus)
    if num_threads:
        import torch

        torch.set_num_threads(num_threads)
    key = run_key(cfg)
    folder = store.run_dir(Path(results), cfg["job"], key)
    label = f"{cfg['method']} · {cfg['dataset']} · seed {cfg['seed']}"
    try:
        with store.run_lock(folder):
            return _execute_locked(cfg, key, folder, label, device, force, stop_after_checkpoint)
    except store.RunLocked as err:
        return {"key": key, "status": "locked", "error": str(err)}


def _execute_locked(cfg, key, folder, label, device, force, stop_after_checkpoint) -> dict:
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

    import torch

    from .provenance import provenance

    source, stand_in = _data_source(cfg)
    run_cfg = dict(cfg, data_source=source)
    ctx = RunContext(run_dir=folder, device=torch.device(device),
                     checkpoint_every=int(cfg.get("checkpoint_every", DEFAULT_CHECKPOINT_EVERY)),
                     progress=_progress_bar(label), stop_after_checkpoint=stop_after_checkpoint)
    record = {
        "key": key, "job": cfg["job"], "method": cfg["method"], "dataset": cfg["dataset"],
        "data_source": source, "stand_in": stand_in, "seed": cfg["seed"], "scale": cfg["scale"],
        "axes": cfg.get("axes", {}), "config": cfg, "started_at": _now(),
        "resumed": ctx.checkpoint_path.exists(),
    }
    t0 = time.perf_counter()
    try:
        task = importlib.import_module(f"repro.tasks.{cfg['task']}")
        result = task.run(run_cfg, ctx) or {}
        record.update(status="ok", metrics=result.get("metrics", {}), steps=result.get("steps"),
                      notes=result.get("notes", []), uncalibrated=bool(result.get("uncalibrated", False)))
        for field in ("footnotes", "uncalibrated_metrics", "feature_network"):  # table footer / per-metric ‡
            if result.get(field):
                record[field] = result[field]
    except Diverged as err:
        record.update(status="diverged", error=str(err), metrics=getattr(err, "metrics", {}) or {},
                      steps=getattr(err, "step", None))
    except Exception as err:  # recorded, never raised: one failing run must not stop the others
        record.update(status="failed", error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc(),
                      metrics={})
    record["wall_time"] = time.perf_counter() - t0
    record["finished_at"] = _now()
    record["provenance"] = provenance(device)
    record["artifacts"] = sorted(p.name for p in folder.iterdir()
                                 if p.is_file() and not p.name.startswith(".") and p.suffix in (".png", ".pdf", ".pt", ".npz", ".json")
                                 and p.name not in (store.RECORD, "checkpoint.pt"))
    store.write_json_atomic(folder / store.RECORD, record)
    return {"key": key, "status": record["status"], "error": record.get("error"), "wall_time": record["wall_time"]}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


if __name__ == "__main__":  # `python -m repro.worker CONFIG.json RESULTS` (used by tests that kill a run)
    import json
    import sys

    stop = os.environ.get("REPRO_STOP_AFTER_CHECKPOINT")
    out = execute(json.loads(Path(sys.argv[1]).read_text()), sys.argv[2],
                  stop_after_checkpoint=int(stop) if stop else None)
    print(json.dumps(out))
