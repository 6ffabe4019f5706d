"""The Slurm launcher's bookkeeping without a cluster: time-limit checks, submissions saved beside runs,
which runs count as still queued, and state lookup when the Slurm client is absent."""
from __future__ import annotations

import json

import pytest

from repro import launch, store
from repro.spec import run_key


def cfg(seed: int) -> dict:
    return {"job": "j", "task": "selftest", "method": "m", "dataset": "toy", "seed": seed, "scale": "smoke"}


def test_time_limit_must_leave_room_for_the_checkpoint_signal(tmp_path):
    none = tmp_path / "none.yaml"
    with pytest.raises(ValueError, match="signal would come before the job starts"):
        launch.slurm_parameters({"time_min": 1, "signal_delay_s": 60}, none)
    with pytest.warns(UserWarning, match="less than 30 s after the checkpoint signal"):
        launch.slurm_parameters({"time_min": 1, "signal_delay_s": 45}, none)
    params = launch.slurm_parameters({"time_min": 1, "signal_delay_s": 30}, none)  # 60 >= 30 + 30: accepted
    assert (params["time_min"], params["signal_delay_s"]) == (1, 30)


def test_config_file_is_read_from_the_environment_at_call_time(tmp_path, monkeypatch):
    path = tmp_path / "slurm.yaml"
    path.write_text("partition: gpu\nmem_gb: 3\n")
    monkeypatch.setenv("REPRO_SLURM_CONFIG", str(path))
    params = launch.slurm_parameters({"mem_gb": 5})
    assert params["partition"] == "gpu" and params["mem_gb"] == 5  # option beats file


def test_submissions_are_saved_beside_each_run(tmp_path):
    for seed, job_id in ((0, "7_0"), (1, "7_1")):
        launch.save_submission(tmp_path, cfg(seed), job_id, tmp_path / ".submitit" / "x")
    subs = launch.job_submissions(tmp_path, "j")
    assert {k: v["job_id"] for k, v in subs.items()} == {run_key(cfg(0)): "7_0", run_key(cfg(1)): "7_1"}
    on_disk = json.loads((store.run_dir(tmp_path, "j", run_key(cfg(0))) / launch.SUBMISSION).read_text())
    assert on_disk["submitit_folder"].endswith("x")


def test_only_runs_without_a_record_and_with_a_live_job_are_queued(tmp_path, monkeypatch):
    states = {"7_0": "RUNNING", "7_1": "PENDING", "7_2": "COMPLETED", "7_3": "COMPLETING"}
    monkeypatch.setattr(launch, "slurm_states", lambda ids: {i: states[i] for i in ids})
    cfgs = [cfg(s) for s in range(4)]
    for seed, c in enumerate(cfgs):
        launch.save_submission(tmp_path, c, f"7_{seed}", tmp_path)
    # run 1 already has a record (e.g. failed, its job still finishing): not queued
    store.write_json_atomic(store.record_path(tmp_path, "j", run_key(cfgs[1])),
                            {"key": run_key(cfgs[1]), "job": "j", "status": "failed", "config": cfgs[1]})
    assert set(launch.active_submissions(tmp_path, cfgs)) == {run_key(cfgs[0])}


def test_without_a_slurm_client_states_are_unknown_and_cancel_has_nothing_to_do(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no sacct, squeue, scancel
    assert launch.slurm_states(["3_1", "4"]) == {"3_1": "UNKNOWN", "4": "UNKNOWN"}
    launch.save_submission(tmp_path, cfg(0), "3_1", tmp_path)
    assert launch.cancel(tmp_path, "j") == []
