"""`repro run --executor slurm` against a real Slurm cluster (scripts/slurm-up.sh): a trivial run end to
end, a time limit forcing a requeue, SIGKILL of a worker, scancel and `repro cancel`, a run that raises,
and two concurrent launches of the same job. Skipped, with the reason, when no cluster is up."""
from __future__ import annotations

import os
import signal

import pytest

from repro import store
from repro.cli import main
from repro.launch import slurm_states

from slurm_helpers import (JOB, SIGNAL_DELAY_S, SLURM_OPTIONS, cluster_ready, comparable, make_project,
                           read_record, run_folder, runs, sacct_states, slurm_job_id, spec_text, start_cli,
                           start_reference, wait_for, worker_pid)

READY, WHY = cluster_ready()
pytestmark = [pytest.mark.slurm, pytest.mark.skipif(not READY, reason=WHY)]

FAST = {"steps": 20, "batch_size": 16, "lr": 0.05, "checkpoint_every": 5}
SLOW = {"steps": 40, "batch_size": 16, "lr": 0.05, "checkpoint_every": 4, "sleep_per_step": 0.25}


def repro(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def record_exists(project, run):
    return (run_folder(project, run) / "record.json").exists()


def test_trivial_run_end_to_end(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path, monkeypatch, spec_text(FAST))
    (run,) = runs()
    reference = start_reference(tmp_path, run)
    code, out = repro(capsys, "run", JOB, "--scale", "smoke", *SLURM_OPTIONS)
    assert code == 0 and "1 submitted" in out  # returns after submission
    job_id = slurm_job_id(project, run)
    assert job_id.isdigit()  # one run: submitit submits a plain job, not an array
    code, out = repro(capsys, "status", JOB, "--scale", "smoke")
    assert job_id in out and any(s in out for s in ("PENDING", "RUNNING", "COMPLETED"))
    wait_for(lambda: record_exists(project, run), 120, "the record")
    assert comparable(read_record(project, run)) == comparable(reference.result())
    wait_for(lambda: slurm_states([job_id])[job_id] == "COMPLETED", 60, "sacct to show COMPLETED")
    code, out = repro(capsys, "status", JOB, "--scale", "smoke")
    assert f"{job_id} COMPLETED" in out and " ok " in out
    # Rerunning submits nothing: the run is done.
    code, out = repro(capsys, "run", JOB, "--scale", "smoke", *SLURM_OPTIONS)
    assert "0 to run, 1 already done" in out


def test_time_limit_requeues_then_resumes_to_the_uninterrupted_result(tmp_path, monkeypatch, capsys):
    cfg = dict(SLOW, steps=150, sleep_per_step=0.3)  # 45 s of steps: longer than the first signal
    project = make_project(tmp_path, monkeypatch, spec_text(cfg), slurm_yaml=f"signal_delay_s: {SIGNAL_DELAY_S}\n")
    (run,) = runs()
    reference = start_reference(tmp_path, run)
    options = [*SLURM_OPTIONS, "--time-min", "1"]  # the last --time-min wins
    code, out = repro(capsys, "run", JOB, "--scale", "smoke", *options)
    assert code == 0, out
    job_id = slurm_job_id(project, run)
    checkpoint = run_folder(project, run) / "checkpoint.pt"
    requeues_when_checkpointed = []

    def requeued_after_a_checkpoint() -> bool:
        # Under load the signal may come before the first checkpoint: wait for a requeue after one.
        requeues = sacct_states(job_id).count("REQUEUED")
        if not requeues_when_checkpointed:
            if checkpoint.exists():
                requeues_when_checkpointed.append(requeues)
            return False
        return requeues > requeues_when_checkpointed[0]

    wait_for(requeued_after_a_checkpoint, 200, "a requeue at the time limit after a checkpoint")
    assert not record_exists(project, run)
    # One requeue is what this test needs; give the requeued job room to finish in one go.
    os.system(f"scontrol update JobId={job_id} TimeLimit=10 >/dev/null 2>&1")
    wait_for(lambda: record_exists(project, run), 180, "the record after the requeue")
    record = read_record(project, run)
    assert record["resumed"] is True  # it continued from its checkpoint
    assert comparable(record) == comparable(reference.result())


def test_sigkill_of_a_worker_then_rerun_completes_only_the_missing_run(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path, monkeypatch, spec_text(FAST, methods=("selftest-sgd", "selftest-sgd-slow"),
                                                           method_config={"selftest-sgd-slow": SLOW}))
    fast, slow = runs()
    launcher = start_cli(["run", JOB, "--scale", "smoke", *SLURM_OPTIONS, "--wait"])
    reference = start_reference(tmp_path, slow)  # after the fork: never fork while a thread runs
    wait_for(lambda: (run_folder(project, slow) / "checkpoint.pt").exists(), 120, "the slow run's first checkpoint")
    pid = wait_for(lambda: worker_pid(slurm_job_id(project, slow)), 30, "the slow run's worker process")
    os.kill(pid, signal.SIGKILL)
    launcher.join(120)
    assert launcher.exitcode == 1  # a failure was reported
    assert read_record(project, fast)["status"] == "ok"
    killed = read_record(project, slow)
    assert killed["status"] == "failed" and "without a result" in killed["error"], killed.get("error")
    fast_before = (run_folder(project, fast) / "record.json").read_bytes()

    code, out = repro(capsys, "run", JOB, "--scale", "smoke", *SLURM_OPTIONS, "--wait")
    assert code == 0 and "1 to run, 1 already done" in out, out
    assert (run_folder(project, fast) / "record.json").read_bytes() == fast_before  # nothing recorded is lost
    record = read_record(project, slow)
    assert record["resumed"] is True
    assert comparable(record) == comparable(reference.result())
    assert len(list(run_folder(project, slow).glob("record.json.failed-*"))) == 1  # the failure is kept aside


def test_scancel_and_repro_cancel_then_rerun_resumes(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path, monkeypatch, spec_text(SLOW, methods=("selftest-sgd", "selftest-sgd-slow")))
    first, second = runs()
    reference = start_reference(tmp_path, first)
    code, out = repro(capsys, "run", JOB, "--scale", "smoke", *SLURM_OPTIONS, "--array-parallelism", "1")
    assert code == 0 and "2 submitted" in out
    running = slurm_job_id(project, first)
    assert {running, slurm_job_id(project, second)} == {running.split("_")[0] + "_0", running.split("_")[0] + "_1"}
    wait_for(lambda: (run_folder(project, first) / "checkpoint.pt").exists(), 120, "a checkpoint of the running job")
    os.system(f"scancel {running}")
    wait_for(lambda: slurm_states([running])[running] == "CANCELLED", 60, "sacct to show CANCELLED")
    code, out = repro(capsys, "cancel", JOB)  # the other one, pending or just started
    assert code == 0 and slurm_job_id(project, second) in out
    other = slurm_job_id(project, second)
    # a job that had just started passes through COMPLETING before Slurm calls it CANCELLED
    wait_for(lambda: slurm_states([other])[other] == "CANCELLED", 60, "the second job to show CANCELLED")
    code, out = repro(capsys, "status", JOB, "--scale", "smoke")
    assert out.count("CANCELLED") == 2, out
    assert not record_exists(project, first) and not record_exists(project, second)

    code, out = repro(capsys, "run", JOB, "--scale", "smoke", *SLURM_OPTIONS, "--wait")
    assert code == 0 and "2 ok" in out, out
    record = read_record(project, first)
    assert record["resumed"] is True
    assert comparable(record) == comparable(reference.result())


def test_a_raising_run_is_recorded_failed_and_only_it_reruns(tmp_path, monkeypatch, capsys):
    project = make_project(tmp_path, monkeypatch, spec_text(FAST, axes={"fail_at_step": [-1, 3]}))
    good, bad = runs()
    reference = start_reference(tmp_path, good)
    code, out = repro(capsys, "run", JOB, "--scale", "smoke", *SLURM_OPTIONS, "--wait")
    assert code == 1 and "1 ok" in out and "1 failed" in out, out
    failed = read_record(project, bad)
    assert failed["status"] == "failed" and failed["error"] == "RuntimeError: requested failure at step 3"
    assert "Traceback" in failed["traceback"]
    assert comparable(read_record(project, good)) == comparable(reference.result())
    good_before = (run_folder(project, good) / "record.json").read_bytes()
    code, out = repro(capsys, "run", JOB, "--scale", "smoke", *SLURM_OPTIONS, "--wait")
    assert "1 to run, 1 already done" in out and "1 failed" in out, out
    assert (run_folder(project, good) / "record.json").read_bytes() == good_before


def test_two_concurrent_launches_never_duplicate_or_corrupt_a_record(tmp_path, monkeypatch):
    cfg = dict(FAST, steps=30, sleep_per_step=0.1)
    project = make_project(tmp_path, monkeypatch, spec_text(cfg, methods=("selftest-sgd", "selftest-sgd-slow")))
    argv = ["run", JOB, "--scale", "smoke", *SLURM_OPTIONS, "--wait"]
    launchers = [start_cli(argv), start_cli(argv)]
    references = {run.key: start_reference(tmp_path, run) for run in runs()}
    for p in launchers:
        p.join(240)
        assert p.exitcode == 0
    for run in runs():
        folder = run_folder(project, run)
        assert sorted(p.name for p in folder.glob("record.json*")) == ["record.json"]  # one record, none set aside
        record = store.read_record(folder / "record.json")  # raises on a corrupt record
        assert comparable(record) == comparable(references[run.key].result())
    assert not list((project / "results" / JOB).glob("*/.record.json.*.tmp"))  # no half-written file left
