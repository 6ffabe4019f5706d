"""Shared pieces of the Slurm tests: is a cluster up, a throw-away project with a self-test job, the CLI
called in-process or in a forked process, polling, and the reference (uninterrupted, in-process) run."""
from __future__ import annotations

import json
import multiprocessing
import shutil
import subprocess
import sys
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

JOB = "selftest-slurm"
# One CPU per task so the 2-core node runs two array tasks at a time; a small memory request.
SLURM_OPTIONS = ["--executor", "slurm", "--cpus", "1", "--mem-gb", "1", "--time-min", "5"]
SIGNAL_DELAY_S = 10  # the requeue test's limit is 1 min: USR2 comes 20-50 s after the start (limits are checked every 30 s)


def cluster_ready(patience_s: float = 30) -> tuple[bool, str]:
    """(True, "") when `sinfo` shows an idle (or partly idle) node within ``patience_s`` (a node busy with
    a finishing job is not a reason to skip), else (False, why the tests are skipped)."""
    if shutil.which("sinfo") is None or shutil.which("sacct") is None:
        return False, "no Slurm client (sinfo/sacct) on PATH: start a cluster with scripts/slurm-up.sh"
    end = time.monotonic() + patience_s
    while True:
        try:
            states = subprocess.run(["sinfo", "-h", "-N", "-o", "%T"], capture_output=True, text=True, timeout=20)
        except subprocess.TimeoutExpired:
            return False, "sinfo did not answer within 20 s: is slurmctld running? (scripts/slurm-up.sh)"
        if states.returncode != 0:
            return False, f"sinfo failed ({states.stderr.strip()}): start a cluster with scripts/slurm-up.sh"
        if any(s.startswith(("idle", "mix")) for s in states.stdout.split()):
            return True, ""
        if time.monotonic() > end:
            return False, f"no idle Slurm node (sinfo states: {states.stdout.split()}): scripts/slurm-up.sh"
        time.sleep(1)


def spec_text(config: dict, methods=("selftest-sgd",), method_config: dict | None = None,
              axes: dict | None = None) -> str:
    raw = {
        "id": JOB, "paper": "004_b5b197064a80ecd0.txt", "title": "Slurm self-test", "kind": "table",
        "task": "selftest",
        "grid": {"methods": list(methods), "datasets": ["toy"], **({"axes": axes} if axes else {})},
        "config": config,
        "scales": {"smoke": {"seeds": 1}, "cpu": {"seeds": 1}, "paper": {"seeds": 1}},
        "metrics": [{"name": "weight_error", "direction": "lower"}, {"name": "final_loss", "direction": "lower"}],
        "table": {"rows": "method", "columns": ["metric", *(axes or {})]},
    }
    if method_config:
        raw["method_config"] = method_config
    return json.dumps(raw)  # JSON is YAML


def make_project(tmp_path: Path, monkeypatch, text: str, slurm_yaml: str = "") -> Path:
    """jobs/, results/, tables/ under tmp_path (so each test has a fresh submitit folder), and a Slurm
    config file of its own instead of the user's ~/.config/repro/slurm.yaml."""
    (tmp_path / "jobs").mkdir()
    (tmp_path / "jobs" / f"{JOB}.yaml").write_text(text)
    (tmp_path / "slurm.yaml").write_text(slurm_yaml or "{}\n")
    monkeypatch.setenv("REPRO_JOBS", str(tmp_path / "jobs"))
    monkeypatch.setenv("REPRO_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("REPRO_TABLES", str(tmp_path / "tables"))
    monkeypatch.setenv("REPRO_SLURM_CONFIG", str(tmp_path / "slurm.yaml"))
    return tmp_path


def runs(scale: str = "smoke"):
    from repro.spec import expand, find_job

    return expand(find_job(JOB), scale)


def run_folder(project: Path, run) -> Path:
    return project / "results" / JOB / run.key


def read_record(project: Path, run) -> dict:
    from repro import store

    return store.read_record(run_folder(project, run) / "record.json")


def slurm_job_id(project: Path, run) -> str:
    return json.loads((run_folder(project, run) / "slurm.json").read_text())["job_id"]


def _cli(argv: list[str]) -> None:
    from repro.cli import main

    sys.exit(main(argv))


def start_cli(argv: list[str]) -> multiprocessing.Process:
    """`repro ARGV` in a forked process (this process has imported everything already: no start-up cost)."""
    proc = multiprocessing.get_context("fork").Process(target=_cli, args=(argv,))
    proc.start()
    return proc


def wait_for(predicate, timeout: float, what: str, every: float = 0.5):
    end = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(every)


def sacct_states(job_id: str) -> list[str]:
    """Every state the job went through (sacct --duplicates lists each requeued instance)."""
    out = subprocess.run(["sacct", "-n", "-P", "-X", "-D", "-j", job_id, "-o", "State"],
                         capture_output=True, text=True, check=True).stdout
    return [line.split()[0] for line in out.splitlines() if line.strip()]


def worker_pid(job_id: str) -> int | None:
    """PID of the Python process executing the submitted call in Slurm job ``job_id``."""
    # scontrol listpids wants the raw id of an array task ("12_1" -> e.g. "13").
    raw = subprocess.run(["squeue", "-h", "-j", job_id, "-o", "%A"], capture_output=True, text=True).stdout.strip()
    if not raw:
        return None
    out = subprocess.run(["scontrol", "listpids", raw], capture_output=True, text=True).stdout
    for line in out.splitlines()[1:]:
        pid = line.split()[0]
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "submitit.core._submit" in cmdline and "srun" not in cmdline.split()[0]:
            return int(pid)
    return None


def reference_record(tmp_path: Path, run) -> dict:
    """The same run executed uninterrupted in this process (the debug path), for comparison."""
    from repro import store
    from repro.worker import execute

    results = tmp_path / "reference"
    out = execute(run.config, str(results))
    assert out["status"] == "ok", out
    return store.read_record(store.record_path(results, run.job, run.key))


def start_reference(tmp_path: Path, run) -> Future:
    """``reference_record`` in a background thread (slow runs sleep per step): ``.result()`` when needed.
    Runs one at a time: the task seeds the process-wide torch RNG."""
    return _REFERENCE_POOL.submit(reference_record, tmp_path, run)


_REFERENCE_POOL = ThreadPoolExecutor(max_workers=1)


def comparable(record: dict) -> dict:
    """What must be equal between a resumed and an uninterrupted run (not times, not provenance)."""
    return {k: record.get(k) for k in ("key", "status", "metrics", "steps", "config", "notes")}
